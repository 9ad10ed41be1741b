"""Label-only membership inference: ART's gap attack (Yeom et al. 2018; Choquette-Choo et al.
2021 as its baseline). The attacker sees predicted labels only: a correctly classified
record is guessed a member. Wrapped, not rewritten."""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import softmax


def score(ctx: AttackContext) -> np.ndarray:
    """1.0 where ART's gap attack says member (the label is predicted right), else 0.0."""
    from art.attacks.inference.membership_inference import LabelOnlyGapAttack
    from art.estimators.classification import BlackBoxClassifier

    classifier = BlackBoxClassifier(
        predict_fn=lambda x: softmax(ctx.target_query(np.asarray(x, dtype=np.float32))),
        input_shape=(ctx.candidates_x.shape[1],),
        nb_classes=ctx.n_classes,
    )
    onehot = np.eye(ctx.n_classes)[ctx.candidates_y]
    return LabelOnlyGapAttack(classifier).infer(ctx.candidates_x, onehot).astype(np.float64)


ATTACK = AttackDef(
    name="label_only_gap",
    title="Label-only gap attack (ART)",
    description="ART LabelOnlyGapAttack: member if the predicted label is right (labels only)",
    kind="membership",
    multilabel=False,
    score=score,
)
