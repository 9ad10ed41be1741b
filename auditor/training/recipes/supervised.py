"""The `supervised` recipe (the real-records model), and the training every other recipe
reuses: seeded initialisation and Adam on cross-entropy (summed binary cross-entropy for
multi-label records, `auditor.training.losses`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.artifacts.architectures import build_model
from auditor.training.losses import as_targets, mean_loss
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import TrainParams


def init_model(params: TrainParams, n_features: int, n_classes: int, seed: int) -> Any:
    """Build an untrained model with seeded initialisation (global RNG state is restored)."""
    if params.architecture == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**params.model_params(), random_state=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(
            params.architecture,
            n_features=n_features,
            n_classes=n_classes,
            params=params.model_params(),
        )


def fit(model: Any, x: np.ndarray, y: np.ndarray, params: TrainParams, seed: int) -> None:
    """Train `model` in place: a torch module with Adam and cross-entropy on minibatches in
    a seeded order; a scikit-learn estimator with its own `fit` (seeded at construction)."""
    if not isinstance(model, nn.Module):
        # A forest's trees grow on as many cores as this process may use (the executors set
        # torch's thread count per task); the trees are seeded up front, so the forest is
        # the same on any number of cores, and it is kept single-threaded afterwards.
        parallel = "n_jobs" in model.get_params()
        if parallel:
            model.set_params(n_jobs=torch.get_num_threads())
        model.fit(x, y)
        if parallel:
            model.set_params(n_jobs=None)
        return
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.tensor(x, dtype=torch.float32), as_targets(y, multilabel=np.ndim(y) == 2)
    opt = torch.optim.Adam(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    model.train()
    for _ in range(params.epochs):
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), params.batch_size):
            idx = order[start : start + params.batch_size]
            opt.zero_grad()
            mean_loss(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()


def train(data: RecipeInput, params: TrainParams, seed: int) -> Trained:
    """The real-records model: trained directly on the private records (by the user's
    own training function when the spec names one)."""
    if params.user is not None:
        return Trained(params.user.fit(data.x, data.y, seed), {})
    model = init_model(params, data.x.shape[1], data.n_classes, seed)
    fit(model, data.x, data.y, params, seed + 1)
    return Trained(model, {})
