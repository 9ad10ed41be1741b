"""Empirical epsilon from a canary game: lower bounds that a false DP claim cannot pass.

A canary game trains K runs of a recipe, each with m canaries included independently with
probability one half, and scores every canary (larger = more likely included). Two bounds,
each at a stated confidence:

- **One run** (Steinke, Nasr and Jagielski 2023, "Privacy auditing with one (1) training
  run", Theorem 5.2 and their Algorithm 1 for the p-value): guess "in" for the r/2 highest
  scores and "out" for the r/2 lowest, abstain on the rest. Under (epsilon, delta)-DP the
  number of correct guesses v is dominated by Binomial(r, e^eps / (1 + e^eps)) up to a delta
  term; the bound is the largest epsilon that this rejects at level alpha. The canaries of
  many independent runs form one larger game (each canary still changes only its own run),
  so K runs of m canaries play it with K * m. The guess count r is chosen from a fixed grid
  with a Bonferroni correction over the grid, so choosing the best r costs confidence, not
  soundness. It needs no independence between the canaries of a run.
- **Many runs**: a threshold on the score is chosen on a quarter of the runs (maximising the
  bound there), and on the other runs the false-positive and false-negative rates are
  replaced by their Clopper-Pearson upper bounds (`metrics.membership.epsilon_lower_bound`,
  Kairouz et al. 2015's hypothesis-test inequality). Its trials are the canaries of the
  held-out runs: exactly independent for gradient canaries on distinct coordinates (fresh
  noise, independent sampling), treated as independent for input-space canaries, whose
  scores within one run share a model.

Written here: no installed library implements either (ML Privacy Meter's one-run audit and
the paper's code are not packaged; Opacus accounts, it does not audit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import binom

from auditor.metrics.canary_scores import calibrated, guess_outcomes
from auditor.metrics.gaussian_dp import (
    EPS_MAX,
    Family,
    fdp_one_run_bound,
    gdp_many_runs_estimate,
)
from auditor.metrics.membership import epsilon_lower_bound

# Runs that choose the many-runs threshold: a quarter (at least one); the rest bound it. The
# best threshold moves little with the sample, while the held-out trials set the interval.
CHOOSE_FRACTION = 0.25
# Bounds that hold for any (epsilon, delta)-DP mechanism; the others of the Gaussian family
# assume DP-SGD's trade-off shape (`metrics.gaussian_dp`).
ASSUMPTION_FREE = ("one_run", "many_runs")


def one_run_p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """P-value of "the mechanism is (eps, delta)-DP" given v correct guesses out of r over
    m canaries (Steinke et al. 2023, Algorithm 1 / Proposition 5.6)."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= v <= r <= m, got v={v}, r={r}, m={m}")
    q = 1.0 / (1.0 + math.exp(-eps))  # the accuracy of eps-DP randomised response
    beta = float(binom.sf(v - 1, r, q))  # P[Binomial(r, q) >= v]
    if v == 0 or delta == 0.0:
        return min(1.0, beta)
    # alpha = max over i of P[v > Binomial(r, q) >= v - i] / i
    pmf = binom.pmf(np.arange(v - 1, -1, -1), r, q)  # v-1, v-2, ..., 0
    alpha = float(np.max(np.cumsum(pmf) / np.arange(1, v + 1)))
    return min(1.0, beta + alpha * delta * 2 * m)


def one_run_epsilon(m: int, r: int, v: int, *, delta: float, alpha: float) -> float:
    """Largest epsilon that v correct guesses out of r reject at level alpha (0 if none)."""
    if one_run_p_value(m, r, v, 0.0, delta) >= alpha:
        return 0.0
    low, high = 0.0, EPS_MAX
    if one_run_p_value(m, r, v, high, delta) < alpha:
        return high
    for _ in range(40):  # bisection: the p-value grows with epsilon
        mid = (low + high) / 2.0
        if one_run_p_value(m, r, v, mid, delta) < alpha:
            low = mid
        else:
            high = mid
    return low


