"""Model formats: one `ModelFormat` per file format, carrying how the auditor reads it.

A format is its file suffixes and its functions: `load` (a queryable model, on encoded rows
or on raw columns), optionally `metadata` (metadata held in the file itself; otherwise the
`<file>.meta.json` sidecar), `check` (open it without running its code, for `auditor
validate`), `columns` (what `auditor init` infers from it), `save` (how the Python API
stores a fitted object in it), `procedure` (the exact training procedure the file
carries, which the reference models then follow) and `architecture` (the layers its graph
shows, `formats.graph`, when it carries no procedure: the optimiser settings are then
fitted). `runs_code` marks a format whose loading runs the artifact's own code: it is
refused before it is opened unless the user passed `allow_code`.

Adding a format is one `register_format(ModelFormat(...))` call in its own module
(docs/ARCHITECTURE.md has a worked example; tests/extensions/test_toy_format.py runs one).
The built-in formats name their functions as strings (`core.refs`), each in its module of
this package, so that importing the registry imports no runtime (torch, onnxruntime).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.artifacts.query import TableFn
from auditor.core.refs import Ref
from auditor.core.types import LogitsFn
from auditor.errors import fail


@dataclass(frozen=True)
class LoadOptions:
    """The user's decisions about loading: the architecture they named, their consent to
    run the artifact's code, and the functions a skops file may hold."""

    architecture: str | None = None
    allow_code: bool = False
    trusted_functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queryable:
    """What a format's `load` returns: the query on encoded rows (None for a model that
    reads raw columns), on raw columns (`table`), and the torch module where there is one
    (white-box and gradient attacks)."""

    logits: LogitsFn | None = None
    table: TableFn | None = None
    module: Any = None


@dataclass(frozen=True)
class ModelColumns:
    """What `auditor init` reads from a model file: its raw input columns, whether it
    returns logits or probabilities, a name for the model, how the columns were found, and
    its number of outputs where the file says it."""

    columns: list[str]
    output: str
    model_kind: str
    how: str
    n_outputs: int | None = None


@dataclass(frozen=True)
class ModelFormat:
    """A model file format and its behaviour (the module docstring lists the functions:
    `load(path, metadata, options) -> Queryable`, `metadata(path, options)`,
    `check(path, options)`, `columns(path, options, features, numeric) -> ModelColumns`,
    `save(obj, folder, numeric_width) -> Path | None`)."""

    name: str
    suffixes: tuple[str, ...]
    load: Ref
    metadata: Ref | None = None
    check: Ref | None = None
    columns: Ref | None = None
    save: Ref | None = None
    # The training procedure the file carries (`training.procedures`), for a model that
    # reads raw columns: (path, sha256, trusted_functions, raw table, n_classes, timeout)
    # -> the references' training. None: the auditor's own recipe approximates it.
    procedure: Ref | None = None
    # What that procedure fits because the file does not store it (XGBoost's learning rate).
    procedure_fits: tuple[str, ...] = ()
    # The architecture the file's graph shows: (path, options) -> graph.GraphArchitecture.
    architecture: Ref | None = None
    runs_code: str | None = None
    code_fix: str = ""


FORMATS: dict[str, ModelFormat] = {}


def register_format(fmt: ModelFormat) -> ModelFormat:
    """Add a model format; ValueError for a taken name or suffix."""
    if fmt.name in FORMATS and FORMATS[fmt.name] != fmt:
        raise ValueError(f"model format {fmt.name!r}: its name is taken")
    bad = [s for s in fmt.suffixes if not s.startswith(".") or s != s.lower()]
    taken = [s for s in fmt.suffixes if (o := by_suffix(s)) is not None and o.name != fmt.name]
    if bad or taken or not fmt.suffixes:
        why = f"suffixes {taken} are taken" if taken else "suffixes are '.lowercase' strings"
        raise ValueError(f"model format {fmt.name!r}: {why}")
    FORMATS[fmt.name] = fmt
    return fmt


