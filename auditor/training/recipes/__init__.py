"""Sharing schemes as recipes: seeded functions from private records to an artifact.

The same recipes build the demo and test fixtures and train the shadow / reference models
that calibrated attacks need ("what would the artifact look like without this patient?").
Each recipe has its own module and its own parameters (`params`); this registry is the one
list of them: the spec's `[scheme] name`, metadata parsing, error messages and the README
take their options from it. Importing it does not import torch (the recipe modules do, when
a recipe runs).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from auditor.errors import AuditInputError, Problem, did_you_mean
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import (
    CONSUMER,
    CondenseParams,
    DPParams,
    ExternalParams,
    MergeParams,
    Params,
    StimuliParams,
    TrainParams,
    convert,
    parse_params,
)
from auditor.training.recipes.registry import RECIPES, RecipeDef, register_recipe

__all__ = [
    "CONSUMER",
    "PRESETS",
    "RECIPES",
    "CondenseParams",
    "DPParams",
    "ExternalParams",
    "MergeParams",
    "Params",
    "RecipeDef",
    "RecipeInput",
    "StimuliParams",
    "TrainParams",
    "Trained",
    "recipe_params",
    "register_recipe",
    "release_dataset",
    "run_recipe",
    "stored_params",
]


_HERE = "auditor.training.recipes"
_SHARDS = "auditor.training.model_shards"
_DATASET_SHARDS = "auditor.training.dataset_ensembles"

for _definition in (
    RecipeDef(
        "supervised",
        TrainParams,
        "model",
        "a model trained on the records",
        train=f"{_HERE}.supervised:train",
        ensemble=f"{_SHARDS}:supervised_shard",
    ),
    RecipeDef(
        "mimic",
        TrainParams,
        "model",
        "a student trained on a teacher's labels",
        train=f"{_HERE}.mimic:train",
        ensemble=f"{_SHARDS}:mimic_shard",
    ),
    RecipeDef(
        "dp_sgd",
        DPParams,
        "model",
        "a model trained with DP-SGD (Opacus)",
        train=f"{_HERE}.dp_sgd:train",
        ensemble=f"{_SHARDS}:dp_sgd_shard",
    ),
    RecipeDef(
        "condense",
        CondenseParams,
        "dataset",
        "a condensed set (distribution matching)",
        train=f"{_HERE}.condense:train",
        ensemble=f"{_DATASET_SHARDS}:condense_shard",
        release=f"{_HERE}.condense:release",
    ),
    RecipeDef(
        "stimuli",
        StimuliParams,
        "dataset",
        "synthetic stimuli of a trained network",
        train=f"{_HERE}.stimuli:train",
        ensemble=f"{_DATASET_SHARDS}:stimuli_shard",
        release=f"{_HERE}.stimuli:release",
    ),
    RecipeDef(
        "external",
        ExternalParams,
        "dataset",
        "a table from a generator the auditor does not know (reference-free attacks only)",
        train=f"{_HERE}.external:train",
        release=f"{_HERE}.external:release",
        rerunnable=False,
    ),
    RecipeDef(
        "merge",
        MergeParams,
        "weights",
        "merged per-site data vectors",
        train=f"{_HERE}.merge:train",
    ),
):
    register_recipe(_definition)

# Named presets used by the demo and the tests.
PRESETS: dict[str, Any] = {
    "default": TrainParams(),
    # Deliberately leaky (the overfit fixture): fully grown trees memorise their records.
    # An overfit MLP leaks too (LOSS AUC ~0.66) but not at low FPR to one global LOSS
    # threshold: it is as confident on typical non-members as on members.
    "overfit": TrainParams(architecture="random_forest"),
    # An overfit MLP: where LiRA and RMIA beat LOSS at low FPR by calibrating per record.
    "overfit_mlp": TrainParams(hidden=(128,), epochs=100, batch_size=64, weight_decay=0.0),
    "dp": DPParams(epochs=30, batch_size=256, lr=1e-2, target_epsilon=3.0),
    # A third party's model on a small released set (condensed samples, stimuli).
    "consumer": CondenseParams(),
    "stimuli": StimuliParams(),
    "stimuli_inhibited": StimuliParams(inhibit_identity=5.0),
}

# Every field of the single parameter set that metadata written before per-recipe
# parameters carried (under "hyperparameters"), and the new name of the renamed ones.
_LEGACY = {
    *("architecture", "hidden", "epochs", "batch_size", "lr", "weight_decay"),
    *("target_epsilon", "target_delta", "max_grad_norm", "architecture_params"),
    *("n_sites", "finetune_epochs", "finetune_lr", "merge_lambda", "per_class"),
    *("condense_iterations", "stimuli_l2", "inhibit_identity"),
}
# What the dataset recipes read from that set, and under which new name (their other
# parameters had fixed values then, which are the defaults now).
_LEGACY_READS = {
    "condense": {"per_class": "per_class", "condense_iterations": "iterations"},
    "stimuli": {
        "per_class": "per_class",
        "stimuli_l2": "l2",
        "inhibit_identity": "inhibit_identity",
    },
}


def unknown_recipe(name: Any, where: str, field: str) -> Problem:
    """The problem of a recipe name that is not registered, with a "did you mean"."""
    message = f"names unknown recipe {str(name)[:40]!r}"
    return Problem(where, field, message, did_you_mean(str(name), list(RECIPES)))


def recipe_params(name: str, raw: Any, *, where: str, field: str) -> Any:
    """The parameters of recipe `name` from their stored JSON object (strict)."""
    if name not in RECIPES:
        raise AuditInputError(unknown_recipe(name, where, field))
    return parse_params(RECIPES[name].params, raw, where=where, field_name=field)


def stored_params(name: str, raw: Any, *, legacy: bool, where: str, field: str) -> Params:
    """The parameters of recipe `name` as stored in metadata (`raw`): under the recipe's
    name (strict), or, when `legacy`, as the single all-recipe set that metadata written
    before per-recipe parameters carried, whose keys must still be known ones; the recipe
    takes its own and leaves the other recipes' fields."""
    if not legacy:
        return recipe_params(name, raw, where=where, field=field)
    if not isinstance(raw, dict):
        raise AuditInputError(Problem(where, field, "must be a JSON object", "fix the value"))
    unknown = [
        Problem(
            where,
            f"{field}.{key}",
            "is not a recipe parameter",
            did_you_mean(str(key), sorted(_LEGACY)),
        )
        for key in raw
        if key not in _LEGACY
    ]
    if unknown:
        raise AuditInputError(unknown)
    if name not in RECIPES:
        raise AuditInputError(unknown_recipe(name, where, "recipe.name"))
    own = {f.name: f.name for f in fields(RECIPES[name].params)}
    reads = _LEGACY_READS.get(name, own)
    for key, value in raw.items():  # the fields this recipe leaves must still be well-typed
        owner = next(
            (d.params for d in RECIPES.values() if key in {f.name for f in fields(d.params)}),
            None,
        )
        if key not in reads and owner is not None:
            parse_params(owner, {key: value}, where=where, field_name=field)
    values = {reads[k]: v for k, v in raw.items() if k in reads}
    return recipe_params(name, values, where=where, field=field)


def as_recipe(params: Any, name: str) -> Any:
    """`params` converted to recipe `name`'s parameters (audit through `[scheme] name`)."""
    return convert(params, RECIPES[name].params)


def release_dataset(
    name: str, data: RecipeInput, params: Any, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The samples a dataset-releasing recipe ("condense", "stimuli") makes from the
    private records: (x, y); ValueError for a recipe that releases no dataset."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}: use one of {', '.join(RECIPES)}")
    return RECIPES[name].releaser()(data, params, seed)


def run_recipe(name: str, data: RecipeInput, params: Any, seed: int) -> Trained:
    """Run the recipe called `name`; ValueError if there is none by that name."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}: use one of {', '.join(RECIPES)}")
    return RECIPES[name].trainer()(data, params, seed)
