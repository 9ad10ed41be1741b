"""`auditor init`: from a model file and the data files, the metadata the model needs and
a spec, with what was inferred and what a person must still confirm.

Inferred, never guessed silently: the label's classes (read from the data), the columns
the model reads (its own feature names: a Pipeline's `feature_names_in_`, an ONNX model's
named inputs, a LightGBM model's feature names; else the data's numeric feature columns
when their number is the model's input width), whether it returns probabilities or
logits, and sensitive columns by name. What cannot be read from a file, which training
procedure made the model, is stated as a decision for a person.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.artifacts.formats import FORMATS, LoadOptions, ModelColumns, ModelFormat, model_format
from auditor.artifacts.formats.graph import GraphArchitecture
from auditor.artifacts.metadata import FITTABLE, METADATA_VERSION
from auditor.config.writer import spec_toml
from auditor.core.outputs import output_problems
from auditor.core.refs import resolve
from auditor.data.tables import (
    SPLIT_NAMES,
    csv_bytes,
    csv_failure,
    header_problems,
    read_header,
)
from auditor.errors import AuditInputError, Problem, fail

LABEL_NAMES = ("death", "event", "outcome", "label", "target", "y", "mortality", "died")
ID_NAMES = ("patient_id", "pid", "id", "subject_id", "patient", "record_id")
SENSITIVE = re.compile(
    r"(^|_)(sex|gender|race|ethnic\w*|age_band|income|insur\w*|ninsclas|religion|marital"
    r"|language|nationality)($|_)",
    re.IGNORECASE,
)
TREES = ("Forest", "Boost", "Tree", "LGBM", "XGB", "Booster")
MAX_LEVELS = 12  # a numeric column with more distinct values is a measurement, not a group


def sensitive_columns(frame: pd.DataFrame, names: list[str]) -> tuple[list[str], list[str]]:
    """The columns among `names` whose name marks a sensitive attribute and that hold
    groups: text, or a number with at most MAX_LEVELS values; not one of several two-valued
    columns sharing a prefix (the one-hot encoding of one feature, such as
    `fac_income_$11-$25k`, standardised or not). Returns (proposed, skipped with why)."""
    named = [c for c in names if SENSITIVE.search(c)]
    two_valued = [c for c in named if frame[c].nunique(dropna=True) == 2]
    prefixes = [c.rsplit("_", 1)[0] for c in two_valued if "_" in c]
    proposed, skipped = [], []
    for column in named:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        prefix = column.rsplit("_", 1)[0] if "_" in column else None
        if column in two_valued and prefix is not None and prefixes.count(prefix) >= 2:
            skipped.append(f"{column} (one-hot column of {prefix})")
        elif numeric and frame[column].nunique(dropna=True) > MAX_LEVELS:
            skipped.append(f"{column} (a measurement: more than {MAX_LEVELS} values)")
        else:
            proposed.append(column)
    return proposed, skipped


@dataclass(frozen=True)
class Inferred:
    """What `infer` read: the metadata to write beside the model, and the spec's fields."""

    metadata: dict[str, Any]
    label: str
    id: str
    sensitive: list[str]
    notes: list[str] = field(default_factory=list)  # what was inferred, and from what
    confirm: list[str] = field(default_factory=list)  # what a person must still decide
    trusted_functions: tuple[str, ...] = ()  # the user's word for a skops model's functions


