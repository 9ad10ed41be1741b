"""Query functions over trained models: encoded float32 rows -> float64 logits (n, C), and
the readers of the formats whose runtime is not torch. Torch is imported only where a torch
model is queried."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.core.types import LogitsFn
from auditor.errors import fail

if TYPE_CHECKING:
    from torch import nn


def torch_logits(module: nn.Module) -> LogitsFn:
    """Batched, gradient-free forward pass returning float64 logits."""
    import torch

    def logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = [module(torch.tensor(x[i : i + 4096])) for i in range(0, len(x), 4096)]
        return torch.cat(out).double().numpy()

    return logits


def sklearn_logits(estimator: Any) -> LogitsFn:
    """Log-probabilities standing in for logits: scikit-learn exposes probabilities only,
    so records an estimator rounds to probability 1 tie (a limit of the format)."""

    def logits(x: np.ndarray) -> np.ndarray:
        proba = np.asarray(estimator.predict_proba(x), dtype=np.float64)
        return np.log(np.clip(proba, 1e-300, None))

    return logits


def is_torch_module(model: Any) -> bool:
    """Whether `model` is a torch module (without importing torch for other models)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def logits_fn(model: Any) -> LogitsFn:
    """The query function of a torch module or a fitted scikit-learn classifier."""
    return torch_logits(model) if is_torch_module(model) else sklearn_logits(model)


def onnx_logits(path: Path, output: str) -> LogitsFn:
    """The logits of an ONNX model (onnxruntime, CPU); log-probabilities when its `output`
    is probabilities."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def logits(x: np.ndarray) -> np.ndarray:
        out = np.asarray(session.run(None, {name: x.astype(np.float32)})[0], dtype=np.float64)
        return np.log(np.clip(out, 1e-300, None)) if output == "probabilities" else out

    return logits


def load_skops(path: Path) -> Any:
    """A scikit-learn estimator from skops, trusting scikit-learn and numpy types only."""
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=str(path))
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if len(allowed) != len(untrusted):
        others = sorted(set(untrusted) - set(allowed))
        raise fail(
            str(path),
            "artifact.path",
            f"holds {len(others)} types outside scikit-learn/numpy (first: {others[0][:60]})",
            "save a plain scikit-learn estimator with skops",
        )
    return skops.io.load(str(path), trusted=allowed)


def load_torchscript(path: Path) -> nn.Module:
    """A TorchScript module on the CPU, in eval mode."""
    import torch

    with warnings.catch_warnings():
        # torch deprecates TorchScript for new models; released artifacts still use it.
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()
