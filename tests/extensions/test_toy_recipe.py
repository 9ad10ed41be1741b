"""A recipe added from this module alone (docs/ARCHITECTURE.md, "A recipe"): a barely
regularised logistic regression. The spec accepts its name, an artifact's metadata
stores its parameters, and the audit's reference models are trained by it, without any
module of `auditor/` naming it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.config.spec import parse_spec
from auditor.core.encoding import FeatureEncoding, NumericFeature
from auditor.errors import AuditInputError
from auditor.orchestration.run import run_audit
from auditor.training.recipes import (
    RECIPES,
    RecipeDef,
    RecipeInput,
    Trained,
    TrainParams,
    register_recipe,
    run_recipe,
)
from auditor.training.references import train_shard


@dataclass(frozen=True)
class LogisticParams(TrainParams):
    """The toy recipe's parameters: the inverse regularisation strength."""

    c: float = 1e4


def train(data: RecipeInput, params: LogisticParams, seed: int) -> Trained:
    model = LogisticRegression(C=params.c, max_iter=5000, random_state=seed)
    return Trained(model.fit(data.x, data.y), claims={})


TOY = RecipeDef(
    "toy_logistic", LogisticParams, "model", "a barely regularised logistic regression", train
)
FEATURES = [f"f{i}" for i in range(50)]


@pytest.fixture
def toy() -> Iterator[RecipeDef]:
    register_recipe(TOY)
    yield TOY
    del RECIPES[TOY.name]


def _frame(rng: np.random.Generator, n: int, offset: int) -> pd.DataFrame:
    x = rng.normal(size=(n, len(FEATURES)))
    # a weak signal and 30% flipped labels: a barely regularised model memorises its records
    y = (x[:, 0] + rng.normal(0, 1, n) > 0).astype(int)
    y = np.where(rng.random(n) < 0.3, 1 - y, y)
    frame = pd.DataFrame(x.round(4), columns=FEATURES)
    return frame.assign(patient_id=np.arange(n) + offset, death=y)


SPLITS = {"members": 150, "non_members": 150, "test": 150, "population": 600}


def _mapping() -> dict[str, object]:
    return {
        "seed": 5,
        "artifact": {"kind": "model", "path": "model.skops"},
        "data": {**{s: s for s in SPLITS}, "label": "death", "id": "patient_id"},
        "attacks": {"run": ["loss", "lira_online"], "reference_models": 16, "bootstrap": 200},
    }


def test_a_registered_recipe_is_a_spec_choice(toy: RecipeDef, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tables = {name: _frame(rng, 5, 0) for name in SPLITS}
    (tmp_path / "model.skops").write_bytes(b"")  # the spec checks the path; nothing loads it
    mapping = {**_mapping(), "scheme": {"name": "toy_logistic"}}
    assert parse_spec(mapping, tmp_path, tables=tables).scheme == "toy_logistic"
    del RECIPES[toy.name]
    with pytest.raises(AuditInputError, match="toy_logistic"):
        parse_spec(mapping, tmp_path, tables=tables)
    register_recipe(toy)  # the fixture removes it again


def test_a_taken_name_or_an_incomplete_recipe_is_refused(toy: RecipeDef) -> None:
    with pytest.raises(ValueError, match="taken"):
        register_recipe(RecipeDef("supervised", LogisticParams, "model", "", train))
    with pytest.raises(ValueError, match="release function"):
        register_recipe(RecipeDef("toy_set", LogisticParams, "dataset", "", train))


def test_reference_runs_of_the_toy_recipe_are_the_recipe_run_alone(toy: RecipeDef) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype(np.float32)
    pool = RecipeInput(x, (x[:, 0] + rng.normal(size=60) > 0).astype(np.int64))
    subsets = np.stack([np.arange(0, 30), np.arange(30, 60)])
    logits = train_shard(
        "toy_logistic", LogisticParams(), pool, subsets, [3, 4], x, torch.device("cpu")
    )
    alone = run_recipe("toy_logistic", RecipeInput(x[30:], pool.y[30:]), LogisticParams(), 4)
    # lbfgs on a copied and on a sliced array rounds differently in the last digits
    np.testing.assert_allclose(logits[1], np.log(alone.model.predict_proba(x)), rtol=1e-6)


def test_an_audit_trains_its_references_by_the_toy_recipe(toy: RecipeDef, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = {name: _frame(rng, n, 10_000 * i) for i, (name, n) in enumerate(SPLITS.items())}
    members = frames["members"]
    encoding = FeatureEncoding(tuple(NumericFeature(f, 0.0, 1.0) for f in FEATURES), ())
    params = LogisticParams()
    target = train(RecipeInput(encoding.encode(members), members["death"].to_numpy()), params, 0)
    meta = ArtifactMetadata(
        "logistic", len(FEATURES), 2, "death", encoding, "toy_logistic", params.to_dict()
    )
    save_model(target.model, meta, tmp_path / "model.skops")
    spec = parse_spec(_mapping(), tmp_path, tables=frames)
    result = run_audit(spec).result
    assert result["run"]["reference_models"]["recipe"] == "toy_logistic"
    lira = result["privacy"]["membership"]["lira_online"]["auc"]
    assert lira["lower"] > 0.5, lira  # the memorising model's members are found
