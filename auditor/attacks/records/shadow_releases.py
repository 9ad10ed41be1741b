"""Membership attacks that calibrate against shadow releases: with the user's generator
(`[artifact] generate`), K releases are made from pools in which each candidate patient
is present in half, and the target release is read against them.

Each release gives every candidate a feature vector, the scores of the attacks on released
records (`release_membership`: calibrated distance to the closest record, DOMIAS).

- **lira_releases**: LiRA over releases (Carlini et al. 2022, with releases in place of
  models): for each candidate, Gaussians of each feature over the releases made with and
  without them (one variance per feature and side, pooled over candidates: with 8 releases
  a side, a per-candidate variance is too noisy to read the tail), and the log-likelihood
  ratio of the target release's features, summed over the features.
- **shadow_classifier**: a classifier trained on every (candidate, shadow release) pair to
  tell present from absent (TAPAS, Houssiau et al. 2022, with these features; scikit-learn's
  histogram gradient boosting), each feature also centred on the candidate's own mean
  over the shadow releases; its probability on the target release is the score.

Written here: TAPAS's package targets its own query features and pins old libraries; LiRA
over releases is the same few lines as over models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from auditor.attacks.records.release_membership import RELEASE_ATTACKS


def release_features(
    released: np.ndarray, candidates: np.ndarray, population: np.ndarray, seed: int
) -> np.ndarray:
    """(n_candidates, features): each release attack's score of every candidate."""
    return np.column_stack(
        [
            attack.score(released, candidates, population, np.random.default_rng([seed, i]))
            for i, attack in enumerate(RELEASE_ATTACKS.values())
        ]
    )


@dataclass(frozen=True)
class ShadowAttack:
    """A shadow-release attack's name and words (its scores: `shadow_release_scores`)."""

    name: str
    title: str
    description: str


SHADOW_ATTACKS = {
    a.name: a
    for a in (
        ShadowAttack(
            "lira_releases",
            "LiRA over shadow releases",
            "each patient's release-attack scores set against releases your generator made "
            "with and without them: the likelihood ratio of the released table's",
        ),
        ShadowAttack(
            "shadow_classifier",
            "shadow-release classifier",
            "a classifier trained on releases your generator made with and without each "
            "patient to tell which; its probability on the released table (TAPAS-style)",
        ),
    )
}


def _lira(target: np.ndarray, shadows: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Summed per-feature log-likelihood ratios, pooled variance per feature and side."""
    score = np.zeros(target.shape[0])
    for f in range(target.shape[1]):
        values = shadows[:, :, f]  # (K, n)
        inside = np.where(present, values, np.nan)
        outside = np.where(present, np.nan, values)
        mu_in, mu_out = np.nanmean(inside, axis=0), np.nanmean(outside, axis=0)
        var_in = max(float(np.nanmean((inside - mu_in) ** 2)), 1e-12)
        var_out = max(float(np.nanmean((outside - mu_out) ** 2)), 1e-12)
        t = target[:, f]
        score += -0.5 * ((t - mu_in) ** 2 / var_in - (t - mu_out) ** 2 / var_out)
        score += -0.5 * np.log(var_in / var_out)
    return score


def _classifier(
    target: np.ndarray, shadows: np.ndarray, present: np.ndarray, seed: int
) -> np.ndarray:
    own_mean = shadows.mean(axis=0)  # (n, F): each candidate's level over every release
    k, n, f = shadows.shape
    train = np.concatenate([shadows, shadows - own_mean], axis=2).reshape(k * n, 2 * f)
    model = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    model.fit(train, present.reshape(-1))
    query = np.concatenate([target, target - own_mean], axis=1)
    return np.asarray(model.predict_proba(query)[:, 1])


def shadow_release_scores(
    target: np.ndarray, shadows: np.ndarray, present: np.ndarray, seed: int
) -> dict[str, np.ndarray]:
    """Each shadow attack's score of every candidate: `target` (n, F) the target release's
    features, `shadows` (K, n, F) each shadow release's, `present` (K, n) whether the
    candidate was in that shadow release's pool."""
    if not (present.any(axis=0).all() and (~present).any(axis=0).all()):
        raise ValueError(
            "every candidate must be present in some shadow releases, absent in others"
        )
    return {
        "lira_releases": _lira(target, shadows, present),
        "shadow_classifier": _classifier(target, shadows, present, seed),
    }
