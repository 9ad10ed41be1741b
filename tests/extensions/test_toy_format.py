"""A model format added from this module alone (docs/ARCHITECTURE.md, "A model format"):
a linear model stored as JSON (its columns, weights and intercepts). `auditor init` infers
its columns, `auditor.audit(...)` stores a fitted object in it, loads and audits it, without
any module of `auditor/` naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import auditor
from auditor.artifacts.formats import (
    FORMATS,
    LoadOptions,
    ModelColumns,
    ModelFormat,
    Queryable,
    register_format,
)
from auditor.artifacts.inspect import inspect_model
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.errors import AuditInputError


@dataclass(frozen=True)
class LinearModel:
    """A fitted linear model: logits = x @ weights.T + intercepts, x the named columns."""

    columns: list[str]
    weights: list[list[float]]
    intercepts: list[float]


def _read(path: Path) -> LinearModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    model = LinearModel(data["columns"], data["weights"], data["intercepts"])
    if np.shape(model.weights) != (len(model.intercepts), len(model.columns)):
        raise ValueError("weights must be (outputs, columns)")
    return model


def check(path: Path, options: LoadOptions) -> None:
    _read(path)


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    model = _read(path)
    w, b = np.asarray(model.weights), np.asarray(model.intercepts)
    if meta.raw_columns:
        names = list(meta.raw_columns)
        return Queryable(table=lambda frame: frame[names].to_numpy(np.float64) @ w.T + b)
    return Queryable(logits=lambda x: x.astype(np.float64) @ w.T + b)


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    model = _read(path)
    n_out = len(model.intercepts)
    return ModelColumns(model.columns, "logits", "linear model", "its columns", n_out)


def save(model: Any, folder: Path, numeric_width: int) -> Path | None:
    if not isinstance(model, LinearModel):
        return None
    path = folder / "model.linear.json"
    body = {"columns": model.columns, "weights": model.weights, "intercepts": model.intercepts}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


TOY = ModelFormat("linear_json", (".json",), load=load, check=check, columns=columns, save=save)
FEATURES = [f"f{i}" for i in range(50)]
OPTIONS: dict[str, Any] = {
    "label": "death",
    "id": "patient_id",
    "sensitive": [],
    "attacks": ["loss"],
    "bootstrap": 200,
    "progress": False,
}


@pytest.fixture
def toy() -> Iterator[ModelFormat]:
    register_format(TOY)
    yield TOY
    del FORMATS[TOY.name]


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(6)
    out = {}
    for i, split in enumerate(("members", "non_members", "test", "population")):
        x = rng.normal(size=(150, len(FEATURES)))
        y = (x[:, 0] + rng.normal(0, 1, 150) > 0).astype(int)
        y = np.where(rng.random(150) < 0.3, 1 - y, y)  # noisy labels: memorised, not learnt
        frame = pd.DataFrame(x.round(4), columns=FEATURES)
        out[split] = frame.assign(patient_id=np.arange(150) + 1000 * i, death=y)
    return out


def _linear(frame: pd.DataFrame) -> LinearModel:
    """A barely regularised logistic regression as a two-logit linear model."""
    fitted = LogisticRegression(C=1e4, max_iter=5000).fit(frame[FEATURES], frame["death"])
    w, b = fitted.coef_[0], fitted.intercept_[0]
    return LinearModel(FEATURES, [list(-w / 2), list(w / 2)], [-b / 2, b / 2])


def test_a_model_in_the_toy_format_is_audited(toy: ModelFormat) -> None:
    frames = _frames()
    leaky = auditor.audit(_linear(frames["members"]), **frames, **OPTIONS).document
    assert leaky["artifact"]["file_name"] == "model.linear.json"
    found = leaky["privacy"]["membership"]["loss"]["auc"]
    assert found["lower"] > 0.5, found  # the memorising model's members are found
    never = auditor.audit(_linear(frames["population"]), **frames, **OPTIONS).document
    auc = never["privacy"]["membership"]["loss"]["auc"]
    # a model that never saw them finds no member (with these 150 + 150 records, the two
    # splits' label noise alone moves LOSS's AUC by a few hundredths either way)
    assert auc["lower"] < 0.5 and auc["upper"] < found["lower"], (auc, found)


def test_the_toy_format_is_checked_and_refused_like_a_built_in_one(
    toy: ModelFormat, tmp_path: Path
) -> None:
    broken = tmp_path / "model.json"
    broken.write_text('{"columns": ["a"], "weights": [[1, 2]], "intercepts": [0]}')
    meta = {"auditor_metadata_version": 1, "architecture": "logistic", "label": "death"}
    meta |= {"n_features": 1, "n_classes": 1}
    meta["raw_columns"] = ["a"]
    (tmp_path / "model.json.meta.json").write_text(json.dumps(meta))
    with pytest.raises(AuditInputError, match="cannot be read as linear_json"):
        inspect_model(broken)
    del FORMATS[toy.name]
    with pytest.raises(AuditInputError, match=r"unknown model format '\.json'"):
        inspect_model(broken)
    register_format(toy)  # the fixture removes it again
    with pytest.raises(ValueError, match="taken"):
        register_format(ModelFormat("other", (".onnx",), load=load))
