"""Threshold attacks on the output vector: confidence and (modified) entropy."""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import (
    is_multilabel,
    log_one_minus_softmax,
    log_softmax,
    logit_scaled,
    logit_scaled_confidence,
    predicted_labels,
)


def confidence_score(ctx: AttackContext) -> np.ndarray:
    """Label-free confidence of the predicted class, logit-scaled: max_c log(p_c/(1-p_c));
    multi-label: the same of the predicted label vector's joint probability."""
    if is_multilabel(ctx.candidates_y):
        guess = predicted_labels(ctx.target_logits, multilabel=True)
        return logit_scaled_confidence(ctx.target_logits, guess)
    return np.max(logit_scaled(ctx.target_logits), axis=1)


def modified_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mentr = -(1 - p_y) log p_y - sum_{c != y} p_c log(1 - p_c) per record; multi-label:
    the sum over labels of each label's two-class Mentr (logits 0 and z_l)."""
    if is_multilabel(labels):
        n, n_labels = labels.shape
        pairs = np.stack([np.zeros(logits.size), np.ravel(logits)], axis=1)
        return modified_entropy(pairs, np.ravel(labels)).reshape(n, n_labels).sum(axis=1)
    log_p = log_softmax(logits)
    log_q = log_one_minus_softmax(logits)  # log(1 - p)
    p = np.exp(log_p)
    rows, y = np.arange(len(labels)), labels
    true_term = -np.exp(log_q[rows, y]) * log_p[rows, y]
    other = -p * log_q
    other[rows, y] = 0.0
    return true_term + other.sum(axis=1)


def entropy_score(ctx: AttackContext) -> np.ndarray:
    """Negative modified entropy (Song & Mittal, 2021), which uses the true label; members
    have lower Mentr."""
    return -modified_entropy(ctx.target_logits, ctx.candidates_y)


CONFIDENCE = AttackDef(
    name="confidence",
    title="Confidence threshold",
    description="Confidence threshold: score = logit-scaled probability of the predicted class",
    kind="membership",
    score=confidence_score,
)
ENTROPY = AttackDef(
    name="entropy",
    title="Modified entropy threshold",
    description="Modified entropy (Song & Mittal 2021): score = -Mentr of the output vector",
    kind="membership",
    score=entropy_score,
)
