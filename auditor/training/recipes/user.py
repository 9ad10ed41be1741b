"""The user's own training code as the recipe: `train = "package.module:function"` in the
spec, called as `function(records, labels, seed=seed)` (the `seed` keyword only if the
function takes one) with a DataFrame of the raw columns the model reads and a Series of
0/1 labels, returning a fitted model: a scikit-learn classifier (or LightGBM / XGBoost
through their scikit-learn API) or a torch module taking those columns as a float32
matrix.

Only the spec names this code (never an artifact). Reference and shadow models call it
once each with their own records and seed; its module's source is hashed into the
reference cache key, so editing the training code retrains the references.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.core.hashing import sha256_file
from auditor.core.scores import softmax
from auditor.data.raw import RawTable
from auditor.errors import AuditInputError, fail

FORMAT_HINT = 'name it as "package.module:function" (importable from where the audit runs)'


def import_training(name: str, where: str) -> Callable[..., Any]:
    """The function `name` names; AuditInputError when it cannot be imported or called."""
    module_name, _, function = name.partition(":")
    if not module_name or not function:
        raise fail(where, "artifact.train", f"is {name[:80]!r}, not module:function", FORMAT_HINT)
    try:
        found = getattr(importlib.import_module(module_name), function)
    except Exception as exc:  # the user's module may fail in any way while importing
        message = f"cannot be imported ({type(exc).__name__}: {str(exc)[:120]})"
        raise fail(where, "artifact.train", message, FORMAT_HINT) from exc
    if not callable(found):
        raise fail(where, "artifact.train", "names something that is not a function", FORMAT_HINT)
    return found


@dataclass(frozen=True)
class UserTraining:
    """The user's training function and the records it is fed (decoded from encoded rows)."""

    name: str
    source_sha256: str
    table: RawTable = field(compare=False, repr=False)

    @classmethod
    def resolve(cls, name: str, table: RawTable, where: str) -> UserTraining:
        function = import_training(name, where)
        source = inspect.getsourcefile(function)
        digest = sha256_file(Path(source)) if source else "unknown"
        return cls(name, digest, table)

    def describe(self) -> dict[str, str]:
        """How the references were trained, for the result and the cache key."""
        return {"train": self.name, "source_sha256": self.source_sha256}

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int) -> RawModel:
        """The user's model trained on the raw records of encoded rows `x`, labels `y`."""
        function = import_training(self.name, "artifact.train")
        records = self.table.decode(x)
        labels = pd.Series(np.asarray(y, dtype=np.int64), name="label")
        takes_seed = "seed" in inspect.signature(function).parameters
        model = function(records, labels, seed=seed) if takes_seed else function(records, labels)
        if model is None:
            raise AuditInputError(
                fail(
                    self.name,
                    "artifact.train",
                    "returned None",
                    "return the fitted model from the training function",
                ).problems
            )
        return RawModel(model, self.table)


class RawModel:
    """A model that reads raw columns, queried on encoded rows like any estimator."""

    def __init__(self, model: Any, table: RawTable) -> None:
        from auditor.artifacts.query import table_logits

        self.model = model
        self.table = table
        self._logits = table_logits(model, table.columns)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self._logits(self.table.decode(x)))