def read_members(path: Path, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The members' table (from `table` in memory, as its CSV would read, else from the
    file), its header checked as `run` checks it (pandas would rename a repeated column
    `age.1` and a blank one `Unnamed: 3`)."""
    try:
        if table is not None:
            content = csv_bytes(table)
            frame = pd.read_csv(io.BytesIO(content))
            header = next(csv.reader(io.StringIO(content.decode("utf-8"))), [])
        else:
            frame, header = pd.read_csv(path), read_header(path)
        problems = header_problems(frame, path, header)
        if problems:
            raise AuditInputError(problems)
        return frame
    except FileNotFoundError as exc:
        raise fail(str(path), "data", "does not exist", "check the path") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise fail(str(path), "csv", csv_failure(exc), "write it as UTF-8 CSV") from exc


def check_sensitive(sensitive: list[str] | None, columns: list[str], members: Path) -> None:
    """AuditInputError when `--sensitive` names a column the members' table lacks."""
    unknown = [c for c in sensitive or () if c not in columns]
    if unknown:
        raise fail(
            str(members),
            "--sensitive",
            f"names {len(unknown)} columns the data does not have (first: {unknown[0][:60]!r})",
            f"choose among the data's columns: {', '.join(c[:40] for c in columns[:12])}",
        )


def pick_column(
    columns: list[str], given: str | None, names: tuple[str, ...], what: str, where: Path
) -> str:
    if given is not None:
        if given not in columns:
            raise fail(str(where), what, f"column {given[:80]!r} is not in the data", "check it")
        return given
    lower = {c.lower(): c for c in columns}
    found = next((lower[n] for n in names if n in lower), None)
    if found is None:
        fix = f"pass --{what}"
        raise fail(str(where), what, "could not be inferred from the column names", fix)
    return found


def _model_columns(
    path: Path, fmt: ModelFormat, features: list[str], numeric: list[str], options: LoadOptions
) -> ModelColumns:
    """What the model file says about its inputs and outputs (its format's `columns`)."""
    if fmt.columns is None:
        readable = ", ".join(f.name for f in FORMATS.values() if f.columns is not None)
        raise fail(
            str(path),
            "artifact.path",
            f"is a {fmt.name} file: auditor init reads {readable} models",
            "export the model to one of those formats (safetensors files carry their metadata)",
        )
    return resolve(fmt.columns)(path, options, features, numeric)


def _graph(path: Path, fmt: ModelFormat, options: LoadOptions) -> GraphArchitecture | None:
    """The architecture the model file's graph shows (its format's `architecture`), if the
    format reads one."""
    if fmt.architecture is None:
        return None
    try:
        found: GraphArchitecture = resolve(fmt.architecture)(path, options)
    except Exception as exc:  # a graph the reader does not follow: the approximation stands
        return GraphArchitecture(None, f"unreadable graph ({type(exc).__name__})")
    return found


def _procedure_notes(
    fmt: ModelFormat, train: str | None, graph: GraphArchitecture | None, architecture: str
) -> tuple[list[str], list[str]]:
    """What init says about the training procedure: notes, and decisions to confirm."""
    notes: list[str] = []
    confirm: list[str] = []
    if train is None and fmt.procedure is not None:
        fits = ", ".join(fmt.procedure_fits)
        notes.append(
            f"training procedure: read from the {fmt.name} file (reference models follow it "
            + (
                f"where the file stores it; its {fits} is not stored and is fitted at run time"
                if fits
                else "exactly"
            )
            + ", each fitted on its own records)"
        )
    elif graph is not None and graph.params is not None:
        notes.append(
            f"architecture: read from the {fmt.name} graph ({graph.described}); its training "
            f"settings ({', '.join(FITTABLE)}) are not in the file: the audit fits them on "
            "population records and says so"
        )
        confirm.append(
            "the training settings the audit fits: to state them instead, write them into "
            "the metadata's recipe parameters and drop recipe.fit; to use your own training "
            'code: --train "package.module:function"',
        )
    elif train is None:
        if graph is not None:
            notes.append(f"architecture: the {fmt.name} graph was not read ({graph.described})")
        confirm.append(
            f"which procedure trained the model: reference models will be trained by the "
            f"auditor's {architecture} recipe, an approximation of yours; for calibrated "
            "attacks (LiRA, RMIA) you can trust, name your training code: "
            '--train "package.module:function"',
        )
    return notes, confirm


