"""Epsilon from a canary game through trade-off curves: the f-DP one-run bound and the
Gaussian-DP estimate, beside the (epsilon, delta) bounds of `metrics.dp_audit`.

A mechanism is f-DP when no test of "the canary was in" against "it was out" has a
false-negative rate below f(false-positive rate) (Dong, Roth and Su 2019). Two families of
f are audited here, each indexed by the epsilon it certifies at the audit's delta:

- **approximate DP**: f of (epsilon, delta)-DP itself, sound for any mechanism that claims
  (epsilon, delta) (randomised response, noisy marginals, DP-SGD);
- **Gaussian**: f of the Gaussian mechanism that is exactly (epsilon, delta)-DP, mu-GDP with
  mu = `gaussian_mu(epsilon, delta)`. This is the trade-off of DP-SGD in the limit of many
  steps (the central limit theorem of Dong et al., and what Nasr et al. 2023 and Mahloujifar
  et al. 2025 audit), and much tighter than the (epsilon, delta) curve, but it assumes that
  shape: a mechanism that is (epsilon, delta)-DP but not Gaussian (randomised response) can
  read above its epsilon here. The audit uses it for DP-SGD claims only.

Two estimators:
- `fdp_one_run_bound` (Mahloujifar, Melis and Chaudhuri, ICML 2025, "Auditing f-Differential
  Privacy in One Run", their recursion `audit_rh_with_cap`): from k guesses of which v are
  right among m canaries, the largest epsilon whose f-DP claim the outcome rejects at level
  alpha. Unlike Steinke et al.'s bound it pays no m x delta term, so it does not saturate as
  canaries are added. The guess count is chosen from a fixed grid with a Bonferroni
  correction, as for the one-run bound.
- `gdp_many_runs_estimate` (Nasr et al. 2023): a threshold chosen on a quarter of the runs;
  on the others the false-positive and false-negative rates are replaced by their
  Clopper-Pearson upper bounds, giving a lower bound on mu at the stated confidence, and the
  epsilon of that mu at the audit's delta. A bound on mu is sound for any mu-GDP mechanism;
  its epsilon is an estimate of the claim's epsilon only under the Gaussian shape.

Written here: jax_privacy implements both (JAX, and the f-DP recursion in Cython), but it is
not a dependency and pulls JAX; Opacus accounts, it does not audit. Opacus's
`delta_eps_mu` / `eps_from_mu` are the same GDP conversion (tested equal), but in linear
space over a fixed bracket: `eps_from_mu` raises at mu = 30 (exp overflows), which a
non-private game reaches; `gdp_delta` works in logs and `gdp_epsilon` handles both ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr, ndtr, ndtri

from auditor.core.estimates import clopper_pearson_upper
from auditor.metrics.canary_scores import calibrated, guess_outcomes

Family = Literal["gaussian", "approximate_dp"]
EPS_MAX = 60.0  # no bound above this is searched for: e^60 is beyond any claim worth testing
MU_MAX = 60.0


def gdp_delta(eps: float, mu: float) -> float:
    """The smallest delta at which mu-GDP is (eps, delta)-DP (Dong et al., Corollary 2.13):
    Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2), in logs for stability."""
    if mu <= 0.0:
        return 0.0
    a = float(log_ndtr(-eps / mu + mu / 2.0))
    b = eps + float(log_ndtr(-eps / mu - mu / 2.0))
    return 0.0 if b >= a else math.exp(a) * -math.expm1(b - a)


def gaussian_mu(eps: float, delta: float) -> float:
    """The mu for which mu-GDP is exactly (eps, delta)-DP (delta > 0)."""
    if delta <= 0.0:
        raise ValueError("the Gaussian family needs delta > 0")
    if gdp_delta(eps, MU_MAX) <= delta:
        return MU_MAX
    return float(brentq(lambda mu: gdp_delta(eps, mu) - delta, 1e-9, MU_MAX, xtol=1e-12))


def gdp_epsilon(mu: float, delta: float) -> float:
    """The epsilon of mu-GDP at `delta` (0 when mu-GDP is (0, delta)-DP already)."""
    if mu <= 0.0 or gdp_delta(0.0, mu) <= delta:
        return 0.0
    if gdp_delta(EPS_MAX, mu) > delta:
        return EPS_MAX
    return float(brentq(lambda e: gdp_delta(e, mu) - delta, 0.0, EPS_MAX, xtol=1e-9))


def blow_up_inverse(
    family: Family, eps: np.ndarray, delta: float
) -> Callable[[np.ndarray], np.ndarray]:
    """x -> the least P[in | D] given P[in | D'] = x under the family's f at (eps, delta),
    the inverse of the blow-up 1 - f(x); one column per entry of `eps`."""
    eps = np.asarray(eps, dtype=float)
    if family == "gaussian":
        mu = np.array([gaussian_mu(float(e), delta) for e in eps])
        return lambda x: ndtr(ndtri(np.clip(x, 0.0, 1.0)) - mu)
    scale = np.exp(eps)

    def inverse(x: np.ndarray) -> np.ndarray:
        out = np.maximum((x - delta) / scale, 1.0 - delta - scale * (1.0 - x))
        return np.clip(out, 0.0, 1.0)

    return inverse


def fdp_rejects(
    m: int,
    guesses: np.ndarray,
    correct: np.ndarray,
    alpha: float,
    inverse: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Whether `correct` right guesses out of `guesses` among m canaries reject the f-DP
    claim whose blow-up inverse is `inverse` at level alpha, column by column (Mahloujifar
    et al. 2025, `audit_rh_with_cap`, run for every column at once)."""
    k, v = np.asarray(guesses, float), np.asarray(correct, float)
    r, h = alpha * v / m, alpha * (k - v) / m
    active = v > 0
    for step in range(int(v.max(initial=0))):
        i = v - 1 - step  # each column counts down from its own v - 1 to 0
        live = active & (i >= 0)
        if not live.any():
            break
        h_new = np.where(live, np.maximum(h, inverse(r)), h)
        moved = live & (h_new > h)
        i = np.maximum(i, 0)
        r = np.where(moved, np.minimum(r + i / (k - i) * (h_new - h), 1.0), r)
        h = h_new
        active = moved  # an unchanged h never changes again
    return np.asarray(r + h > k / m)


def fdp_one_run_epsilons(
    m: int, guesses: np.ndarray, correct: np.ndarray, *, delta: float, alpha: float, family: Family
) -> np.ndarray:
    """For each (guesses, correct) pair, the largest epsilon whose f-DP claim of `family`
    the outcome rejects at level alpha (0 if none): the rejection is monotone in epsilon, so
    each pair's bracket is narrowed on a grid of 16 points, five times (to ~1e-4), and its
    low end returned."""
    k, v = np.asarray(guesses, float), np.asarray(correct, float)
    low, high = np.zeros(len(k)), np.full(len(k), EPS_MAX)
    points = 16
    for _ in range(5):
        grid = low[:, None] + (high - low)[:, None] * np.linspace(0, 1, points)[None, :]
        inverse = blow_up_inverse(family, grid.ravel(), delta)
        rejected = fdp_rejects(
            m, np.repeat(k, points), np.repeat(v, points), alpha, inverse
        ).reshape(len(k), points)
        rejected[:, 0] |= low > 0  # the bracket's low end was rejected in the last pass
        last = np.where(rejected.any(axis=1), points - 1 - np.argmax(rejected[:, ::-1], 1), -1)
        none = last < 0
        top = last == points - 1
        idx = np.clip(last, 0, points - 2)
        rows = np.arange(len(k))
        new_low, new_high = grid[rows, idx], grid[rows, idx + 1]
        low = np.where(none, 0.0, np.where(top, grid[:, -1], new_low))
        high = np.where(none, 0.0, np.where(top, grid[:, -1], new_high))
    return np.where(v > k / 2, low, 0.0)


def fine_guess_grid(total: int) -> list[int]:
    """Guess counts tried when choosing: even numbers spaced by a factor of about sqrt(2)
    from 2 to `total`."""
    out = {min(total, round(2 ** (j / 2))) // 2 * 2 for j in range(2, 80)}
    return sorted(r for r in out if 2 <= r <= total)


def fdp_one_run_bound(
    scores: np.ndarray,
    included: np.ndarray,
    *,
    delta: float,
    confidence: float,
    family: Family,
    rng: np.random.Generator,
    choose_fraction: float = 0.25,
) -> dict[str, Any]:
    """The f-DP one-run lower bound over every canary of `scores` / `included` (any shape).

    "In" for the r/2 highest scores, "out" for the r/2 lowest, the rest abstained. The
    share of guesses r/m is chosen on a random `choose_fraction` of the canaries (the best
    bound there over `fine_guess_grid`); the bound is that share's on the other canaries,
    at the full confidence. Revealing the chosen canaries' inclusion fixes them as part of
    the training data, and the rest still play a one-run game, so no correction is owed
    for the choice (Steinke et al.'s Bonferroni grid pays for it instead)."""
    s, inc = np.ravel(scores), np.ravel(included).astype(bool)
    m = len(s)
    pick = np.zeros(m, dtype=bool)
    pick[rng.permutation(m)[: max(2, round(m * choose_fraction))]] = True
    alpha = 1.0 - confidence
    m_pick, m_check = int(pick.sum()), int((~pick).sum())
    if m_check < 2:  # too few canaries to both choose and bound
        return {"value": 0.0, "canaries": m, "note": "needs at least 4 canaries", "family": family}
    grid = fine_guess_grid(m_pick)
    right = guess_outcomes(s[pick], inc[pick], grid)
    chosen = fdp_one_run_epsilons(
        m_pick, np.array(grid), right, delta=delta, alpha=alpha, family=family
    )
    share = grid[int(np.argmax(chosen))] / m_pick
    r = min(m_check - m_check % 2, max(2, round(share * m_check) // 2 * 2))
    v = int(guess_outcomes(s[~pick], inc[~pick], [r])[0])
    value = float(
        fdp_one_run_epsilons(
            m_check, np.array([r]), np.array([v]), delta=delta, alpha=alpha, family=family
        )[0]
    )
    return {
        "value": value,
        "guesses": r,
        "correct": v,
        "canaries": m_check,
        "choosing_canaries": m_pick,
        "confidence": confidence,
        "delta": delta,
        "family": family,
    }


def _mu_bounds(
    scores: np.ndarray, included: np.ndarray, thresholds: np.ndarray, alpha: float
) -> np.ndarray:
    """Lower bounds on mu from the rates of "in iff score >= t" (mu-GDP: FNR >=
    Phi(Phi^-1(1 - FPR) - mu)), each rate replaced by its Clopper-Pearson upper bound at
    alpha / 2, so both hold together at 1 - alpha."""
    pos, neg = np.sort(scores[included]), np.sort(scores[~included])
    fn = np.searchsorted(pos, thresholds, side="left")
    fp = len(neg) - np.searchsorted(neg, thresholds, side="left")
    fpr_hi = clopper_pearson_upper(fp, np.full_like(fp, len(neg)), alpha / 2)
    fnr_hi = clopper_pearson_upper(fn, np.full_like(fn, len(pos)), alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = ndtri(1.0 - fpr_hi) - ndtri(fnr_hi)
    return np.where(np.isfinite(mu), np.clip(mu, 0.0, MU_MAX), 0.0)


def gdp_many_runs_estimate(
    scores: np.ndarray,
    included: np.ndarray,
    *,
    delta: float,
    confidence: float,
    rng: np.random.Generator,
    choose_fraction: float = 0.25,
    standardise: bool = False,
) -> dict[str, Any]:
    """mu lower bound at `confidence` and its epsilon at `delta`: threshold chosen on a
    random `choose_fraction` of the K runs (rows), rates bounded on the others. K >= 2.
    `standardise`: each canary's scores standardised on the choosing runs
    (`metrics.canary_scores`)."""
    k, m = scores.shape
    if k < 2:
        return {"value": None, "mu": None, "runs": k, "note": "needs at least 2 runs"}
    runs = rng.permutation(k)
    chosen = runs[: max(1, round(k * choose_fraction))]
    if standardise:
        scores = calibrated(scores, chosen)
    held = np.setdiff1d(np.arange(k), chosen)
    inc = included.astype(bool)
    pick_s, pick_i = scores[chosen].ravel(), inc[chosen].ravel()
    alpha = 1.0 - confidence
    candidates = np.unique(pick_s)
    best = candidates[int(np.argmax(_mu_bounds(pick_s, pick_i, candidates, alpha)))]
    mu = float(_mu_bounds(scores[held].ravel(), inc[held].ravel(), np.array([best]), alpha)[0])
    return {
        "value": gdp_epsilon(mu, delta),
        "mu": mu,
        "runs": k,
        "held_out_trials": int(len(held) * m),
        "confidence": confidence,
        "delta": delta,
        "family": "gaussian",
    }
