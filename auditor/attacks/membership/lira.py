"""LiRA (Carlini et al., 2022): per-record likelihood ratio from reference models.

Written here because ART has no LiRA, and ML Privacy Meter / LeakPro train their reference
models themselves in a loop; ours come from the vectorised, cached ensembles. The statistic
is the logit-scaled confidence phi = z_y - logsumexp(z_others), computed in float64.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import norm

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import logit_scaled_confidence

SD_FLOOR = 1e-6  # keeps a model that outputs one constant statistic from dividing by zero


def reference_statistics(ref_logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """phi of each reference model on each record: (K, n), float64, one model at a time (so
    the float64 temporaries are one model's, not the K models' float32 logits again)."""
    return np.stack([logit_scaled_confidence(model, labels) for model in ref_logits])


def _moments(stats: np.ndarray, mask: np.ndarray, fixed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-record mean and standard deviation of stats[mask], columnwise.

    With `fixed`, one standard deviation of all those statistics together, over records and
    models (Carlini et al.'s fixed-variance variant: `np.std(dat_out)` in their code), which
    works from a single reference model; a record with fewer than two models falls back to it.
    """
    count = mask.sum(axis=0)
    mean = np.where(count > 0, (stats * mask).sum(axis=0) / np.maximum(count, 1), np.nan)
    pooled = float(np.std(stats[mask])) if mask.any() else 1.0
    if fixed:
        sd = np.full(stats.shape[1], pooled)
    else:
        resid = np.where(mask, stats - mean, 0.0)
        per = np.sqrt((resid**2).sum(axis=0) / np.maximum(count - 1, 1))
        sd = np.where(count >= 2, per, pooled)
    return mean, np.maximum(sd, SD_FLOOR)


def online_scores(
    target: np.ndarray, stats: np.ndarray, in_mask: np.ndarray, fixed: bool
) -> np.ndarray:
    """log N(target; IN) - log N(target; OUT) per record."""
    mu_in, sd_in = _moments(stats, in_mask, fixed)
    mu_out, sd_out = _moments(stats, ~in_mask, fixed)
    return norm.logpdf(target, mu_in, sd_in) - norm.logpdf(target, mu_out, sd_out)


def offline_scores(
    target: np.ndarray, stats: np.ndarray, out_mask: np.ndarray, fixed: bool
) -> np.ndarray:
    """One-sided test against the OUT distribution, as the standardised distance
    (target - mu_out) / sd_out: the same ranking as log P(Z <= target), Z ~ N(OUT), without
    its saturation at 0 (which would tie every confident record)."""
    mu_out, sd_out = _moments(stats, out_mask, fixed)
    return (target - mu_out) / sd_out


def _make(online: bool, fixed: bool) -> AttackDef:
    mode: Literal["online", "offline"] = "online" if online else "offline"

    def score(ctx: AttackContext) -> np.ndarray:
        refs = ctx.references(mode)
        target = logit_scaled_confidence(ctx.target_logits, ctx.candidates_y)
        stats = reference_statistics(refs.candidates, ctx.candidates_y)
        if online:
            return online_scores(target, stats, refs.candidates_in, fixed)
        return offline_scores(target, stats, ~refs.candidates_in, fixed)

    variance = "fixed variance" if fixed else "per-record variance"
    return AttackDef(
        name=f"lira_{mode}" + ("_fixed" if fixed else ""),
        title=f"LiRA {mode}, {variance}",
        description=(
            f"LiRA (Carlini et al. 2022), {mode}, {variance}: Gaussian likelihood ratio of "
            "the logit-scaled confidence against reference models "
            + ("trained with and without the record" if online else "trained on population only")
        ),
        kind="membership",
        score=score,
        reference_models=mode,
    )


ATTACKS = [_make(online, fixed) for online in (True, False) for fixed in (False, True)]
