"""K reference runs of the dataset recipes (stimuli, condense) at once.

A reference run of a dataset recipe trains a network (stimuli: the teacher), synthesises
the released samples, then trains the consumer's model on them: three small trainings per
reference model, which ran one after another. Here every stage runs for all K runs at once:
teachers and consumers as one vectorised ensemble each (`fit_ensemble`), stimuli and
condensed samples optimised as one (K, samples, features) tensor whose loss is the sum of
the runs' losses (so run k's gradient is its own), each run drawing from its own random
stream in the single run's order. Run k is `run_recipe(recipe, RecipeInput(x[rows_k],
y[rows_k]), params, seeds[k])` up to float rounding (batched against single matmuls): on
short runs the two agree to 1e-6, tested. Over a full run the recipes themselves amplify
rounding on some runs (Adam's normalised steps on a non-smooth objective): for the demo
settings, one record moved by one ulp moves a single run's condensed samples by 0.19 and
its inhibited stimuli by 0.33, as much as batching moves them (0.19, 0.25), so a batched
run is another equally valid run of the recipe, not a different recipe. Written here: no
library batches these recipes.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from auditor.artifacts.query import logits_fn
from auditor.training.cache import array_digest
from auditor.training.ensembles import Ensemble, fit_ensemble, init_ensemble, n_layers
from auditor.training.recipes import (
    CondenseParams,
    RecipeInput,
    StimuliParams,
    TrainParams,
    supervised,
)
from auditor.training.recipes.condense import random_embedding

KEEP_RELEASES = 4  # shards of releases kept for the next consumer (each K x m x d floats)
_RELEASES: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _builtin_mlp(params: TrainParams) -> bool:
    return params.architecture == "mlp" and params.user is None


def vectorisable(recipe: str, params: object) -> bool:
    """Whether `dataset_shard` runs this recipe: stimuli needs a built-in MLP teacher (the
    consumer may be anything; non-MLP consumers train one after another)."""
    if recipe == "stimuli":
        return isinstance(params, StimuliParams) and _builtin_mlp(params.teacher)
    return recipe == "condense" and isinstance(params, CondenseParams)


def stimuli_shard(
    params: StimuliParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray | None:
    """The `stimuli` recipe's ensemble trainer (its `RecipeDef.ensemble`): None where
    `vectorisable` says no, or for multi-label records."""
    if not vectorisable("stimuli", params) or pool.multilabel:
        return None
    return dataset_shard("stimuli", params, pool, subsets, seeds, query_x, device)


def condense_shard(
    params: CondenseParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray | None:
    """The `condense` recipe's ensemble trainer (its `RecipeDef.ensemble`)."""
    if not vectorisable("condense", params) or pool.multilabel:
        return None
    return dataset_shard("condense", params, pool, subsets, seeds, query_x, device)


