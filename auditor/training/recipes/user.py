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
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.core.hashing import sha256_file
from auditor.core.scores import softmax
from auditor.data.raw import RawTable
from auditor.errors import AuditInputError, Problem, fail

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


DEFAULT_TIMEOUT = 600.0  # seconds per call of the user's training function ([artifact])
VERBOSE_ENV = "AUDITOR_VERBOSE"  # set: a failing training function's message is shown


@dataclass(frozen=True)
class UserTraining:
    """The user's training function and the records it is fed (decoded from encoded rows).

    Each call has `timeout` seconds (`[artifact] train_timeout`) and must return a model
    with `n_classes` outputs; a failure is bad input naming the exception's type and where
    in the user's code it was raised, and its text only with `auditor run --verbose` (a
    training error can quote the records it was fed)."""

    name: str
    source_sha256: str
    table: RawTable = field(compare=False, repr=False)
    n_classes: int = field(default=2, compare=False)
    timeout: float = field(default=DEFAULT_TIMEOUT, compare=False)
    # A procedure read from the artifact itself (`training.procedures`): the function to
    # call instead of importing `name`, and how the result describes it.
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    procedure: str = "user function"

    @classmethod
    def resolve(
        cls,
        name: str,
        table: RawTable,
        where: str,
        n_classes: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> UserTraining:
        function = import_training(name, where)
        try:
            source = inspect.getsourcefile(function)
        except TypeError:  # a built-in (builtins:len): no source, and not training code
            source = None
        if source is None:
            raise fail(
                where,
                "artifact.train",
                f"names {name[:80]!r}, which has no Python source (a built-in?)",
                "name your own training function, " + FORMAT_HINT,
            )
        return cls(name, sha256_file(Path(source)), table, n_classes, timeout)

    def describe(self) -> dict[str, str]:
        """How the references were trained, for the result and the cache key."""
        return {"train": self.name, "source_sha256": self.source_sha256}

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int) -> RawModel:
        """The user's model trained on the raw records of encoded rows `x`, labels `y`."""
        function = self.function or import_training(self.name, "artifact.train")
        records = self.table.decode(x)
        labels = pd.Series(np.asarray(y, dtype=np.int64), name="label")
        takes_seed = _takes_seed(function)
        try:
            with deadline(self.timeout, self.name):
                model = (
                    function(records, labels, seed=seed)
                    if takes_seed
                    else function(records, labels)
                )
        except AuditInputError:
            raise
        except Exception as exc:  # the user's code may fail in any way
            raise self._failed(exc) from None
        return self._checked(model, records.iloc[:8])

    def _failed(self, exc: Exception) -> AuditInputError:
        where = _raised_at(exc)
        text = f": {str(exc)[:300]}" if os.environ.get(VERBOSE_ENV) else ""
        return AuditInputError(
            Problem(
                self.name,
                "artifact.train",
                f"raised {type(exc).__name__}{where}{text}",
                "fix the training function; auditor run --verbose shows the error's message "
                "(it may quote records)",
            )
        )

    def _checked(self, model: Any, sample: pd.DataFrame) -> RawModel:
        """`model` as a RawModel, after querying it on a few of its own records."""

        def bad(what: str, fix: str) -> AuditInputError:
            return AuditInputError(Problem(self.name, "artifact.train", what, fix))

        if model is None:
            raise bad("returned None", "return the fitted model from the training function")
        try:
            wrapped = RawModel(model, self.table)
            logits = wrapped.logits_of(sample)
        except Exception as exc:
            raise bad(
                f"returned a {type(model).__name__[:60]} that cannot be queried "
                f"({type(exc).__name__})",
                "return a classifier with predict_proba (scikit-learn API) or a torch module",
            ) from None
        if logits.ndim != 2 or logits.shape != (len(sample), self.n_classes):
            raise bad(
                f"returned a model with {logits.shape[-1] if logits.ndim else 0} outputs; the "
                f"audited model has {self.n_classes}",
                "train a classifier of the same classes as the audited model",
            )
        return wrapped


def _takes_seed(function: Callable[..., Any]) -> bool:
    try:
        return "seed" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _raised_at(exc: BaseException) -> str:
    """' at file:line' of the innermost frame of the traceback (the user's code, usually)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    return f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class TrainingTimeout(BaseException):
    """The user's training function ran past its deadline (a BaseException, so that the
    user's own `except Exception` cannot swallow it)."""


@contextmanager
def deadline(seconds: float, name: str) -> Iterator[None]:
    """Stop the block after `seconds` with AuditInputError: a SIGALRM timer, so it works in
    the main thread of a POSIX process (elsewhere the block runs without a deadline). A
    call stuck inside native code is stopped when it next returns to Python."""
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TrainingTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TrainingTimeout:
        raise AuditInputError(
            Problem(
                name,
                "artifact.train",
                f"did not return within {seconds:g} s and was stopped",
                "make it faster, or raise [artifact] train_timeout (seconds) in the spec",
            )
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class RawModel:
    """A model that reads raw columns, queried on encoded rows like any estimator."""

    def __init__(self, model: Any, table: RawTable) -> None:
        from auditor.artifacts.query import table_logits

        self.model = model
        self.table = table
        self._logits = table_logits(model, table.columns)

    def logits_of(self, records: pd.DataFrame) -> np.ndarray:
        """The model's logits on raw records."""
        return np.asarray(self._logits(records))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self._logits(self.table.decode(x)))
