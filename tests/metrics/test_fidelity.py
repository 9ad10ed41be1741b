"""Reference fidelity on simulated statistics: a target drawn like the reference models is
flagged at about the stated alpha over many seeds; a target more confident than them, or
spread differently (record-level noise 2x), is flagged; a milder difference (1.6x) in most
seeds."""

from __future__ import annotations

import numpy as np

from auditor.metrics.fidelity import reference_fidelity

K, N, ALPHA = 16, 600, 0.05


def _simulate(
    seed: int, *, shift: float = 0.0, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """K + 1 models: statistic = record effect + model effect + noise; the last is the
    target (shifted / scaled as asked). Online-like OUT masks: each record OUT of half."""
    rng = np.random.default_rng(seed)
    record = rng.normal(2.0, 1.5, N)
    models = rng.normal(0.0, 0.15, K + 1)
    stats = record[None, :] + models[:, None] + rng.normal(0.0, 0.7, (K + 1, N))
    target = record + models[-1] + shift + scale * (stats[-1] - record - models[-1])
    out = np.zeros((K, N), dtype=bool)
    for j in range(0, K, 2):
        half = rng.permutation(N)[: N // 2]
        out[j, half] = True
        out[j + 1] = ~out[j]
    unseen = rng.random(N) < 0.7
    return target, stats[:K], unseen, out


def test_a_target_like_its_references_is_flagged_at_about_alpha() -> None:
    runs = 200
    flags = sum(
        bool(reference_fidelity(*_simulate(seed), alpha=ALPHA)["flagged"]) for seed in range(runs)
    )
    # One-sided binomial margin: at most alpha + 3 standard errors of a rate over 200 runs.
    assert flags / runs <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / runs), flags


def test_a_more_confident_or_differently_spread_target_is_flagged() -> None:
    spread_flags = 0
    for seed in range(20):
        shifted = reference_fidelity(*_simulate(seed, shift=0.8), alpha=ALPHA)
        assert shifted["flagged"], shifted
        assert shifted["mean_difference"]["value"] < 0  # the target is the more confident
        spread = reference_fidelity(*_simulate(seed, scale=2.0), alpha=ALPHA)
        assert spread["flagged"], spread
        spread_flags += bool(
            reference_fidelity(*_simulate(seed, scale=1.6), alpha=ALPHA)["flagged"]
        )
    # Power for a milder spread (record-level noise 1.6x): most seeds, not every one.
    assert spread_flags >= 12, spread_flags


def test_too_few_reference_models_cannot_be_judged() -> None:
    target, stats, unseen, out = _simulate(0)
    verdict = reference_fidelity(target, stats[:3], unseen, out[:3], alpha=ALPHA)
    assert verdict["flagged"] is None and "at least 4" in verdict["note"]
