"""Reference fidelity: do the reference models behave like the shared model?

Calibrated attacks (LiRA, RMIA) read the target's statistic on a record against reference
models that never saw it. That is only sound if the target behaves like one more reference
model on records it never saw. The check asks exactly that, on the records none of the
compared models trained on (non-members and population records, each against the
reference models it is OUT of):

1. Each record's statistic is standardised against the other models' OUT statistics:
   z = (phi - mean) / (sd * sqrt(1 + 1/m)), m the models compared with (the prediction
   scale of one more draw). Reference model k is read leave-one-out, against the others;
   the target against the same records' OUT models but one (dropped at random, `seed`), so
   that every model is compared with as many others.
2. Each model gets two model-level figures: the mean of its z (is it more or less confident
   than the references on unseen records: a different learning rate, more epochs) and
   their standard deviation (does it spread records differently).
3. The target's figure is set against the K references' figures with a prediction interval
   (t distribution with K - 1 degrees of freedom): under fidelity it is one more draw from
   them. The p-value is the smaller of the two, times two (Bonferroni); the references are
   flagged when it is below alpha.

Written here: no library checks reference models against a target (ML Privacy Meter and
LeakPro assume the recipe matches). With fidelity, a flag is a false alarm with probability
alpha; with K reference models the check cannot see differences smaller than the
references' own spread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import t as student_t

MIN_REFERENCES = 4  # fewer reference models give no usable spread to judge the target by
MIN_OUT = 3  # a record needs 3 OUT models: each is read against at least 2 others


def _standardised(stat: np.ndarray, mean: np.ndarray, sd: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (stat - mean) / (np.maximum(sd, 1e-9) * np.sqrt(1.0 + 1.0 / np.maximum(m, 1)))


def _figures(z: np.ndarray, use: np.ndarray) -> tuple[float, float]:
    values = z[use]
    return float(values.mean()), float(values.std(ddof=1))


def reference_fidelity(
    target_stat: np.ndarray,
    reference_stats: np.ndarray,
    unseen: np.ndarray,
    out_mask: np.ndarray,
    *,
    alpha: float,
    seed: int = 0,
) -> dict[str, Any]:
    """Whether the target behaves like one more reference model on records it never saw.

    `target_stat` (n,): the target's statistic per record; `reference_stats` (K, n): the
    reference models'; `unseen` (n,): records the target never trained on; `out_mask`
    (K, n): records reference model k never trained on. Returns the target's and the
    references' figures, the p-value, alpha and `flagged` (None when it cannot be judged)."""
    k = reference_stats.shape[0]
    out = out_mask & unseen[None, :]
    count = out.sum(axis=0)
    records = count >= MIN_OUT
    base = {"alpha": alpha, "reference_models": k, "records": int(records.sum())}
    if k < MIN_REFERENCES or records.sum() < 10:
        why = f"needs at least {MIN_REFERENCES} reference models and 10 records OUT of 3 of them"
        return {**base, "flagged": None, "p_value": None, "note": why}
    s = np.where(out, reference_stats, 0.0)
    total, squares = s.sum(axis=0), (s**2).sum(axis=0)

    def moments(tot: np.ndarray, sq: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = tot / np.maximum(m, 1)
        var = (sq - m * mean**2) / np.maximum(m - 1, 1)
        return mean, np.sqrt(np.maximum(var, 0.0))

    # The target is read against the OUT models of each record but one (dropped at random),
    # so that it is compared with as many models as each reference model is.
    rng = np.random.default_rng(seed)
    pick = np.argmax(np.where(out, rng.random(out.shape), -1.0), axis=0)
    dropped = reference_stats[pick, np.arange(len(pick))] * records
    mean, sd = moments(total - dropped, squares - dropped**2, count - records)
    target = _figures(_standardised(target_stat, mean, sd, count - records), records)
    refs = []
    for j in range(k):  # leave-one-out: model j against the other OUT models of each record
        m = count - out[j]
        mean_j, sd_j = moments(total - s[j], squares - s[j] ** 2, m)
        use = records & out[j]
        if use.sum() >= 10:
            refs.append(_figures(_standardised(reference_stats[j], mean_j, sd_j, m), use))
    if len(refs) < MIN_REFERENCES:
        why = f"fewer than {MIN_REFERENCES} reference models left out of enough records"
        return {**base, "flagged": None, "p_value": None, "note": why}
    ref = np.asarray(refs)
    p_values = []
    for i in range(2):
        centre, spread = ref[:, i].mean(), ref[:, i].std(ddof=1)
        t = (target[i] - centre) / (max(spread, 1e-12) * np.sqrt(1.0 + 1.0 / len(ref)))
        p_values.append(float(2.0 * student_t.sf(abs(t), df=len(ref) - 1)))
    p = min(1.0, 2.0 * min(p_values))
    return {
        **base,
        "flagged": bool(p < alpha),
        "p_value": p,
        "target": {"shift": target[0], "spread": target[1]},
        "references": {
            "shift": [float(ref[:, 0].min()), float(ref[:, 0].max())],
            "spread": [float(ref[:, 1].min()), float(ref[:, 1].max())],
        },
        "note": None,
    }
