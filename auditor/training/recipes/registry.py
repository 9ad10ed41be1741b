"""The recipe registry: one `RecipeDef` per recipe, carrying what the auditor does with it.

A recipe is its parameters (a frozen dataclass), what it releases, how it trains once, and
optionally how it trains K reference runs at once and how it makes its released samples.
The callables may be given as `"package.module:function"` strings, resolved on first use:
the registry is read by `auditor validate` and the spec parser, which must not import
torch. Adding a recipe is one `register_recipe(RecipeDef(...))` call in its own module
(docs/ARCHITECTURE.md has a worked example, tests/training/test_recipe_extension.py runs it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from auditor.core.refs import resolve
from auditor.training.recipes.base import RecipeInput, Trained

if TYPE_CHECKING:
    import torch

Releases = Literal["model", "dataset", "weights"]
Trainer = Callable[[RecipeInput, Any, int], Trained]
Release = Callable[[RecipeInput, Any, int], tuple[np.ndarray, np.ndarray]]
# K reference runs at once: (params, pool, subsets (K, m), seeds, query_x, device) -> float64
# logits (K, n_query, C), each run k equal to the recipe run alone on pool rows subsets[k]
# with seeds[k]; or None when these parameters are not batched (they then run one by one).
EnsembleTrainer = Callable[
    [Any, RecipeInput, np.ndarray, list[int], np.ndarray, "torch.device"], "np.ndarray | None"
]


@dataclass(frozen=True)
class RecipeDef:
    """A registered recipe and its behaviour.

    `params`: the frozen dataclass of its parameters (stored in metadata under the recipe's
    name, hashed into the cache); `train(data, params, seed) -> Trained`: one run;
    `ensemble`: K runs at once (`EnsembleTrainer`), or None to run them one by one;
    `release(data, params, seed) -> (x, y)`: the released samples of a dataset recipe;
    `rerunnable`: False for an artifact whose making the auditor cannot repeat (a table
    from an unknown generator): attacks that need reference or shadow runs then say why
    they did not run, instead of training what is not the artifact's procedure.
    """

    name: str
    params: type
    releases: Releases
    description: str
    train: Trainer | str
    ensemble: EnsembleTrainer | str | None = None
    release: Release | str | None = None
    rerunnable: bool = True

    def trainer(self) -> Trainer:
        """The function that runs this recipe once."""
        return resolve(self.train)

    def ensemble_trainer(self) -> EnsembleTrainer | None:
        """The function that runs K reference runs at once, if the recipe has one."""
        return None if self.ensemble is None else resolve(self.ensemble)

    def releaser(self) -> Release:
        """The function that makes a dataset recipe's released samples."""
        if self.release is None:
            raise ValueError(f"recipe {self.name!r} does not release a dataset")
        return resolve(self.release)


RECIPES: dict[str, RecipeDef] = {}


def register_recipe(definition: RecipeDef) -> RecipeDef:
    """Add a recipe to the registry (the spec's `[scheme] name`, metadata parsing and the
    reference runs follow from it); ValueError for a taken name or an incomplete entry."""
    problems = []
    if not definition.name.isidentifier():
        problems.append("its name must be a Python identifier")
    if definition.name in RECIPES and RECIPES[definition.name] != definition:
        problems.append("its name is taken")
    if not (dataclasses.is_dataclass(definition.params) and hasattr(definition.params, "to_dict")):
        problems.append("params must be a dataclass with to_dict()")
    if definition.releases not in ("model", "dataset", "weights"):
        problems.append("releases must be 'model', 'dataset' or 'weights'")
    if (definition.releases == "dataset") != (definition.release is not None):
        problems.append("a recipe has a release function exactly when it releases a dataset")
    if problems:
        raise ValueError(f"recipe {definition.name!r}: " + "; ".join(problems))
    RECIPES[definition.name] = definition
    return definition
