"""Load and check the audit data (the spec's CSV splits) against an artifact's encoding.

Only `load` reads user files. Messages name the file, the column and the fix, and never
quote a patient's values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.core.encoding import FeatureEncoding
from auditor.core.hashing import sha256_file
from auditor.core.tensors import TensorEncoding
from auditor.data.raw import RawColumns, RawTable
from auditor.data.splits import SPLIT_NAMES, AuditData, DataSpec, Split, csv_failure
from auditor.data.tensors import load_tensor_data
from auditor.errors import AuditInputError, Problem

# Any name a header can hold is accepted (`income_> $50k & more`): reports escape it and
# messages print it as plain text. Only control characters are refused: they rewrite
# terminal and CI-log lines (ANSI escapes, carriage returns).
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def read_header(path: Path) -> list[str]:
    """The header row as written (pandas renames repeated names, so they are read here)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as the CSV file `DataFrame.to_csv(path, index=False)` would write, in
    memory: what an in-memory split is read from and hashed as, so that it audits exactly
    as that file would."""
    return frame.to_csv(index=False).encode("utf-8")


def _read_split(
    name: str, path: Path, spec: DataSpec, problems: list[Problem]
) -> tuple[pd.DataFrame, list[str], str] | None:
    """(table, header row as written, SHA-256) of one split: from memory when the spec
    holds it as a DataFrame (nothing touches the disk), else from its CSV file."""
    if name in spec.tables:
        content = csv_bytes(spec.tables[name])
        frame = _read_csv(io.BytesIO(content), path, problems)
        header = next(csv.reader(io.StringIO(content.decode("utf-8"))), [])
        return (frame, header, hashlib.sha256(content).hexdigest()) if frame is not None else None
    frame = _read_csv(path, path, problems)
    return (frame, read_header(path), sha256_file(path)) if frame is not None else None


def _read_csv(
    source: Path | io.BytesIO, path: Path, problems: list[Problem]
) -> pd.DataFrame | None:
    try:
        return pd.read_csv(source)
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


# Bounds on the splits, each with its reason.
MIN_ROWS = 10  # fewer records give no interval worth stating (and break the group figures)
MAX_ROWS = 1_000_000  # per split: the candidates' bootstrap and reference logits sit in memory
MAX_COLUMNS = 10_000  # per file: beyond any tabular clinical record
# Splits whose records train a model (or are scored for utility): both outcomes needed.
NEEDS_BOTH_CLASSES = {
    "members": "the real-records and DP baselines train on both outcomes of the members",
    "test": "utility needs both outcomes in the test split",
    "population": "shadow and reference models need both outcomes in the population",
}


def header_problems(frame: pd.DataFrame, path: Path, header: list[str]) -> list[Problem]:
    """Columns named by position, never quoted: without a header row the "names" are a
    patient's values."""
    where, problems = str(path), []
    if len(frame.columns) > MAX_COLUMNS:
        return [
            Problem(where, "columns", f"has {len(frame.columns)} columns", f"at most {MAX_COLUMNS}")
        ]
    seen: dict[str, int] = {}
    for position, col in enumerate(header, start=1):
        if col in seen:
            message = f"header columns {seen[col]} and {position} have the same name"
            problems.append(Problem(where, "columns", message, "give every column its own name"))
        seen.setdefault(col, position)
        if CONTROL_CHARACTER.search(str(col)) or not str(col).strip():
            problems.append(
                Problem(
                    where,
                    "columns",
                    f"header column {position} has an empty name or control characters in it",
                    "name every column in the header row with printable characters",
                )
            )
    return problems


# What the model reads: encoded or raw columns, or tensors (`auditor.data.tensors`).
Features = FeatureEncoding | RawColumns | TensorEncoding


def _missing_columns(
    frame: pd.DataFrame, path: Path, spec: DataSpec, encoding: Features
) -> list[Problem]:
    needed = {c: "data.labels" if spec.multilabel else "data.label" for c in spec.label_columns}
    needed[spec.id] = "data.id"
    needed.update({s: "data.sensitive" for s in spec.sensitive})
    if spec.site is not None:
        needed[spec.site] = "data.site"
    needed.update({c: "the model's input columns" for c in encoding.columns})
    return [
        Problem(
            str(path),
            column,
            f"column is missing (required by {field})",
            "add the column, or fix the name in the spec/metadata",
        )
        for column, field in needed.items()
        if column not in frame.columns
    ]


def _value_problems(
    frame: pd.DataFrame, path: Path, spec: DataSpec, encoding: Features
) -> list[Problem]:
    where, problems = str(path), []
    used = list(encoding.columns) + list(spec.sensitive) + [spec.id]
    for column in dict.fromkeys(used):
        n_missing = int(frame[column].isna().sum())
        if n_missing:
            fix = "impute or drop those rows before the audit"
            problems.append(Problem(where, column, f"has {n_missing} missing values (NaN)", fix))
    for feature in encoding.numeric if isinstance(encoding, FeatureEncoding) else ():
        values = frame[feature.name]
        if not pd.api.types.is_numeric_dtype(values):
            fix = "the model expects a number in this column"
            problems.append(Problem(where, feature.name, "is not numeric", fix))
        elif bool(np.isinf(values.to_numpy(dtype=np.float64)).any()):
            n_inf = int(np.isinf(values.to_numpy(dtype=np.float64)).sum())
            fix = "replace them by finite values or drop those rows"
            problems.append(Problem(where, feature.name, f"has {n_inf} infinite values", fix))
    if frame[spec.id].duplicated().any():
        fix = "one row per patient"
        problems.append(Problem(where, spec.id, "repeats a patient id within the file", fix))
    return problems


