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


def fairness_figures(
    y: np.ndarray, p_positive: np.ndarray, groups: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Per attribute: group recall, AUROC, FPR and size; recall gap, AUROC gap and the
    equalized-odds difference (largest between-group difference in TPR or FPR)."""
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
            "recall_gap": {"value": _num(hard.difference()["recall"])},
            "auroc_gap": {"value": _num(soft.difference()["auroc"])},
            "equalized_odds_difference": {
                "value": _num(equalized_odds_difference(y, pred, sensitive_features=values))
            },
        }
    return out
