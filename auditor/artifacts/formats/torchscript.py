"""TorchScript modules: loading and querying one runs the artifact's own code, so the
format is refused without `allow_code` (its `runs_code`)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from auditor.artifacts.formats import LoadOptions, ModelColumns, Queryable
from auditor.artifacts.formats.graph import GraphArchitecture, architecture_of, torch_layers
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import table_logits, torch_logits
from auditor.errors import fail


def read(path: Path) -> Any:
    """A TorchScript module on the CPU, in eval mode."""
    import torch

    with warnings.catch_warnings():
        # torch deprecates TorchScript for new models; released artifacts still use it.
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


def check(path: Path, options: LoadOptions) -> None:
    read(path)  # reached only with allow_code (`model_format`)


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    module = read(path)
    if meta.raw_columns:
        return Queryable(table=table_logits(module, meta.raw_columns), module=module)
    return Queryable(logits=torch_logits(module), module=module)


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    """The numeric columns as a matrix, if the module takes them."""
    try:
        probe = torch_logits(read(path))(np.zeros((2, len(numeric)), np.float32))
    except Exception as exc:
        raise fail(
            str(path),
            "raw_columns",
            f"does not take the data's {len(numeric)} numeric feature columns as a matrix",
            "write the metadata by hand (README 'Artifacts') with the model's encoding",
        ) from exc
    n_out = probe.shape[1] if probe.ndim == 2 else None
    return ModelColumns(numeric, "logits", "TorchScript module", "its input width", n_out)


def save(model: Any, folder: Path, numeric_width: int) -> Path | None:
    """A torch module as `model.pt` (the caller's own object, so its code is the caller's):
    scripted, or traced on a matrix of the numeric columns when it cannot be scripted."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(model, torch.nn.Module):
        return None
    with warnings.catch_warnings():  # torch deprecates TorchScript; it is still read
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            scripted = torch.jit.script(model.eval())
        except Exception:  # not scriptable: trace it on a matrix of the numeric columns
            scripted = torch.jit.trace(model.eval(), torch.zeros(2, numeric_width))
        scripted.save(str(folder / "model.pt"))
    return folder / "model.pt"


def architecture(path: Path, options: LoadOptions) -> GraphArchitecture:
    """The architecture its registered submodules show (`formats.graph`); reached only
    with allow_code (`model_format`)."""
    return architecture_of(torch_layers(read(path)))
