"""Membership risk broken down by patient group: the same figures per group, and the
largest gap between groups with a bootstrap interval and, for AUC, a permutation p-value."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from auditor.core.estimates import percentile_interval
from auditor.metrics.membership import (
    FPR_TARGETS,
    bootstrap_rocs,
    epsilon_lower_bound,
    resolvable,
    tpr_figures,
)

ROUND_ENTRIES = 2_000_000  # permutation rounds x candidates held at once (16 MB of labels)
MIN_PER_CLASS = 10  # fewer members or non-members in a group: no figures for it


def group_figures(
    scores: np.ndarray,
    is_member: np.ndarray,
    groups: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
    delta: float = 1e-5,
) -> dict[str, Any]:
    """Per group: AUC, TPR at the FPR targets with intervals and the empirical epsilon lower
    bound; then, for AUC and each resolvable FPR target, the largest gap between groups
    (max - min of the point values)
    with a percentile interval from replicate-wise gaps (groups resampled independently,
    as the disjoint strata they are)."""
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    groups = np.asarray(groups).astype(str)
    per_group: dict[str, Any] = {}
    replicas: dict[str, dict[str, np.ndarray]] = {}
    points: dict[str, dict[str, float]] = {}
    for group in sorted(np.unique(groups)):
        rows = groups == group
        n_members, n_non = int(is_member[rows].sum()), int((~is_member[rows]).sum())
        entry: dict[str, Any] = {"n_members": n_members, "n_non_members": n_non}
        if min(n_members, n_non) < MIN_PER_CLASS:
            entry["note"] = f"fewer than {MIN_PER_CLASS} members or non-members: not measured"
            per_group[group] = entry
            continue
        point, boots = bootstrap_rocs(scores[rows], is_member[rows], rng=rng, replicates=replicates)
        aucs = boots.auc
        entry["auc"] = percentile_interval(point.auc, aucs, confidence).to_dict()
        entry["tpr_at_fpr"] = tpr_figures(point, boots, n_non, confidence)
        entry["epsilon_lower_bound"] = epsilon_lower_bound(
            scores[rows], is_member[rows], rng=rng, delta=delta, confidence=confidence
        )
        per_group[group] = entry
        replicas[group] = {"auc": aucs}
        points[group] = {"auc": point.auc}
        for target in FPR_TARGETS:
            if resolvable(target, n_non):
                key = f"tpr_at_fpr_{target:g}"
                replicas[group][key] = boots.tpr_at[target]
                points[group][key] = point.tpr_at[target]
    gaps: dict[str, Any] = {}
    for key in ("auc", *(f"tpr_at_fpr_{t:g}" for t in FPR_TARGETS)):
        measured = [g for g in points if key in points[g]]
        if len(measured) < 2:
            gaps[key] = {
                "value": None,
                "lower": None,
                "upper": None,
                "resolvable": False,
                "note": "fewer than two groups measured",
            }
            continue
        values = {g: points[g][key] for g in measured}
        stacked = np.stack([replicas[g][key] for g in measured])
        gap = percentile_interval(
            max(values.values()) - min(values.values()),
            stacked.max(axis=0) - stacked.min(axis=0),
            confidence,
        )
        gaps[key] = {
            **gap.to_dict(),
            "highest": str(max(values, key=lambda g: values[g])),
            "lowest": str(min(values, key=lambda g: values[g])),
        }
    measured = [g for g in points if "auc" in points[g]]
    if len(measured) >= 2:
        gaps["auc"]["p_value"] = auc_gap_p_value(
            scores, is_member, groups, measured, rng=rng, rounds=replicates
        )
    return {"groups": per_group, "gaps": gaps}


def _auc(scores: np.ndarray, is_member: np.ndarray) -> float:
    """AUC as the Mann-Whitney statistic (ties count half), equal to roc_auc_score."""
    ranks = rankdata(scores)
    m = int(is_member.sum())
    n = len(scores) - m
    return float((ranks[is_member].sum() - m * (m + 1) / 2) / (m * n))


def auc_gap_p_value(
    scores: np.ndarray,
    is_member: np.ndarray,
    groups: np.ndarray,
    measured: list[str],
    *,
    rng: np.random.Generator,
    rounds: int,
) -> float:
    """Permutation p-value of the largest AUC gap between `measured` groups.

    The max - min of noisy per-group estimates is biased upward, so its bootstrap interval
    sits above 0 even when groups do not differ; the permutation test asks how often
    groups drawn at random (group sizes kept among members and among non-members) give a
    gap as large."""
    keep = np.isin(groups, measured)
    s, m, g = scores[keep], is_member[keep], groups[keep]
    observed = max(_auc(s[g == name], m[g == name]) for name in measured)
    observed -= min(_auc(s[g == name], m[g == name]) for name in measured)
    codes = np.searchsorted(np.array(sorted(measured)), g)  # group order: max - min ignores it
    null = np.empty(rounds)
    step = max(1, ROUND_ENTRIES // max(len(g), 1))  # rounds held at once: bounded memory
    for start in range(0, rounds, step):
        labels = np.empty((min(step, rounds - start), len(g)), dtype=np.int64)
        for row in labels:  # the permutations the one-round-at-a-time test drew, in order
            for stratum in (m, ~m):
                row[stratum] = rng.permutation(codes[stratum])
        aucs = _group_aucs(s, m, labels, len(measured))
        null[start : start + len(labels)] = aucs.max(axis=1) - aucs.min(axis=1)
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + rounds))


def _group_aucs(
    scores: np.ndarray, is_member: np.ndarray, labels: np.ndarray, n_groups: int
) -> np.ndarray:
    """(rounds, groups) AUC of each group under each row of group codes `labels`.

    Written here: every round relabels the same records, so the scores are ranked once;
    a member's Mann-Whitney count within its group is the number of the group's
    non-members at lower levels plus half those at its own, read off a cumulative count
    over the levels. The counts are integers and halves, so each AUC is the same float as
    `_auc`'s (the same exact numerator over the same product), tested."""
    distinct, level = np.unique(scores, return_inverse=True)
    rounds, width = labels.shape[0], len(distinct)
    offset = np.arange(rounds, dtype=np.int64)[:, None] * width
    out = np.empty((rounds, n_groups))
    members, others = labels[:, is_member], labels[:, ~is_member]
    for code in range(n_groups):
        flat = (level[~is_member][None, :] + offset)[others == code]
        at = np.bincount(flat, minlength=rounds * width).reshape(rounds, width)
        below = np.cumsum(at, axis=1) - at  # the group's non-members strictly lower
        mine = members == code
        read = np.take_along_axis(
            below + 0.5 * at, np.broadcast_to(level[is_member], mine.shape), 1
        )
        m_g, n_g = mine.sum(axis=1), (others == code).sum(axis=1)  # the same in every round
        out[:, code] = np.where(mine, read, 0.0).sum(axis=1) / (m_g * n_g)
    return out