def infer(
    model: Path,
    members: Path,
    *,
    label: str | None = None,
    id: str | None = None,
    sensitive: list[str] | None = None,
    train: str | None = None,
    allow_code: bool = False,
    trusted_functions: tuple[str, ...] = (),
    table: pd.DataFrame | None = None,
) -> Inferred:
    """Metadata for `model` and the spec's data fields, from the model file and the
    members' CSV; AuditInputError when something cannot be inferred (with the flag that
    settles it). TorchScript is probed only with `allow_code` (its code runs);
    `trusted_functions` are the functions a skops model may hold. With `table` the
    members are that DataFrame (nothing is read from disk; `members` names it)."""
    fmt = model_format(model, allow_code=allow_code)
    frame = read_members(members, table)
    columns = [str(c) for c in frame.columns]
    label = pick_column(columns, label, LABEL_NAMES, "label", members)
    id = pick_column(columns, id, ID_NAMES, "id", members)
    ids = frame[id]
    if ids.isna().any() or ids.astype(str).str.strip().eq("").any() or ids.duplicated().any():
        raise fail(
            str(members),
            id,
            "has blank or repeated patient ids",
            "give every row its own patient id (one row per patient)",
        )
    values = frame[label]  # integers only: True/False, text and NaN are no class index
    integral = pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)
    classes = sorted(pd.unique(values).tolist()) if integral else []
    if len(classes) < 2 or classes != list(range(len(classes))):
        raise AuditInputError(
            Problem(
                str(members),
                label,
                "is not a class index 0..C-1 with every class present (0/1 for a binary outcome)",
                "encode the outcome as 0/1, or each class as its output's index",
            )
        )
    features = [c for c in columns if c not in (label, id)]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    options = LoadOptions(allow_code=allow_code, trusted_functions=trusted_functions)
    try:
        found = _model_columns(model, fmt, features, numeric, options)
    except AuditInputError:
        raise
    except Exception as exc:  # random bytes, a cut-off file: each runtime fails its own way
        raise fail(
            str(model),
            "artifact.path",
            f"cannot be read as {fmt.name} ({type(exc).__name__})",
            f"check that the file is a complete {fmt.name} model (re-export or re-download it)",
        ) from exc
    raw, output, kind, how, n_out = (
        found.columns,
        found.output,
        found.model_kind,
        found.how,
        found.n_outputs,
    )
    missing = [c for c in raw if c not in columns]
    if missing:
        raise fail(
            str(model),
            "raw_columns",
            f"reads {len(missing)} columns the data does not have (first: {missing[0][:60]!r})",
            "give data files with every column the model reads",
        )
    if n_out is not None and n_out != len(classes):
        raise fail(
            str(model),
            "n_classes",
            f"has {n_out} outputs, but {label!r} in {members.name} has {len(classes)} classes",
            "give the data the model was trained for (its label column and classes), or the "
            "model trained on this label",
        )
    check_sensitive(sensitive, columns, members)
    architecture = (
        "random_forest"
        if any(t in kind for t in TREES)
        else "logistic"
        if "Logistic" in kind
        else "mlp"
    )
    graph = _graph(model, fmt, options) if train is None and fmt.procedure is None else None
    params: dict[str, object] = {"architecture": architecture}
    if graph is not None and graph.params is not None:
        params = dict(graph.params)
        architecture = str(params["architecture"])
    skipped: list[str] = []
    if sensitive is None:
        chosen, skipped = sensitive_columns(frame, [c for c in columns if c not in (label, id)])
    else:
        chosen = list(sensitive)
    metadata = {
        "auditor_metadata_version": METADATA_VERSION,
        "architecture": architecture,
        "n_features": len(raw),
        "n_classes": len(classes),
        "label": label,
        "output": output,
        "raw_columns": raw,
        "recipe": {
            "name": "supervised",
            "supervised": params,
            # settings the graph does not show: the audit fits them (orchestration.settings_fit)
            **({"fit": list(FITTABLE)} if graph is not None and graph.params is not None else {}),
        },
    }
    notes = [
        f"model: {kind} ({fmt.name}), returns {output}",
        f"reads {len(raw)} raw columns, found from {how}",
        f"label {label!r} (classes 0..{len(classes) - 1}, read from the members), "
        f"patient id {id!r}",
        f"sensitive columns: {', '.join(chosen) or 'none'}"
        + (" (from their names)" if sensitive is None else ""),
    ]
    if skipped:
        notes.append(
            f"not proposed as sensitive: {'; '.join(skipped[:8])}"
            + (f" and {len(skipped) - 8} more" if len(skipped) > 8 else "")
        )
    confirm = [
        "that the sensitive columns are the groups to break fairness and attribute "
        "inference down by (--sensitive)",
    ]
    notes_, confirm_ = _procedure_notes(fmt, train, graph, architecture)
    notes += notes_
    confirm = confirm_ + confirm
    return Inferred(metadata, label, id, chosen, notes, confirm, tuple(trusted_functions))


