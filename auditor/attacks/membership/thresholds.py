"""Threshold attacks on the output vector: confidence and (modified) entropy."""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import log_one_minus_softmax, log_softmax, logit_scaled


def confidence_score(ctx: AttackContext) -> np.ndarray:
    """Label-free confidence of the predicted class, logit-scaled: max_c log(p_c/(1-p_c))."""
    return np.max(logit_scaled(ctx.target_logits), axis=1)


def entropy_score(ctx: AttackContext) -> np.ndarray:
    """Negative modified entropy (Song & Mittal, 2021), which uses the true label:
    Mentr = -(1 - p_y) log p_y - sum_{c != y} p_c log(1 - p_c); members have lower Mentr."""
    log_p = log_softmax(ctx.target_logits)
    log_q = log_one_minus_softmax(ctx.target_logits)  # log(1 - p)
    p = np.exp(log_p)
    rows, y = np.arange(len(ctx.candidates_y)), ctx.candidates_y
    true_term = -np.exp(log_q[rows, y]) * log_p[rows, y]
    other = -p * log_q
    other[rows, y] = 0.0
    return -(true_term + other.sum(axis=1))


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
