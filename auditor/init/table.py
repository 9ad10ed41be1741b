"""`auditor init` for a released table (CSV or Parquet) from any generator: the encoding,
label, id and sensitive columns inferred from the table and the splits, written as the
table's `<file>.meta.json` with recipe `external` (the generator is unknown), and a spec
of the attacks that need no re-made release.

The encoding is fitted on the released table and the population records together (the
standardisation's means and deviations, each categorical column's levels), never on the
members: the sidecar holds no statistic of the private records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from auditor.artifacts.datasets import DATASET_FORMATS
from auditor.config.writer import spec_toml
from auditor.core.encoding import fit_encoding
from auditor.data.tables import SPLIT_NAMES
from auditor.errors import AuditInputError, Problem, fail
from auditor.init.model import (
    ID_NAMES,
    LABEL_NAMES,
    Inferred,
    check_sensitive,
    pick_column,
    read_members,
    relative_path,
    sensitive_columns,
    setup_problems,
    write_metadata,
)

TABLE_SUFFIXES = (".csv", ".parquet")
# The membership attacks through a consumer model that need no re-made release: with an
# unknown generator, LiRA and RMIA have nothing to calibrate against.
TABLE_RUN = ["loss", "confidence", "entropy", "qmia"]


def is_table(path: Path) -> bool:
    """Whether `auditor init` reads `path` as a released table (not a model file)."""
    return path.suffix.lower() in TABLE_SUFFIXES


def _released(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise fail(str(path), "artifact.path", "does not exist", "check the path")
    try:
        if DATASET_FORMATS[path.suffix.lower()] == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as exc:
        raise fail(
            str(path), "artifact.path", "needs a Parquet engine", "pip install pyarrow"
        ) from exc
    except Exception as exc:  # a reader's message can quote released records: not passed on
        raise fail(
            str(path),
            "artifact.path",
            f"cannot be read as a table ({type(exc).__name__})",
            "check that the file is a complete CSV or Parquet table",
        ) from exc


def _table_problems(
    released: pd.DataFrame, path: Path, features: list[str], label: str
) -> list[Problem]:
    """What keeps the released table from being encoded like the members."""
    missing = [c for c in (*features, label) if c not in released.columns]
    if missing:
        return [
            Problem(
                str(path),
                "columns",
                f"lacks {len(missing)} columns the members have (first: {missing[0][:60]!r})",
                "release every feature column of the members and the label",
            )
        ]
    problems = []
    values = released[label]
    if values.isna().any() or not set(pd.unique(values).tolist()) <= {0, 1}:
        problems.append(
            Problem(str(path), label, "is not a 0/1 outcome in every row", "release 0/1 labels")
        )
    gaps = [c for c in features if released[c].isna().any()]
    if gaps:
        problems.append(
            Problem(
                str(path),
                gaps[0][:60],
                f"has missing values ({len(gaps)} columns do)",
                "release complete records (impute before release)",
            )
        )
    return problems


def infer_table(
    released: Path,
    members: Path,
    population: Path,
    *,
    label: str | None = None,
    id: str | None = None,
    sensitive: list[str] | None = None,
) -> Inferred:
    """The dataset metadata of the released table `released` and the spec's data fields,
    from the table and the members' and population's CSVs; AuditInputError when something
    cannot be inferred (with the flag that settles it)."""
    frame = read_members(members)
    columns = [str(c) for c in frame.columns]
    label = pick_column(columns, label, LABEL_NAMES, "label", members)
    id = pick_column(columns, id, ID_NAMES, "id", members)
    features = [c for c in columns if c not in (label, id)]
    table = _released(released)
    problems = _table_problems(table, released, features, label)
    if problems:
        raise AuditInputError(problems)
    check_sensitive(sensitive, columns, members)
    public = pd.concat([table[features], read_members(population)[features]], ignore_index=True)
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in features if c not in numeric]
    encoding = fit_encoding(public, numeric=numeric, categorical=categorical)
    if sensitive is None:
        chosen, skipped = sensitive_columns(frame, features)
    else:
        chosen, skipped = list(sensitive), []
    extra = [str(c) for c in table.columns if c not in (*features, label)]
    metadata: dict[str, Any] = {
        "kind": "dataset",
        "encoding": encoding.to_dict(),
        "recipe": "external",
        "params": {},
        "claims": {},
    }
    notes = [
        f"released table: {len(table)} records, {len(features)} feature columns "
        f"({len(numeric)} numeric, {len(categorical)} categorical, by the members' types)",
        f"label {label!r}, patient id {id!r} (of the members; the release needs no id)",
        "encoding: fitted on the released and population records, never on the members",
        f"sensitive columns: {', '.join(chosen) or 'none'}"
        + (" (from their names)" if sensitive is None else ""),
    ]
    if extra:
        notes.append(f"ignored {len(extra)} released columns the members lack: {extra[0][:40]}")
    if skipped:
        notes.append(f"not proposed as sensitive: {'; '.join(skipped[:8])}")
    confirm = [
        "the generator: recipe external (unknown), so attacks that calibrate against "
        "re-made releases (LiRA, RMIA, shadow models) do not run",
        "that the sensitive columns are the groups to break the figures down by (--sensitive)",
    ]
    return Inferred(metadata, label, id, chosen, notes, confirm)


def table_spec_mapping(
    inferred: Inferred,
    released: Path,
    data: dict[str, Path],
    folder: Path,
    attacks: list[str] | None = None,
) -> dict[str, Any]:
    """The spec of an audit of the released table on `data`, as a mapping."""
    return {
        "artifact": {"kind": "dataset", "path": relative_path(released, folder)},
        "data": {
            **{name: relative_path(data[name], folder) for name in SPLIT_NAMES},
            "label": inferred.label,
            "id": inferred.id,
            "sensitive": list(inferred.sensitive),
        },
        "attacks": {"run": list(attacks or TABLE_RUN)},
    }


def write_table_setup(
    inferred: Inferred,
    released: Path,
    data: dict[str, Path],
    spec: Path,
    *,
    force: bool = False,
    attacks: list[str] | None = None,
) -> list[Path]:
    """Write the table's `<file>.meta.json` and the spec; AuditInputError naming every file
    that exists already unless `force` (nothing is written unless both can be)."""
    problems = setup_problems(released, spec, force)
    if problems:  # nothing is written unless both can be
        raise AuditInputError(problems)
    sidecar = write_metadata(inferred, released)
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(
        spec_toml(table_spec_mapping(inferred, released, data, spec.parent, attacks)),
        encoding="utf-8",
    )
    return [sidecar, spec]
