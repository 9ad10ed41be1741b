"""Membership attacks on a released table itself: for every candidate patient (members and
non-members), a score of how likely the release was generated from them, larger = more
likely a member. No model is trained on the release and no reference run is needed, so
they run on any table, whatever made it (`recipe = "external"` included).

- **DOMIAS** (van Breugel et al., AISTATS 2023): the density ratio of the release against
  the population at the candidate, log p_release(x) - log p_population(x). A generator
  that overfits puts more density on its training records than the population does. The
  densities are Gaussian kernel estimates (scikit-learn's KernelDensity; the paper's own
  code offers the same KDE beside a flow), on the encoded features projected onto the
  population's first `COMPONENTS` principal axes (not whitened: whitening blows rare
  one-hot columns up until they decide every distance, and reads AUC 0.49 where this
  reads 0.82 on a smoothed copy of the members), each bandwidth chosen by cross-validated
  likelihood on its own sample (scikit-learn's GridSearchCV), so an overfit release gets
  the narrow kernel its spikes need and a smooth one the wide kernel.
- **calibrated distance to the closest record**: the candidate's distance to its nearest
  released record against its distance to its nearest population record,
  log d_population(x) - log d_release(x). Raw DCR favours candidates in dense regions;
  the ratio asks whether the release sits closer to this patient than patients like them
  do ("The DCR Delusion", 2025; the calibration of Synth-MIA's DCR-diff attack).
  Population records that the release copies exactly are left out of the calibration
  (a release of population records would otherwise be its own yardstick).

Written here: the two scores are a few lines over scikit-learn; the published packages
that hold them (DOMIAS's repository, Synth-MIA) pin their own torch and numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity, NearestNeighbors

BANDWIDTHS = np.geomspace(0.05, 5.0, 9)  # in the encoded units (standardised numbers)
COMPONENTS = 20  # principal axes the densities are estimated on, at most
FIT_ROWS = 4000  # rows a density is fitted on, at most
CHOICE_ROWS = 1000  # rows its bandwidth is chosen on, at most


@dataclass(frozen=True)
class ReleaseAttack:
    """A membership attack on released records: `score(released, candidates, population,
    rng)` -> one score per candidate, larger = more likely a member."""

    name: str
    title: str
    description: str
    score: Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _density(sample: np.ndarray, rng: np.random.Generator) -> KernelDensity:
    """A Gaussian KDE of `sample`, its bandwidth chosen by 3-fold likelihood on at most
    `CHOICE_ROWS` of its rows and carried to the whole sample at the kernel estimator's
    optimal rate, n^(-1 / (d + 4)) (Scott's rule's exponent)."""
    if len(sample) > FIT_ROWS:
        sample = sample[rng.choice(len(sample), FIT_ROWS, replace=False)]
    chosen_on = sample
    if len(sample) > CHOICE_ROWS:
        chosen_on = sample[rng.choice(len(sample), CHOICE_ROWS, replace=False)]
    folds = min(3, len(chosen_on))
    search = GridSearchCV(KernelDensity(), {"bandwidth": BANDWIDTHS}, cv=folds)
    search.fit(chosen_on)
    rate = (len(chosen_on) / len(sample)) ** (1.0 / (sample.shape[1] + 4))
    bandwidth = float(search.best_params_["bandwidth"]) * rate
    return KernelDensity(bandwidth=bandwidth).fit(sample)


def domias_scores(
    released: np.ndarray,
    candidates: np.ndarray,
    population: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """log p_release(x) - log p_population(x) at each candidate (see the module)."""
    components = min(COMPONENTS, population.shape[1], max(1, len(population) - 1))
    axes = PCA(n_components=components, random_state=0).fit(population)

    def project(a: np.ndarray) -> np.ndarray:
        return np.asarray(axes.transform(a))

    release_kde = _density(project(released), rng)
    population_kde = _density(project(population), rng)
    at = project(candidates)
    return np.asarray(release_kde.score_samples(at) - population_kde.score_samples(at))


def calibrated_dcr_scores(
    released: np.ndarray,
    candidates: np.ndarray,
    population: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """log d_population(x) - log d_release(x) at each candidate (see the module)."""
    del rng  # deterministic

    def closest(reference: np.ndarray) -> np.ndarray:
        index = NearestNeighbors(n_neighbors=1).fit(reference)
        return np.asarray(index.kneighbors(candidates)[0][:, 0])

    copied = NearestNeighbors(n_neighbors=1).fit(released).kneighbors(population)[0][:, 0] == 0
    yardstick = population[~copied] if (~copied).any() else population
    floor = 1e-9  # an exact copy: distance 0, the largest score there is
    return np.log(np.maximum(closest(yardstick), floor)) - np.log(
        np.maximum(closest(released), floor)
    )


# In the order and under the names of `core.types.RELEASE_ATTACKS` (tested).
RELEASE_ATTACKS: dict[str, ReleaseAttack] = {
    a.name: a
    for a in (
        ReleaseAttack(
            "domias",
            "DOMIAS density ratio",
            "the release's density at the patient against the population's (van Breugel "
            "et al. 2023): a generator that overfits puts more density on its training "
            "records",
            domias_scores,
        ),
        ReleaseAttack(
            "dcr_calibrated",
            "calibrated distance to the closest record",
            "the patient's distance to the nearest released record against their distance "
            "to the nearest population record: whether the release sits closer to this "
            "patient than patients like them do",
            calibrated_dcr_scores,
        ),
    )
}