def dataset_shard(
    recipe: str,
    params: StimuliParams | CondenseParams,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray:
    """float64 logits (K, n_query, C) of the consumers of K reference releases.

    The releases do not depend on the consumer, and an audit trains each consumer on the
    same reference runs: the last few releases are kept in memory, so the second consumer
    reuses them."""
    release = replace(params, consumer=TrainParams())
    key = json.dumps([recipe, release.to_dict(), seeds, device.type], sort_keys=True)
    key += array_digest(pool.x, pool.y, subsets)
    if key not in _RELEASES:
        if isinstance(params, StimuliParams):
            made = stimuli_releases(pool, subsets, seeds, params, device)
        else:
            made = condense_releases(pool, subsets, seeds, params, device)
        _RELEASES[key] = made
        while len(_RELEASES) > KEEP_RELEASES:
            _RELEASES.pop(next(iter(_RELEASES)))
    samples, labels = _RELEASES[key]
    return consumer_logits(samples, labels, params.consumer, seeds, query_x, pool.n_classes, device)


def consumer_logits(
    samples: np.ndarray,
    labels: np.ndarray,
    consumer: TrainParams,
    seeds: list[int],
    query_x: np.ndarray,
    n_classes: int,
    device: torch.device,
) -> np.ndarray:
    """Each run's consumer trained on its samples (K, m, d) with `labels` (m,), as the
    recipes train it (`supervised.train` with seed + 7), queried on `query_x`."""
    k, m, d = samples.shape
    if not _builtin_mlp(consumer):
        return np.stack(
            [
                logits_fn(
                    supervised.train(
                        RecipeInput(samples[j], labels, n_classes=n_classes), consumer, s + 7
                    ).model
                )(query_x)
                for j, s in enumerate(seeds)
            ]
        )
    ens = init_ensemble(consumer, d, n_classes, [s + 7 for s in seeds], device)
    rows = np.arange(k * m).reshape(k, m)  # run j trains on its own samples, in order
    fit_ensemble(
        ens, samples.reshape(k * m, d), np.tile(labels, k), rows, consumer, [s + 8 for s in seeds]
    )
    return ens.logits(query_x)


def stimuli_releases(
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    params: StimuliParams,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """Each run's stimuli (K, m, d) and their labels (m,): `stimuli.release` per run."""
    c, d = pool.n_classes, pool.x.shape[1]
    teachers = init_ensemble(params.teacher, d, c, seeds, device)
    fit_ensemble(teachers, pool.x, pool.y, subsets, params.teacher, [s + 1 for s in seeds])
    frozen = Ensemble(
        teachers.template, {n: p.detach() for n, p in teachers.params.items()}, teachers.buffers
    )
    w0, b0 = frozen.params["net.0.weight"], frozen.params["net.0.bias"]

    def hidden(x: torch.Tensor) -> torch.Tensor:  # the first hidden layer, as the probe sees
        return torch.relu(torch.baddbmm(b0.unsqueeze(1), x, w0.transpose(1, 2)))

    gens = [torch.Generator().manual_seed(s + 1) for s in seeds]  # synthesize(seed + 1)
    m = params.per_class * c
    x = torch.stack([torch.randn(m, d, generator=g) for g in gens]).to(device)
    x.requires_grad_(True)
    y = torch.arange(c, device=device).repeat_interleave(params.per_class)
    own_class = nn.functional.one_hot(y, c).bool().unsqueeze(0)
    members = None
    if params.inhibit_identity > 0:
        if n_layers(teachers.template) < 2:
            raise ValueError("identity inhibition needs the built-in MLP with a hidden layer")
        with torch.no_grad():
            records = torch.tensor(pool.x[subsets], dtype=torch.float32, device=device)
            members = nn.functional.normalize(hidden(records), dim=2)
    opt = torch.optim.Adam([x], lr=params.lr)
    for _ in range(params.iterations):
        logits = frozen.forward(x)  # (K, m, C)
        own = logits.gather(2, y.view(1, -1, 1).expand(len(seeds), -1, 1))[..., 0]
        others = logits.masked_fill(own_class, -torch.inf)
        excitation = own - torch.logsumexp(others, dim=2)
        loss = -excitation.mean(dim=1) + params.l2 * x.pow(2).sum(dim=2).mean(dim=1)
        if members is not None:
            h = nn.functional.normalize(hidden(x), dim=2)
            similarity = torch.bmm(h, members.transpose(1, 2)) / params.temperature
            probe = params.temperature * torch.logsumexp(similarity, dim=2)
            loss = loss + params.inhibit_identity * probe.mean(dim=1)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    return x.detach().cpu().numpy().astype(np.float32), y.cpu().numpy().astype(np.int64)


def condense_releases(
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    params: CondenseParams,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """Each run's condensed samples (K, m, d) and their labels (m,): `condense.condense`
    per run, every run's embedding networks and real batches drawn from its own stream."""
    c, d = pool.n_classes, pool.x.shape[1]
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    xt = torch.tensor(pool.x, dtype=torch.float32)
    yt = torch.tensor(pool.y, dtype=torch.long)
    by_class = []  # per run, per class: row indices into the pool
    for rows in torch.tensor(subsets, dtype=torch.long):
        classes = [rows[yt[rows] == cls] for cls in range(c)]
        if any(len(r) == 0 for r in classes):
            raise ValueError("condense needs records of every class")
        by_class.append(classes)
    starts = []
    for gen, classes in zip(gens, by_class, strict=True):
        run = []
        for rows in classes:
            if params.init == "real":
                run.append(
                    xt[rows[torch.randint(0, len(rows), (params.per_class,), generator=gen)]]
                )
            else:
                run.append(torch.randn(params.per_class, d, generator=gen))
        starts.append(torch.cat(run))
    syn = torch.stack(starts).to(device).requires_grad_(True)
    syn_y = torch.arange(c, device=device).repeat_interleave(params.per_class)
    xt = xt.to(device)
    opt = torch.optim.Adam([syn], lr=params.lr)
    for _ in range(params.iterations):
        nets = [random_embedding(d, params.embed_width, g) for g in gens]
        layers = [
            torch.stack([getattr(net[i], name) for net in nets]).to(device)
            for i in (0, 2)
            for name in ("weight", "bias")
        ]
        loss = torch.zeros((), device=device)
        for cls in range(c):
            batch = torch.stack(
                [
                    classes[cls][
                        torch.randint(0, len(classes[cls]), (params.real_batch,), generator=g)
                    ]
                    for g, classes in zip(gens, by_class, strict=True)
                ]
            ).to(device)
            real_mean = _embed(xt[batch], *layers).mean(dim=1)
            syn_mean = _embed(syn[:, syn_y == cls], *layers).mean(dim=1)
            loss = loss + (real_mean - syn_mean).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return syn.detach().cpu().numpy().astype(np.float32), syn_y.cpu().numpy().astype(np.int64)


def _embed(
    v: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor
) -> torch.Tensor:
    """K random embedding networks (Linear, ReLU, Linear; stacked weights) on v (K, n, d)."""
    h = torch.relu(torch.baddbmm(b1.unsqueeze(1), v, w1.transpose(1, 2)))
    return torch.baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2))
