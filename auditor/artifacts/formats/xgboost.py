"""XGBoost's own binary JSON model (`booster.save_model("model.ubj")`): trees and objective,
no code runs on load. It reads raw numeric columns, so its metadata lists them.

The file holds the objective, the number of classes and rounds, and the trees (their depth
shows the depth limit), not the training settings (learning rate, subsampling,
regularisation: XGBoost keeps those in the live object's configuration only). The
procedure (`training.procedures.xgboost_procedure`) therefore reads what is there and
fits the learning rate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.artifacts.formats import LoadOptions, ModelColumns, Queryable
from auditor.artifacts.formats.columns import columns_by_width
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.errors import fail

MAGIC = b"{"  # UBJSON objects open with '{', as JSON does


def read(path: Path) -> Any:
    """An XGBoost Booster from its binary JSON (or JSON) model file."""
    try:
        import xgboost
    except ImportError as exc:
        raise fail(
            str(path), "artifact.path", "is an XGBoost model", 'pip install "auditor[xgboost]"'
        ) from exc
    with path.open("rb") as handle:
        if not handle.read(1).startswith(MAGIC):
            raise fail(
                str(path),
                "artifact.path",
                "is not an XGBoost model (it does not start as UBJSON)",
                "save the model with booster.save_model('model.ubj')",
            )
    booster = xgboost.Booster()
    booster.load_model(str(path))
    return booster


def config(booster: Any) -> dict[str, Any]:
    """The learner's configuration as the file restores it (objective, classes)."""
    learner: dict[str, Any] = json.loads(booster.save_config())["learner"]
    return learner


def n_outputs(booster: Any) -> int:
    """Classes: the multi-class objectives' `num_class`; 2 for a binary objective."""
    return max(2, int(config(booster)["learner_model_param"]["num_class"]))


def check(path: Path, options: LoadOptions) -> None:
    read(path)


def margins(booster: Any, names: list[str]) -> Any:
    """Logits (n, C) of the model on a frame's `names` columns: its raw margins, a binary
    model's one margin as logits (0, margin)."""
    import xgboost

    named = names if booster.feature_names else None  # a model fitted on a DataFrame

    def query(frame: pd.DataFrame) -> np.ndarray:
        rows = xgboost.DMatrix(frame[names].to_numpy(dtype=np.float64), feature_names=named)
        out = np.asarray(booster.predict(rows, output_margin=True), dtype=np.float64)
        return np.stack([np.zeros_like(out), out], axis=1) if out.ndim == 1 else out

    return query


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    if not meta.raw_columns:
        raise fail(
            str(path),
            "raw_columns",
            "an XGBoost model reads raw columns: its metadata must list them",
            "write the metadata with auditor init",
        )
    return Queryable(table=margins(read(path), list(meta.raw_columns)))


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    """Its stored feature names where they are the data's columns, else its width."""
    booster = read(path)
    names = list(booster.feature_names or [])
    n_out = n_outputs(booster)
    if names and all(n in features for n in names):
        return ModelColumns(names, "logits", "XGBoost Booster", "its feature names", n_out)
    by_width = columns_by_width(path, int(booster.num_features()), numeric)
    return ModelColumns(by_width, "logits", "XGBoost Booster", "its input width", n_out)


def save(model: Any, folder: Path, numeric_width: int) -> Path | None:
    """An XGBoost model (or its scikit-learn wrapper) as `model.ubj`."""
    if not type(model).__module__.startswith("xgboost."):
        return None
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    booster.save_model(str(folder / "model.ubj"))
    return folder / "model.ubj"


def tree_depth(booster: Any) -> int:
    """The depth of its deepest tree (a lower bound of the depth limit it was trained
    with; equal when any tree reached the limit)."""

    def depth(node: dict[str, Any]) -> int:
        children = node.get("children") or []
        return 1 + max((depth(c) for c in children), default=0) if children else 0

    return max((depth(json.loads(t)) for t in booster.get_dump(dump_format="json")), default=1)
