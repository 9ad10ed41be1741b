"""Feature encoding: raw table columns -> the float matrix a model expects.

The encoding is fitted once by a recipe and travels with the artifact (in its metadata), so
a loaded model is always fed exactly the features it was trained on; nothing is guessed at
load time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class NumericFeature:
    name: str
    mean: float
    std: float


@dataclass(frozen=True)
class CategoricalFeature:
    name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class FeatureEncoding:
    """Standardised numeric columns followed by one-hot categorical columns.

    A category not seen at fit time encodes as all zeros for that column.
    """

    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The raw table columns this encoding reads."""
        return tuple(f.name for f in self.numeric) + tuple(f.name for f in self.categorical)

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        return len(self.numeric) + sum(len(c.categories) for c in self.categorical)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode `frame` (which must hold every column in `columns`) as float32."""
        parts = []
        if self.numeric:
            raw = frame[[f.name for f in self.numeric]].to_numpy(dtype=np.float64)
            mean = np.array([f.mean for f in self.numeric])
            std = np.array([f.std for f in self.numeric])
            parts.append((raw - mean) / std)
        for feature in self.categorical:
            values = frame[feature.name].astype(str).to_numpy()
            parts.append(
                (values[:, None] == np.array(feature.categories)[None, :]).astype(np.float64)
            )
        return np.concatenate(parts, axis=1).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in the artifact's metadata."""
        return {
            "numeric": [{"name": f.name, "mean": f.mean, "std": f.std} for f in self.numeric],
            "categorical": [
                {"name": c.name, "categories": list(c.categories)} for c in self.categorical
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureEncoding:
        """Inverse of `to_dict`; EncodingError naming the entry at fault (never a value)."""
        if not isinstance(data, dict) or set(data) != {"numeric", "categorical"}:
            raise EncodingError("encoding must be an object with 'numeric' and 'categorical'")
        numeric, categorical = data["numeric"], data["categorical"]
        if not isinstance(numeric, list) or not isinstance(categorical, list):
            raise EncodingError("encoding.numeric and encoding.categorical must be lists")
        return cls(
            numeric=tuple(_numeric(f, i) for i, f in enumerate(numeric)),
            categorical=tuple(_categorical(c, i) for i, c in enumerate(categorical)),
        )


class EncodingError(ValueError):
    """A malformed feature encoding; the message names the entry, never a value."""


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numeric(entry: Any, i: int) -> NumericFeature:
    where = f"encoding.numeric[{i}]"
    if not isinstance(entry, dict) or set(entry) != {"name", "mean", "std"}:
        raise EncodingError(f"{where} must be an object with name, mean and std")
    if not isinstance(entry["name"], str) or not _finite(entry["mean"]):
        raise EncodingError(f"{where} needs a name and a finite mean")
    if not _finite(entry["std"]) or entry["std"] <= 0:
        raise EncodingError(f"{where}.std must be a positive finite number (features divide by it)")
    return NumericFeature(entry["name"], float(entry["mean"]), float(entry["std"]))


def _categorical(entry: Any, i: int) -> CategoricalFeature:
    where = f"encoding.categorical[{i}]"
    if not isinstance(entry, dict) or set(entry) != {"name", "categories"}:
        raise EncodingError(f"{where} must be an object with name and categories")
    levels = entry["categories"]
    if not isinstance(entry["name"], str) or not isinstance(levels, list) or not levels:
        raise EncodingError(f"{where} needs a name and a non-empty list of categories")
    if len(set(map(str, levels))) != len(levels):
        raise EncodingError(f"{where}.categories repeats a level")
    return CategoricalFeature(entry["name"], tuple(str(v) for v in levels))


def fit_encoding(
    frame: pd.DataFrame, *, numeric: list[str], categorical: list[str]
) -> FeatureEncoding:
    """Fit an encoding on `frame` (typically the recipe's training records)."""
    num = []
    for name in numeric:
        col = frame[name].to_numpy(dtype=np.float64)
        std = float(col.std())
        num.append(NumericFeature(name, float(col.mean()), std if std > 0 else 1.0))
    cat = [
        CategoricalFeature(name, tuple(sorted(frame[name].astype(str).unique())))
        for name in categorical
    ]
    return FeatureEncoding(numeric=tuple(num), categorical=tuple(cat))
