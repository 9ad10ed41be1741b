"""Numerically stable per-record quantities from logits, in float64.

float32 softmax saturates at 1 for confident records, ties them at the top of a ranking
and wipes out every low-FPR figure. Even float64 `z - logsumexp(z)` rounds log p to 0 once
p is within 1e-16 of 1. Everything here is derived from the logit-scaled confidence
phi_c = z_c - logsumexp(z_{-c}) = log(p_c / (1 - p_c)), which never saturates, with
log p_c = -log(1 + exp(-phi_c)) and log(1 - p_c) = -log(1 + exp(phi_c)) evaluated by
`numpy.logaddexp` (log1p inside), so tiny losses keep their relative precision.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp


def logit_scaled(logits: np.ndarray) -> np.ndarray:
    """phi[i, c] = z_c - logsumexp of the other logits = log(p_c / (1 - p_c)), float64."""
    z = np.asarray(logits, dtype=np.float64)
    c = z.shape[1]
    others = np.where(np.eye(c, dtype=bool)[None, :, :], -np.inf, z[:, None, :])
    return z - logsumexp(others, axis=2)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities, float64, accurate near p = 1."""
    return -np.logaddexp(0.0, -logit_scaled(logits))


def log_one_minus_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log(1 - p_c), float64, accurate near p = 0 and p = 1."""
    return -np.logaddexp(0.0, logit_scaled(logits))


def _pick(matrix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return matrix[np.arange(len(labels)), np.asarray(labels)]


def true_class_log_prob(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log p_y for each record (the negative cross-entropy loss)."""
    return _pick(log_softmax(logits), labels)


def logit_scaled_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log(p_y / (1 - p_y)) = z_y - logsumexp of the other logits (LiRA's statistic)."""
    return _pick(logit_scaled(logits), labels)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise probabilities, float64 (for consumers that need probabilities)."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(z - logsumexp(z, axis=1, keepdims=True))
