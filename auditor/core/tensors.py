"""Records that are tensors (images (C, H, W), time series (C, L)): their shape and the
per-channel normalisation a model expects, which travel in the artifact's metadata as the
feature encoding of a table does.

Inside the auditor such records are rows like any other: flattened to (n, C * H * W)
float32 after normalisation, so that the attacks, the ensembles and the figures treat every
data shape alike. A model that takes tensors (the built-in `cnn`) restores the shape in its
own forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TensorEncoding:
    """Shape of one record without the batch axis, and each channel's mean and std."""

    shape: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def n_features(self) -> int:
        return math.prod(self.shape)

    @property
    def columns(self) -> tuple[str, ...]:
        return ()  # no table columns: the records are tensors

    @property
    def kind(self) -> str:
        return "image" if len(self.shape) == 3 else "series" if len(self.shape) == 2 else "tensor"

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(n, *shape) raw tensors -> (n, n_features) float32, normalised per channel."""
        x = np.asarray(x, dtype=np.float64)
        channel = (None, slice(None)) + (None,) * (len(self.shape) - 1)
        mean = np.asarray(self.mean)[channel]
        std = np.asarray(self.std)[channel]
        return np.asarray(((x - mean) / std).reshape(len(x), -1).astype(np.float32))

    def decode(self, rows: np.ndarray) -> np.ndarray:
        """Inverse of `encode`: rows back to (n, *shape) in the raw scale."""
        x = np.asarray(rows, dtype=np.float64).reshape(len(rows), *self.shape)
        channel = (None, slice(None)) + (None,) * (len(self.shape) - 1)
        return np.asarray(x * np.asarray(self.std)[channel] + np.asarray(self.mean)[channel])

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Any) -> TensorEncoding:
        """Parse; ValueError naming the entry when malformed."""
        if not isinstance(data, dict) or set(data) != {"shape", "mean", "std"}:
            raise ValueError("tensor needs exactly shape, mean and std")
        shape = data["shape"]
        if (
            not isinstance(shape, list)
            or not 1 <= len(shape) <= 4
            or not all(isinstance(s, int) and 0 < s <= 100_000 for s in shape)
        ):
            raise ValueError("tensor.shape must list 1 to 4 positive sizes (channels first)")
        mean, std = data["mean"], data["std"]
        for name, values in (("mean", mean), ("std", std)):
            if (
                not isinstance(values, list)
                or len(values) != shape[0]
                or not all(isinstance(v, int | float) and math.isfinite(v) for v in values)
            ):
                raise ValueError(f"tensor.{name} must give one finite number per channel")
        if not all(s > 0 for s in std):
            raise ValueError("tensor.std must be positive")
        return cls(tuple(shape), tuple(map(float, mean)), tuple(map(float, std)))


def fit_tensor_encoding(x: np.ndarray) -> TensorEncoding:
    """Per-channel mean and std of raw tensors (n, C, ...)."""
    x = np.asarray(x, dtype=np.float64)
    axes = (0, *range(2, x.ndim))
    std = x.std(axis=axes)
    return TensorEncoding(
        tuple(int(s) for s in x.shape[1:]),
        tuple(float(m) for m in x.mean(axis=axes)),
        tuple(float(s) if s > 0 else 1.0 for s in std),
    )
