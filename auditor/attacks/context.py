"""The contract between the audit runner and every attack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from auditor.core.types import LogitsFn

if TYPE_CHECKING:  # attacks read these objects; importing training would import torch
    from auditor.training.recipes import RecipeInput
    from auditor.training.references import ReferenceOutputs


@dataclass(frozen=True)
class AttackContext:
    """What an attacker holding the artifact has.

    Candidates are the records whose membership is in question (members and non-members,
    mixed; the attack never learns which is which). `train_shadow` re-runs the artifact's
    recipe on data the attacker holds and returns the shadow model's logits function.
    """

    candidates_x: np.ndarray
    candidates_y: np.ndarray
    target_logits: np.ndarray  # float64, (n_candidates, n_classes), queried once
    target_query: LogitsFn  # for attacks that query other inputs
    population_x: np.ndarray
    population_y: np.ndarray
    n_classes: int
    train_shadow: Callable[[RecipeInput, int], LogitsFn]
    seed: int
    # Reference models' outputs by mode ("online" / "offline"), trained (or read from the
    # cache) on first use and shared by every attack of the run.
    references: Callable[[str], ReferenceOutputs]
    # Weights artifacts released with their public base model: its logits function.
    base_query: LogitsFn | None = None


@dataclass(frozen=True)
class AttackDef:
    """A registered attack. `score` returns one float per candidate, larger = more likely
    a member; attacks never compute their own metrics."""

    name: str
    title: str
    description: str
    kind: Literal["membership"]
    score: Callable[[AttackContext], np.ndarray]
    needs_shadow_models: bool = False
    reference_models: Literal["online", "offline"] | None = None
    multilabel: bool = True  # whether it takes multi-label models (ART's attacks do not)
