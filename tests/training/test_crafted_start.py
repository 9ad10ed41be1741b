"""The crafted start of the last-iterate canary game (`training.crafted_start`) on SUPPORT2:
each canary owns a hidden unit that no patient and no other canary activates, starts far on
the wrong side of its label, and the black-box game through it refutes a broken DP-SGD in 8
runs and keeps a correct one below its claim; refused where it cannot be built."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from auditor.core.encoding import fit_encoding
from auditor.core.scores import logit_scaled_confidence
from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2, split_patients
from auditor.demo.dp_audit import DP_AUDIT_FIXTURES
from auditor.metrics.dp_audit import dp_audit_bounds
from auditor.training.canaries import play_canary_game
from auditor.training.crafted_start import (
    OUTPUT_WEIGHT,
    RADIUS,
    SCALE,
    craft_start,
    crafted_capacity,
    start_ensemble,
)
from auditor.training.ensembles import init_ensemble
from auditor.training.recipes.base import RecipeInput


@pytest.fixture(scope="module")
def support2() -> tuple[RecipeInput, RecipeInput]:
    splits = split_patients(load_support2(), seed=0)
    enc = fit_encoding(splits.members, numeric=list(NUMERIC), categorical=list(CATEGORICAL))

    def encode(frame: object) -> RecipeInput:
        return RecipeInput(enc.encode(frame), frame[LABEL].to_numpy())  # type: ignore[index]

    return encode(splits.members), encode(splits.population)


def _hidden(start_params: dict[str, torch.Tensor], x: np.ndarray) -> np.ndarray:
    w, b = start_params["net.0.weight"].numpy(), start_params["net.0.bias"].numpy()
    return x @ w.T + b  # first-layer pre-activations


def test_each_canary_owns_a_unit_no_patient_activates(
    support2: tuple[RecipeInput, RecipeInput],
) -> None:
    members, population = support2
    d = members.x.shape[1]
    m = crafted_capacity((64,), d)
    assert m == 64
    labels = np.random.default_rng(0).integers(0, 2, m)
    every_patient = np.concatenate([members.x, population.x])
    start = craft_start((64,), d, labels, 2, reach=float(np.abs(every_patient).max()))
    assert (_hidden(start.params, every_patient) < 0).all()  # dead for every patient
    firing = _hidden(start.params, start.x) > 0
    assert (firing == np.eye(m, dtype=bool)).all()  # canary j fires unit j only
    # Through the ensemble's own forward pass: every canary starts as many logits on the
    # wrong side of its label as its unit's activation, in every model.
    ens = init_ensemble(DP_AUDIT_FIXTURES["dp_eps8"], d, 2, [1, 2], torch.device("cpu"))
    start_ensemble(ens.params, start)
    margins = np.stack([logit_scaled_confidence(lk, labels) for lk in ens.logits(start.x)])
    radius = float(np.abs(start.x).max())
    assert radius == pytest.approx(max(RADIUS, 4 * np.abs(every_patient).max()))
    assert margins == pytest.approx(np.full((2, m), -OUTPUT_WEIGHT * SCALE * radius / 2), rel=1e-5)


def test_deeper_mlps_pass_the_unit_on_and_multilabel_starts_wrong_on_every_label() -> None:
    labels = np.random.default_rng(1).integers(0, 2, (6, 3))
    start = craft_start((8, 6, 10), 4, labels, 3, reach=3.0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 6),
        torch.nn.ReLU(),
        torch.nn.Linear(6, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(10, 3),
    )
    net.load_state_dict({k.removeprefix("net."): v for k, v in start.params.items()})
    with torch.no_grad():
        logits = net(torch.from_numpy(start.x)).numpy()
        # a patient-like record (within 3 standard deviations) reaches only the output bias
        assert net(torch.full((1, 4), 3.0)).abs().max() == 0.0
    assert ((logits > 0) == (labels == 0)).all()  # every label on its wrong side
    with pytest.raises(ValueError, match="holds 6"):
        craft_start((8, 6, 10), 4, np.zeros(7, dtype=int), 2, reach=3.0)


@pytest.mark.slow
def test_the_last_iterate_game_refutes_broken_dp_sgd_and_respects_a_correct_one(
    support2: tuple[RecipeInput, RecipeInput],
) -> None:
    members, population = support2

    def bounds(name: str) -> dict:
        hp = DP_AUDIT_FIXTURES[name]
        game = play_canary_game(
            "crafted", hp, members, population, runs=8, canaries=64, seed=3, device="cpu"
        )
        assert game.scores.shape == (8, 64) and game.dp_sgd
        return dp_audit_bounds(
            game.scores,
            game.included,
            delta=1e-5,
            confidence=0.95,
            seed=4,
            claimed=hp.target_epsilon,
            family="gaussian",
            standardise=True,
        )

    # A tenth of the noise: a claim of 1 refuted from the final models alone, in 8 runs
    # (the ood canaries needed 16), also by the bounds that assume no trade-off shape.
    broken = bounds("dp_broken")
    assert broken["claim_refuted"] and broken["refuted_without_assumption"]
    assert broken["fdp_one_run"]["value"] > 1.0 and broken["one_run"]["value"] > 1.0
    correct = bounds("dp_eps1")
    assert not correct["claim_refuted"]
