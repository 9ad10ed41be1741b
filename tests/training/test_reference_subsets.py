"""Which records each reference model trains on: as many as the target (the members), every
candidate in exactly half of the online models, no candidate in an offline model."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.training.references import reference_subsets


@pytest.mark.parametrize(
    ("n_candidates", "n_population", "train_size", "expected_size"),
    [
        (4000, 3105, 2000, 2000),  # SUPPORT2's demo: the candidates alone, halved
        (400, 1097, 300, 300),  # topped up with 200 population records
        (400, 50, 300, 225),  # not enough population: as many as there are
        (5000, 3105, 2000, 2500),  # more non-members than members: half the candidates
    ],
)
def test_online_models_train_on_the_targets_size_and_split_every_candidate_in_pairs(
    n_candidates: int, n_population: int, train_size: int, expected_size: int
) -> None:
    k = 8
    rows = reference_subsets(
        "online", n_candidates, n_population, k, np.random.default_rng(0), train_size
    )
    assert rows.shape == (k, expected_size)
    assert all(len(np.unique(r)) == len(r) for r in rows)
    assert rows.max() < n_candidates + n_population
    in_models = np.zeros((k, n_candidates + n_population), dtype=bool)
    for j, r in enumerate(rows):
        in_models[j, r] = True
    pairs = in_models[0::2, :n_candidates].astype(int) + in_models[1::2, :n_candidates]
    assert (pairs == 1).all()  # each candidate in exactly one model of each pair


def test_offline_models_train_on_the_targets_size_from_the_population_and_differ() -> None:
    rows = reference_subsets("offline", 4000, 3105, 8, np.random.default_rng(0), 2000)
    assert rows.shape == (8, 2000) and rows.max() < 3105
    assert len({tuple(r) for r in rows}) == 8
    small = reference_subsets("offline", 400, 300, 4, np.random.default_rng(0), 300)
    assert small.shape == (4, 225)  # three quarters of the population at most


def test_without_a_training_size_each_model_takes_half_its_pool() -> None:
    rows = reference_subsets("online", 400, 300, 4, np.random.default_rng(0))
    assert rows.shape == (4, 350)
    assert reference_subsets("offline", 400, 300, 4, np.random.default_rng(0)).shape == (4, 150)
