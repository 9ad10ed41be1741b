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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FittedProcedure:
    """A procedure the artifact states in part: one training per candidate value of what
    it does not state (`grid`), for the audit to choose among on population records
    (`orchestration.settings_fit.fit_procedure`); `read` is what the file states."""

    read: dict[str, Any]
    grid: dict[str, tuple[Any, ...]]
    candidates: tuple[tuple[dict[str, Any], UserTraining], ...]


# XGBoost's learning rate is not in its model file; these span its common values (0.3 is
# its default; boosted trees for tabular data are often trained at 0.01 to 0.1).
XGBOOST_ETA = (0.03, 0.1, 0.3, 1.0)


def xgboost_fit(params: dict[str, Any], rounds: int) -> Callable[..., Any]:
    """A training function: an XGBClassifier with `params` for `rounds` rounds on the
    records' columns (as a float64 matrix, as the artifact is queried), one thread."""

    def fit(records: pd.DataFrame, labels: pd.Series, seed: int) -> Any:
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=rounds, random_state=seed, n_jobs=1, **params)
        return model.fit(records.to_numpy(dtype="float64"), labels.to_numpy())

    return fit


def xgboost_procedure(
    path: Path,
    sha256: str,
    trusted_functions: tuple[str, ...],
    table: RawTable,
    n_classes: int,
    timeout: float,
) -> FittedProcedure:
    """An XGBoost model's procedure: the objective, classes and rounds its file stores and
    the depth of its deepest tree read; its learning rate (which the file does not store)
    fitted over XGBOOST_ETA. Other settings keep XGBoost's defaults: said in the result."""
    from auditor.artifacts.formats.xgboost import config, read, tree_depth

    booster = read(path)
    objective = config(booster)["objective"]["name"]
    rounds, depth = int(booster.num_boosted_rounds()), max(1, tree_depth(booster))
    read_params = {"objective": objective, "max_depth": depth}
    candidates = tuple(
        (
            {"learning_rate": eta},
            UserTraining(
                name=f"xgboost ({objective}, {rounds} rounds, depth {depth}, eta {eta})",
                source_sha256=sha256,
                table=table,
                n_classes=n_classes,
                timeout=timeout,
                function=xgboost_fit({**read_params, "learning_rate": eta}, rounds),
                procedure=(
                    "the artifact's stored objective, rounds and tree depth; its learning "
                    "rate fitted, XGBoost's defaults for the rest (not stored in the file)"
                ),
            ),
        )
        for eta in XGBOOST_ETA
    )
    return FittedProcedure(
        {**read_params, "rounds": rounds}, {"learning_rate": XGBOOST_ETA}, candidates
    )
