"""Model artifacts: metadata that travels with the weights, saving, and safe loading.

Formats (`artifacts.formats`, one module each): safetensors (+ built-in architecture or
`package.module:function`), TorchScript, ONNX (onnxruntime), skops (scikit-learn), LightGBM
text. Pickle and TorchScript, which run the artifact's own code, only with `allow_code`.
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

from auditor.artifacts.formats import FORMATS, LoadOptions, Queryable, TableFn, model_format
from auditor.artifacts.inspect import read_metadata
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import is_torch_module
from auditor.core.hashing import sha256_file
from auditor.core.refs import resolve
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
    options = LoadOptions(architecture, allow_code, trusted_functions)
    try:
        meta = read_metadata(path, fmt, options)
        loaded: Queryable = resolve(fmt.load)(path, meta, options)
    except AuditInputError:
        raise
    except Exception as exc:  # corrupt or truncated files fail in each runtime's own way
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise fail(
            str(path),
            "artifact.path",
            f"cannot be read as {fmt.name} ({type(exc).__name__}: {first})",
            f"check that the file is a complete {fmt.name} file (re-export or re-download it)",
        ) from exc
    logits = loaded.logits if loaded.logits is not None else _unbound
    return LoadedModel(path, fmt.name, digest, meta, logits, loaded.module, loaded.table)
