"""The audit data's shapes, shared by every loader (CSV tables, tensor files, image
manifests): the spec's data section, one split, all four splits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.core.encoding import FeatureEncoding
from auditor.data.raw import RawTable

SPLIT_NAMES = ("members", "non_members", "test", "population")


@dataclass(frozen=True)
class DataSpec:
    members: Path
    non_members: Path
    test: Path
    population: Path
    label: str
    id: str
    sensitive: tuple[str, ...]
    site: str | None = None  # column naming each record's site (hospital), if known
    # Multi-label data: one 0/1 column per label (then `label` is empty).
    labels: tuple[str, ...] = ()
    # Tensor data (images, series): a CSV of per-record columns (id, sensitive) by id.
    records: Path | None = None
    description: str | None = None  # what the data is, shown in the report
    max_tensor_mib: int = 512  # cap on one tensor split file's arrays (data.tensors)
    # Splits given in memory (DataFrames by split name, the Python API): read from here,
    # never from disk; their path is then only the file name the result shows.
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label_columns(self) -> tuple[str, ...]:
        """The outcome column, or a multi-label model's label columns."""
        return self.labels or (self.label,)

    @property
    def multilabel(self) -> bool:
        return bool(self.labels)

    def paths(self) -> dict[str, Path]:
        return {name: getattr(self, name) for name in SPLIT_NAMES}


@dataclass(frozen=True)
class Split:
    """One split, encoded for the model; `groups` holds the sensitive columns as text.
    `y` holds class indices (n,), or for multi-label data 0/1 vectors (n, L)."""

    name: str
    path: Path
    sha256: str
    x: np.ndarray
    y: np.ndarray
    groups: dict[str, np.ndarray]
    sites: np.ndarray | None = None  # each record's site, when the spec names the column

    @property
    def rows(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class AuditData:
    members: Split
    non_members: Split
    test: Split
    population: Split
    encoding: FeatureEncoding | None = None  # the encoding of every split's `x`
    raw: RawTable | None = None  # the raw records, for a model that reads raw columns
    n_outputs: int = 2  # the model's classes (single-label) or labels (multi-label)
    label_names: tuple[str, ...] = ()  # the label columns (one, or a multi-label model's)

    @property
    def multilabel(self) -> bool:
        return self.members.y.ndim == 2

    def splits(self) -> dict[str, Split]:
        return {name: getattr(self, name) for name in SPLIT_NAMES}


def csv_failure(exc: Exception) -> str:
    """Why a CSV could not be read, by position only: the reader's own message can quote
    the file's content (patients' values), so it is never passed on."""
    if isinstance(exc, UnicodeDecodeError):
        return f"is not UTF-8 text (byte offset {exc.start})"
    if isinstance(exc, pd.errors.EmptyDataError):
        return "is empty (no header row)"
    line = re.search(r"\bline (\d+)", str(exc))
    where = f" at line {line.group(1)}" if line else ""
    return f"is not a well-formed CSV table{where} (rows with different numbers of fields?)"
