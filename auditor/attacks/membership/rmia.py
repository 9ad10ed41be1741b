"""RMIA (Zarifzadeh et al., 2024), offline: a record's likelihood ratio against population
records z.

Written here for the same reason as LiRA (reference models come from our ensembles). For a
candidate x, Pr(x|theta) / Pr(x) is compared with Pr(z|theta) / Pr(z) for population
records z; the score is the fraction of z it beats by a factor GAMMA. Offline, Pr(x) comes
from reference models that never saw x, corrected by the paper's linear approximation
Pr(x) = ((1 + a) Pr_OUT(x) + (1 - a)) / 2.
"""

from __future__ import annotations

import numpy as np

from auditor.attacks.context import AttackContext, AttackDef
from auditor.core.scores import is_multilabel, softmax, true_class_log_prob

OFFLINE_A = 0.3  # the paper's offline `a`; ML Privacy Meter uses the same default
GAMMA = 1.0


def true_class_prob(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p(y | x) for logits (..., n, C) and labels (n,), float64; multi-label labels (n, L):
    the joint probability of the label vector, exp of the summed label log-likelihoods."""
    if logits.ndim == 3:  # (K, n, C): one model at a time (float64 temporaries of one)
        return np.stack([true_class_prob(model, labels) for model in logits])
    if is_multilabel(labels):
        return np.exp(true_class_log_prob(logits, labels))
    p = softmax(logits.reshape(-1, logits.shape[-1])).reshape(logits.shape)
    index = np.broadcast_to(labels[..., None], (*p.shape[:-1], 1))
    return np.take_along_axis(p, index, axis=-1)[..., 0]


def offline_prior(ref_p: np.ndarray, out_mask: np.ndarray, a: float) -> np.ndarray:
    """Pr(x) from the reference models that did not train on x, with the offline correction."""
    count = np.maximum(out_mask.sum(axis=0), 1)
    mean_out = (ref_p * out_mask).sum(axis=0) / count
    return 0.5 * ((1.0 + a) * mean_out + (1.0 - a))


def rmia_scores(ratio_x: np.ndarray, ratio_z: np.ndarray, gamma: float) -> np.ndarray:
    """Fraction of z with ratio_x / ratio_z > gamma, for each x."""
    ordered = np.sort(ratio_z)
    return np.searchsorted(ordered, ratio_x / gamma, side="left") / len(ordered)


def score(ctx: AttackContext) -> np.ndarray:
    refs = ctx.references("offline")
    y_x, y_z = ctx.candidates_y, ctx.population_y
    ref_x = true_class_prob(refs.candidates, y_x)  # (K, n_candidates)
    ref_z = true_class_prob(refs.population, y_z)  # (K, n_population)
    prior_x = offline_prior(ref_x, ~refs.candidates_in, OFFLINE_A)
    prior_z = offline_prior(ref_z, ~refs.in_mask[:, refs.n_candidates :], OFFLINE_A)
    target_x = true_class_prob(ctx.target_logits, y_x)
    target_z = true_class_prob(ctx.target_query(ctx.population_x), y_z)
    return rmia_scores(target_x / prior_x, target_z / prior_z, GAMMA)


ATTACK = AttackDef(
    name="rmia",
    title="RMIA offline",
    description=(
        f"RMIA (Zarifzadeh et al. 2024), offline, a = {OFFLINE_A}, gamma = {GAMMA}: share of "
        "population records whose likelihood ratio the record's exceeds"
    ),
    kind="membership",
    score=score,
    reference_models="offline",
)
