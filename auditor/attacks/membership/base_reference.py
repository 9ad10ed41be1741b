"""Membership with the public base model as a free reference (weights artifacts).

A merged model is the base plus a sum of fine-tuning directions; what fine-tuning on a
record did to it shows as the drop of that record's loss from the base to the released
weights. Score = log p_merged(y|x) - log p_base(y|x), in float64 (larger = member). This is
the reference-model idea of LiRA with the one reference the release hands out for free.
"""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import true_class_log_prob


def loss_drop(target_logits: np.ndarray, base_logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log p_target(y|x) - log p_base(y|x) per record."""
    return true_class_log_prob(target_logits, y) - true_class_log_prob(base_logits, y)


def score(ctx: AttackContext) -> np.ndarray:
    if ctx.base_query is None:
        raise ValueError("base_reference needs the base model ([artifact] base)")
    return loss_drop(ctx.target_logits, ctx.base_query(ctx.candidates_x), ctx.candidates_y)


ATTACK = AttackDef(
    name="base_reference",
    title="Loss change from the base model",
    description="log p_merged(y|x) - log p_base(y|x): the public base model as the reference",
    kind="membership",
    score=score,
)
