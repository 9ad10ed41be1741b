"""Model artifacts: metadata that travels with the weights, saving, and safe loading.

Formats: safetensors (+ built-in architecture or `package.module:function`), TorchScript,
ONNX (onnxruntime) and skops (scikit-learn). Pickle and TorchScript, which run the
artifact's own code, only with `allow_code`.
Safetensors files carry their metadata in the file header; the other formats need a
sidecar `<file>.meta.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.artifacts.inspect import FORMATS, model_format, read_sidecar, safetensors_metadata
from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.artifacts.query import (
    TableFn,
    is_torch_module,
    load_lightgbm,
    load_skops,
    load_torchscript,
    onnx_logits,
    onnx_table_logits,
    sklearn_logits,
    table_logits,
    torch_logits,
)
from auditor.core.hashing import sha256_file
from auditor.data.raw import RawTable
from auditor.errors import AuditInputError, fail

if TYPE_CHECKING:
    from torch import nn

__all__ = ["FORMATS", "ArtifactMetadata", "LoadedModel", "load_model", "save_model"]


@dataclass(frozen=True)
class LoadedModel:
    """A queryable model: `logits(x)` maps encoded float32 rows to float64 logits (n, C).

    For `output = "probabilities"` formats the logits are log-probabilities. `module` is
    the torch module where there is one (white-box and gradient attacks).
    """

    path: Path
    format: str
    sha256: str
    metadata: ArtifactMetadata
    logits: Callable[[np.ndarray], np.ndarray]
    module: nn.Module | None = None
    # A model reading raw columns: its query on raw records; `logits` needs `bind_raw`.
    table: TableFn | None = None


def bind_raw(model: LoadedModel, raw: RawTable) -> LoadedModel:
    """A raw-columns model queried on encoded rows: each row decoded to its raw record
    (`RawTable.decode`), and the metadata's encoding set to the table's. Its torch module
    (if any) is dropped: it reads raw columns, so gradients with respect to encoded rows
    (model inversion) do not apply."""
    if model.table is None:
        return model
    table = model.table
    meta = replace(model.metadata, encoding=raw.encoding)
    return replace(model, metadata=meta, logits=lambda x: table(raw.decode(x)), module=None)


def _unbound(x: np.ndarray) -> np.ndarray:
    raise RuntimeError("a raw-columns model is queried through bind_raw(model, data.raw)")


def save_model(model: Any, metadata: ArtifactMetadata, path: Path) -> None:
    """Write a model artifact: a torch module as safetensors with the metadata in its
    header, a scikit-learn estimator as skops with a `<file>.meta.json` sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_torch_module(model):
        from safetensors.torch import save_file

        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        header = {"auditor": json.dumps(metadata.to_dict(), sort_keys=True)}
        save_file(tensors, str(path), metadata=header)
        return
    import skops.io

    skops.io.dump(model, str(path))
    sidecar = path.with_name(path.name + ".meta.json")
    sidecar.write_text(json.dumps(metadata.to_dict(), sort_keys=True, indent=2) + "\n")


def _load_safetensors(path: Path, architecture: str | None) -> tuple[ArtifactMetadata, nn.Module]:
    from safetensors.torch import load_file

    from auditor.artifacts.architectures import build_model
    from auditor.artifacts.builtin import model_params

    meta = safetensors_metadata(path, architecture)
    try:
        params = model_params(meta.architecture, meta.recipe_params)
        module = build_model(
            meta.architecture, n_features=meta.n_features, n_classes=meta.n_classes, params=params
        )
        module.load_state_dict(load_file(str(path)))
    except (ValueError, RuntimeError, TypeError) as exc:
        raise fail(
            str(path),
            "architecture",
            f"weights do not fit architecture {meta.architecture!r} with "
            f"{meta.n_features} input features: {_condense(exc)}",
            "name the architecture the weights were trained with ([artifact] architecture) "
            "and check that the metadata's feature encoding matches the model's input width",
        ) from exc
    module.eval()
    return meta, module


