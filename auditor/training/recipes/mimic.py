"""The `mimic` recipe: a teacher on the private records labels public records; the student
is trained on those labels only and is the released artifact."""

from __future__ import annotations

from auditor.artifacts.query import logits_fn
from auditor.core.scores import predicted_labels
from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import TrainParams


def train(data: RecipeInput, params: TrainParams, seed: int) -> Trained:
    """Teacher (seed), its labels on the public records, student (seed + 2)."""
    if data.public_x is None or len(data.public_x) == 0:
        raise ValueError("the mimic recipe needs public records (public_x) to label")
    teacher = supervised.train(data, params, seed).model
    labels = predicted_labels(logits_fn(teacher)(data.public_x), data.multilabel)
    student = supervised.init_model(params, data.public_x.shape[1], data.n_classes, seed + 2)
    supervised.fit(student, data.public_x, labels, params, seed + 3)
    return Trained(student, {})
