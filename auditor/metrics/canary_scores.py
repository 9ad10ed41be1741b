"""Canary scores: the one-run game's guesses from them, and per-canary standardisation of
black-box scores across the runs of a game.

A one-run guess of r canaries says "in" for the r/2 highest scores and "out" for the r/2
lowest, abstaining on the rest (Steinke et al. 2023; Mahloujifar et al. 2025 guess alike).

A black-box canary's score (the final model's confidence in its label) mixes how easy the
canary is to fit anyway with whether it was trained on. Each canary plays in every run, in
about half of them, so its scores over the runs calibrate it, as LiRA's reference models
calibrate a record: the score less the canary's mean over reference runs, over its standard
deviation there. That is a function of the models' outputs alone, never of any inclusion
bit, so a one-run bound may read it with every run as reference; a many-runs bound takes
its reference runs from the runs that choose the threshold, so the held-out runs stay
independent trials. On the demo's DP-SGD at epsilon 8 it lifts the Gaussian-DP estimate of
ood canaries from 1.39 to 1.98 (`benchmarks/dp_audit.py`).
"""

from __future__ import annotations

import numpy as np

# Fewest reference runs worth standardising on: a canary's mean and deviation over fewer
# runs add more noise than they remove (8 runs, 2 choosing: the many-runs bound of the
# demo's noise-free ood game fell from above 1 to 0.94).
MIN_REFERENCE_RUNS = 8


def calibrated(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`standardised(scores, reference)` with at least MIN_REFERENCE_RUNS reference runs,
    else the scores as they are."""
    if len(reference) < MIN_REFERENCE_RUNS:
        return scores
    return standardised(scores, reference)


def standardised(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`scores` (runs, canaries) less each canary's mean over the `reference` runs (row
    indices), over its standard deviation there; centred only with one reference run."""
    ref = scores[np.asarray(reference)]
    centred = scores - ref.mean(axis=0)
    if len(ref) < 2:
        return np.asarray(centred)
    return np.asarray(centred / np.maximum(ref.std(axis=0), 1e-12))


def guess_outcomes(scores: np.ndarray, included: np.ndarray, counts: list[int]) -> np.ndarray:
    """Right guesses for each guess count r in `counts` ("in" for the r/2 highest scores,
    "out" for the r/2 lowest), over flat `scores` and boolean `included`, one sort."""
    order = np.argsort(scores, kind="stable")
    hits_high = np.cumsum(included[order[::-1]])  # "in" right among the top j + 1
    hits_low = np.cumsum(~included[order])  # "out" right among the bottom j + 1
    out = np.zeros(len(counts), dtype=np.int64)
    for i, r in enumerate(counts):
        half = r // 2
        if half:
            out[i] = hits_high[half - 1] + hits_low[half - 1]
    return out
