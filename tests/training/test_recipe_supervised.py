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
