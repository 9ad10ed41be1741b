"""Utility on the test split, with bootstrap intervals (scikit-learn), for each label
structure: binary (today's metrics), multi-class and multi-label.

`auroc` is every structure's headline discrimination figure (the report's summary and the
comparison page read it): the AUROC for a binary model, the macro one-vs-rest AUROC for a
multi-class model, and the micro-averaged AUROC for a multi-label model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from auditor.core.estimates import percentile_interval, proportion
from auditor.core.scores import predicted_labels, probabilities
from auditor.metrics.utility_replicates import bootstrap_replicates, calibration_bins

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of P(y=1) over equal-width bins (weighted |acc - conf|).

    scikit-learn's `calibration_curve` drops empty bins and their counts, so the weighting
    is done here on the same binning.
    """
    which = calibration_bins(p, bins)
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
    # Per-record resampling, one draw per replicate from one stream (as always drawn);
    # every replicate's metrics at once (utility_replicates: equal to the scikit-learn
    # loop to the last digits, tested).
    reps = bootstrap_replicates(y, p, rng, replicates, ECE_BINS)
    out = {}
    for name, (fn, _) in UTILITY_METRICS.items():
        out[name] = percentile_interval(float(fn(y, p)), reps[name], confidence).to_dict()
    return out


def macro_auroc(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean one-vs-rest AUROC over the classes (multi-class: y indices) or labels
    (multi-label: y 0/1 columns) that have both outcomes in `y`; equals scikit-learn's macro
    average whenever every class does (scikit-learn refuses otherwise: a bootstrap
    resample can miss a rare class)."""
    hits = np.eye(proba.shape[1], dtype=int)[y] if y.ndim == 1 else y
    aucs = [
        skm.roc_auc_score(hits[:, c], proba[:, c])
        for c in range(proba.shape[1])
        if 0 < hits[:, c].sum() < len(hits)
    ]
    return float(np.mean(aucs)) if aucs else float("nan")


def _top_label_ece(y: np.ndarray, proba: np.ndarray) -> float:
    """ECE of the top-label confidence: is the predicted class right as often as claimed?"""
    return expected_calibration_error((proba.argmax(axis=1) == y).astype(int), proba.max(axis=1))


def _classes(proba: np.ndarray) -> list[int]:
    return list(range(proba.shape[1]))


# name -> (function of (y_true (n,), class probabilities (n, C)), higher is better)
MULTICLASS_METRICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "accuracy": (lambda y, p: skm.accuracy_score(y, p.argmax(axis=1)), True),
    "auroc": (macro_auroc, True),
    "balanced_accuracy": (
        lambda y, p: skm.recall_score(
            y, p.argmax(axis=1), average="macro", labels=_classes(p), zero_division=0
        ),
        True,
    ),
    "f1_macro": (
        lambda y, p: skm.f1_score(
            y, p.argmax(axis=1), average="macro", labels=_classes(p), zero_division=0
        ),
        True,
    ),
    "cohen_kappa": (
        lambda y, p: skm.cohen_kappa_score(y, p.argmax(axis=1), labels=_classes(p)),
        True,
    ),
    "log_loss": (lambda y, p: skm.log_loss(y, p, labels=_classes(p)), False),
    "ece": (_top_label_ece, False),
}


def _hard(p: np.ndarray) -> np.ndarray:
    return (p >= 0.5).astype(int)


def _micro_auroc(y: np.ndarray, p: np.ndarray) -> float:
    flat = y.ravel()
    return float(skm.roc_auc_score(flat, p.ravel())) if 0 < flat.sum() < len(flat) else np.nan


# name -> (function of (y_true (n, L) 0/1, label probabilities (n, L)), higher is better)
MULTILABEL_METRICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "f1_micro": (lambda y, p: skm.f1_score(y, _hard(p), average="micro", zero_division=0), True),
    "f1_macro": (lambda y, p: skm.f1_score(y, _hard(p), average="macro", zero_division=0), True),
    "auroc": (_micro_auroc, True),
    "auroc_macro": (macro_auroc, True),
    "recall_micro": (
        lambda y, p: skm.recall_score(y, _hard(p), average="micro", zero_division=0),
        True,
    ),
    "subset_accuracy": (lambda y, p: skm.accuracy_score(y, _hard(p)), True),
    "hamming_loss": (lambda y, p: skm.hamming_loss(y, _hard(p)), False),
}


def metric_table(
    multilabel: bool, n_outputs: int
) -> dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]]:
    """The utility metrics of a label structure (name -> (function, higher is better))."""
    if multilabel:
        return MULTILABEL_METRICS
    return UTILITY_METRICS if n_outputs == 2 else MULTICLASS_METRICS


def structured_utility_figures(
    y: np.ndarray,
    logits: np.ndarray,
    *,
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
) -> dict[str, Any]:
    """Every utility metric of the label structure of `y` from the model's logits: binary
    models exactly as `utility_figures` (P(y = 1)); multi-class and multi-label with their
    own tables, resampling records (a multi-label record keeps its whole label vector)."""
    y = np.asarray(y).astype(int)
    multilabel = y.ndim == 2
    proba = probabilities(logits, multilabel)
    if not multilabel and proba.shape[1] == 2:
        return utility_figures(
            y, proba[:, 1], rng=rng, replicates=replicates, confidence=confidence
        )
    table = metric_table(multilabel, proba.shape[1])
    draws = [rng.integers(0, len(y), len(y)) for _ in range(replicates)]
    out = {}
    for name, (fn, _) in table.items():
        reps = np.array([float(fn(y[i], proba[i])) for i in draws])
        out[name] = percentile_interval(float(fn(y, proba)), reps, confidence).to_dict()
    return out


def per_label_recall(
    y: np.ndarray, logits: np.ndarray, names: tuple[str, ...], confidence: float
) -> dict[str, Any]:
    """Multi-label: each label's recall with its exact (Clopper-Pearson) interval (records
    are independent within one label)."""
    pred = predicted_labels(logits, multilabel=True)
    return {
        name: proportion(int((pred[:, j] * y[:, j]).sum()), int(y[:, j].sum()), confidence)
        for j, name in enumerate(names)
    }