def relative_path(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


DEFAULT_RUN = ["loss", "confidence", "entropy", "lira_offline", "rmia"]


def spec_mapping(
    inferred: Inferred,
    model: Path,
    data: dict[str, Path],
    folder: Path,
    *,
    train: str | None = None,
    attacks: list[str] | None = None,
) -> dict[str, Any]:
    """The spec of an audit of `model` on `data`, as a mapping (`config.spec.parse_spec`;
    paths relative to `folder`, where the spec is or would be)."""
    artifact: dict[str, Any] = {"kind": "model", "path": relative_path(model, folder)}
    if train is not None:
        artifact["train"] = train
    if inferred.trusted_functions:
        artifact["trusted_functions"] = list(inferred.trusted_functions)
    splits = {name: relative_path(data[name], folder) for name in SPLIT_NAMES}
    return {
        "artifact": artifact,
        "data": {
            **splits,
            "label": inferred.label,
            "id": inferred.id,
            "sensitive": list(inferred.sensitive),
        },
        "attacks": {"run": list(attacks or DEFAULT_RUN)},
    }


def write_metadata(inferred: Inferred, model: Path) -> Path:
    """Write the artifact's `<file>.meta.json` (the metadata `infer` or `infer_table`
    read)."""
    sidecar = model.with_name(model.name + ".meta.json")
    sidecar.write_text(json.dumps(inferred.metadata, indent=2) + "\n", encoding="utf-8")
    return sidecar


def setup_problems(artifact: Path, spec: Path, force: bool) -> list[Problem]:
    """Why the artifact's `<file>.meta.json` or the spec cannot be written: each that
    exists already unless `force`, and any output the auditor may not replace."""
    sidecar = artifact.with_name(artifact.name + ".meta.json")
    return [
        *(
            Problem(str(p), "init", "exists already", "pass --force to overwrite")
            for p in (sidecar, spec)
            if p.exists() and not p.is_dir() and not force
        ),
        *output_problems(sidecar, field="metadata", folder=False, force=True),
        *output_problems(spec, field="--spec", folder=False, force=True),
    ]


def write_setup(
    inferred: Inferred,
    model: Path,
    data: dict[str, Path],
    spec: Path,
    *,
    force: bool = False,
    train: str | None = None,
    attacks: list[str] | None = None,
) -> list[Path]:
    """Write the model's `<file>.meta.json` and the spec; AuditInputError naming every
    file that exists already unless `force`."""
    problems = setup_problems(model, spec, force)
    if problems:  # nothing is written unless both files can be
        raise AuditInputError(problems)
    sidecar = write_metadata(inferred, model)
    spec.parent.mkdir(parents=True, exist_ok=True)
    mapping = spec_mapping(inferred, model, data, spec.parent, train=train, attacks=attacks)
    spec.write_text(spec_toml(mapping), encoding="utf-8")
    return [sidecar, spec]