def _label_problems(
    frame: pd.DataFrame, path: Path, name: str, spec: DataSpec, n_classes: int
) -> list[Problem]:
    """Single-label: class indices 0..n_classes-1 (0/1 for a binary model), both outcomes
    where a model trains on them; multi-label: every label column 0/1."""
    where = str(path)
    if spec.multilabel:
        problems = []
        for column in spec.labels:
            values = frame[column]
            if values.isna().any() or not set(pd.unique(values)) <= {0, 1}:
                fix = "encode each label as 0/1 (present/absent) with no missing values"
                problems.append(Problem(where, column, "label is not 0/1", fix))
        return problems
    label, labels = spec.label, frame[spec.label]
    allowed = set(range(n_classes))
    if pd.api.types.is_bool_dtype(labels):  # True == 1 in Python: would pass as 0/1 unseen
        fix = "encode the outcome as 0/1 (1 for the event), not True/False"
        return [Problem(where, label, "label is True/False, not a class index", fix)]
    if labels.isna().any() or not set(pd.unique(labels)) <= allowed:
        if n_classes == 2:
            message = f"label is not binary 0/1 ({labels.nunique(dropna=False)} distinct values)"
            fix = "encode the outcome as 0/1 with no missing values"
        else:
            message = f"label is not a class index 0..{n_classes - 1} (the model's classes)"
            fix = "encode each class as its output's index, with no missing values"
        return [Problem(where, label, message, fix)]
    if name in NEEDS_BOTH_CLASSES and labels.nunique() < 2:
        return [Problem(where, label, "holds one outcome class only", NEEDS_BOTH_CLASSES[name])]
    return []


def _check_frame(
    frame: pd.DataFrame,
    path: Path,
    name: str,
    spec: DataSpec,
    encoding: Features,
    header: list[str],
    n_classes: int,
) -> list[Problem]:
    where = str(path)
    if len(frame) == 0:
        return [Problem(where, "rows", "has no rows (header only)", "write the split's records")]
    problems = header_problems(frame, path, header)
    if len(frame) < MIN_ROWS:
        message = f"has {len(frame)} rows; a split needs at least {MIN_ROWS}"
        problems.append(Problem(where, "rows", message, "give the split more patients"))
    if len(frame) > MAX_ROWS:
        message = f"has {len(frame)} rows; at most {MAX_ROWS} per split"
        problems.append(Problem(where, "rows", message, "sample the split down"))
    missing = _missing_columns(frame, path, spec, encoding)
    if missing or problems:
        return problems + missing
    return _label_problems(frame, path, name, spec, n_classes) + _value_problems(
        frame, path, spec, encoding
    )


def _text_in_numbers(
    frames: dict[str, pd.DataFrame], spec: DataSpec, columns: tuple[str, ...]
) -> list[Problem]:
    """A column that is numeric in one split but holds text in another: the model reads
    numbers there, and would fail on the text mid-run. Named by file, column and row, never
    by the value (it may be a patient's name)."""
    problems = []
    for column in columns:
        numeric = [n for n, f in frames.items() if pd.api.types.is_numeric_dtype(f[column])]
        if not numeric:
            continue
        for name, frame in frames.items():
            if name in numeric:
                continue
            values = frame[column]
            text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
            row = int(np.flatnonzero(text.to_numpy())[0]) + 2 if text.any() else None
            where = f"row {row}" if row is not None else "a row"
            problems.append(
                Problem(
                    str(spec.paths()[name]),
                    column,
                    f"holds text in {where} (numbers in {spec.paths()[numeric[0]].name})",
                    "give the column as numbers in every split, or leave the cell empty",
                )
            )
    return problems


def load_audit_data(spec: DataSpec, encoding: Features, n_classes: int = 2) -> AuditData:
    """Read, check and encode every split; AuditInputError listing all problems. For a
    model that reads raw columns, the splits are encoded by the auditor's own encoding of
    those columns (`auditor.data.raw`) and the raw records kept beside. `n_classes`: the
    model's classes (single-label data), or its labels (multi-label data)."""
    if isinstance(encoding, TensorEncoding):
        return load_tensor_data(spec, encoding, n_classes)
    if spec.multilabel and len(spec.labels) != n_classes:
        raise AuditInputError(
            [
                Problem(
                    "spec",
                    "data.labels",
                    f"names {len(spec.labels)} label columns but the model has {n_classes} outputs",
                    "name one column per output of the model, in its order",
                )
            ]
        )
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    digests: dict[str, str] = {}
    for name, path in spec.paths().items():
        read = _read_split(name, path, spec, problems)
        if read is not None:
            frame, header, digests[name] = read
            problems += _check_frame(frame, path, name, spec, encoding, header, n_classes)
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
    if not problems and isinstance(encoding, RawColumns):
        problems += _text_in_numbers(frames, spec, encoding.columns)
    if problems:
        raise AuditInputError(problems)
    raw = None
    if isinstance(encoding, RawColumns):
        raw = RawTable.build([frames[n] for n in SPLIT_NAMES], encoding.columns)
        encoding = raw.encoding
    splits = {}
    for name, frame in frames.items():
        path = spec.paths()[name]
        splits[name] = Split(
            name=name,
            path=path,
            sha256=digests[name],
            x=encoding.encode(frame),
            y=(
                frame[list(spec.labels)].to_numpy().astype(np.int64)
                if spec.multilabel
                else frame[spec.label].to_numpy().astype(np.int64)
            ),
            groups={s: frame[s].astype(str).to_numpy() for s in spec.sensitive},
            sites=frame[spec.site].astype(str).to_numpy() if spec.site else None,
        )
    return AuditData(
        **splits,
        encoding=encoding,
        raw=raw,
        n_outputs=n_classes,
        label_names=spec.label_columns,
    )
