"""The DP audit's epsilon bounds on mechanisms whose epsilon is known exactly (randomised
response on each canary's inclusion): they agree with scipy's binomial test, hold their
confidence over many seeds, and find a mechanism that leaks more than it may."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from auditor.metrics.dp_audit import (
    dp_audit_bounds,
    many_runs_bound,
    one_run_bound,
    one_run_epsilon,
    one_run_p_value,
)

CONFIDENCE = 0.95


def randomised_response(
    eps: float, runs: int, canaries: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each canary's score is its inclusion bit, flipped with probability 1 / (1 + e^eps):
    exactly eps-DP in each canary, and the most informative eps-DP score there is."""
    rng = np.random.default_rng(seed)
    included = rng.random((runs, canaries)) < 0.5
    flip = rng.random((runs, canaries)) < 1.0 / (1.0 + math.exp(eps))
    scores = (included ^ flip).astype(float) + rng.normal(0, 1e-3, (runs, canaries))
    return scores, included


def test_the_one_run_p_value_without_delta_is_scipys_binomial_tail() -> None:
    for m, r, v, eps in [(1000, 100, 80, 1.0), (500, 500, 300, 0.5), (200, 20, 20, 3.0)]:
        q = 1.0 / (1.0 + math.exp(-eps))
        expected = binomtest(v, r, q, alternative="greater").pvalue
        assert one_run_p_value(m, r, v, eps, 0.0) == pytest.approx(expected, rel=1e-9)


def test_the_one_run_epsilon_is_the_edge_of_rejection() -> None:
    m, r, v, delta, alpha = 2000, 400, 330, 1e-5, 0.05
    eps = one_run_epsilon(m, r, v, delta=delta, alpha=alpha)
    assert eps > 0
    assert (
        one_run_p_value(m, r, v, eps, delta) < alpha <= one_run_p_value(m, r, v, eps + 1e-6, delta)
    )
    # Chance-level guesses reject nothing.
    assert one_run_epsilon(m, r, r // 2, delta=delta, alpha=alpha) == 0.0


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_bounds_on_randomised_response_hold_their_confidence_over_seeds(eps: float) -> None:
    seeds = 100
    over_one = over_many = 0
    for seed in range(seeds):
        scores, included = randomised_response(eps, runs=4, canaries=500, seed=seed)
        over_one += one_run_bound(scores, included, delta=0.0, confidence=CONFIDENCE)["value"] > eps
        many = many_runs_bound(
            scores, included, delta=0.0, confidence=CONFIDENCE, rng=np.random.default_rng(seed)
        )
        over_many += many["value"] > eps
    # At most alpha + 3 standard errors of a rate over 100 seeds (one-sided binomial margin).
    limit = (1 - CONFIDENCE) + 3 * math.sqrt(CONFIDENCE * (1 - CONFIDENCE) / seeds)
    assert over_one / seeds <= limit and over_many / seeds <= limit, (over_one, over_many)


def test_a_mechanism_that_leaks_more_than_its_claim_is_refuted() -> None:
    scores, included = randomised_response(3.0, runs=8, canaries=1000, seed=1)
    verdict = dp_audit_bounds(
        scores, included, delta=1e-5, confidence=CONFIDENCE, seed=2, claimed=1.0
    )
    assert verdict["one_run"]["value"] > 1.0 and verdict["many_runs"]["value"] > 1.0
    assert verdict["claim_refuted"] is True
    assert verdict["one_run"]["tightness"] == pytest.approx(verdict["one_run"]["value"])
    # The same mechanism against a true claim of 3: not refuted, bounds below it.
    honest = dp_audit_bounds(
        scores, included, delta=1e-5, confidence=CONFIDENCE, seed=2, claimed=3.0
    )
    assert honest["claim_refuted"] is False
    assert [p["runs"] for p in honest["by_runs"]] == [1, 2, 4, 8]
    assert honest["by_runs"][-1]["many_runs"] == honest["many_runs"]["value"]


def test_standardised_black_box_scores_stay_sound_and_gain_where_canaries_differ() -> None:
    """Black-box canaries differ in how easy they are to fit whatever the run; each one's
    scores standardised over the runs (never reading an inclusion bit) remove that, so the
    bounds rise, and on randomised response they still hold their confidence."""
    rng = np.random.default_rng(0)
    runs, canaries = 32, 500
    included = rng.random((runs, canaries)) < 0.5
    ease = rng.normal(0.0, 3.0, canaries)  # per canary, shared by every run
    scores = ease + 1.0 * included + rng.normal(0.0, 1.0, (runs, canaries))
    kwargs: dict = {"delta": 1e-5, "confidence": CONFIDENCE, "seed": 1, "claimed": None}
    plain = dp_audit_bounds(scores, included, **kwargs)
    calibrated = dp_audit_bounds(scores, included, standardise=True, **kwargs)
    for method in ("one_run", "many_runs", "fdp_one_run"):
        assert calibrated[method]["value"] > plain[method]["value"] + 0.2, method
    over = 0
    seeds = 60
    for seed in range(seeds):
        rr_scores, rr_included = randomised_response(1.0, runs=8, canaries=300, seed=seed)
        bounds = dp_audit_bounds(
            rr_scores,
            rr_included,
            delta=0.0,
            confidence=CONFIDENCE,
            seed=seed,
            claimed=1.0,
            standardise=True,
        )
        over += bool(bounds["claim_refuted"])
    # Three bounds read together at CONFIDENCE each: at most their share + 3 standard errors.
    alpha = 3 * (1 - CONFIDENCE)
    assert over / seeds <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / seeds), over
