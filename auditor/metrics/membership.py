"""Membership-inference figures from per-record scores (larger = more likely a member).

The only caller of `roc_curve` in the project: every attack is judged by this yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import auc, roc_curve

from auditor.core.estimates import Estimate, clopper_pearson_upper, percentile_interval

# 10%: the field's benchmark operating point (MIDST, synthetic-data attacks); 1% and 0.1%:
# the low-FPR regime where membership inference is judged (Carlini et al. 2022).
FPR_TARGETS = (0.1, 0.01, 0.001)
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
    band: tuple[float, ...] = ()
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


@dataclass(frozen=True)
class RocReplicates:
    """The figures of every bootstrap replicate, one array entry per replicate."""

    auc: np.ndarray
    advantage: np.ndarray
    tpr_at: dict[float, np.ndarray]
    band: np.ndarray  # (replicates, len(grid)); (replicates, 0) without a grid


REPLICATE_BLOCK = 256  # at most this many replicates held at once
# Bytes one replicate holds per record while its block is counted: its draws (8), the
# flattened levels (8) and the cumulative counts per distinct score (8), for members and
# non-members together, with room for numpy's temporaries.
BYTES_PER_DRAW = 48
BLOCK_BYTES = 512 * 2**20  # a block's budget: 256 replicates up to ~43,000 records


def replicate_block(n: int) -> int:
    """Replicates counted at once for `n` records: 256, fewer when that would pass
    BLOCK_BYTES (memory stays bounded at any size; every replicate draws from the same
    stream in the same order, so the figures do not depend on the block)."""
    return max(1, min(REPLICATE_BLOCK, BLOCK_BYTES // (BYTES_PER_DRAW * max(n, 1))))


def _resample_draws(
    is_member: np.ndarray, rng: np.random.Generator, replicates: int
) -> tuple[np.ndarray, np.ndarray]:
    """The records each stratified resample draws: per replicate, the members then the
    non-members drawn with replacement, from one stream in that order (as the audit has
    always drawn them); (replicates, members) and (replicates, non-members)."""
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    drawn_m = np.empty((replicates, len(members)), dtype=np.int64)
    drawn_o = np.empty((replicates, len(others)), dtype=np.int64)
    # members[integers(0, n, n)] is rng.choice(members, n) (with replacement), draw for
    # draw, without choice's per-call overhead (tested against the choice loop).
    for r in range(replicates):
        drawn_m[r] = members[rng.integers(0, len(members), len(members))]
        drawn_o[r] = others[rng.integers(0, len(others), len(others))]
    return drawn_m, drawn_o


def _cumulative(drawn: np.ndarray, level: np.ndarray, levels: int) -> np.ndarray:
    """Per replicate (row of `drawn`), how many draws score at or above each distinct score
    (level 0 = the highest): one bincount over all rows, then a cumulative sum."""
    rows = len(drawn)
    flat = level[drawn] + np.arange(rows, dtype=np.int64)[:, None] * levels
    counts = np.bincount(flat.ravel(), minlength=rows * levels).reshape(rows, levels)
    return np.cumsum(counts, axis=1)


def _largest_count(target: float, n: int) -> int:
    """The largest f with f / n <= target + 1e-12 in floating point: the integer form of
    `tpr_at_fpr`'s test on an FPR of f / n."""
    limit = target + 1e-12
    f = min(int(np.floor(limit * n)), n)
    while f < n and (f + 1) / n <= limit:
        f += 1
    while f > 0 and f / n > limit:
        f -= 1
    return f


