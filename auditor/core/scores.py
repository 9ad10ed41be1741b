"""Numerically stable per-record quantities from logits, in float64.

float32 softmax saturates at 1 for confident records, ties them at the top of a ranking
and wipes out every low-FPR figure. Even float64 `z - logsumexp(z)` rounds log p to 0 once
p is within 1e-16 of 1. Everything here is derived from the logit-scaled confidence
phi_c = z_c - logsumexp(z_{-c}) = log(p_c / (1 - p_c)), which never saturates, with
log p_c = -log(1 + exp(-phi_c)) and log(1 - p_c) = -log(1 + exp(phi_c)) evaluated by
`numpy.logaddexp` (log1p inside), so tiny losses keep their relative precision.

Label structures. Single-label records (binary or multi-class) carry a class index per
record, labels of shape (n,), and the model one logit per class. Multi-label records carry
a 0/1 vector per record, labels of shape (n, L), and the model one independent logit per
label (a sigmoid each). For those, a record's log-likelihood is the sum over labels of
log sigma(s_l z_l) with s_l = +1 for a present label and -1 for an absent one (the negative
summed binary cross-entropy), and its logit-scaled confidence is log(P / (1 - P)) of the
joint probability P of its whole label vector, which reduces to phi_y when L = 1. The
functions below take either shape and dispatch on `labels.ndim`; multi-label logits may
carry leading model axes ((K, n, L) against labels (n, L)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp as _logsumexp


def logsumexp(a: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """scipy's logsumexp, typed (scipy's own has no type information)."""
    return np.asarray(_logsumexp(a, axis=axis, keepdims=keepdims))


def logit_scaled(logits: np.ndarray) -> np.ndarray:
    """phi[i, c] = z_c - logsumexp of the other logits = log(p_c / (1 - p_c)), float64."""
    z = np.asarray(logits, dtype=np.float64)
    c = z.shape[1]
    others = np.where(np.eye(c, dtype=bool)[None, :, :], -np.inf, z[:, None, :])
    return np.asarray(z - logsumexp(others, axis=2))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities, float64, accurate near p = 1."""
    return np.asarray(-np.logaddexp(0.0, -logit_scaled(logits)))


def log_one_minus_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log(1 - p_c), float64, accurate near p = 0 and p = 1."""
    return np.asarray(-np.logaddexp(0.0, logit_scaled(logits)))


def _pick(matrix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    picked: np.ndarray = matrix[np.arange(len(labels)), np.asarray(labels)]
    return picked


def is_multilabel(labels: np.ndarray) -> bool:
    """Whether `labels` are 0/1 vectors per record (n, L) rather than class indices (n,)."""
    return np.ndim(labels) == 2


def label_log_likelihoods(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Multi-label: log sigma(s_l z_l) per record and label, (n, L), float64."""
    z = np.asarray(logits, dtype=np.float64)
    signs = 2.0 * np.asarray(labels, dtype=np.float64) - 1.0
    return -np.logaddexp(0.0, -signs * z)


def true_class_log_prob(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log p(y | x) for each record: log p_y (the negative cross-entropy loss), or for
    multi-label records the sum over labels of each label's log-likelihood."""
    if is_multilabel(labels):
        return np.asarray(label_log_likelihoods(logits, labels).sum(axis=-1))
    return _pick(log_softmax(logits), labels)


def _joint_logit(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log(P / (1 - P)) for P = prod_l sigma(s_l z_l), without saturating as P -> 1:
    -log P = sum_l softplus(-s_l z_l), whose log is a logsumexp of log softplus terms
    (log softplus(t) = t once exp(t) is below float64's resolution of 1 + exp(t))."""
    t = -(2.0 * np.asarray(labels, dtype=np.float64) - 1.0) * np.asarray(logits, np.float64)
    softplus = np.logaddexp(0.0, t)
    with np.errstate(divide="ignore"):
        log_terms = np.where(t < -30.0, t, np.log(softplus))
    log_neg_ll = logsumexp(log_terms, axis=-1)  # log(-log P)
    neg_ll = softplus.sum(axis=-1)
    # 1 - P = -expm1(-neg_ll) = neg_ll * ratio, ratio -> 1 as neg_ll -> 0
    safe = np.where(neg_ll > 0, neg_ll, 1.0)
    ratio = np.where(neg_ll > 0, -np.expm1(-safe) / safe, 1.0)
    return np.asarray(-neg_ll - (log_neg_ll + np.log(ratio)))


def logit_scaled_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log(p_y / (1 - p_y)) = z_y - logsumexp of the other logits (LiRA's statistic); for
    multi-label records the same of the joint probability of the whole label vector."""
    if is_multilabel(labels):
        return _joint_logit(logits, labels)
    return _pick(logit_scaled(logits), labels)


def predicted_labels(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """The model's prediction: the arg-max class (n,), or each label with logit > 0 (n, L)."""
    z = np.asarray(logits)
    return (z > 0).astype(np.int64) if multilabel else np.argmax(z, axis=1)


def probabilities(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Class probabilities (softmax), or each label's probability (sigmoid), float64."""
    if multilabel:
        return np.exp(-np.logaddexp(0.0, -np.asarray(logits, dtype=np.float64)))
    return softmax(logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise probabilities, float64 (for consumers that need probabilities)."""
    z = np.asarray(logits, dtype=np.float64)
    return np.asarray(np.exp(z - logsumexp(z, axis=1, keepdims=True)))
