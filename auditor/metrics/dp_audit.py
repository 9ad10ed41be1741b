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

from auditor.metrics.membership import epsilon_lower_bound

EPS_MAX = 60.0  # no bound above this is searched for: e^60 is beyond any claim worth testing
# Runs that choose the many-runs threshold: a quarter (at least one); the rest bound it. The
# best threshold moves little with the sample, while the held-out trials set the interval.
CHOOSE_FRACTION = 0.25


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
    order = np.argsort(s, kind="stable")
    best = {"value": 0.0, "guesses": 0, "correct": 0}
    for r in grid:
        low, high = order[: r // 2], order[m - r // 2 :]
        v = int(inc[high].sum() + (~inc[low]).sum())
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
) -> dict[str, Any]:
    """The many-runs lower bound: threshold chosen on a random quarter of the K runs (rows),
    Clopper-Pearson on the others. Needs K >= 2."""
    k, m = scores.shape
    if k < 2:
        return {"value": None, "runs": k, "note": "needs at least 2 runs"}
    runs = rng.permutation(k)
    choose = np.zeros((k, m), dtype=bool)
    choose[runs[: max(1, round(k * CHOOSE_FRACTION))]] = True
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
) -> dict[str, Any]:
    """Both bounds on all K runs, their tightness (bound / claim), and both bounds against
    the number of runs used (the first n runs, n = 1, 2, 4, ..., K; the last is the
    headline). The curve is descriptive: the verdict reads only the headline bounds."""
    curve, one, many = [], {}, {}
    for n in run_counts(scores.shape[0]):
        rng = np.random.default_rng([seed, n])
        many = many_runs_bound(
            scores[:n], included[:n], delta=delta, confidence=confidence, rng=rng
        )
        one = one_run_bound(scores[:n], included[:n], delta=delta, confidence=confidence)
        curve.append({"runs": n, "one_run": one["value"], "many_runs": many["value"]})

    def ratio(bound: float | None) -> float | None:
        return None if bound is None or not claimed else bound / claimed

    # The verdict reads both bounds: Bonferroni, each bound holds at `confidence`.
    verdict_confidence = 1.0 - 2.0 * (1.0 - confidence)
    bounds = [b for b in (one["value"], many["value"]) if b is not None]
    refuted = None if claimed is None else any(b > claimed for b in bounds)
    return {
        "one_run": {**one, "tightness": ratio(one["value"])},
        "many_runs": {**many, "tightness": ratio(many["value"])},
        "by_runs": curve,
        "claimed_epsilon": claimed,
        "claim_refuted": refuted,
        "verdict_confidence": round(verdict_confidence, 6),
    }
