"""The supervised recipe's forest grows its trees on the process's cores and is the same
forest on any number of them (real SUPPORT2 records)."""

from __future__ import annotations

import numpy as np
import torch

from auditor.core.encoding import fit_encoding
from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2
from auditor.training.recipes import PRESETS, RecipeInput
from auditor.training.recipes.supervised import train


def test_a_forest_is_the_same_on_one_core_and_on_two() -> None:
    frame = load_support2().iloc[:600]
    x = fit_encoding(frame, numeric=list(NUMERIC), categorical=list(CATEGORICAL)).encode(frame)
    data = RecipeInput(x, frame[LABEL].to_numpy())
    before = torch.get_num_threads()
    try:
        forests = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            forests.append(train(data, PRESETS["overfit"], seed=3).model)
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(forests[0].predict_proba(x), forests[1].predict_proba(x))
    assert all(f.n_jobs is None for f in forests)  # the released model is single-threaded


def test_the_dp_sgd_recipe_runs_the_users_own_training_code_when_named() -> None:
    """Reference models of a dp_sgd artifact audited with `[artifact] train` come from the
    hospital's code, as for the supervised recipe, not from the auditor's Opacus run."""
    from dataclasses import replace

    from sklearn.linear_model import LogisticRegression

    from auditor.training.recipes import run_recipe

    class OwnCode:  # what UserTraining offers a recipe: fit(x, y, seed) -> model
        def __init__(self) -> None:
            self.calls: list[int] = []

        def fit(self, x: np.ndarray, y: np.ndarray, seed: int) -> LogisticRegression:
            self.calls.append(seed)
            return LogisticRegression(max_iter=500).fit(x, y)

    frame = load_support2().iloc[:400]
    x = fit_encoding(frame, numeric=list(NUMERIC), categorical=list(CATEGORICAL)).encode(frame)
    own = OwnCode()
    hp = replace(PRESETS["dp"], user=own)  # type: ignore[arg-type]
    trained = run_recipe("dp_sgd", RecipeInput(x, frame[LABEL].to_numpy()), hp, 5)
    assert isinstance(trained.model, LogisticRegression) and own.calls == [5]
    assert trained.claims == {}  # the auditor claims nothing for code it did not run
