"""Query functions over trained models: encoded float32 rows (or raw records) -> float64
logits (n, C), for torch modules and scikit-learn-style estimators. Torch is imported only
where a torch model is queried; each file format's reader is its module in
`artifacts.formats`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditor.core.types import LogitsFn

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


def log_probabilities(proba: Any) -> np.ndarray:
    """Log-probabilities (clipped at 1e-300) standing in for logits."""
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-300, None))


def _label_logits(proba: list[np.ndarray], classes: list[np.ndarray]) -> np.ndarray:
    """Multi-label output of a scikit-learn estimator (one (n, k) probability array per
    label) as one logit per label, log p1 - log p0 (a label seen with one value only in
    training gets that value's probability 1)."""
    columns = []
    for p, values in zip(proba, classes, strict=True):
        seen = [int(v) for v in np.asarray(values)]
        p1 = p[:, seen.index(1)] if 1 in seen else np.zeros(len(p))
        columns.append(log_probabilities(p1) - log_probabilities(1.0 - p1))
    return np.stack(columns, axis=1)


def sklearn_logits(estimator: Any) -> LogitsFn:
    """Log-probabilities standing in for logits: scikit-learn exposes probabilities only,
    so records an estimator rounds to probability 1 tie (a limit of the format). A
    multi-label estimator gives one logit per label (`_label_logits`)."""

    def logits(x: np.ndarray) -> np.ndarray:
        proba = estimator.predict_proba(x)
        if isinstance(proba, list):
            return _label_logits(proba, list(estimator.classes_))
        return log_probabilities(proba)

    return logits


def is_torch_module(model: Any) -> bool:
    """Whether `model` is a torch module (without importing torch for other models)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def logits_fn(model: Any) -> LogitsFn:
    """The query function of a torch module or a fitted scikit-learn classifier."""
    return torch_logits(model) if is_torch_module(model) else sklearn_logits(model)


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
        return lambda frame: log_probabilities(model.predict_proba(frame[names]))
    if type(model).__name__ == "Booster":  # LightGBM's own model (binary objective)

        def booster(frame: pd.DataFrame) -> np.ndarray:
            p = np.asarray(model.predict(frame[names].to_numpy(dtype=np.float64)), np.float64)
            return log_probabilities(np.stack([1.0 - p, p], axis=1) if p.ndim == 1 else p)

        return booster
    raise TypeError(
        f"a {type(model).__name__} has no predict_proba: return a classifier with "
        "predict_proba (scikit-learn API) or a torch module"
    )
