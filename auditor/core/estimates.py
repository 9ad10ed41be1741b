"""Interval helpers: a point estimate with its interval, Clopper-Pearson bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import beta, binomtest


@dataclass(frozen=True)
class Estimate:
    """A figure with its two-sided interval; `value` None when it cannot be measured."""

    value: float | None
    lower: float | None
    upper: float | None
    resolvable: bool = True
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "resolvable": self.resolvable,
            "note": self.note,
        }


def percentile_interval(point: float, replicates: np.ndarray, confidence: float) -> Estimate:
    """Percentile bootstrap interval around `point` (NaN replicates are dropped)."""
    reps = replicates[~np.isnan(replicates)]
    if len(reps) == 0:
        return Estimate(float(point), None, None)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(reps, [tail, 100.0 - tail])
    return Estimate(float(point), float(low), float(high))


def clopper_pearson_upper(successes: np.ndarray, trials: np.ndarray, alpha: float) -> np.ndarray:
    """One-sided exact (Clopper-Pearson) upper bound at level 1 - alpha on a binomial rate.

    Written on scipy's beta quantiles (vectorised over thousands of thresholds) rather than
    `scipy.stats.binomtest`, which takes one count at a time; a test checks they agree.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        upper = beta.ppf(1.0 - alpha, k + 1.0, n - k)
    return np.where(k >= n, 1.0, upper)


def proportion(successes: int, trials: int, confidence: float) -> dict[str, Any]:
    """A rate with its exact (Clopper-Pearson) interval."""
    if trials == 0:
        return {
            "value": None,
            "lower": None,
            "upper": None,
            "resolvable": False,
            "note": "no trials",
        }
    ci = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="exact")
    return {
        "value": successes / trials,
        "lower": float(ci.low),
        "upper": float(ci.high),
        "resolvable": True,
        "note": None,
    }
