"""The training loss of every recipe, per record, for both label structures.

Single-label records (class indices, one fewer dimension than the logits): cross-entropy.
Multi-label records (a 0/1 vector per record, the logits' shape): the sum over labels of
each label's binary cross-entropy with logits, i.e. the negative log-likelihood of the
record's whole label vector: the quantity `auditor.core.scores.true_class_log_prob` scores.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def record_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Loss per record, shape `logits.shape[:-1]`."""
    if targets.ndim == logits.ndim:
        per_label = nn.functional.binary_cross_entropy_with_logits(
            logits, targets.to(logits.dtype), reduction="none"
        )
        return per_label.sum(dim=-1)
    flat = nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
    )
    return flat.view(logits.shape[:-1])


def as_targets(y: np.ndarray, multilabel: bool, device: torch.device | None = None) -> torch.Tensor:
    """Labels as the tensor `record_losses` takes: float 0/1 vectors, or long indices."""
    return torch.tensor(y, dtype=torch.float32 if multilabel else torch.long, device=device)


def mean_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean loss over a batch of one model's records (single-label: torch's own mean
    cross-entropy, the op every single-label result so far was trained with)."""
    if targets.ndim == logits.ndim:
        return record_losses(logits, targets).mean()
    return nn.functional.cross_entropy(logits, targets)
