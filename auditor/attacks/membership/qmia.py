"""QMIA (Bertran et al., NeurIPS 2023): a calibrated attack without reference models.

A quantile regressor learns, on population records (which the model never saw), the
`QUANTILE`-quantile of the target's statistic given a record's features and label; a
candidate's score is its statistic minus that predicted quantile, so each record is judged
against its own threshold, as LiRA does, without training a single reference model and
without knowing how the artifact was trained. The statistic is LiRA's: the logit-scaled
confidence of the true label. The regressor is scikit-learn's quantile gradient boosting
(HistGradientBoostingRegressor, pinball loss); the attack itself is a few lines, written
here because ART ships no QMIA and LeakPro's and SACRO-ML's train their own networks.
"""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import is_multilabel, logit_scaled_confidence

QUANTILE = 0.99  # the per-record threshold of a 1% false-positive rate


def _features(x: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """The record and its label (one-hot, or the label vector of a multi-label record)."""
    labels = y.astype(np.float64) if is_multilabel(y) else np.eye(n_classes)[y]
    return np.hstack([np.asarray(x, dtype=np.float64), labels])


def score(ctx: AttackContext) -> np.ndarray:
    """Statistic minus its predicted `QUANTILE`-quantile among records the model never saw."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    population = logit_scaled_confidence(ctx.target_query(ctx.population_x), ctx.population_y)
    regressor = HistGradientBoostingRegressor(
        loss="quantile", quantile=QUANTILE, max_iter=200, random_state=ctx.seed
    )
    regressor.fit(_features(ctx.population_x, ctx.population_y, ctx.n_classes), population)
    statistic = logit_scaled_confidence(ctx.target_logits, ctx.candidates_y)
    threshold = regressor.predict(_features(ctx.candidates_x, ctx.candidates_y, ctx.n_classes))
    return np.asarray(statistic - threshold, dtype=np.float64)


ATTACK = AttackDef(
    name="qmia",
    title="QMIA, quantile regression",
    description=(
        "QMIA (Bertran et al. 2023): the logit-scaled confidence of the true label minus its "
        f"{QUANTILE:g}-quantile predicted from the record, learnt on population records; no "
        "reference models"
    ),
    kind="membership",
    score=score,
)
