"""Fairness per sensitive attribute with fairlearn's MetricFrame, for every label structure."""

from __future__ import annotations

from typing import Any

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    count,
    equalized_odds_difference,
    false_positive_rate,
)
from scipy.stats import binomtest, rankdata
from sklearn.metrics import recall_score, roc_auc_score

from auditor.core.estimates import percentile_interval
from auditor.core.scores import predicted_labels, probabilities


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    # A group with only one outcome class has no AUROC.
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _num(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def group_figures(
    n: int,
    recall: float | None,
    auroc: float | None,
    false_positive_rate: float | None,
    intervals: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One group's figures in the estimate shape of every figure of a result: recall and
    AUROC as {value, lower, upper, method} (ends None where the interval is undefined),
    the false-positive rate as {value}."""

    def estimate(value: float | None, interval: dict[str, Any] | None) -> dict[str, Any]:
        if interval is None:
            return {"value": value, "lower": None, "upper": None, "note": "no interval"}
        return {"value": value, **interval}

    return {
        "n": n,
        "recall": estimate(recall, intervals.get("recall_interval")),
        "auroc": estimate(auroc, intervals.get("auroc_interval")),
        "false_positive_rate": {"value": false_positive_rate},
    }


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
    interval = percentile_interval(float("nan"), np.asarray(gaps, dtype=float), confidence)
    return interval.lower, interval.upper


def rank_auroc(scores: np.ndarray, n_positive: int) -> np.ndarray:
    """AUROC of each row of `scores` whose first `n_positive` columns are the positives
    (Mann-Whitney U from mid-ranks, ties counted half, as scikit-learn does)."""
    n_negative = scores.shape[1] - n_positive
    ranks = rankdata(scores, axis=1)
    u = ranks[:, :n_positive].sum(axis=1) - n_positive * (n_positive + 1) / 2
    return u / (n_positive * n_negative)


def group_intervals(
    y: np.ndarray,
    pred: np.ndarray,
    p_positive: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
) -> dict[str, dict[str, Any]]:
    """Intervals of one group's recall (exact Clopper-Pearson, scipy's binomtest) and AUROC
    (percentile bootstrap, positives and negatives resampled separately; each replicate's
    AUROC from ranks, all replicates at once). Empty intervals where a figure is undefined."""
    out: dict[str, dict[str, Any]] = {}
    positives = int(y.sum())
    if positives:
        ci = binomtest(int((pred[y == 1]).sum()), positives).proportion_ci(confidence, "exact")
        out["recall_interval"] = {
            "lower": float(ci.low),
            "upper": float(ci.high),
            "method": "Clopper-Pearson (exact binomial)",
        }
    pos, neg = p_positive[y == 1], p_positive[y == 0]
    if len(pos) and len(neg):
        n1, n0 = len(pos), len(neg)
        sample = np.concatenate(
            [
                pos[rng.integers(0, n1, (replicates, n1))],
                neg[rng.integers(0, n0, (replicates, n0))],
            ],
            axis=1,
        )
        interval = percentile_interval(float("nan"), rank_auroc(sample, n1), confidence)
        out["auroc_interval"] = {
            "lower": interval.lower,
            "upper": interval.upper,
            "method": "percentile bootstrap, stratified by outcome",
        }
    return out


def fairness_figures(
    y: np.ndarray,
    p_positive: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    replicates: int = 200,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Per attribute: group recall, AUROC, FPR and size; recall gap (with a bootstrap
    interval), AUROC gap and the equalized-odds difference (largest between-group
    difference in TPR or FPR)."""
    # The groups' own intervals draw from a child stream, leaving `rng` to the gap intervals.
    interval_rng = rng.spawn(1)[0]
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
                str(g): group_figures(
                    int(row["n"]),
                    _num(row["recall"]),
                    _num(row["auroc"]),
                    _num(row["false_positive_rate"]),
                    group_intervals(
                        y[values == g],
                        pred[values == g],
                        np.asarray(p_positive)[values == g],
                        rng=interval_rng,
                        replicates=replicates,
                        confidence=confidence,
                    ),
                )
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


def _indicators(y: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, ...]:
    """(truth, prediction, probability) as (n, L) matrices: multi-label as they are;
    multi-class one-hot, so that micro figures over a record's entries are per-record ones
    (micro recall is accuracy)."""
    multilabel = y.ndim == 2
    proba = probabilities(logits, multilabel)
    pred = predicted_labels(logits, multilabel)
    if multilabel:
        return y.astype(int), pred, proba
    eye = np.eye(proba.shape[1], dtype=int)
    return eye[y], eye[pred], proba


def _pair_auroc(truth: np.ndarray, proba: np.ndarray) -> float:
    flat = truth.ravel()
    return float(roc_auc_score(flat, proba.ravel())) if 0 < flat.sum() < len(flat) else np.nan


def _percentiles(values: list[float], confidence: float) -> tuple[float | None, float | None]:
    """The percentile bootstrap interval's ends (NaN replicates dropped)."""
    estimate = percentile_interval(float("nan"), np.asarray(values, dtype=float), confidence)
    return estimate.lower, estimate.upper


def structured_fairness_figures(
    y: np.ndarray,
    logits: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    replicates: int = 200,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Fairness figures of any label structure. Binary models: `fairness_figures`.
    Multi-class and multi-label models: micro figures per group over the group's (record,
    label) entries (fairlearn's MetricFrame on those entries): recall (the coding result's
    "recall by sex"; multi-class: accuracy), false-positive rate and AUROC, with intervals
    from a bootstrap that resamples records (a record's entries are not independent), and
    the recall gap, AUROC gap and equalized-odds difference (largest gap in micro recall or
    false-positive rate)."""
    y = np.asarray(y).astype(int)
    if y.ndim == 1 and logits.shape[1] == 2:
        return fairness_figures(
            y,
            probabilities(logits, False)[:, 1],
            groups,
            rng=rng,
            replicates=replicates,
            confidence=confidence,
        )
    truth, pred, proba = _indicators(y, logits)
    n, width = truth.shape
    draws = [rng.integers(0, n, n) for _ in range(replicates)]
    out: dict[str, Any] = {}
    for attribute, values in groups.items():
        values = np.asarray(values).astype(str)
        entries = np.repeat(values, width)
        hard = MetricFrame(
            metrics={
                "recall": lambda a, b: recall_score(a, b, zero_division=0),
                "false_positive_rate": false_positive_rate,
            },
            y_true=truth.ravel(),
            y_pred=pred.ravel(),
            sensitive_features=entries,
        )
        soft = MetricFrame(
            metrics={"auroc": _auroc},
            y_true=truth.ravel(),
            y_pred=proba.ravel(),
            sensitive_features=entries,
        )
        table = hard.by_group.join(soft.by_group)
        names = [str(g) for g in table.index]
        recalls: dict[str, list[float]] = {g: [] for g in names}
        aucs: dict[str, list[float]] = {g: [] for g in names}
        gaps: list[float] = []
        for i in draws:
            vi, ti, pi, qi = values[i], truth[i], pred[i], proba[i]
            for g in names:
                rows = vi == g
                positives = ti[rows].sum()
                recalls[g].append(
                    float((ti[rows] * pi[rows]).sum() / positives) if positives else np.nan
                )
                aucs[g].append(_pair_auroc(ti[rows], qi[rows]))
            kept = [recalls[g][-1] for g in names if not np.isnan(recalls[g][-1])]
            if len(kept) >= 2:
                gaps.append(max(kept) - min(kept))
        method = "percentile bootstrap over records"
        out[attribute] = {
            "groups": {
                g: group_figures(
                    int((values == g).sum()),
                    _num(row["recall"]),
                    _num(row["auroc"]),
                    _num(row["false_positive_rate"]),
                    {
                        f"{figure}_interval": dict(
                            zip(("lower", "upper"), _percentiles(reps, confidence), strict=True),
                            method=method,
                        )
                        for figure, reps in (("recall", recalls[g]), ("auroc", aucs[g]))
                    },
                )
                for g, (_, row) in zip(names, table.iterrows(), strict=True)
            },
            "recall_gap": dict(
                zip(
                    ("value", "lower", "upper"),
                    (_num(hard.difference()["recall"]), *_percentiles(gaps, confidence)),
                    strict=True,
                )
            ),
            "auroc_gap": {"value": _num(soft.difference()["auroc"])},
            "equalized_odds_difference": {"value": _num(float(hard.difference().max()))},
        }
    return out
