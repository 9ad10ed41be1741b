"""Training procedures read from the artifact itself, tried before the auditor's own
recipes (calibrated attacks on a model the auditor did not build). Each is written here
because no library re-trains a released model from its file.

A scikit-learn estimator or Pipeline stored with skops carries its exact procedure: its
hyperparameters, and `sklearn.base.clone` gives the same estimator unfitted. Each reference
model is that clone fitted on the reference's raw records; a `random_state` left unset
(None) takes the reference's seed, so that reference runs are reproducible and cacheable,
and one the model set is kept. A LightGBM text model stores its parameters (objective,
tree shape, learning rate, sampling, seed) and its number of rounds: each reference is
`lightgbm.train` with those. The artifact's SHA-256 stands for the procedure in the cache
key: another file, other references.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.data.raw import RawTable
from auditor.training.recipes.user import UserTraining

EXACT = "the artifact's own estimator, cloned by sklearn.base.clone (exact)"


def clone_fit(estimator: Any) -> Callable[..., Any]:
    """A training function that fits a fresh clone of `estimator` (its fitted state is never
    reused); an unset `random_state` anywhere in it takes the call's seed."""
    from sklearn.base import clone

    def fit(records: pd.DataFrame, labels: pd.Series, seed: int) -> Any:
        model = clone(estimator)
        unset = {
            key: seed
            for key, value in model.get_params(deep=True).items()
            if key.split("__")[-1] == "random_state" and value is None
        }
        return model.set_params(**unset).fit(records, labels)

    return fit


def skops_procedure(
    path: Path,
    sha256: str,
    trusted_functions: tuple[str, ...],
    table: RawTable,
    n_classes: int,
    timeout: float,
) -> UserTraining:
    """The exact procedure of a skops estimator that reads raw columns: its clone."""
    from auditor.artifacts.formats.skops import read

    estimator = read(path, trusted_functions)
    kind = type(estimator).__name__
    if hasattr(estimator, "steps"):
        kind = f"{kind} ending in {type(estimator.steps[-1][1]).__name__}"
    return UserTraining(
        name=f"sklearn.base.clone({kind})",
        source_sha256=sha256,
        table=table,
        n_classes=n_classes,
        timeout=timeout,
        function=clone_fit(estimator),
        procedure=EXACT,
    )


# LightGBM parameters that say how many rounds were trained (given as num_boost_round) or
# only how the training was logged and threaded: left out of each reference's parameters.
_LIGHTGBM_ROUNDS = ("num_iterations", "num_iteration", "n_iter", "num_tree", "num_trees")
_LIGHTGBM_RUNTIME = ("verbosity", "verbose", "num_threads", "n_jobs", "nthread", "output_model")


def booster_fit(params: dict[str, Any], rounds: int) -> Callable[..., Any]:
    """A training function that trains a LightGBM Booster with `params` for `rounds`
    rounds on the records' columns (as a float64 matrix, as the artifact is queried)."""

    def fit(records: pd.DataFrame, labels: pd.Series) -> Any:
        import lightgbm

        data = lightgbm.Dataset(records.to_numpy(dtype="float64"), label=labels.to_numpy())
        return lightgbm.train({**params, "verbosity": -1}, data, num_boost_round=rounds)

    return fit


def lightgbm_procedure(
    path: Path,
    sha256: str,
    trusted_functions: tuple[str, ...],
    table: RawTable,
    n_classes: int,
    timeout: float,
) -> UserTraining:
    """The exact procedure of a LightGBM text model: its stored parameters (objective, tree
    shape, learning rate, sampling and its seed) and its number of boosting rounds."""
    from auditor.artifacts.formats.lightgbm import read

    booster = read(path)
    skip = (*_LIGHTGBM_ROUNDS, *_LIGHTGBM_RUNTIME)
    params = {k: v for k, v in booster.params.items() if k not in skip}
    rounds = int(booster.current_iteration())
    return UserTraining(
        name=f"lightgbm.train(stored parameters, {rounds} rounds)",
        source_sha256=sha256,
        table=table,
        n_classes=n_classes,
        timeout=timeout,
        function=booster_fit(params, rounds),
        procedure="the artifact's stored LightGBM parameters and rounds (exact)",
    )
