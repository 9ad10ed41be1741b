"""Dataset artifacts (stimuli, condensed sets, any released records): saving and checked
loading.

Formats: safetensors (tensors `x`, encoded features, and `y`, labels, with the metadata in
the header: the feature encoding the samples live in), or CSV / Parquet with one raw column
per feature plus the label, encoded with the encoding in a `<file>.meta.json` sidecar.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.core.encoding import EncodingError, FeatureEncoding
from auditor.core.hashing import read_utf8, sha256_file
from auditor.data.tables import csv_failure
from auditor.errors import AuditInputError, Problem, fail

DATASET_FORMATS = {
    ".safetensors": "safetensors",
    ".csv": "csv",
    ".parquet": "parquet",
    # a pandas DataFrame (raw columns) or a mapping with arrays "x" and "y" (encoded);
    # unpickling runs code from the file, so only with allow_code
    ".pkl": "pickle",
    ".pickle": "pickle",
}
_META_KEYS = ("kind", "encoding", "recipe", "params", "seed", "settings", "claims")


@dataclass(frozen=True)
class LoadedDataset:
    """Released samples in the encoded feature space, with their labels."""

    path: Path
    format: str
    sha256: str
    x: np.ndarray  # (n, n_features) float32
    y: np.ndarray  # (n,) int64
    encoding: FeatureEncoding
    recipe: str
    # The release recipe's parameters as stored (parsed by the recipe in the audit); written
    # before per-recipe parameters: the all-recipe "settings" (legacy_params)
    params: dict[str, Any]
    legacy_params: bool = False
    claims: dict[str, float] = field(default_factory=dict)


def save_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    encoding: FeatureEncoding,
    recipe: str,
    params: dict[str, Any],
    seed: int,
    path: Path,
    claims: dict[str, float] | None = None,
) -> None:
    """Write encoded samples and labels as safetensors with the metadata in the header: the
    encoding, the release recipe with its parameters and seed, and any privacy claims."""
    from safetensors.numpy import save_file

    meta = {
        "kind": "dataset",
        "encoding": encoding.to_dict(),
        "recipe": recipe,
        "params": params,
        "seed": seed,
        "claims": dict(claims or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, np.ndarray] = {
        "x": np.ascontiguousarray(x, np.float32),
        "y": np.ascontiguousarray(y, np.int64),
    }
    save_file(tensors, str(path), metadata={"auditor": json.dumps(meta, sort_keys=True)})


def _meta(path: Path, header: dict[str, str] | None) -> dict[str, Any]:
    fix = "write the feature encoding with the dataset (README 'Dataset artifacts')"
    if header is not None and "auditor" in header:
        text, where = header["auditor"], str(path)
    else:
        sidecar = path.with_name(path.name + ".meta.json")
        if not sidecar.is_file():
            raise fail(str(path), "metadata", f"has no metadata file {sidecar.name}", fix)
        text, where = read_utf8(sidecar, field="metadata"), str(sidecar)
    try:
        meta = json.loads(text)
        encoding = FeatureEncoding.from_dict(meta["encoding"])
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        # Not quoting `exc` unless it is an EncodingError (which names entries, not values).
        what = "is not JSON" if isinstance(exc, json.JSONDecodeError) else "is missing or malformed"
        raise fail(
            where, "encoding", str(exc) if isinstance(exc, EncodingError) else what, fix
        ) from exc
    problems = [
        Problem(where, str(key)[:40], "is not a dataset metadata field", f"use {_META_KEYS}")
        for key in meta
        if key not in _META_KEYS
    ]
    for key in ("params", "settings", "claims"):
        if not isinstance(meta.get(key, {}), dict):
            problems.append(Problem(where, key, "must be a JSON object", fix))
    claims = meta.get("claims", {})
    if isinstance(claims, dict) and not all(_finite(v) for v in claims.values()):
        problems.append(Problem(where, "claims", "must hold finite numbers", fix))
    if problems:
        raise AuditInputError(problems)
    return {**meta, "encoding": encoding}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def load_dataset(path: Path, *, label: str, allow_code: bool = False) -> LoadedDataset:
    """Load a dataset artifact; AuditInputError (file, field, fix) when it does not fit.
    Pickled datasets only with `allow_code` (unpickling runs code from the file)."""
    fmt = DATASET_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise fail(
            str(path),
            "artifact.path",
            f"has unknown dataset format {path.suffix!r}",
            f"use one of {', '.join(DATASET_FORMATS)}",
        )
    if fmt == "pickle" and not allow_code:
        raise fail(
            str(path),
            "artifact.path",
            "is a pickle file; unpickling runs arbitrary code from the artifact",
            "release it as safetensors, CSV or Parquet, or pass --allow-code if you trust it",
        )
    if not path.is_file():
        raise fail(str(path), "artifact.path", "does not exist", "check the path in the spec")
    digest = sha256_file(path)
    if fmt == "pickle":
        meta = _meta(path, None)
        x, y = _unpickled(path, meta["encoding"], label)
    elif fmt == "safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as handle:
                meta = _meta(path, handle.metadata())
                x, y = handle.get_tensor("x"), handle.get_tensor("y")
        except AuditInputError:
            raise
        except Exception as exc:
            raise fail(
                str(path),
                "artifact.path",
                f"cannot be read as a dataset ({type(exc).__name__})",
                "store tensors 'x' (features) and 'y' (labels)",
            ) from exc
    else:
        meta = _meta(path, None)
        frame = _read_table(path, fmt)
        _check_columns(frame, path, meta["encoding"], label)
        x, y = meta["encoding"].encode(frame), frame[label].to_numpy()
    encoding: FeatureEncoding = meta["encoding"]
    problems = []
    if x.ndim != 2 or x.shape[1] != encoding.n_features:
        problems.append(
            Problem(
                str(path),
                "x",
                f"has shape {x.shape}, but the encoding yields {encoding.n_features} features",
                "release samples in the encoding the metadata describes",
            )
        )
    if y.shape != (len(x),) or not set(np.unique(y)) <= {0, 1}:
        problems.append(
            Problem(
                str(path),
                "y",
                "labels must be 0/1, one per sample",
                "store the binary outcome of each sample",
            )
        )
    if not np.all(np.isfinite(x)):
        problems.append(
            Problem(str(path), "x", "holds NaN or infinite values", "release finite samples only")
        )
    if problems:
        raise AuditInputError(problems)
    return LoadedDataset(
        path,
        fmt,
        digest,
        x.astype(np.float32),
        y.astype(np.int64),
        encoding,
        str(meta.get("recipe", "unknown")),
        dict(meta.get("params", meta.get("settings", {}))),
        legacy_params="params" not in meta,
        claims={k: float(v) for k, v in meta.get("claims", {}).items()},
    )


def _unpickled(path: Path, encoding: FeatureEncoding, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Samples and labels from a pickled DataFrame (raw columns) or {"x", "y"} mapping."""
    import pickle

    with path.open("rb") as handle:
        obj = pickle.load(handle)  # allow_code opt-in checked by load_dataset
    if isinstance(obj, pd.DataFrame):
        _check_columns(obj, path, encoding, label)
        return encoding.encode(obj), obj[label].to_numpy()
    if isinstance(obj, dict) and "x" in obj and "y" in obj:
        return np.asarray(obj["x"], dtype=np.float32), np.asarray(obj["y"])
    raise fail(
        str(path),
        "artifact.path",
        f"unpickles to a {type(obj).__name__}, not a DataFrame or a mapping with 'x' and 'y'",
        "pickle the released table (raw columns) or {'x': encoded samples, 'y': labels}",
    )