def _replicate_figures(
    tp: np.ndarray, fp: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(AUC, advantage, TPR at each FPR of `grid`) of each replicate from its cumulative
    member (`tp`) and non-member (`fp`) counts at each distinct score, highest first."""
    n_m, n_o = int(tp[0, -1]), int(fp[0, -1])
    # Trapezoids on the integer counts, from (0, 0): the exact area, where auc() sums
    # float trapezoids. (tp_k + tp_{k-1}) = 2 tp_k - (tp_k - tp_{k-1}).
    d_fp = np.diff(fp, axis=1, prepend=0)
    area = (d_fp * (2 * tp - np.diff(tp, axis=1, prepend=0))).sum(axis=1)
    auc_ = area / (2.0 * n_m * n_o)
    tpr = tp / n_m  # as roc_curve divides its counts: the same floats
    advantage = np.maximum((tpr - fp / n_o).max(axis=1), 0.0)  # (0, 0) is a point too
    # TPR at the last point with FPR <= target, as tpr_at_fpr reads it: rows of fp are
    # non-decreasing integers, so one searchsorted over the rows laid end to end; with no
    # point at or below the limit, the curve's start (TPR 0) is read.
    rows, width = fp.shape
    offset = np.arange(rows, dtype=np.int64)[:, None] * (n_o + 1)
    limits = np.array([_largest_count(float(t), n_o) for t in grid], dtype=np.int64)
    pos = np.searchsorted((fp + offset).ravel(), (limits[None, :] + offset).ravel(), "right")
    idx = pos.reshape(rows, len(grid)) - 1 - np.arange(rows)[:, None] * width
    read = np.take_along_axis(tpr, np.maximum(idx, 0), axis=1)
    return auc_, advantage, np.where(idx >= 0, read, 0.0)


def bootstrap_rocs(
    scores: np.ndarray,
    is_member: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    grid: np.ndarray | None = None,
) -> tuple[RocPoint, RocReplicates]:
    """The ROC figures of the scores (scikit-learn's curve) and of `replicates` stratified
    bootstrap resamples, all at once.

    Written here: the scores are sorted once and each resample becomes a count per record,
    so every replicate's curve is a cumulative sum over the same order (no library
    bootstraps a ROC curve this way). Each replicate draws exactly the records the
    one-at-a-time loop drew; its TPR at an FPR and its advantage equal scikit-learn's on the
    resample bit for bit, its AUC is the exact trapezoid area (scikit-learn's float sum
    differs in the last digits), tested against `read_roc` on small inputs with ties.
    """
    point = read_roc(scores, is_member, grid)
    at_fprs = np.r_[np.array(FPR_TARGETS), np.asarray(grid if grid is not None else [], float)]
    distinct, level = np.unique(-scores, return_inverse=True)  # level 0: the highest score
    parts = []
    block = replicate_block(len(scores))
    for start in range(0, replicates, block):
        drawn_m, drawn_o = _resample_draws(is_member, rng, min(block, replicates - start))
        tp = _cumulative(drawn_m, level, len(distinct))
        fp = _cumulative(drawn_o, level, len(distinct))
        parts.append(_replicate_figures(tp, fp, at_fprs))
    auc_ = np.concatenate([p[0] for p in parts])
    advantage = np.concatenate([p[1] for p in parts])
    at = np.concatenate([p[2] for p in parts])
    boots = RocReplicates(
        auc=auc_,
        advantage=advantage,
        tpr_at={t: at[:, i] for i, t in enumerate(FPR_TARGETS)},
        band=at[:, len(FPR_TARGETS) :],
    )
    return point, boots


def roc_band(
    grid: np.ndarray, point: RocPoint, boots: RocReplicates, confidence: float
) -> dict[str, Any]:
    """Pointwise percentile interval of the TPR at each FPR of `grid` (JSON-ready)."""
    reps = boots.band
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
    point: RocPoint, boots: RocReplicates, n_non: int, confidence: float, selection: int = 1
) -> dict[str, dict[str, Any]]:
    """TPR at each FPR target with its interval, or why it cannot be measured. With
    `selection` > 1 (the attack is one of that many compared, and the strongest is read
    after the fact), each also gets `selection_lower`: the lower end at the Bonferroni
    level, the (1 - confidence) / (2 * selection) quantile of the same replicates."""
    table = {}
    for target in FPR_TARGETS:
        if resolvable(target, n_non):
            reps = boots.tpr_at[target]
            est = percentile_interval(point.tpr_at[target], reps, confidence)
            entry = est.to_dict()
            if selection > 1:
                corrected = 1.0 - (1.0 - confidence) / selection
                entry["selection_lower"] = percentile_interval(
                    point.tpr_at[target], reps, corrected
                ).lower
                entry["selection"] = selection
            table[f"{target:g}"] = entry
        else:
            need = int(np.ceil(1.0 / target))
            note = f"not resolvable with {n_non} non-members (needs at least {need})"
            table[f"{target:g}"] = Estimate(None, None, None, resolvable=False, note=note).to_dict()
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
    selection: int = 1,
) -> dict[str, Any]:
    """Every membership figure of one attack, with bootstrap intervals (JSON-ready);
    `selection`: how many attacks it is compared with (`tpr_figures`)."""
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    if scores.shape != is_member.shape or not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite, one per candidate")
    n_members, n_non = int(is_member.sum()), int((~is_member).sum())
    grid = band_grid(n_non)
    point, boots = bootstrap_rocs(scores, is_member, rng=rng, replicates=replicates, grid=grid)
    tpr_table = tpr_figures(point, boots, n_non, confidence, selection)
    eps = epsilon_lower_bound(scores, is_member, rng=rng, delta=delta, confidence=confidence)
    fpr, tpr = roc(scores, is_member)
    return {
        "n_members": n_members,
        "n_non_members": n_non,
        "auc": percentile_interval(point.auc, boots.auc, confidence).to_dict(),
        "advantage": percentile_interval(point.advantage, boots.advantage, confidence).to_dict(),
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
