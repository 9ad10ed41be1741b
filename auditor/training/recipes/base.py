"""What every recipe takes and gives (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RecipeInput:
    """Encoded records a recipe trains from; `public_x` is unlabelled public data (mimic)."""

    x: np.ndarray
    y: np.ndarray
    public_x: np.ndarray | None = None
    n_classes: int = 2
    public_y: np.ndarray | None = None  # labels of the public records (merge's base model)
    sites: np.ndarray | None = None  # site of each private record (merge); None: random

    @property
    def multilabel(self) -> bool:
        """Whether the labels are 0/1 vectors per record (n, L), not class indices (n,)."""
        return self.y.ndim == 2


@dataclass(frozen=True)
class Trained:
    """A recipe's output: the model (a torch module, or a scikit-learn estimator for the
    "random_forest" architecture), and privacy claims the recipe can make about it."""

    model: Any
    claims: dict[str, float]
    parts: dict[str, Any] = field(default_factory=dict)  # e.g. merge: base, site vectors
