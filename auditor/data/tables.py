"""Load and check the audit data (the spec's CSV splits) against an artifact's encoding.

Only `load` reads user files. Messages name the file, the column and the fix, and never
quote a patient's values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.core.encoding import FeatureEncoding
from auditor.core.hashing import sha256_file
from auditor.errors import AuditInputError, Problem

# Column names end up in reports and messages: plain text only.
SAFE_COLUMN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .()%/+-]*$")


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

    def paths(self) -> dict[str, Path]:
        return {name: getattr(self, name) for name in SPLIT_NAMES}


@dataclass(frozen=True)
class Split:
    """One split, encoded for the model; `groups` holds the sensitive columns as text."""

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


def _read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(
            Problem(
                str(path),
                "csv",
                csv_failure(exc),
                "write it as comma-separated UTF-8 with a header row",
            )
        )
        return None


def _check_frame(
    frame: pd.DataFrame, path: Path, spec: DataSpec, encoding: FeatureEncoding
) -> list[Problem]:
    where, problems = str(path), []
    if len(frame) == 0:
        return [Problem(where, "rows", "has no rows (header only)", "write the split's records")]
    for position, col in enumerate(frame.columns, start=1):
        # Named by position, never quoted: without a header row the "names" are a
        # patient's values.
        if not SAFE_COLUMN.match(str(col)):
            problems.append(
                Problem(
                    where,
                    "columns",
                    f"header column {position} has markup or control characters in its name "
                    "(or the file has no header row)",
                    "start the file with a header row; name columns with letters, digits, "
                    "spaces and _ . - ( ) % / +",
                )
            )
    needed = {spec.label: "data.label", spec.id: "data.id"}
    needed.update({s: "data.sensitive" for s in spec.sensitive})
    if spec.site is not None:
        needed[spec.site] = "data.site"
    needed.update({c: "the artifact's feature encoding" for c in encoding.columns})
    missing = [(c, f) for c, f in needed.items() if c not in frame.columns]
    for column, field in missing:
        problems.append(
            Problem(
                where,
                column,
                f"column is missing (required by {field})",
                "add the column, or fix the name in the spec/metadata",
            )
        )
    if missing:
        return problems
    labels = frame[spec.label]
    if labels.isna().any() or not set(pd.unique(labels)) <= {0, 1}:
        problems.append(
            Problem(
                where,
                spec.label,
                f"label is not binary 0/1 ({labels.nunique(dropna=False)} distinct values)",
                "encode the outcome as 0/1 with no missing values",
            )
        )
    used = list(encoding.columns) + list(spec.sensitive) + [spec.id]
    for column in dict.fromkeys(used):
        n_missing = int(frame[column].isna().sum())
        if n_missing:
            problems.append(
                Problem(
                    where,
                    column,
                    f"has {n_missing} missing values (NaN)",
                    "impute or drop those rows before the audit",
                )
            )
    for feature in encoding.numeric:
        if feature.name in frame and not pd.api.types.is_numeric_dtype(frame[feature.name]):
            problems.append(
                Problem(
                    where,
                    feature.name,
                    "is not numeric",
                    "the model expects a number in this column",
                )
            )
    if path == spec.test and labels.nunique() < 2:
        problems.append(
            Problem(
                where,
                spec.label,
                "holds one outcome class only",
                "utility needs both outcomes in the test split",
            )
        )
    if path == spec.population and labels.nunique() < 2:
        problems.append(
            Problem(
                where,
                spec.label,
                "holds one outcome class only",
                "shadow models need both outcomes in the population",
            )
        )
    if frame[spec.id].duplicated().any():
        problems.append(
            Problem(where, spec.id, "repeats a patient id within the file", "one row per patient")
        )
    return problems


def load_audit_data(spec: DataSpec, encoding: FeatureEncoding) -> AuditData:
    """Read, check and encode every split; AuditInputError listing all problems."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    for name, path in spec.paths().items():
        frame = _read_csv(path, problems)
        if frame is not None:
            problems += _check_frame(frame, path, spec, encoding)
            frames[name] = frame
    if not problems:
        ids = {n: set(f[spec.id].astype(str)) for n, f in frames.items()}
        if ids["members"] & ids["non_members"]:
            problems.append(
                Problem(
                    str(spec.non_members),
                    spec.id,
                    f"{len(ids['members'] & ids['non_members'])} patients are "
                    "both members and non-members",
                    "split by patient: each patient in one split only",
                )
            )
    if problems:
        raise AuditInputError(problems)
    splits = {}
    for name, frame in frames.items():
        path = spec.paths()[name]
        splits[name] = Split(
            name=name,
            path=path,
            sha256=sha256_file(path),
            x=encoding.encode(frame),
            y=frame[spec.label].to_numpy().astype(np.int64),
            groups={s: frame[s].astype(str).to_numpy() for s in spec.sensitive},
            sites=frame[spec.site].astype(str).to_numpy() if spec.site else None,
        )
    return AuditData(**splits)
