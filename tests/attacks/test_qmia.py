"""QMIA (quantile regression, no reference models) on a model built outside the auditor:
it finds the members of a fully grown boosted-trees Pipeline, better than LOSS at 1% FPR,
and finds none of a model that never saw them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import auditor

LABS = [f"lab{i}" for i in range(6)]


def _frame(rng: np.random.Generator, n: int, offset: int) -> pd.DataFrame:
    x = rng.normal(size=(n, len(LABS)))
    sex = rng.choice(["female", "male"], n)
    death = x[:, 0] - 0.5 * x[:, 1] + 0.3 * (sex == "male") + rng.logistic(size=n) > 0
    frame = pd.DataFrame(x.round(3), columns=LABS)
    return frame.assign(sex=sex, patient_id=np.arange(n) + offset, death=death.astype(int))


def _pipeline() -> Pipeline:
    prep = ColumnTransformer([("num", StandardScaler(), LABS), ("sex", OneHotEncoder(), ["sex"])])
    boosted = HistGradientBoostingClassifier(
        max_iter=300,
        max_leaf_nodes=None,
        min_samples_leaf=2,
        learning_rate=0.2,
        early_stopping=False,
    )
    return Pipeline([("prep", prep), ("model", boosted)])


OPTIONS: dict[str, Any] = {
    "label": "death",
    "id": "patient_id",
    "sensitive": ["sex"],
    "attacks": ["loss", "qmia"],
    "bootstrap": 200,
    "progress": False,
}


@pytest.mark.slow
def test_qmia_finds_the_members_and_only_them() -> None:
    rng = np.random.default_rng(11)
    sizes = {"members": 800, "non_members": 800, "test": 300, "population": 2400, "other": 800}
    frames = {k: _frame(rng, n, 100_000 * i) for i, (k, n) in enumerate(sizes.items())}
    other = frames.pop("other")  # records of none of the four splits
    columns = [*LABS, "sex"]
    leaky = _pipeline().fit(frames["members"][columns], frames["members"]["death"])
    found = auditor.audit(leaky, **frames, **OPTIONS).document["privacy"]["membership"]
    qmia, loss = found["qmia"], found["loss"]
    # measured: AUC 0.964; TPR at 1% FPR 0.339 [0.226, 0.509] against LOSS 0.026 [0.012, 0.055]
    assert qmia["auc"]["lower"] > 0.9, qmia["auc"]
    assert qmia["tpr_at_fpr"]["0.01"]["lower"] > loss["tpr_at_fpr"]["0.01"]["upper"]
    never = _pipeline().fit(other[columns], other["death"])
    blind = auditor.audit(never, **frames, **OPTIONS).document["privacy"]["membership"]["qmia"]
    assert blind["auc"]["lower"] < 0.5 < blind["auc"]["upper"], blind["auc"]
    assert blind["tpr_at_fpr"]["0.01"]["lower"] <= 0.01, blind["tpr_at_fpr"]