def _condense(exc: Exception) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines()[:3])[:400]


def load_model(
    path: Path,
    *,
    architecture: str | None = None,
    allow_code: bool = False,
    trusted_functions: tuple[str, ...] = (),
) -> LoadedModel:
    """Load a model artifact safely; AuditInputError (file, field, fix) when it cannot be.

    `architecture` is the user's choice (spec or command line) and overrides the metadata's;
    metadata alone may only name a built-in architecture (`trusted_metadata`).
    `allow_code` admits pickle and TorchScript; `trusted_functions` are the functions a
    skops file may hold (`auditor.artifacts.skops_trust`)."""
    fmt = model_format(path, allow_code=allow_code)
    digest = sha256_file(path)
    try:
        return _load_format(path, fmt, digest, architecture, trusted_functions)
    except AuditInputError:
        raise
    except Exception as exc:  # corrupt or truncated files fail in each runtime's own way
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise fail(
            str(path),
            "artifact.path",
            f"cannot be read as {fmt} ({type(exc).__name__}: {first})",
            f"check that the file is a complete {fmt} file (re-export or re-download it)",
        ) from exc


def _load_format(
    path: Path, fmt: str, digest: str, architecture: str | None, functions: tuple[str, ...]
) -> LoadedModel:
    if fmt == "safetensors":
        meta, module = _load_safetensors(path, architecture)
        if meta.raw_columns:
            table = table_logits(module, meta.raw_columns)
            return LoadedModel(path, fmt, digest, meta, _unbound, module, table)
        return LoadedModel(path, fmt, digest, meta, torch_logits(module), module)
    meta = trusted_metadata(read_sidecar(path), architecture, str(path))
    if meta.raw_columns:
        return _load_raw(path, fmt, digest, meta, functions)
    if fmt == "torchscript":
        module = load_torchscript(path)
        return LoadedModel(path, fmt, digest, meta, torch_logits(module), module)
    if fmt == "onnx":
        return LoadedModel(path, fmt, digest, meta, onnx_logits(path, meta.output))
    if fmt == "skops":
        return LoadedModel(path, fmt, digest, meta, sklearn_logits(load_skops(path, functions)))
    return _load_raw_or_pickle(path, fmt, digest, meta)


def _unpickle(path: Path) -> Any:
    # Only reached with allow_code: the user vouched for this pickle file.
    import pickle

    with path.open("rb") as handle:
        return pickle.load(handle)  # allow_code opt-in checked by load_model


def _load_raw(
    path: Path, fmt: str, digest: str, meta: ArtifactMetadata, functions: tuple[str, ...]
) -> LoadedModel:
    """A model that reads the raw columns `meta.raw_columns`."""
    columns = meta.raw_columns
    module = None
    if fmt == "onnx":
        table = onnx_table_logits(path, columns, meta.output)
    else:
        readers = {"skops": lambda p: load_skops(p, functions), "lightgbm": load_lightgbm}
        readers.update(torchscript=load_torchscript, pickle=_unpickle)
        model = readers[fmt](path)
        module = model if is_torch_module(model) else None
        table = table_logits(model, columns)
    return LoadedModel(path, fmt, digest, meta, _unbound, module, table)


def _load_raw_or_pickle(path: Path, fmt: str, digest: str, meta: ArtifactMetadata) -> LoadedModel:
    if fmt == "lightgbm":
        raise fail(
            str(path),
            "raw_columns",
            "a LightGBM model reads raw columns: its metadata must list them",
            "write the metadata with auditor init",
        )
    import pickle

    with path.open("rb") as handle:
        obj = pickle.load(handle)  # allow_code opt-in checked by load_model
    if is_torch_module(obj):
        return LoadedModel(path, fmt, digest, meta, torch_logits(obj.eval()), obj)
    return LoadedModel(path, fmt, digest, meta, sklearn_logits(obj))
