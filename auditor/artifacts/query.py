"""Query functions over trained models: encoded float32 rows -> float64 logits (n, C)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.core.types import LogitsFn


def torch_logits(module: nn.Module) -> LogitsFn:
    """Batched, gradient-free forward pass returning float64 logits."""

    def logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = [module(torch.tensor(x[i : i + 4096])) for i in range(0, len(x), 4096)]
        return torch.cat(out).double().numpy()

    return logits


def sklearn_logits(estimator: Any) -> LogitsFn:
    """Log-probabilities standing in for logits: scikit-learn exposes probabilities only,
    so records an estimator rounds to probability 1 tie (a limit of the format)."""

    def logits(x: np.ndarray) -> np.ndarray:
        proba = np.asarray(estimator.predict_proba(x), dtype=np.float64)
        return np.log(np.clip(proba, 1e-300, None))

    return logits


def logits_fn(model: Any) -> LogitsFn:
    """The query function of a torch module or a fitted scikit-learn classifier."""
    return torch_logits(model) if isinstance(model, nn.Module) else sklearn_logits(model)
