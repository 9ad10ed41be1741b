"""Membership-inference figures from per-record scores (larger = more likely a member).

The only caller of `roc_curve` in the project: every attack is judged by this yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import auc, roc_curve

from auditor.core.estimates import Estimate, clopper_pearson_upper, percentile_interval

FPR_TARGETS = (0.01, 0.001)
EPSILON_METHOD = (
    "Clopper-Pearson at the stated confidence (Bonferroni over FPR and FNR); decision "
    "threshold chosen on a random half of the candidates, bound computed on the other half"
)


@dataclass(frozen=True)
class RocPoint:
    """Figures read off one ROC curve."""

    auc: float
    advantage: float
    tpr_at: dict[float, float]
    band: tuple[float, ...] = ()  # TPR at each FPR of the band grid, if one was asked for


def roc(scores: np.ndarray, is_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve (fpr, tpr) of `scores` for the member class, every threshold kept."""
    fpr, tpr, _ = roc_curve(is_member, scores, drop_intermediate=False)
    return fpr, tpr


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """Largest TPR among thresholds whose FPR <= target; read off the curve, never
    interpolated."""
    return float(tpr[np.searchsorted(fpr, target + 1e-12, side="right") - 1])


def read_roc(
    scores: np.ndarray, is_member: np.ndarray, band_grid: np.ndarray | None = None
) -> RocPoint:
    """AUC, membership advantage (max TPR - FPR), TPR at the FPR targets and, if
    `band_grid` is given, TPR at each of its FPRs (read off the curve like the targets)."""
    fpr, tpr = roc(scores, is_member)
    band = ()
    if band_grid is not None:
        band = tuple(float(v) for v in tpr[np.searchsorted(fpr, band_grid + 1e-12, "right") - 1])
    return RocPoint(
        auc=float(auc(fpr, tpr)),
        advantage=float(np.max(tpr - fpr)),
        tpr_at={t: tpr_at_fpr(fpr, tpr, t) for t in FPR_TARGETS},
        band=band,
    )


def band_grid(n_non_members: int, points: int = 25) -> np.ndarray:
    """FPRs at which the ROC figure's interval band is drawn: log-spaced from the smallest
    measurable FPR (1 / number of non-members) to 1."""
    low = 1.0 / max(n_non_members, 1)
    return np.unique(np.logspace(np.log10(low), 0.0, points))


def resolvable(target: float, n_non_members: int) -> bool:
    """An FPR below 1 / (number of non-members) cannot be measured."""
    return target * n_non_members >= 1.0


