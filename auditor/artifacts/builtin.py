"""The built-in architecture names and their construction parameters (torch-free: checking
a spec or an artifact's metadata never imports torch)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BUILTIN = ("mlp", "logistic", "cnn", "random_forest")  # random_forest: scikit-learn, see recipes


def model_params(architecture: str, recipe_params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword parameters `build_model` takes for `architecture`, read from a recipe's
    parameters: the MLP's hidden widths, or `architecture_params` for any other."""
    if architecture == "mlp":
        return {"hidden": [int(h) for h in recipe_params.get("hidden", (64,))]}
    if architecture == "cnn":
        given = dict(recipe_params.get("architecture_params", {}))
        return {"input_shape": [], "channels": [16, 32], **given}
    if architecture == "random_forest":
        return {"n_estimators": 200, **recipe_params.get("architecture_params", {})}
    return dict(recipe_params.get("architecture_params", {}))
