"""The `external` recipe: a table released by a generator the auditor does not know. It
cannot be run; every attack that would need it says so before anything trains
(`RecipeDef.rerunnable`), so these functions are reached only by a caller that skipped
that check."""

from __future__ import annotations

from typing import Any, NoReturn

from auditor.training.recipes.base import RecipeInput

WHY = (
    "the release's generator is unknown (recipe external): no reference or shadow "
    "release can be made to calibrate against"
)


def train(data: RecipeInput, params: Any, seed: int) -> NoReturn:
    raise ValueError(f"recipe external cannot be re-run: {WHY}")


def release(data: RecipeInput, params: Any, seed: int) -> NoReturn:
    raise ValueError(f"recipe external cannot be re-run: {WHY}")