def _read_table(path: Path, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as exc:
        raise fail(
            str(path),
            "artifact.path",
            f"needs a Parquet engine ({exc})",
            "pip install pyarrow, or release the dataset as CSV",
        ) from exc
    except Exception as exc:  # the reader's message can quote released records: not passed on
        why = csv_failure(exc) if fmt == "csv" else f"cannot be read as {fmt}"
        raise fail(
            str(path),
            "artifact.path",
            f"{why} ({type(exc).__name__})",
            f"check that the file is a complete {fmt} table",
        ) from exc


def _check_columns(frame: pd.DataFrame, path: Path, encoding: FeatureEncoding, label: str) -> None:
    problems = [
        Problem(
            str(path),
            column,
            "column is missing (the dataset's schema needs it)",
            "release every feature column of the encoding and the label",
        )
        for column in (*encoding.columns, label)
        if column not in frame.columns
    ]
    if not problems:
        for column in (*encoding.columns, label):
            if frame[column].isna().any():
                problems.append(
                    Problem(str(path), column, "has missing values", "release complete samples")
                )
        for feature in encoding.numeric:
            if not pd.api.types.is_numeric_dtype(frame[feature.name]):
                problems.append(
                    Problem(
                        str(path),
                        feature.name,
                        "is not numeric",
                        "the schema declares this column numeric",
                    )
                )
    if problems:
        raise AuditInputError(problems)
