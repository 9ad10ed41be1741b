"""The `external` recipe: a table released by a generator the auditor does not know. It
runs only through the user's own generator (`ExternalParams.generator`, `[artifact]
generate`): the release made from the records, then the consumer's model trained on it.
Without one, every attack that would need it says so before anything trains
(`RecipeDef.rerunnable`), and these functions refuse."""

from __future__ import annotations

import numpy as np

from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import ExternalParams

WHY = (
    "the release's generator is unknown (recipe external): no reference or shadow "
    "release can be made to calibrate against; name it with [artifact] generate"
)


def release(data: RecipeInput, params: ExternalParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The user's generator's release from `data` (encoded rows of the audit's records)."""
    if params.generator is None:
        raise ValueError(f"recipe external cannot be re-run: {WHY}")
    x, y = params.generator.release_encoded(data.x, data.y, seed)
    return np.asarray(x, dtype=np.float32), y


def train(data: RecipeInput, params: ExternalParams, seed: int) -> Trained:
    """The release as a third party meets it: the generated table, then the consumer's
    model (`params.consumer`) trained on it only (as `condense` and `stimuli` do)."""
    x, y = release(data, params, seed)
    return supervised.train(RecipeInput(x, y, n_classes=data.n_classes), params.consumer, seed + 7)
