"""Models that read the table as it is (a scikit-learn Pipeline, an ONNX model with named
inputs): the records in their raw columns, beside the auditor's own encoding of them.

The attacks work on encoded rows (they perturb, sample and stack them), so every raw
record also has an encoded row; `RawTable.decode` maps encoded rows back to the raw table
the model reads: exactly (by a lookup of the row's bytes) for the real records of the
audit, and by inverting the encoding for rows an attack made up (a swapped category, a
reconstructed record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from auditor.core.encoding import FeatureEncoding, fit_encoding


@dataclass(frozen=True)
class RawColumns:
    """The raw columns a model reads, in its order (from its metadata)."""

    columns: tuple[str, ...]


def fit_internal_encoding(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> FeatureEncoding:
    """The auditor's encoding of raw columns: numeric dtypes standardised, the others
    one-hot over every level seen in the audit's splits (so each record has a row)."""
    stacked = pd.concat([f[list(columns)] for f in frames], ignore_index=True)
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(stacked[c])]
    categorical = [c for c in columns if c not in numeric]
    return fit_encoding(stacked, numeric=numeric, categorical=categorical)


@dataclass(frozen=True)
class RawTable:
    """Every audit record in the raw columns a model reads, and its encoded row."""

    columns: tuple[str, ...]
    encoding: FeatureEncoding
    frame: pd.DataFrame = field(repr=False)  # the raw records, splits stacked
    lookup: dict[bytes, int] = field(repr=False, compare=False)
    levels: dict[str, dict[str, object]] = field(repr=False, compare=False)

    @classmethod
    def build(cls, frames: list[pd.DataFrame], columns: tuple[str, ...]) -> RawTable:
        return cls.with_encoding(frames, fit_internal_encoding(frames, columns))

    @classmethod
    def with_encoding(cls, frames: list[pd.DataFrame], encoding: FeatureEncoding) -> RawTable:
        """The records of `frames` in `encoding`'s columns, decoded by that encoding (a
        released table's own, for its generator)."""
        columns = encoding.columns
        frame = pd.concat([f[list(columns)] for f in frames], ignore_index=True)
        x = encoding.encode(frame)
        lookup: dict[bytes, int] = {}
        for i, row in enumerate(x):
            lookup.setdefault(row.tobytes(), i)
        levels = {
            c.name: {str(v): v for v in pd.unique(frame[c.name])} for c in encoding.categorical
        }
        return cls(columns, encoding, frame, lookup, levels)

    def decode(self, x: np.ndarray) -> pd.DataFrame:
        """The raw records of encoded rows `x` (float32, the encoding's width), with the
        columns' original types."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        found = np.array([self.lookup.get(row.tobytes(), -1) for row in x], dtype=np.int64)
        out = self.frame.iloc[np.where(found >= 0, found, 0)].reset_index(drop=True)
        missing = np.flatnonzero(found < 0)
        if len(missing):
            out = out.copy()
            inverted = self._invert(x[missing])
            for column in self.columns:
                values = inverted[column].to_numpy()
                if pd.api.types.is_integer_dtype(out[column]):
                    dtype: Any = out[column].dtype  # a numpy dtype: the column is numeric
                    values = np.rint(values.astype(np.float64)).astype(dtype)
                elif pd.api.types.is_numeric_dtype(out[column]):
                    values = values.astype(cast(Any, out[column].dtype))
                else:
                    out[column] = out[column].astype(object)
                out.loc[missing, column] = values
        return out

    def _invert(self, x: np.ndarray) -> pd.DataFrame:
        """Rows no real record encodes to: numeric columns un-standardised, each category
        the level of its block's largest entry."""
        columns: dict[str, np.ndarray] = {}
        for j, feature in enumerate(self.encoding.numeric):
            columns[feature.name] = x[:, j].astype(np.float64) * feature.std + feature.mean
        start = len(self.encoding.numeric)
        for category in self.encoding.categorical:
            block = x[:, start : start + len(category.categories)]
            chosen = np.array(list(category.categories), dtype=object)[block.argmax(axis=1)]
            typed = self.levels[category.name]
            columns[category.name] = np.array([typed[c] for c in chosen], dtype=object)
            start += len(category.categories)
        return pd.DataFrame(columns)
