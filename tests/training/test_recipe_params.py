"""Each recipe's own parameters: strict parsing (unknown keys named, with a "did you
mean"), old all-recipe metadata still read, and one registry for every option list."""

from __future__ import annotations

import pytest

from auditor.errors import AuditInputError
from auditor.training.recipes import (
    PRESETS,
    RECIPES,
    CondenseParams,
    DPParams,
    StimuliParams,
    TrainParams,
    recipe_params,
    stored_params,
)


def test_each_recipe_parses_its_own_parameters_back() -> None:
    for name, definition in RECIPES.items():
        params = definition.params()
        assert recipe_params(name, params.to_dict(), where="m", field="recipe") == params


def test_unknown_keys_and_wrong_types_are_all_named() -> None:
    raw = {"epochz": 3, "lr": "fast", "hidden": [64, -1], "target_epsilon": 2}
    with pytest.raises(AuditInputError) as caught:
        recipe_params("supervised", raw, where="m.json", field="recipe.supervised")
    problems = {p.field: p for p in caught.value.problems}
    assert set(problems) == {
        "recipe.supervised.epochz",
        "recipe.supervised.lr",
        "recipe.supervised.hidden",
        "recipe.supervised.target_epsilon",  # a dp_sgd parameter, not a supervised one
    }
    assert "did you mean 'epochs'" in problems["recipe.supervised.epochz"].fix
    assert all(p.where == "m.json" for p in problems.values())


def test_nested_parameters_are_checked_too() -> None:
    raw = {"per_class": 5, "consumer": {"epochs": 10, "bacth_size": 8}}
    with pytest.raises(AuditInputError, match=r"did you mean 'batch_size'"):
        recipe_params("condense", raw, where="d", field="params")
    parsed = recipe_params("condense", {"consumer": {"epochs": 10}}, where="d", field="params")
    assert parsed == CondenseParams(consumer=TrainParams(epochs=10))


def test_old_all_recipe_metadata_is_read_and_checked() -> None:
    current = {k: v for k, v in PRESETS["dp"].to_dict().items() if k != "noise_scale"}  # newer
    old = {**current, "n_sites": 4, "stimuli_l2": 0.5, "condense_iterations": 9}
    assert stored_params("dp_sgd", old, legacy=True, where="m", field="h") == PRESETS["dp"]
    stimuli = stored_params("stimuli", old, legacy=True, where="m", field="h")
    assert stimuli == StimuliParams(l2=0.5)
    with pytest.raises(AuditInputError, match="did you mean 'hidden'"):
        stored_params("supervised", {**old, "hiden": [3]}, legacy=True, where="m", field="h")


def test_dp_parameters_extend_the_training_parameters() -> None:
    dp = DPParams(epochs=3)
    assert isinstance(dp, TrainParams) and dp.model_params() == {"hidden": [64]}


def test_numbers_that_no_training_can_use_are_refused() -> None:
    raw = {"noise_scale": -1.0, "max_grad_norm": 0, "lr": -1e-3, "target_delta": 0.0}
    with pytest.raises(AuditInputError) as caught:
        recipe_params("dp_sgd", raw, where="m.json", field="recipe.dp_sgd")
    problems = {p.field: p.message for p in caught.value.problems}
    assert problems == {
        "recipe.dp_sgd.noise_scale": "must be a number >= 0",
        "recipe.dp_sgd.max_grad_norm": "must be a number > 0",
        "recipe.dp_sgd.lr": "must be a number > 0",
        "recipe.dp_sgd.target_delta": "must be a number > 0",
    }
    # A broken implementation's fixture (a tenth of the noise) is a valid parameter set.
    hp = recipe_params("dp_sgd", {"noise_scale": 0.1}, where="m", field="recipe.dp_sgd")
    assert hp.noise_scale == 0.1
