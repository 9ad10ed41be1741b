"""Reference models for calibrated attacks: the recipe re-run K times on other data.

Each reference model trains on as many records as the target did (`train_size`, the
members), so that it memorises as much as the target: references trained on more records
generalise better, and calibrated attacks then under-read the target (Carlini et al. 2022
train target and references on halves of one pool, so both sizes agree). Online: models come
in pairs that split one pool (every candidate, topped up with population records to twice
`train_size`), so each candidate is in exactly one model of each pair. Offline: each model
trains on `train_size` population records (at most three quarters of them, so the models
differ), so no candidate is in any of them. Without `train_size`, each model takes half of
its pool. Models are trained in shards of vectorised
ensembles (run in this process or on a Ray cluster: `auditor.executors`); each shard's
outputs land in the content-hash cache as soon as it is done, so a killed run resumes where
it stopped and a re-run trains nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from auditor.artifacts.query import logits_fn
from auditor.training.cache import DiskCache, array_digest, content_key
from auditor.training.ensembles import half_subsets
from auditor.training.executors import Executor, InProcess, ShardData, ShardTask
from auditor.training.recipes import RECIPES, Params, RecipeInput, run_recipe

Mode = Literal["online", "offline"]


@dataclass(frozen=True)
class ReferenceOutputs:
    """Logits of K reference models on the candidates, then the population rows, as float32:
    the precision torch computed them in (a vectorised ensemble's logits are float32, so
    nothing is lost), and half the memory and cache of float64 at hospital scale (K = 64 on
    600,000 query rows: 0.3 GB, not 0.6). Attacks derive their statistics from them in
    float64, one model at a time (`core.scores`)."""

    mode: Mode
    logits: np.ndarray  # float32 (K, n_candidates + n_population, C)
    in_mask: np.ndarray  # (K, n_candidates + n_population): row was in model k's data
    n_candidates: int
    trained: int  # models trained by this call (0: everything came from the cache)

    @property
    def k(self) -> int:
        return self.logits.shape[0]

    @property
    def candidates(self) -> np.ndarray:
        return self.logits[:, : self.n_candidates]

    @property
    def candidates_in(self) -> np.ndarray:
        return self.in_mask[:, : self.n_candidates]

    @property
    def population(self) -> np.ndarray:
        return self.logits[:, self.n_candidates :]


def _or_empty(x: np.ndarray | None) -> np.ndarray:
    return np.zeros(0, dtype=np.float32) if x is None else x


def reference_subsets(
    mode: Mode,
    n_candidates: int,
    n_population: int,
    k: int,
    rng: np.random.Generator,
    train_size: int | None = None,
) -> np.ndarray:
    """(K, m) row indices of each reference model's training data: into candidates then
    population (online) or into the population (offline); see the module docstring."""
    if train_size is None:
        n = n_candidates + n_population if mode == "online" else n_population
        return half_subsets(n, k, rng)
    if mode == "offline":
        m = max(1, min(train_size, (3 * n_population) // 4))
        return np.stack([np.sort(rng.permutation(n_population)[:m]) for _ in range(k)])
    top_up = min(n_population, max(0, 2 * train_size - n_candidates))
    half = (n_candidates + top_up) // 2
    out = np.empty((k, half), dtype=np.int64)
    for j in range(0, k, 2):
        extra = n_candidates + rng.permutation(n_population)[:top_up]
        pool = rng.permutation(np.r_[np.arange(n_candidates), extra])
        out[j] = np.sort(pool[:half])
        if j + 1 < k:
            out[j + 1] = np.sort(pool[half : 2 * half])
    return out


def _vectorised(hp: Params) -> bool:
    """Whether the recipe trains these parameters K at once (not the user's own training
    code, not a random forest)."""
    return getattr(hp, "user", None) is None and getattr(hp, "architecture", "") != "random_forest"


def model_seed(seed: int, k: int) -> int:
    """Seed of reference model k (independent streams per model)."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0] % (2**31 - 1))


