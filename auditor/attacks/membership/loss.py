"""LOSS attack (Yeom et al., 2018): members have lower loss."""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import true_class_log_prob


def score(ctx: AttackContext) -> np.ndarray:
    """Negative cross-entropy of the true label (= log p_y), float64."""
    return true_class_log_prob(ctx.target_logits, ctx.candidates_y)


ATTACK = AttackDef(
    name="loss",
    title="LOSS",
    description="LOSS (Yeom et al. 2018): score = -cross-entropy of the true label",
    kind="membership",
    score=score,
)
