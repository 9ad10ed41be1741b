"""Attribute inference: an overfit model that uses the attribute gives it away on members;
a model that never learned from it does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.artifacts.models import load_model
from auditor.artifacts.query import logits_fn
from auditor.attacks.inference.attribute import attribute_block, attribute_inference
from auditor.config.spec import load_spec
from auditor.data.tables import load_audit_data
from auditor.training.recipes import PRESETS, RecipeInput, run_recipe

pytestmark = pytest.mark.slow


def test_overfit_model_leaks_sex_of_members(demo_results: dict[str, Any]) -> None:
    sex = demo_results["overfit"]["privacy"]["attribute_inference"]["sex"]
    advantage = sex["advantage_loss_membership"]
    assert advantage["members"]["lower"] > 0.0
    assert advantage["excess_on_members"]["lower"] > 0.0


def test_model_that_never_learned_from_the_attribute_gives_no_advantage(
    demo_specs: dict[str, Path],
) -> None:
    spec = load_spec(demo_specs["supervised"])
    encoding = load_model(spec.artifact.path).metadata.encoding
    data = load_audit_data(spec.data, encoding)
    block = attribute_block(encoding, "sex")
    blind = data.members.x.copy()
    blind[:, block] = 0.0  # trained with the attribute's columns empty
    model = run_recipe("supervised", RecipeInput(blind, data.members.y), PRESETS["default"], 3)
    result = attribute_inference(
        logits_fn(model.model),
        encoding,
        "sex",
        members=(data.members.x, data.members.y),
        non_members=(data.non_members.x, data.non_members.y),
        population=(data.population.x, data.population.y),
        n_classes=2,
        seed=4,
        replicates=1000,
        # Two intervals are checked against the null at once: each at 99.5%, so that the test
        # fails by chance at most 1% of the time (Bonferroni) rather than up to 10%.
        confidence=0.995,
    )
    for attack in ("advantage_loss_membership", "advantage_art_blackbox"):
        excess = result[attack]["excess_on_members"]
        assert excess["lower"] <= 0.0 <= excess["upper"], attack
    assert np.isfinite(result["members"]["art_baseline"]["value"])
