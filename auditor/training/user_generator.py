"""The user's own generator of a released table: `generate = "package.module:function"` in
the spec's `[artifact]`, called as `function(table, seed=seed)` (the `seed` keyword only if
the function takes one) with a DataFrame of raw records (every feature column and the
label) and returning the table it would release from them, in the same columns.

Only the spec names this code (never an artifact). Shadow releases call it once each with
their own records and seed; its module's source is hashed and recorded with the result.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.core.hashing import sha256_file
from auditor.data.raw import RawTable
from auditor.errors import AuditInputError, Problem, fail
from auditor.training.recipes.user import (
    DEFAULT_TIMEOUT,
    FORMAT_HINT,
    VERBOSE_ENV,
    deadline,
    import_training,
)

FIELD = "artifact.generate"


@dataclass(frozen=True)
class UserGenerator:
    """The user's generator and the columns it is fed and must return."""

    name: str
    source_sha256: str
    columns: tuple[str, ...]  # the release encoding's feature columns, then the label
    timeout: float = DEFAULT_TIMEOUT
    # The audit's records in the release's encoding, to feed encoded rows back as records.
    table: RawTable | None = field(default=None, compare=False, repr=False)

    def with_records(self, table: RawTable) -> UserGenerator:
        """The same generator, able to take encoded rows of `table`'s records."""
        return replace(self, table=table)

    def release_encoded(
        self, x: np.ndarray, y: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The release made from encoded rows `x` with labels `y`, encoded the same way."""
        if self.table is None:
            raise ValueError("the generator was given no records to decode rows by")
        records = self.table.decode(x)
        records[self.columns[-1]] = np.asarray(y, dtype=np.int64)
        table = self.release(records, seed)
        labels = table[self.columns[-1]].to_numpy()
        if not set(np.unique(labels)) <= {0, 1}:
            raise fail(self.name, FIELD, "released labels other than 0/1", "release 0/1 labels")
        return self.table.encoding.encode(table), labels.astype(np.int64)

    @classmethod
    def resolve(
        cls, name: str, columns: tuple[str, ...], where: str, timeout: float = DEFAULT_TIMEOUT
    ) -> UserGenerator:
        try:
            function = import_training(name, where)
        except AuditInputError as exc:  # the same checks, under this field's name
            raise AuditInputError(
                [Problem(p.where, FIELD, p.message, p.fix) for p in exc.problems]
            ) from None
        try:
            source = inspect.getsourcefile(function)
        except TypeError:
            source = None
        if source is None:
            raise fail(
                where, FIELD, f"names {name[:80]!r}, which has no Python source", FORMAT_HINT
            )
        return cls(name, sha256_file(Path(source)), columns, timeout)

    def describe(self) -> dict[str, str]:
        """How the shadow releases were made, for the result."""
        return {"generate": self.name, "source_sha256": self.source_sha256}

    def release(self, records: pd.DataFrame, seed: int) -> pd.DataFrame:
        """The table the generator releases from `records` (raw columns and the label)."""
        function = import_training(self.name, FIELD)
        takes_seed = _takes_seed(function)
        try:
            with deadline(self.timeout, self.name):
                table = function(records, seed=seed) if takes_seed else function(records)
        except AuditInputError:
            raise
        except Exception as exc:  # the user's code may fail in any way
            text = f": {str(exc)[:300]}" if os.environ.get(VERBOSE_ENV) else ""
            raise AuditInputError(
                Problem(
                    self.name,
                    FIELD,
                    f"raised {type(exc).__name__}{text}",
                    "fix the generator; auditor run --verbose shows the error's message "
                    "(it may quote records)",
                )
            ) from None
        return self._checked(table)

    def _checked(self, table: Any) -> pd.DataFrame:
        if not isinstance(table, pd.DataFrame):
            raise fail(
                self.name,
                FIELD,
                f"returned a {type(table).__name__[:60]}, not a DataFrame",
                "return the released table as a pandas DataFrame",
            )
        missing = [c for c in self.columns if c not in table.columns]
        if missing or len(table) == 0:
            what = (
                f"returned a table without {len(missing)} columns (first: {missing[0][:60]!r})"
                if missing
                else "returned an empty table"
            )
            raise fail(self.name, FIELD, what, "release every feature column and the label")
        return table[list(self.columns)].reset_index(drop=True)


def _takes_seed(function: Any) -> bool:
    try:
        return "seed" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
