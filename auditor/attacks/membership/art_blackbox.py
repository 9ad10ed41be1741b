"""ART's MembershipInferenceBlackBox, trained on a shadow model of population records.

Wrapped, not rewritten: the attacker re-runs the artifact's recipe on half of the
population (shadow members), holds out the other half (shadow non-members), fits ART's
attack model on the shadow model's outputs, then applies it to the artifact's outputs.
"""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import softmax


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float64)[y]


def shadow_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of population records: shadow members, shadow non-members, public records
    (the latter for recipes such as mimic that label public data), a third each."""
    order = np.random.default_rng(seed).permutation(n)
    third = n // 3
    return order[:third], order[third : 2 * third], order[2 * third :]


def score(ctx: AttackContext) -> np.ndarray:
    """ART's membership probability for each candidate (larger = member)."""
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from art.estimators.classification import BlackBoxClassifier
    from sklearn.ensemble import RandomForestClassifier

    from auditor.training.recipes import RecipeInput

    inside, outside, public = shadow_split(len(ctx.population_x), ctx.seed)
    px, py = ctx.population_x, ctx.population_y
    shadow = ctx.train_shadow(
        RecipeInput(px[inside], py[inside], px[public], ctx.n_classes, public_y=py[public]),
        ctx.seed,
    )
    estimator = BlackBoxClassifier(
        predict_fn=lambda x: softmax(shadow(np.asarray(x, dtype=np.float32))),
        input_shape=(px.shape[1],),
        nb_classes=ctx.n_classes,
    )
    attack = MembershipInferenceBlackBox(estimator, input_type="prediction", attack_model_type="rf")
    # ART builds an unseeded RandomForestClassifier(); swap in the same model, seeded, so the
    # same spec and seed give the same result (ART rejects a plain scikit-learn attack_model).
    attack.attack_model = RandomForestClassifier(random_state=ctx.seed)
    attack.fit(
        x=px[inside],
        y=_one_hot(py[inside], ctx.n_classes),
        test_x=px[outside],
        test_y=_one_hot(py[outside], ctx.n_classes),
        pred=softmax(shadow(px[inside])),
        test_pred=softmax(shadow(px[outside])),
    )
    proba = attack.infer(
        ctx.candidates_x,
        _one_hot(ctx.candidates_y, ctx.n_classes),
        pred=softmax(ctx.target_logits),
        probabilities=True,
    )
    return np.asarray(proba, dtype=np.float64).reshape(len(ctx.candidates_y), -1)[:, -1]


ATTACK = AttackDef(
    name="art_blackbox",
    title="ART black-box (shadow model)",
    description=(
        "ART MembershipInferenceBlackBox: random-forest attack model fitted on a shadow "
        "model trained by the artifact's recipe on population records"
    ),
    kind="membership",
    multilabel=False,
    score=score,
    needs_shadow_models=True,
)