def by_suffix(suffix: str) -> ModelFormat | None:
    """The format a file suffix belongs to (case-insensitive), if any."""
    return next((f for f in FORMATS.values() if suffix.lower() in f.suffixes), None)


def suffixes() -> list[str]:
    """Every suffix of a registered format, sorted."""
    return sorted(s for f in FORMATS.values() for s in f.suffixes)


def model_format(path: Path, *, allow_code: bool) -> ModelFormat:
    """The format of a model file; AuditInputError for an unknown one, a format that runs
    the artifact's code (pickle, TorchScript) without the user's consent, or a path that is
    not a file."""
    fmt = by_suffix(path.suffix)
    if fmt is None:
        message = f"has unknown model format {path.suffix[:20]!r}"
        raise fail(str(path), "artifact.path", message, f"use one of {', '.join(suffixes())}")
    if fmt.runs_code is not None and not allow_code:
        raise fail(str(path), "artifact.path", fmt.runs_code, fmt.code_fix)
    if not path.is_file():
        raise fail(str(path), "artifact.path", "is not a file", "check the path in the spec")
    return fmt


_HERE = "auditor.artifacts.formats"
for _fmt in (
    ModelFormat(
        "safetensors",
        (".safetensors",),
        load=f"{_HERE}.safetensors:load",
        metadata=f"{_HERE}.safetensors:metadata",
    ),
    ModelFormat(
        "torchscript",
        (".pt", ".pth", ".ts"),
        load=f"{_HERE}.torchscript:load",
        check=f"{_HERE}.torchscript:check",
        columns=f"{_HERE}.torchscript:columns",
        save=f"{_HERE}.torchscript:save",
        architecture=f"{_HERE}.torchscript:architecture",
        runs_code=(
            "is TorchScript; loading and querying it runs the artifact's own code, which "
            "can read, write and create files"
        ),
        code_fix=(
            "export it to ONNX (torch.onnx.export), or save its weights as safetensors with "
            "a spec-named architecture ([artifact] architecture = 'package.module:function');"
            " or pass --allow-code (API: allow_code=True) if you trust the file"
        ),
    ),
    ModelFormat(
        "onnx",
        (".onnx",),
        load=f"{_HERE}.onnx:load",
        check=f"{_HERE}.onnx:check",
        columns=f"{_HERE}.onnx:columns",
        architecture=f"{_HERE}.onnx:architecture",
    ),
    ModelFormat(
        "xgboost",  # XGBoost's binary JSON model (booster.save_model("model.ubj"))
        (".ubj",),
        load=f"{_HERE}.xgboost:load",
        check=f"{_HERE}.xgboost:check",
        columns=f"{_HERE}.xgboost:columns",
        save=f"{_HERE}.xgboost:save",
        procedure="auditor.training.procedures:xgboost_procedure",
        procedure_fits=("learning_rate",),
    ),
    ModelFormat(
        "skops",
        (".skops",),
        load=f"{_HERE}.skops:load",
        check=f"{_HERE}.skops:check",
        columns=f"{_HERE}.skops:columns",
        save=f"{_HERE}.skops:save",
        procedure="auditor.training.procedures:skops_procedure",
    ),
    ModelFormat(
        "pickle",
        (".pkl", ".pickle", ".joblib"),
        load=f"{_HERE}.pickled:load",
        runs_code="is a pickle file; unpickling runs arbitrary code from the artifact",
        code_fix="convert it to safetensors/ONNX/skops, or pass --allow-code if you trust it",
    ),
    ModelFormat(
        "lightgbm",  # LightGBM's own text model (booster.save_model)
        (".txt",),
        load=f"{_HERE}.lightgbm:load",
        check=f"{_HERE}.lightgbm:check",
        columns=f"{_HERE}.lightgbm:columns",
        save=f"{_HERE}.lightgbm:save",
        procedure="auditor.training.procedures:lightgbm_procedure",
    ),
):
    register_format(_fmt)
