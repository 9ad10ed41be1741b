"""Fairness per sensitive attribute with fairlearn's MetricFrame."""

from __future__ import annotations

from typing import Any

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    count,
    equalized_odds_difference,
    false_positive_rate,
)
from sklearn.metrics import recall_score, roc_auc_score


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    # A group with only one outcome class has no AUROC.
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _num(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def recall_gap_interval(
    y: np.ndarray,
    pred: np.ndarray,
    values: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the recall gap (max - min over groups with
    positives), resampling test records; counts by `bincount`, so thousands of replicates
    cost little. The point value comes from fairlearn."""
    codes = np.unique(values, return_inverse=True)[1]
    k = codes.max() + 1
    gaps = []
    for _ in range(replicates):
        i = rng.integers(0, len(y), len(y))
        positives = np.bincount(codes[i], weights=y[i], minlength=k)
        hits = np.bincount(codes[i], weights=y[i] * pred[i], minlength=k)
        recall = hits[positives > 0] / positives[positives > 0]
        if len(recall) >= 2:
            gaps.append(recall.max() - recall.min())
    if not gaps:
        return None, None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(gaps, [tail, 100.0 - tail])
    return float(low), float(high)


def fairness_figures(
    y: np.ndarray,
    p_positive: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    rng: np.random.Generator | None = None,
    replicates: int = 200,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Per attribute: group recall, AUROC, FPR and size; recall gap (with a bootstrap
    interval), AUROC gap and the equalized-odds difference (largest between-group
    difference in TPR or FPR)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    y = np.asarray(y).astype(int)
    pred = (np.asarray(p_positive) >= 0.5).astype(int)
    out: dict[str, Any] = {}
    for attribute, values in groups.items():
        values = np.asarray(values).astype(str)
        hard = MetricFrame(
            metrics={
                "n": count,
                "recall": lambda a, b: recall_score(a, b, zero_division=0),
                "false_positive_rate": false_positive_rate,
            },
            y_true=y,
            y_pred=pred,
            sensitive_features=values,
        )
        soft = MetricFrame(
            metrics={"auroc": _auroc}, y_true=y, y_pred=p_positive, sensitive_features=values
        )
        table = hard.by_group.join(soft.by_group)
        out[attribute] = {
            "groups": {
                str(g): {
                    "n": int(row["n"]),
                    "recall": _num(row["recall"]),
                    "auroc": _num(row["auroc"]),
                    "false_positive_rate": _num(row["false_positive_rate"]),
                }
                for g, row in table.iterrows()
            },
            "recall_gap": dict(
                zip(
                    ("value", "lower", "upper"),
                    (
                        _num(hard.difference()["recall"]),
                        *recall_gap_interval(
                            y, pred, values, rng=rng, replicates=replicates, confidence=confidence
                        ),
                    ),
                    strict=True,
                )
            ),
            "auroc_gap": {"value": _num(soft.difference()["auroc"])},
            "equalized_odds_difference": {
                "value": _num(equalized_odds_difference(y, pred, sensitive_features=values))
            },
        }
    return out