def _stratified_resample(is_member: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    return np.concatenate([rng.choice(members, len(members)), rng.choice(others, len(others))])


def epsilon_lower_bound(
    scores: np.ndarray,
    is_member: np.ndarray,
    *,
    rng: np.random.Generator,
    delta: float,
    confidence: float,
    choose: np.ndarray | None = None,
) -> float:
    """Empirical (epsilon, delta) lower bound at `confidence`.

    A threshold test "member iff score >= t" with false-positive rate FPR and false-negative
    rate FNR implies epsilon >= max(log((1-delta-FPR)/FNR), log((1-delta-FNR)/FPR)) for a
    (epsilon, delta)-DP mechanism (Kairouz et al. 2015). The threshold is chosen on one
    random half of the candidates; on the other half, FPR and FNR are replaced by their
    Clopper-Pearson upper bounds, so the bound holds with the stated confidence. `choose`
    (a boolean mask) names the candidates that choose the threshold instead of a random
    half (a canary game chooses on whole runs).
    """
    if choose is None:
        members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
        members, others = rng.permutation(members), rng.permutation(others)
        choose_idx = np.concatenate([members[: len(members) // 2], others[: len(others) // 2]])
        check = np.concatenate([members[len(members) // 2 :], others[len(others) // 2 :]])
    else:
        choose_idx, check = np.flatnonzero(choose), np.flatnonzero(~choose)
    alpha = (1.0 - confidence) / 2.0

    def bounds_at(idx: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        s, m = scores[idx], is_member[idx]
        pos, neg = np.sort(s[m]), np.sort(s[~m])
        fn = np.searchsorted(pos, thresholds, side="left")  # members below t
        fp = len(neg) - np.searchsorted(neg, thresholds, side="left")  # non-members >= t
        fpr_hi = clopper_pearson_upper(fp, np.full_like(fp, len(neg)), alpha)
        fnr_hi = clopper_pearson_upper(fn, np.full_like(fn, len(pos)), alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.log(np.clip(1.0 - delta - fpr_hi, 0.0, None) / fnr_hi)
            b = np.log(np.clip(1.0 - delta - fnr_hi, 0.0, None) / fpr_hi)
        eps = np.fmax(a, b)
        return np.where(np.isfinite(eps), eps, 0.0)

    candidates = np.unique(scores[choose_idx])
    best = candidates[int(np.argmax(bounds_at(choose_idx, candidates)))]
    return max(0.0, float(bounds_at(check, np.array([best]))[0]))


def bootstrap_rocs(
    scores: np.ndarray,
    is_member: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    grid: np.ndarray | None = None,
) -> tuple[RocPoint, list[RocPoint]]:
    """The ROC figures of the scores and of `replicates` stratified bootstrap resamples."""
    point = read_roc(scores, is_member, grid)
    boots = [
        read_roc(scores[i], is_member[i], grid)
        for i in (_stratified_resample(is_member, rng) for _ in range(replicates))
    ]
    return point, boots


def roc_band(
    grid: np.ndarray, point: RocPoint, boots: list[RocPoint], confidence: float
) -> dict[str, Any]:
    """Pointwise percentile interval of the TPR at each FPR of `grid` (JSON-ready)."""
    reps = np.array([b.band for b in boots])
    lower, upper = np.quantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return {
        "fpr": [float(v) for v in grid],
        "tpr": list(point.band),
        "lower": [float(v) for v in lower],
        "upper": [float(v) for v in upper],
        "confidence": confidence,
        "method": "pointwise percentile bootstrap (stratified), not a simultaneous band",
    }


def tpr_figures(
    point: RocPoint, boots: list[RocPoint], n_non: int, confidence: float
) -> dict[str, dict[str, Any]]:
    """TPR at each FPR target with its interval, or why it cannot be measured."""
    table = {}
    for target in FPR_TARGETS:
        if resolvable(target, n_non):
            reps = np.array([b.tpr_at[target] for b in boots])
            est = percentile_interval(point.tpr_at[target], reps, confidence)
        else:
            need = int(np.ceil(1.0 / target))
            note = f"not resolvable with {n_non} non-members (needs at least {need})"
            est = Estimate(None, None, None, resolvable=False, note=note)
        table[f"{target:g}"] = est.to_dict()
    return table


def membership_figures(
    scores: np.ndarray,
    is_member: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
    delta: float,
    roc_points: int = 300,
) -> dict[str, Any]:
    """Every membership figure of one attack, with bootstrap intervals (JSON-ready)."""
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    if scores.shape != is_member.shape or not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite, one per candidate")
    n_members, n_non = int(is_member.sum()), int((~is_member).sum())
    grid = band_grid(n_non)
    point, boots = bootstrap_rocs(scores, is_member, rng=rng, replicates=replicates, grid=grid)
    tpr_table = tpr_figures(point, boots, n_non, confidence)
    eps = epsilon_lower_bound(scores, is_member, rng=rng, delta=delta, confidence=confidence)
    fpr, tpr = roc(scores, is_member)
    return {
        "n_members": n_members,
        "n_non_members": n_non,
        "auc": percentile_interval(
            point.auc, np.array([b.auc for b in boots]), confidence
        ).to_dict(),
        "advantage": percentile_interval(
            point.advantage, np.array([b.advantage for b in boots]), confidence
        ).to_dict(),
        "tpr_at_fpr": tpr_table,
        "epsilon_lower_bound": {
            "value": eps,
            "confidence": confidence,
            "delta": delta,
            "method": EPSILON_METHOD,
        },
        "roc": thin_roc(fpr, tpr, roc_points),
        "roc_band": roc_band(grid, point, boots, confidence),
    }


def thin_roc(fpr: np.ndarray, tpr: np.ndarray, points: int) -> dict[str, list[float]]:
    """At most ~`points` corners of the ROC curve, spaced on a log FPR grid, for plotting.

    Keeps for each grid FPR the best TPR reachable at or below it, so low-FPR detail
    survives on log axes.
    """
    grid = np.unique(np.concatenate([[0.0], np.logspace(-5, 0, points)]))
    idx = np.unique(np.searchsorted(fpr, grid, side="right") - 1)
    return {"fpr": [float(v) for v in fpr[idx]], "tpr": [float(v) for v in tpr[idx]]}