def train_shard(
    recipe: str,
    hp: Params,
    pool: RecipeInput,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> np.ndarray:
    """Train one model per row of `subsets` by `recipe`; float64 logits (K, n_query, C).

    Model k equals `run_recipe(recipe, RecipeInput(pool.x[subsets[k]], ...), hp, seeds[k])`:
    all K at once by the recipe's ensemble trainer (`RecipeDef.ensemble`: the built-in
    MLPs, DP-SGD, stimuli, condense) where it takes these parameters, one after another
    otherwise (random forests, merge, the user's own training code, a recipe without one).
    """
    ensemble = RECIPES[recipe].ensemble_trainer()
    if ensemble is not None:
        logits = ensemble(hp, pool, subsets, seeds, query_x, device)
        if logits is not None:
            return logits
    out = []
    for rows, seed in zip(subsets, seeds, strict=True):
        data = RecipeInput(
            pool.x[rows], pool.y[rows], pool.public_x, pool.n_classes, public_y=pool.public_y
        )
        out.append(logits_fn(run_recipe(recipe, data, hp, seed).model)(query_x))
    return np.stack(out)


def train_task(data: ShardData, task: ShardTask) -> np.ndarray:
    """One shard as an executor runs it: `train_shard` on the task's rows and seeds."""
    return train_shard(
        data.recipe,
        data.hp,
        data.pool,
        task.subsets,
        list(task.seeds),
        data.query_x,
        torch.device(data.device),
    )


def reference_outputs(
    *,
    mode: Mode,
    recipe: str,
    hp: Params,
    candidates: RecipeInput,
    population: RecipeInput,
    k: int,
    seed: int,
    cache: DiskCache,
    device: str = "auto",
    shard_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    train_size: int | None = None,
) -> ReferenceOutputs:
    """Outputs of K reference models (trained, or read from the cache) on candidates and
    population. `population.public_x` is the public data recipes such as mimic label;
    `train_size` is how many records the target trained on (see the module docstring).
    Shards missing from the cache are trained by `executor` (default: in this process).
    `shard_size`: models per shard (default: 8 for a vectorised recipe, 4 for one trained
    model by model, such as the user's own code, so that even K = 16 spreads over the
    cores: on 2 cores, 16 models as two shards of 8 in two one-thread workers train as fast
    as one shard of 16 with two threads, and 2.3 times faster beside a busy process)."""
    if shard_size is None:
        shard_size = 8 if _vectorised(hp) else 4
    if mode == "online":
        pool_x = np.concatenate([candidates.x, population.x])
        pool_y = np.concatenate([candidates.y, population.y])
        offset = 0
    else:
        pool_x, pool_y, offset = population.x, population.y, len(candidates.x)
    query_x = np.concatenate([candidates.x, population.x])
    n_query = len(query_x)
    rng = np.random.default_rng([seed, 0 if mode == "online" else 1])
    subsets = reference_subsets(
        mode, len(candidates.x), len(population.x), k, rng, train_size=train_size
    )
    in_mask = np.zeros((k, n_query), dtype=bool)
    for j, rows in enumerate(subsets):
        in_mask[j, rows + offset] = True
    pool = RecipeInput(
        pool_x, pool_y, population.public_x, candidates.n_classes, public_y=population.public_y
    )
    runner: Executor = executor or InProcess()
    dev = runner.device_type(device)
    base = {
        "mode": mode,
        "recipe": recipe,
        # only the parameters this recipe reads: another recipe's change keeps these entries
        "params": hp.to_dict(),
        "data": array_digest(
            pool_x,
            pool_y,
            query_x,
            population.public_x if population.public_x is not None else np.zeros(0),
        ),
        "seed": seed,
        "k": k,
        "train_size": train_size,
        "shard_size": shard_size,
        "device": dev,
        "torch": torch.__version__,
    }
    found: dict[int, np.ndarray] = {}
    keys: dict[int, str] = {}
    todo = []
    for start in range(0, k, shard_size):
        stop = min(k, start + shard_size)
        keys[start] = content_key({**base, "shard": start})
        hit = cache.get(keys[start])
        if hit is not None:
            found[start] = hit["logits"].astype(np.float32, copy=False)
        else:
            seeds = tuple(model_seed(seed, j) for j in range(start, stop))
            todo.append(ShardTask(start, stop, subsets[start:stop], seeds))
    trained = sum(t.stop - t.start for t in todo)
    if progress is not None and found:
        progress(k - trained, k)

    def on_done(task: ShardTask, logits: np.ndarray) -> None:
        # Into the cache as soon as it is back, whichever executor trained it.
        what = f"{recipe} {mode} reference models {task.start}-{task.stop - 1} of {k}"
        logits = logits.astype(np.float32, copy=False)
        cache.put(keys[task.start], {"logits": logits}, what)
        found[task.start] = logits
        if progress is not None:
            progress(sum(len(v) for v in found.values()), k)

    runner.run_shards(train_task, ShardData(recipe, hp, pool, query_x, dev), todo, on_done)
    shards = [found[start] for start in sorted(found)]
    return ReferenceOutputs(mode, np.concatenate(shards), in_mask, len(candidates.x), trained)
