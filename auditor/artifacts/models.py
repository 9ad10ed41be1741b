"""Model artifacts: metadata that travels with the weights, saving, and safe loading.

Formats: safetensors (+ built-in architecture or `package.module:function`), TorchScript,
ONNX (onnxruntime) and skops (scikit-learn). Arbitrary pickle only with `allow_pickle`.
Safetensors files carry their metadata in the file header; the other formats need a
sidecar `<file>.meta.json`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.artifacts.query import sklearn_logits, torch_logits
from auditor.core.hashing import sha256_file
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
}


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


def save_model(model: Any, metadata: ArtifactMetadata, path: Path) -> None:
    """Write a model artifact: a torch module as safetensors with the metadata in its
    header, a scikit-learn estimator as skops with a `<file>.meta.json` sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(model, nn.Module):
        from safetensors.torch import save_file

        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        header = {"auditor": json.dumps(metadata.to_dict(), sort_keys=True)}
        save_file(tensors, str(path), metadata=header)
        return
    import skops.io

    skops.io.dump(model, str(path))
    sidecar = path.with_name(path.name + ".meta.json")
    sidecar.write_text(json.dumps(metadata.to_dict(), sort_keys=True, indent=2) + "\n")


def _read_sidecar(path: Path) -> ArtifactMetadata:
    sidecar = path.with_name(path.name + ".meta.json")
    if not sidecar.is_file():
        raise fail(
            str(path),
            "metadata",
            f"has no metadata file {sidecar.name} beside it",
            "write the feature encoding and architecture as that JSON file (README 'Artifacts')",
        )
    try:
        data = json.loads(sidecar.read_text())
    except json.JSONDecodeError as exc:
        raise fail(str(sidecar), "json", f"is not valid JSON ({exc})", "fix the JSON") from exc
    return ArtifactMetadata.from_dict(data, str(sidecar))


def _load_safetensors(path: Path, architecture: str | None) -> tuple[ArtifactMetadata, nn.Module]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    from auditor.artifacts.architectures import build_model
    from auditor.artifacts.builtin import model_params

    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata() or {}
    if "auditor" in header:
        try:
            data = json.loads(header["auditor"])
        except json.JSONDecodeError as exc:
            raise fail(
                str(path),
                "metadata",
                f"header key 'auditor' is not JSON ({exc})",
                "rewrite the metadata with ArtifactMetadata.to_dict",
            ) from exc
        meta = ArtifactMetadata.from_dict(data, str(path))
    else:
        meta = _read_sidecar(path)
    meta = trusted_metadata(meta, architecture, str(path))
    if meta.encoding.n_features != meta.n_features:
        raise fail(
            str(path),
            "n_features",
            f"the feature encoding yields {meta.encoding.n_features} features but the "
            f"metadata declares {meta.n_features}",
            "store the encoding the model was trained with",
        )
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
    path: Path, *, architecture: str | None = None, allow_pickle: bool = False
) -> LoadedModel:
    """Load a model artifact safely; AuditInputError (file, field, fix) when it cannot be.

    `architecture` is the user's choice (spec or command line) and overrides the metadata's;
    metadata alone may only name a built-in architecture (`trusted_metadata`)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise fail(
            str(path),
            "artifact.path",
            f"has unknown model format {path.suffix!r}",
            f"use one of {', '.join(sorted(FORMATS))}",
        )
    if fmt == "pickle" and not allow_pickle:
        raise fail(
            str(path),
            "artifact.path",
            "is a pickle file; unpickling runs arbitrary code from the artifact",
            "convert it to safetensors/ONNX/skops, or pass --allow-pickle if you trust it",
        )
    if not path.is_file():
        raise fail(str(path), "artifact.path", "does not exist", "check the path in the spec")
    digest = sha256_file(path)
    try:
        return _load_format(path, fmt, digest, architecture)
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


def _load_format(path: Path, fmt: str, digest: str, architecture: str | None) -> LoadedModel:
    if fmt == "safetensors":
        meta, module = _load_safetensors(path, architecture)
        return LoadedModel(path, fmt, digest, meta, torch_logits(module), module)
    meta = trusted_metadata(_read_sidecar(path), architecture, str(path))
    if fmt == "torchscript":
        with warnings.catch_warnings():
            # torch deprecates TorchScript for new models; released artifacts still use it.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu").eval()
        return LoadedModel(path, fmt, digest, meta, torch_logits(module), module)
    if fmt == "onnx":
        return LoadedModel(path, fmt, digest, meta, _onnx_logits(path, meta))
    if fmt == "skops":
        return LoadedModel(path, fmt, digest, meta, sklearn_logits(_load_skops(path)))
    # Only reached with allow_pickle: the user vouched for this pickle file.
    import pickle

    with path.open("rb") as handle:
        obj = pickle.load(handle)  # allow_pickle opt-in checked by load_model
    if isinstance(obj, nn.Module):
        return LoadedModel(path, fmt, digest, meta, torch_logits(obj.eval()), obj)
    return LoadedModel(path, fmt, digest, meta, sklearn_logits(obj))


def _onnx_logits(path: Path, meta: ArtifactMetadata) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def logits(x: np.ndarray) -> np.ndarray:
        out = np.asarray(session.run(None, {name: x.astype(np.float32)})[0], dtype=np.float64)
        return np.log(np.clip(out, 1e-300, None)) if meta.output == "probabilities" else out

    return logits


def _load_skops(path: Path) -> Any:
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=str(path))
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if len(allowed) != len(untrusted):
        others = sorted(set(untrusted) - set(allowed))
        raise fail(
            str(path),
            "artifact.path",
            f"holds types outside scikit-learn/numpy: {others}",
            "save a plain scikit-learn estimator with skops",
        )
    return skops.io.load(str(path), trusted=allowed)
