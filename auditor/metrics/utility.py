"""Utility of a binary classifier on the test split, with bootstrap intervals (scikit-learn)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from auditor.core.estimates import percentile_interval

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of P(y=1) over equal-width bins (weighted |acc - conf|).

    scikit-learn's `calibration_curve` drops empty bins and their counts, so the weighting
    is done here on the same binning.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    conf = np.bincount(which, weights=p, minlength=bins)
    hits = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    nonempty = counts > 0
    gaps = np.abs(hits[nonempty] - conf[nonempty])
    return float(gaps.sum() / len(y))


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _auprc(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.average_precision_score(y, p)) if y.any() else float("nan")


# name -> (function of (y_true, p_positive), higher is better)
UTILITY_METRICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "accuracy": (lambda y, p: skm.accuracy_score(y, p >= 0.5), True),
    "auroc": (_auroc, True),
    "auprc": (_auprc, True),
    "f1_micro": (lambda y, p: skm.f1_score(y, p >= 0.5, average="micro"), True),
    "f1_macro": (
        lambda y, p: skm.f1_score(y, p >= 0.5, average="macro", labels=[0, 1], zero_division=0),
        True,
    ),
    "cohen_kappa": (lambda y, p: skm.cohen_kappa_score(y, p >= 0.5, labels=[0, 1]), True),
    "brier": (lambda y, p: skm.brier_score_loss(y, p, labels=[0, 1]), False),
    "ece": (expected_calibration_error, False),
}


def utility_figures(
    y: np.ndarray,
    p_positive: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
) -> dict[str, Any]:
    """Every utility metric with a percentile bootstrap interval (JSON-ready)."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p_positive, dtype=np.float64)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(replicates)]  # per-record resampling
    out = {}
    for name, (fn, _) in UTILITY_METRICS.items():
        reps = np.array([float(fn(y[i], p[i])) for i in draws])
        out[name] = percentile_interval(float(fn(y, p)), reps, confidence).to_dict()
    return out
