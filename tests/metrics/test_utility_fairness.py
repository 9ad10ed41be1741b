"""Utility equals scikit-learn's and fairness equals fairlearn's on the same predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, equalized_odds_difference
from sklearn import metrics as skm

from auditor.metrics.fairness import fairness_figures, rank_auroc, recall_gap_interval
from auditor.metrics.utility import expected_calibration_error, utility_figures


@pytest.fixture
def predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    p = np.clip(0.5 * y + rng.uniform(0, 0.6, 1000), 0, 1)
    sex = np.where(rng.uniform(size=1000) < 0.45, "female", "male")
    return y, p, sex


def test_utility_equals_sklearn(predictions: tuple[np.ndarray, ...]) -> None:
    y, p, _ = predictions
    figs = utility_figures(y, p, rng=np.random.default_rng(1), replicates=100, confidence=0.95)
    hard = p >= 0.5
    expected = {
        "accuracy": skm.accuracy_score(y, hard),
        "auroc": skm.roc_auc_score(y, p),
        "auprc": skm.average_precision_score(y, p),
        "f1_micro": skm.f1_score(y, hard, average="micro"),
        "f1_macro": skm.f1_score(y, hard, average="macro"),
        "cohen_kappa": skm.cohen_kappa_score(y, hard),
        "brier": skm.brier_score_loss(y, p),
    }
    for name, value in expected.items():
        assert figs[name]["value"] == pytest.approx(value, abs=1e-12), name
        assert figs[name]["lower"] <= figs[name]["value"] <= figs[name]["upper"], name


def test_ece_by_hand() -> None:
    y = np.array([1, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95])
    # bin [0, .1): conf .05, acc .5 -> gap .45 x 2; bin [.9, 1]: conf .95, acc 1 -> .05 x 2
    assert expected_calibration_error(y, p) == pytest.approx((0.45 * 2 + 0.05 * 2) / 4)


def test_fairness_equals_fairlearn_and_pandas(predictions: tuple[np.ndarray, ...]) -> None:
    y, p, sex = predictions
    figs = fairness_figures(y, p, {"sex": sex}, rng=np.random.default_rng(0))["sex"]
    pred = (p >= 0.5).astype(int)
    frame = pd.DataFrame({"y": y, "pred": pred, "sex": sex})
    by_hand = frame[frame.y == 1].groupby("sex")["pred"].mean()
    for group, value in by_hand.items():
        assert figs["groups"][group]["recall"]["value"] == pytest.approx(value, abs=1e-12)
        assert figs["groups"][group]["n"] == int((sex == group).sum())
    assert figs["recall_gap"]["value"] == pytest.approx(abs(by_hand.max() - by_hand.min()))
    assert figs["equalized_odds_difference"]["value"] == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=sex)
    )
    auroc = MetricFrame(
        metrics=skm.roc_auc_score, y_true=y, y_pred=p, sensitive_features=sex
    ).by_group
    for group, value in auroc.items():
        assert figs["groups"][group]["auroc"]["value"] == pytest.approx(value, abs=1e-12)


def test_one_group_has_no_gap(predictions: tuple[np.ndarray, ...]) -> None:
    y, p, _ = predictions
    figs = fairness_figures(y, p, {"site": np.array(["a"] * len(y))}, rng=np.random.default_rng(0))[
        "site"
    ]
    assert figs["recall_gap"]["value"] == 0.0
    assert figs["groups"]["a"]["auroc"]["value"] == pytest.approx(skm.roc_auc_score(y, p))


def test_recall_gap_interval_covers_the_fairlearn_point(predictions: tuple) -> None:
    y, p, sex = predictions
    gap = fairness_figures(y, p, {"sex": sex}, rng=np.random.default_rng(2), replicates=300)["sex"][
        "recall_gap"
    ]
    assert gap["lower"] <= gap["value"] <= gap["upper"]


def test_rank_auroc_equals_sklearn_with_ties() -> None:
    rng = np.random.default_rng(5)
    scores = np.round(rng.normal(size=(4, 300)), 1)  # ties
    y = np.r_[np.ones(120, int), np.zeros(180, int)]
    expected = [skm.roc_auc_score(y, row) for row in scores]
    assert rank_auroc(scores, 120) == pytest.approx(expected, abs=1e-12)


def test_group_intervals_exact_recall_and_bootstrap_auroc(predictions: tuple) -> None:
    from scipy.stats import binomtest

    y, p, sex = predictions
    figs = fairness_figures(y, p, {"sex": sex}, rng=np.random.default_rng(3), replicates=400)
    for group, stats in figs["sex"]["groups"].items():
        rows = sex == group
        hits, positives = int(((p >= 0.5) & (y == 1) & rows).sum()), int((y[rows] == 1).sum())
        exact = binomtest(hits, positives).proportion_ci(0.95, "exact")
        assert stats["recall"]["lower"] == pytest.approx(exact.low, abs=1e-12)
        assert stats["recall"]["upper"] == pytest.approx(exact.high, abs=1e-12)
        auroc = stats["auroc"]
        assert auroc["lower"] < auroc["value"] < auroc["upper"]
        assert 0.01 < auroc["upper"] - auroc["lower"] < 0.2  # a real interval, ~4 standard errors
    # the groups' intervals draw from a child stream: the gap interval is what it was before
    low, high = recall_gap_interval(
        y,
        (p >= 0.5).astype(int),
        sex,
        rng=np.random.default_rng(3),
        replicates=400,
        confidence=0.95,
    )
    assert (figs["sex"]["recall_gap"]["lower"], figs["sex"]["recall_gap"]["upper"]) == (low, high)
