"""All bootstrap replicates of the binary utility metrics at once, against scikit-learn
on each resample."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.metrics.utility import ECE_BINS, UTILITY_METRICS, utility_figures
from auditor.metrics.utility_replicates import binary_replicates

EXACT = ("accuracy", "f1_micro", "f1_macro", "cohen_kappa")  # integer counts: bit for bit
SUMMED = 1e-12  # the other metrics sum the same float terms in another order


def loop(y: np.ndarray, p: np.ndarray, draws: np.ndarray) -> dict[str, np.ndarray]:
    return {
        name: np.array([float(fn(y[i], p[i])) for i in draws])
        for name, (fn, _) in UTILITY_METRICS.items()
    }


@pytest.mark.parametrize("ties", [False, True])
def test_every_replicate_equals_scikit_learn(ties: bool) -> None:
    rng = np.random.default_rng(3)
    n = 60
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1)
    if ties:  # shared scores, scores on the 0.5 threshold and on ECE bin edges
        p = np.round(p, 1)
    draws = rng.integers(0, n, (200, n))
    draws[0] = np.flatnonzero(y == 0)[rng.integers(0, (y == 0).sum(), n)]  # no positives
    fast, slow = binary_replicates(y, p, draws, ECE_BINS), loop(y, p, draws)
    assert np.isnan(slow["auroc"][0]) and np.isnan(fast["auroc"][0])
    for name in UTILITY_METRICS:
        if name in EXACT:
            np.testing.assert_array_equal(fast[name], slow[name], err_msg=name)
        else:
            np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=SUMMED, err_msg=name)


def test_blocks_give_the_same_replicates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of replicates (bounded memory) change nothing but float rounding, and
    drawing inside equals drawing the per-replicate loop's resamples first."""
    from auditor.metrics import utility_replicates

    rng = np.random.default_rng(4)
    y, p = (rng.random(40) < 0.5).astype(int), rng.random(40)
    gen = np.random.default_rng(8)
    draws = np.stack([gen.integers(0, 40, 40) for _ in range(300)])
    whole = binary_replicates(y, p, draws, ECE_BINS)
    monkeypatch.setattr(utility_replicates, "BLOCK_ENTRIES", 40 * 7)  # blocks of 7
    for values in (
        binary_replicates(y, p, draws, ECE_BINS),
        utility_replicates.bootstrap_replicates(y, p, np.random.default_rng(8), 300, ECE_BINS),
    ):
        for name in whole:  # float sums: BLAS may round a row differently by block shape
            tol = 0 if name in EXACT else SUMMED
            np.testing.assert_allclose(values[name], whole[name], rtol=0, atol=tol, err_msg=name)


def test_intervals_match_the_per_replicate_loop() -> None:
    """Same draws from the same seed: the interval ends agree with the loop's."""
    rng = np.random.default_rng(5)
    y = (rng.random(300) < 0.4).astype(int)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    figures = utility_figures(y, p, rng=np.random.default_rng(9), replicates=300, confidence=0.9)
    gen = np.random.default_rng(9)
    draws = np.array([gen.integers(0, 300, 300) for _ in range(300)])
    slow = loop(y, p, draws)
    for name, values in slow.items():
        lower, upper = np.nanquantile(values, [0.05, 0.95])
        assert figures[name]["lower"] == pytest.approx(lower, abs=1e-12), name
        assert figures[name]["upper"] == pytest.approx(upper, abs=1e-12), name


def test_no_replicates_give_no_interval_and_every_metric_is_named() -> None:
    from auditor.metrics.utility_replicates import METRICS

    assert set(METRICS) == set(UTILITY_METRICS)
    rng = np.random.default_rng(6)
    y, p = (rng.random(30) < 0.5).astype(int), rng.random(30)
    figures = utility_figures(y, p, rng=np.random.default_rng(1), replicates=0, confidence=0.95)
    assert figures["auroc"]["value"] is not None and figures["auroc"]["lower"] is None
