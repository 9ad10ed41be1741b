"""K reference runs at once of the model recipes (`supervised`, `mimic`, `dp_sgd`): the
`ensemble` entries of their `RecipeDef`s. Each returns float64 logits (K, n_query, C), run
k equal to the recipe run alone on `pool` rows `subsets[k]` with `seeds[k]`, or None for
parameters it does not batch (a random forest, the user's own training code), which then
train one after another (`references.train_shard`).
"""

from __future__ import annotations

import numpy as np
import torch

from auditor.training.dp_ensembles import fit_dp_ensemble
from auditor.training.ensembles import fit_ensemble, init_ensemble
from auditor.training.recipes import DPParams, RecipeInput, TrainParams


def _batched(params: object) -> bool:
    """Built-in torch architectures without the user's own training code."""
    return (
        isinstance(params, TrainParams)
        and params.architecture != "random_forest"
        and params.user is None
    )


def supervised_shard(
    hp: TrainParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray | None:
    """K `supervised` runs as one vectorised ensemble."""
    if not _batched(hp):
        return None
    ens = init_ensemble(hp, pool.x.shape[1], pool.n_classes, seeds, device)
    fit_ensemble(
        ens, pool.x, pool.y, subsets, hp, [s + 1 for s in seeds], multilabel=pool.multilabel
    )
    return ens.logits(query_x)


def mimic_shard(
    hp: TrainParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray | None:
    """K `mimic` runs: K teachers at once, then K students on the teachers' labels of the
    public records."""
    if not _batched(hp):
        return None
    if pool.public_x is None:
        raise ValueError("the mimic recipe needs public records")
    d, c, multilabel = pool.x.shape[1], pool.n_classes, pool.multilabel
    ens = init_ensemble(hp, d, c, seeds, device)
    fit_ensemble(ens, pool.x, pool.y, subsets, hp, [s + 1 for s in seeds], multilabel=multilabel)
    public = ens.logits(pool.public_x)  # (K, n_public, C)
    labels = (public > 0).astype(np.int64) if multilabel else public.argmax(axis=2)
    ens = init_ensemble(hp, d, c, [s + 2 for s in seeds], device)
    everyone = np.tile(np.arange(len(pool.public_x)), (len(seeds), 1))
    fit_ensemble(
        ens, pool.public_x, labels, everyone, hp, [s + 3 for s in seeds], multilabel=multilabel
    )
    return ens.logits(query_x)


def dp_sgd_shard(
    hp: DPParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray | None:
    """K `dp_sgd` runs through the vectorised DP-SGD (same privacy accounting, its own
    noise stream)."""
    if not _batched(hp):
        return None
    ens = init_ensemble(hp, pool.x.shape[1], pool.n_classes, seeds, device)
    fit_dp_ensemble(ens, pool.x, pool.y, subsets, hp, seeds[0] + 1)
    return ens.logits(query_x)
