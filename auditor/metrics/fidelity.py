"""Reference fidelity: do the reference models behave like the shared model?

Calibrated attacks (LiRA, RMIA) read the target's statistic on a record against reference
models that never saw it. That is only sound if the target behaves like one more reference
model on records it never saw. The check asks exactly that, on the records none of the
compared models trained on (non-members and population records, each model read on the
records it is OUT of):

1. Each reference model j is set beside the target on the records j is OUT of (and the
   target never saw), the same records for both: the difference of their mean statistic
   (is the target more or less confident than the references on unseen records: a
   different learning rate, more epochs, another architecture) and of the logarithm of
   their standard deviations (does it spread records differently: more or less fitted).
   Reading both models on the same records takes the records' own difficulty out.
2. Under fidelity the target is one more draw from the references' distribution, so the
   K differences are centred on 0 with the spread of one model's figure: each mean
   difference is set against a prediction interval (t with K - 1 degrees of freedom,
   scale sd * sqrt(1 + 1/K)). The p-value is the smaller of the two, times two
   (Bonferroni); the references are flagged when it is below alpha.

Why not standardise each record against the other reference models: references share
training data with each other (offline ones draw 2,000 of the same 3,105 population
records in the demo) and the target shares none with them, so references sit closer to
each other, record by record, than an independent model sits to them. A figure read
against the other models' spread then flags every faithful target (it did, for every
offline audit of the demo); differences of model-level figures on common records do not.

Written here: no library checks reference models against a target (ML Privacy Meter and
LeakPro assume the recipe matches). With fidelity, a flag is a false alarm with probability
about alpha; with K reference models the check cannot see differences smaller than the
references' own spread. A target that trained on records the audit holds as unseen (the
population split) is flagged too: it is more confident on them than the references are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import t as student_t

MIN_REFERENCES = 4  # fewer reference models give no usable spread to judge the target by
MIN_RECORDS = 10  # unseen records a reference model must be OUT of to be compared


def model_differences(
    target_stat: np.ndarray, reference_stats: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """(compared, 2): for each reference model OUT of at least MIN_RECORDS records the
    target never saw (`out`, K x n), the difference of its mean statistic there from the
    target's, and of the logarithm of their standard deviations (reference minus target)."""
    diffs = []
    for j in range(reference_stats.shape[0]):
        if out[j].sum() >= MIN_RECORDS:
            ref, tgt = reference_stats[j][out[j]], target_stat[out[j]]
            sd_ref, sd_tgt = max(ref.std(ddof=1), 1e-12), max(tgt.std(ddof=1), 1e-12)
            diffs.append((ref.mean() - tgt.mean(), np.log(sd_ref) - np.log(sd_tgt)))
    return np.asarray(diffs, dtype=np.float64).reshape(-1, 2)


def setting_distance(
    target_stat: np.ndarray, reference_stats: np.ndarray, out: np.ndarray
) -> dict[str, float]:
    """How far reference models of one training setting sit from the target on records
    neither saw (`out`, K x n): the mean differences of `model_differences`, the first in
    the target's own standard deviations, and their Euclidean length (`distance`, 0 for a
    setting that reproduces the target). An effect size, not a test statistic: a t value
    would favour settings whose few references scatter widely."""
    d = model_differences(target_stat, reference_stats, out)
    if len(d) == 0:
        nan = float("nan")
        return {"distance": float("inf"), "mean_difference": nan, "log_sd_difference": nan}
    seen = out.any(axis=0)
    scale = max(float(target_stat[seen].std(ddof=1)), 1e-12)
    mean, log_sd = float(d[:, 0].mean()) / scale, float(d[:, 1].mean())
    return {
        "distance": float(np.hypot(mean, log_sd)),
        "mean_difference": mean,
        "log_sd_difference": log_sd,
    }


def reference_fidelity(
    target_stat: np.ndarray,
    reference_stats: np.ndarray,
    unseen: np.ndarray,
    out_mask: np.ndarray,
    *,
    alpha: float,
) -> dict[str, Any]:
    """Whether the target behaves like one more reference model on records it never saw.

    `target_stat` (n,): the target's statistic per record; `reference_stats` (K, n): the
    reference models'; `unseen` (n,): records the target never trained on; `out_mask`
    (K, n): records reference model k never trained on. Returns the mean differences
    (reference minus target) with their spread, the p-value, alpha and `flagged` (None
    when it cannot be judged)."""
    k = reference_stats.shape[0]
    base = {"alpha": alpha, "reference_models": k, "records": int(unseen.sum())}
    diffs = model_differences(target_stat, reference_stats, out_mask & unseen[None, :])
    if len(diffs) < MIN_REFERENCES:
        why = (
            f"needs at least {MIN_REFERENCES} reference models each OUT of "
            f"{MIN_RECORDS} records the target never saw"
        )
        return {**base, "flagged": None, "p_value": None, "note": why}
    d = diffs
    centre, spread = d.mean(axis=0), d.std(axis=0, ddof=1)
    t = centre / (np.maximum(spread, 1e-12) * np.sqrt(1.0 + 1.0 / len(d)))
    p_values = 2.0 * student_t.sf(np.abs(t), df=len(d) - 1)
    p = float(min(1.0, 2.0 * p_values.min()))
    return {
        **base,
        "flagged": bool(p < alpha),
        "p_value": p,
        "compared": len(d),
        # reference minus target: below 0, the target is more confident / more spread
        "mean_difference": {"value": float(centre[0]), "sd": float(spread[0])},
        "log_sd_difference": {"value": float(centre[1]), "sd": float(spread[1])},
        "note": None,
    }
