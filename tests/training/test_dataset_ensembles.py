"""K reference runs of the dataset recipes at once against the recipes run one by one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from auditor.artifacts.query import logits_fn
from auditor.core.encoding import fit_encoding
from auditor.data.embedded import CATEGORICAL, NUMERIC, load_support2
from auditor.training.dataset_ensembles import (
    condense_releases,
    dataset_shard,
    stimuli_releases,
)
from auditor.training.ensembles import half_subsets
from auditor.training.recipes import (
    CondenseParams,
    RecipeInput,
    StimuliParams,
    TrainParams,
    condense,
    run_recipe,
    stimuli,
)

CPU = torch.device("cpu")
# Batched matmuls round differently from single ones; the optimisations below are short,
# so the runs stay close: measured <= 5e-7 on samples, <= 1e-7 on consumer logits.
SAMPLES, LOGITS = 1e-4, 1e-4
TEACHER = TrainParams(hidden=(16,), epochs=3, batch_size=64)
CONSUMER = TrainParams(hidden=(8,), epochs=4, batch_size=16)


@pytest.fixture(scope="module")
def pool() -> RecipeInput:
    frame = load_support2().iloc[:600]
    enc = fit_encoding(frame, numeric=list(NUMERIC), categorical=list(CATEGORICAL))
    return RecipeInput(enc.encode(frame), frame["death"].to_numpy())


def one_by_one(pool: RecipeInput, subsets: np.ndarray, seeds: list[int]):
    return [RecipeInput(pool.x[rows], pool.y[rows]) for rows in subsets], seeds


@pytest.mark.parametrize("inhibit", [0.0, 5.0])
def test_stimuli_of_every_run_equal_the_recipe_run_alone(pool: RecipeInput, inhibit: float):
    params = StimuliParams(
        per_class=6, iterations=15, inhibit_identity=inhibit, teacher=TEACHER, consumer=CONSUMER
    )
    subsets, seeds = half_subsets(len(pool.x), 3, np.random.default_rng(0)), [3, 9, 27]
    samples, labels = stimuli_releases(pool, subsets, seeds, params, CPU)
    for k, (data, seed) in enumerate(zip(*one_by_one(pool, subsets, seeds), strict=True)):
        alone_x, alone_y = stimuli.release(data, params, seed)
        np.testing.assert_array_equal(labels, alone_y)
        np.testing.assert_allclose(samples[k], alone_x, rtol=0, atol=SAMPLES)
    assert not np.allclose(samples[0], samples[1])  # each run its own stream


@pytest.mark.parametrize("init", ["real", "noise"])
def test_condensed_samples_of_every_run_equal_the_recipe_run_alone(
    pool: RecipeInput, init: str
) -> None:
    params = CondenseParams(per_class=4, iterations=12, real_batch=32, init=init)
    subsets, seeds = half_subsets(len(pool.x), 3, np.random.default_rng(1)), [5, 6, 7]
    samples, labels = condense_releases(pool, subsets, seeds, params, CPU)
    for k, (data, seed) in enumerate(zip(*one_by_one(pool, subsets, seeds), strict=True)):
        alone_x, alone_y = condense.release(data, params, seed)
        np.testing.assert_array_equal(labels, alone_y)
        np.testing.assert_allclose(samples[k], alone_x, rtol=0, atol=SAMPLES)


@pytest.mark.parametrize("consumer", [CONSUMER, TrainParams(architecture="random_forest")])
def test_consumers_equal_the_recipe_run_alone(pool: RecipeInput, consumer: TrainParams) -> None:
    params = CondenseParams(per_class=4, iterations=5, real_batch=32, consumer=consumer)
    subsets, seeds = half_subsets(len(pool.x), 2, np.random.default_rng(2)), [11, 12]
    query = pool.x[:50]
    logits = dataset_shard("condense", params, pool, subsets, seeds, query, CPU)
    for k, (data, seed) in enumerate(zip(*one_by_one(pool, subsets, seeds), strict=True)):
        alone = logits_fn(run_recipe("condense", data, params, seed).model)(query)
        np.testing.assert_allclose(logits[k], alone, rtol=0, atol=LOGITS)


def test_a_run_without_records_of_a_class_is_refused(pool: RecipeInput) -> None:
    subsets = np.array([np.flatnonzero(pool.y == 0)[:50]])
    with pytest.raises(ValueError, match="records of every class"):
        condense_releases(pool, subsets, [1], CondenseParams(iterations=1), CPU)


def test_the_second_consumer_reuses_the_release(pool: RecipeInput, monkeypatch) -> None:
    """An audit trains its MLP and forest consumers on the same reference runs: the
    release is made once, and each consumer's logits are those of a fresh release."""
    from auditor.training import dataset_ensembles

    calls = []
    real = dataset_ensembles.condense_releases
    monkeypatch.setattr(
        dataset_ensembles, "condense_releases", lambda *a: calls.append(1) or real(*a)
    )
    monkeypatch.setattr(dataset_ensembles, "_RELEASES", {})
    subsets, seeds, query = half_subsets(len(pool.x), 2, np.random.default_rng(3)), [1, 2], pool.x
    base = CondenseParams(per_class=4, iterations=3, real_batch=32, consumer=CONSUMER)
    forest = TrainParams(architecture="random_forest", architecture_params={"n_estimators": 5})

    def shard(params: CondenseParams) -> np.ndarray:
        return dataset_shard("condense", params, pool, subsets, seeds, query, CPU)

    first, second = shard(base), shard(replace(base, consumer=forest))
    assert len(calls) == 1
    dataset_ensembles._RELEASES.clear()
    np.testing.assert_array_equal(second, shard(replace(base, consumer=forest)))
    assert first.shape == second.shape and not np.allclose(first, second)
    other = shard(replace(base, iterations=4))
    assert len(calls) == 3 and not np.allclose(other, first)  # other parameters: made anew
