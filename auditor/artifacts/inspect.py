"""Checking a model artifact without running it: format, consent to unpickle, metadata,
and (for the built-in architectures) that the stored weights fit the declared architecture.

Torch-free for safetensors, ONNX and skops, so `auditor validate` finds what `auditor run`
would refuse without importing torch (TorchScript files need torch to be read at all).
"""

from __future__ import annotations

import json
from pathlib import Path

from auditor.artifacts.builtin import model_params
from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.core.hashing import read_utf8
from auditor.errors import AuditInputError, fail

FORMATS = {
    ".safetensors": "safetensors",
    ".pt": "torchscript",
    ".pth": "torchscript",
    ".ts": "torchscript",
    ".onnx": "onnx",
    ".skops": "skops",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
    ".txt": "lightgbm",  # LightGBM's own text model (booster.save_model)
}


# Formats whose loading or querying runs code from the artifact itself: unpickling calls
# any function the file names; a TorchScript module may call any torch operator, among
# them `torch.from_file(path, shared=True)`, which maps any file read-write.
CODE_FORMATS = {
    "pickle": "is a pickle file; unpickling runs arbitrary code from the artifact",
    "torchscript": (
        "is TorchScript; loading and querying it runs the artifact's own code, which can "
        "read, write and create files"
    ),
}
CODE_FIX = {
    "pickle": "convert it to safetensors/ONNX/skops, or pass --allow-code if you trust it",
    "torchscript": (
        "export it to ONNX (torch.onnx.export), or save its weights as safetensors with a "
        "spec-named architecture ([artifact] architecture = 'package.module:function'); "
        "or pass --allow-code (API: allow_code=True) if you trust the file"
    ),
}


def model_format(path: Path, *, allow_code: bool) -> str:
    """The format of a model file; AuditInputError for an unknown one, a format that runs
    the artifact's code (pickle, TorchScript) without the user's consent, or a path that is
    not a file."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        message = f"has unknown model format {path.suffix[:20]!r}"
        raise fail(str(path), "artifact.path", message, f"use one of {', '.join(sorted(FORMATS))}")
    if fmt in CODE_FORMATS and not allow_code:
        raise fail(str(path), "artifact.path", CODE_FORMATS[fmt], CODE_FIX[fmt])
    if not path.is_file():
        raise fail(str(path), "artifact.path", "is not a file", "check the path in the spec")
    return fmt


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


def header_metadata(path: Path, header: dict[str, str]) -> ArtifactMetadata:
    """The metadata in a safetensors header (key `auditor`), else in the sidecar."""
    if "auditor" not in header:
        return read_sidecar(path)
    try:
        data = json.loads(header["auditor"], parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise fail(
            str(path),
            "metadata",
            "header key 'auditor' is not JSON (NaN and Infinity are not JSON numbers)",
            "rewrite the metadata with ArtifactMetadata.to_dict",
        ) from exc
    return ArtifactMetadata.from_dict(data, str(path))


def check_width(meta: ArtifactMetadata, where: str) -> None:
    """AuditInputError when the encoding's width is not the declared number of features."""
    width = len(meta.raw_columns) if meta.raw_columns else meta.features.n_features
    if width != meta.n_features:
        raise fail(
            where,
            "n_features",
            f"the feature encoding yields {width} features but the "
            f"metadata declares {meta.n_features}",
            "store the encoding the model was trained with",
        )


def expected_shapes(meta: ArtifactMetadata) -> dict[str, tuple[int, ...]] | None:
    """Parameter shapes of the built-in MLP / logistic model the metadata declares; None
    for any other architecture (its shapes are its own code's business)."""
    if meta.architecture not in ("mlp", "logistic"):
        return None
    hidden = model_params("mlp", meta.recipe_params)["hidden"] if meta.architecture == "mlp" else []
    widths = [meta.n_features, *hidden, meta.n_classes]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(len(widths) - 1):
        shapes[f"net.{2 * i}.weight"] = (widths[i + 1], widths[i])
        shapes[f"net.{2 * i}.bias"] = (widths[i + 1],)
    return shapes


def shape_problem(meta: ArtifactMetadata, stored: dict[str, tuple[int, ...]], where: str) -> None:
    """AuditInputError when stored weights do not fit the declared built-in architecture."""
    expected = expected_shapes(meta)
    if expected is None or expected == stored:
        return
    names = sorted(set(expected) | set(stored))
    first = next(n for n in names if expected.get(n) != stored.get(n))
    detail = f"{first}: stored {stored.get(first, 'none')}, expected {expected.get(first, 'none')}"
    raise fail(
        where,
        "architecture",
        f"weights do not fit architecture {meta.architecture!r} with {meta.n_features} input "
        f"features ({detail})",
        "name the architecture the weights were trained with ([artifact] architecture) "
        "and check that the metadata's feature encoding matches the model's input width",
    )


def safetensors_metadata(path: Path, architecture: str | None) -> ArtifactMetadata:
    """A safetensors model's metadata (header, else sidecar), settled by the user's
    architecture, after checking that the stored weights fit it (read without torch)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        meta = header_metadata(path, handle.metadata() or {})
        stored = {k: tuple(handle.get_slice(k).get_shape()) for k in handle.keys()}  # noqa: SIM118
    meta = trusted_metadata(meta, architecture, str(path))
    check_width(meta, str(path))
    shape_problem(meta, stored, str(path))
    return meta


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
    try:
        return _inspect(path, fmt, architecture, trusted_functions)
    except AuditInputError:
        raise
    except Exception as exc:  # corrupt or truncated files fail in each runtime's own way
        raise fail(
            str(path),
            "artifact.path",
            f"cannot be read as {fmt} ({type(exc).__name__})",
            f"check that the file is a complete {fmt} file (re-export or re-download it)",
        ) from exc


def _inspect(
    path: Path, fmt: str, architecture: str | None, trusted_functions: tuple[str, ...]
) -> ArtifactMetadata:
    if fmt == "safetensors":
        return safetensors_metadata(path, architecture)
    meta = trusted_metadata(read_sidecar(path), architecture, str(path))
    if fmt == "onnx":
        from auditor.artifacts.query import onnx_session

        onnx_session(path)
    elif fmt == "skops":
        from auditor.artifacts.query import load_skops

        load_skops(path, trusted_functions)
    elif fmt == "torchscript":  # reached only with allow_code (model_format)
        from auditor.artifacts.query import load_torchscript

        load_torchscript(path)
    elif fmt == "lightgbm":
        from auditor.artifacts.query import load_lightgbm

        load_lightgbm(path)
    return meta  # pickle: not unpickled to be checked (that would run its code)
