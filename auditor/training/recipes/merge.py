"""The `merge` recipe: data vectors of several sites, summed into one set of weights."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import MergeParams


def train(data: RecipeInput, hp: MergeParams, seed: int) -> Trained:
    """Data vectors: a base model is trained on the (labelled) public records; each site
    fine-tunes a copy on its private records; the released weights are
    base + lambda * sum over sites of (site weights - base weights)."""
    if data.public_x is None or data.public_y is None:
        raise ValueError("the merge recipe needs labelled public records for its base model")
    public = RecipeInput(data.public_x, data.public_y, n_classes=data.n_classes)
    base = supervised.train(public, hp, seed).model
    sites = data.sites
    if sites is None:  # reference and shadow runs: records spread over sites at random
        sites = np.random.default_rng(seed).integers(0, hp.n_sites, len(data.y)).astype(str)
    tune = replace(hp, epochs=hp.finetune_epochs, lr=hp.finetune_lr)
    base_state = {k: v.detach().clone() for k, v in base.state_dict().items()}
    vectors = {}
    for i, site in enumerate(sorted(set(sites.tolist()))):
        rows = sites == site
        local = copy.deepcopy(base)
        supervised.fit(local, data.x[rows], data.y[rows], tune, seed + 11 + i)
        vectors[str(site)] = {k: v.detach() - base_state[k] for k, v in local.state_dict().items()}
    lam = hp.merge_lambda if hp.merge_lambda is not None else 1.0 / max(len(vectors), 1)
    merged = copy.deepcopy(base)
    merged.load_state_dict(
        {k: base_state[k] + lam * sum(v[k] for v in vectors.values()) for k in base_state}
    )
    merged.eval()
    return Trained(merged, {}, {"base": base.eval(), "vectors": vectors, "lambda": lam})