def guess_grid(total: int) -> list[int]:
    """Guess counts tried: total, total/2, total/4, ... down to 2 (even numbers)."""
    out, r = [], total - total % 2
    while r >= 2:
        out.append(r)
        r = (r // 2) - (r // 2) % 2
    return out


def one_run_bound(
    scores: np.ndarray, included: np.ndarray, *, delta: float, confidence: float
) -> dict[str, Any]:
    """The one-run lower bound over every canary of `scores` / `included` (any shape)."""
    s, inc = np.ravel(scores), np.ravel(included).astype(bool)
    m = len(s)
    grid = guess_grid(m)
    alpha = (1.0 - confidence) / max(len(grid), 1)  # Bonferroni over the guess counts
    best = {"value": 0.0, "guesses": 0, "correct": 0}
    for r, v in zip(grid, guess_outcomes(s, inc, grid).tolist(), strict=True):
        eps = one_run_epsilon(m, r, v, delta=delta, alpha=alpha)
        if eps > best["value"]:
            best = {"value": eps, "guesses": r, "correct": v}
    return {**best, "canaries": m, "confidence": confidence, "delta": delta}


def many_runs_bound(
    scores: np.ndarray,
    included: np.ndarray,
    *,
    delta: float,
    confidence: float,
    rng: np.random.Generator,
    standardise: bool = False,
) -> dict[str, Any]:
    """The many-runs lower bound: threshold chosen on a random quarter of the K runs (rows),
    Clopper-Pearson on the others. Needs K >= 2. `standardise`: each canary's scores
    standardised on the choosing runs (`metrics.canary_scores`)."""
    k, m = scores.shape
    if k < 2:
        return {"value": None, "runs": k, "note": "needs at least 2 runs"}
    runs = rng.permutation(k)
    chosen = runs[: max(1, round(k * CHOOSE_FRACTION))]
    choose = np.zeros((k, m), dtype=bool)
    choose[chosen] = True
    if standardise:
        scores = calibrated(scores, chosen)
    value = epsilon_lower_bound(
        scores.ravel(),
        included.ravel().astype(bool),
        rng=rng,
        delta=delta,
        confidence=confidence,
        choose=choose.ravel(),
    )
    return {
        "value": value,
        "runs": k,
        "held_out_trials": int((~choose).sum()),
        "confidence": confidence,
        "delta": delta,
    }


def run_counts(k: int) -> list[int]:
    """1, 2, 4, ... runs, ending with k."""
    counts, n = [], 1
    while n < k:
        counts.append(n)
        n *= 2
    return [*counts, k]


def dp_audit_bounds(
    scores: np.ndarray,
    included: np.ndarray,
    *,
    delta: float,
    confidence: float,
    seed: int,
    claimed: float | None,
    family: Family = "approximate_dp",
    standardise: bool = False,
) -> dict[str, Any]:
    """Every estimator on all K runs, their tightness (bound / claim), and each against the
    number of runs used (the first n runs, n = 1, 2, 4, ..., K; the last is the headline).

    - `one_run`, `many_runs`: the (epsilon, delta) bounds above, sound for any mechanism;
    - `fdp_one_run`: the f-DP one-run bound of `family` (`metrics.gaussian_dp`);
    - `gdp_many_runs`: the Gaussian-DP estimate, only for the Gaussian family (DP-SGD).
    The curve is descriptive: the verdict reads only the headline bounds, all of them
    (`claim_refuted`), and apart the ones that assume no shape of trade-off
    (`refuted_without_assumption`). `standardise` (black-box canaries): each canary's
    scores standardised over the runs (`metrics.canary_scores`): over every run for the
    one-run bounds, over the choosing runs for the many-runs ones, where there are at least
    `MIN_REFERENCE_RUNS` of them."""
    gaussian = family == "gaussian"
    curve: list[dict[str, Any]] = []
    found: dict[str, dict[str, Any]] = {}
    for n in run_counts(scores.shape[0]):
        s, inc = scores[:n], included[:n]
        rng = np.random.default_rng([seed, n])
        every = calibrated(s, np.arange(n)) if standardise else s
        found = {
            "many_runs": many_runs_bound(
                s, inc, delta=delta, confidence=confidence, rng=rng, standardise=standardise
            ),
            "one_run": one_run_bound(every, inc, delta=delta, confidence=confidence),
            "fdp_one_run": fdp_one_run_bound(
                every,
                inc,
                delta=delta,
                confidence=confidence,
                family=family,
                rng=np.random.default_rng([seed, n, 1]),
            ),
            "gdp_many_runs": (
                gdp_many_runs_estimate(
                    s,
                    inc,
                    delta=delta,
                    confidence=confidence,
                    rng=np.random.default_rng([seed, n, 2]),
                    standardise=standardise,
                )
                if gaussian
                else {"value": None, "note": "assumes a Gaussian trade-off: DP-SGD only"}
            ),
        }
        curve.append({"runs": n, **{name: b["value"] for name, b in found.items()}})

    def ratio(bound: float | None) -> float | None:
        return None if bound is None or not claimed else bound / claimed

    values = {name: b["value"] for name, b in found.items() if b["value"] is not None}
    plain = {name: v for name, v in values.items() if name in ASSUMPTION_FREE or not gaussian}
    # The verdict reads every bound: Bonferroni, each bound holds at `confidence`.
    verdict_confidence = 1.0 - len(values) * (1.0 - confidence)
    return {
        **{name: {**b, "tightness": ratio(b["value"])} for name, b in found.items()},
        "by_runs": curve,
        "claimed_epsilon": claimed,
        "family": family,
        "claim_refuted": None if claimed is None else any(v > claimed for v in values.values()),
        "refuted_without_assumption": (
            None if claimed is None else any(v > claimed for v in plain.values())
        ),
        "verdict_confidence": round(verdict_confidence, 6),
    }
