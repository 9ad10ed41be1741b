"""Training procedures read from the artifact itself, tried before the auditor's own
recipes (issue: calibrated attacks on a model the auditor did not build).

A scikit-learn estimator or Pipeline stored with skops carries its exact procedure: its
hyperparameters, and `sklearn.base.clone` gives the same estimator unfitted. Each reference
model is that clone fitted on the reference's raw records; a `random_state` left unset
(None) takes the reference's seed, so that reference runs are reproducible and cacheable,
and one the model set is kept. The artifact's SHA-256 stands for the procedure in the cache
key: another file, other references.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.data.raw import RawTable
from auditor.training.recipes.user import UserTraining

EXACT = "the artifact's own estimator, cloned (sklearn.base.clone; exact)"


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
