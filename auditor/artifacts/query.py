"""Query functions over trained models: encoded float32 rows -> float64 logits (n, C), and
the readers of the formats whose runtime is not torch. Torch is imported only where a torch
model is queried."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditor.core.types import LogitsFn
from auditor.errors import fail

if TYPE_CHECKING:
    from torch import nn

TableFn = Callable[[pd.DataFrame], np.ndarray]  # raw records -> float64 logits (n, C)


def torch_logits(module: nn.Module) -> LogitsFn:
    """Batched, gradient-free forward pass returning float64 logits."""
    import torch

    def logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = [module(torch.tensor(x[i : i + 4096])) for i in range(0, len(x), 4096)]
        return torch.cat(out).double().numpy()

    return logits


def _log(proba: Any) -> np.ndarray:
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-300, None))


def _label_logits(proba: list[np.ndarray], classes: list[np.ndarray]) -> np.ndarray:
    """Multi-label output of a scikit-learn estimator (one (n, k) probability array per
    label) as one logit per label, log p1 - log p0 (a label seen with one value only in
    training gets that value's probability 1)."""
    columns = []
    for p, seen in zip(proba, classes, strict=True):
        seen = list(np.asarray(seen).astype(int))
        p1 = p[:, seen.index(1)] if 1 in seen else np.zeros(len(p))
        columns.append(_log(p1) - _log(1.0 - p1))
    return np.stack(columns, axis=1)


def sklearn_logits(estimator: Any) -> LogitsFn:
    """Log-probabilities standing in for logits: scikit-learn exposes probabilities only,
    so records an estimator rounds to probability 1 tie (a limit of the format). A
    multi-label estimator gives one logit per label (`_label_logits`)."""

    def logits(x: np.ndarray) -> np.ndarray:
        proba = estimator.predict_proba(x)
        if isinstance(proba, list):
            return _label_logits(proba, list(estimator.classes_))
        return _log(proba)

    return logits


def is_torch_module(model: Any) -> bool:
    """Whether `model` is a torch module (without importing torch for other models)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def logits_fn(model: Any) -> LogitsFn:
    """The query function of a torch module or a fitted scikit-learn classifier."""
    return torch_logits(model) if is_torch_module(model) else sklearn_logits(model)


def onnx_session(path: Path) -> Any:
    """An onnxruntime session of the model at `path`, on the CPU (the one place one is made)."""
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_logits(path: Path, output: str) -> LogitsFn:
    """The logits of an ONNX model (onnxruntime, CPU); log-probabilities when its `output`
    is probabilities."""

    session = onnx_session(path)
    name = session.get_inputs()[0].name

    def logits(x: np.ndarray) -> np.ndarray:
        out = np.asarray(session.run(None, {name: x.astype(np.float32)})[0], dtype=np.float64)
        return _log(out) if output == "probabilities" else out

    return logits


def table_logits(model: Any, columns: tuple[str, ...]) -> TableFn:
    """The query function of a fitted model that reads raw table columns: anything with
    `predict_proba` (a scikit-learn Pipeline, LightGBM or XGBoost through their
    scikit-learn API; log-probabilities), a LightGBM Booster (its binary probability), or
    a torch module taking the columns as a float32 matrix (logits)."""
    names = list(columns)
    if is_torch_module(model):
        matrix = torch_logits(model)
        return lambda frame: matrix(frame[names].to_numpy(dtype=np.float32))
    if hasattr(model, "predict_proba"):
        return lambda frame: _log(model.predict_proba(frame[names]))
    if type(model).__name__ == "Booster":  # LightGBM's own model (binary objective)

        def booster(frame: pd.DataFrame) -> np.ndarray:
            p = np.asarray(model.predict(frame[names].to_numpy(dtype=np.float64)), np.float64)
            return _log(np.stack([1.0 - p, p], axis=1) if p.ndim == 1 else p)

        return booster
    raise TypeError(
        f"a {type(model).__name__} has no predict_proba: return a classifier with "
        "predict_proba (scikit-learn API) or a torch module"
    )


def onnx_table_logits(path: Path, columns: tuple[str, ...], output: str) -> TableFn:
    """An ONNX model reading raw columns: one input per column, in order (as skl2onnx exports
    a Pipeline; each fed its column as a (n, 1) tensor of the input's type), or a single
    input taking the columns as a float32 matrix. Probability outputs (a tensor, or
    skl2onnx's list of {class: probability}) become log-probabilities."""

    session = onnx_session(path)
    inputs = {i.name: i.type for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    wanted = next((o for o in outputs if "probab" in o.lower()), outputs[-1])
    names = list(columns)

    def feed(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        if len(inputs) == 1 and len(names) > 1:
            (name,) = inputs
            return {name: frame[names].to_numpy(dtype=np.float32)}
        # one input per column, in the order of `columns` (exporters rename odd names)
        return {
            name: _column(frame[column], kind)
            for (name, kind), column in zip(inputs.items(), names, strict=True)
        }

    def logits(frame: pd.DataFrame) -> np.ndarray:
        out = session.run([wanted], feed(frame))[0]
        if isinstance(out, list):  # ZipMap: one {class: probability} per row
            keys = sorted(out[0])
            out = [[row[k] for k in keys] for row in out]
        out = np.asarray(out, dtype=np.float64)
        return _log(out) if output == "probabilities" or "probab" in wanted.lower() else out

    return logits


def _column(values: pd.Series, onnx_type: str) -> np.ndarray:
    """One column as the (n, 1) tensor an ONNX input of `onnx_type` takes."""
    if "string" in onnx_type:
        return values.astype(str).to_numpy(dtype=object).reshape(-1, 1)
    if "int64" in onnx_type:
        return values.to_numpy(dtype=np.int64).reshape(-1, 1)
    if "double" in onnx_type:
        return values.to_numpy(dtype=np.float64).reshape(-1, 1)
    return values.to_numpy(dtype=np.float32).reshape(-1, 1)


def onnx_input_names(path: Path) -> list[str]:
    """The named inputs of an ONNX model."""

    session = onnx_session(path)
    return [i.name for i in session.get_inputs()]


def load_lightgbm(path: Path) -> Any:
    """A LightGBM model from its own text format (no code runs on load)."""
    try:
        import lightgbm
    except ImportError as exc:
        raise fail(
            str(path), "artifact.path", "is a LightGBM model", 'pip install "auditor[lightgbm]"'
        ) from exc

    with path.open("rb") as handle:
        if not handle.read(5).startswith(b"tree"):
            raise fail(
                str(path),
                "artifact.path",
                "is not a LightGBM text model (it does not start with 'tree')",
                "save the model with booster.save_model('model.txt')",
            )
    return lightgbm.Booster(model_file=str(path))


def load_skops(path: Path, trusted_functions: tuple[str, ...] = ()) -> Any:
    """A scikit-learn estimator from skops: scikit-learn's estimators (skops's default
    list), the helper classes of `skops_trust`, and the functions the user named; no
    module prefix is trusted (`auditor.artifacts.skops_trust`)."""
    import skops.io

    from auditor.artifacts.skops_trust import check_functions, trusted_types

    untrusted = skops.io.get_untrusted_types(file=str(path))
    trusted = trusted_types(path, untrusted, trusted_functions)
    estimator = skops.io.load(str(path), trusted=trusted)
    check_functions(path, estimator, trusted_functions)
    return estimator


def load_torchscript(path: Path) -> nn.Module:
    """A TorchScript module on the CPU, in eval mode."""
    import torch

    with warnings.catch_warnings():
        # torch deprecates TorchScript for new models; released artifacts still use it.
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()
