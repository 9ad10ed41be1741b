"""Checking a model artifact without running it: its format (`artifacts.formats`), the
consent to run its code, its metadata (in the file or in the sidecar), and each format's own
check (for safetensors, that the stored weights fit the declared architecture).

Torch-free for safetensors, ONNX and skops, so `auditor validate` finds what `auditor run`
would refuse without importing torch (TorchScript files need torch to be read at all).
"""

from __future__ import annotations

import json
from pathlib import Path

from auditor.artifacts.formats import LoadOptions, ModelFormat, model_format
from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.core.hashing import read_utf8
from auditor.core.refs import resolve
from auditor.errors import AuditInputError, fail


def no_constant(name: str) -> None:
    """json's parse_constant: NaN and Infinity are not JSON numbers."""
    raise ValueError(f"{name} is not a JSON number")


def read_sidecar(path: Path) -> ArtifactMetadata:
    """The metadata in `<file>.meta.json` beside a model file."""
    sidecar = path.with_name(path.name + ".meta.json")
    if not sidecar.is_file():
        raise fail(
            str(path),
            "metadata",
            f"has no metadata file {sidecar.name} beside it",
            "write the feature encoding and architecture as that JSON file (README 'Artifacts')",
        )
    text = read_utf8(sidecar, field="metadata")  # outside the try: its error is a ValueError
    try:
        data = json.loads(text, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        message = f"is not valid JSON{where} (NaN and Infinity are not JSON)"
        raise fail(str(sidecar), "json", message, "fix the JSON") from exc
    return ArtifactMetadata.from_dict(data, str(sidecar))


def check_width(meta: ArtifactMetadata, where: str) -> None:
    """AuditInputError when the encoding's width is not the declared number of features."""
    features = meta.features
    width = len(meta.raw_columns) if meta.raw_columns else getattr(features, "n_features", 0)
    if width != meta.n_features:
        raise fail(
            where,
            "n_features",
            f"the feature encoding yields {width} features but the "
            f"metadata declares {meta.n_features}",
            "store the encoding the model was trained with",
        )


def read_metadata(path: Path, fmt: ModelFormat, options: LoadOptions) -> ArtifactMetadata:
    """A model file's metadata: held in the file (the format's `metadata`, e.g. a
    safetensors header) or in its `<file>.meta.json` sidecar, settled by the user's
    architecture (`trusted_metadata`)."""
    if fmt.metadata is not None:
        return resolve(fmt.metadata)(path, options)
    return trusted_metadata(read_sidecar(path), options.architecture, str(path))


def inspect_model(
    path: Path,
    *,
    architecture: str | None = None,
    allow_code: bool = False,
    trusted_functions: tuple[str, ...] = (),
) -> ArtifactMetadata:
    """The model's metadata, after every check that needs no model code: AuditInputError
    (file, field, fix) for what `load_model` would refuse."""
    fmt = model_format(path, allow_code=allow_code)
    options = LoadOptions(architecture, allow_code, trusted_functions)
    try:
        meta = read_metadata(path, fmt, options)
        if fmt.check is not None:  # opened without running its code (pickle: not opened)
            resolve(fmt.check)(path, options)
        return meta
    except AuditInputError:
        raise
    except Exception as exc:  # corrupt or truncated files fail in each runtime's own way
        raise fail(
            str(path),
            "artifact.path",
            f"cannot be read as {fmt.name} ({type(exc).__name__})",
            f"check that the file is a complete {fmt.name} file (re-export or re-download it)",
        ) from exc
