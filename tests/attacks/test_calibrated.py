"""LiRA and RMIA: their scoring rules on known distributions, and on the fixtures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from auditor.attacks.membership.lira import offline_scores, online_scores
from auditor.attacks.membership.rmia import offline_prior, rmia_scores


def test_lira_online_prefers_the_in_distribution() -> None:
    rng = np.random.default_rng(0)
    k, n = 32, 200
    in_mask = np.zeros((k, n), bool)
    in_mask[: k // 2] = True
    stats = np.where(in_mask, rng.normal(3.0, 1.0, (k, n)), rng.normal(0.0, 1.0, (k, n)))
    members = online_scores(np.full(n, 3.0), stats, in_mask, fixed=False)
    others = online_scores(np.full(n, 0.0), stats, in_mask, fixed=False)
    assert (members > 0).all() and (others < 0).all()
    fixed = online_scores(np.full(n, 3.0), stats, in_mask, fixed=True)
    assert (fixed > 0).all()


def test_lira_offline_works_with_one_reference_model() -> None:
    stats = np.array([[0.0, 1.0, 2.0, 3.0]])  # one model, four records
    scores = offline_scores(np.array([5.0, 1.0, 2.0, 0.0]), stats, np.ones_like(stats, bool), True)
    assert np.all(np.isfinite(scores))
    assert scores[0] > scores[1] and scores[2] > scores[3]


def test_rmia_share_of_population_beaten() -> None:
    ratio_z = np.array([0.5, 1.0, 2.0, 4.0])
    assert rmia_scores(np.array([0.1, 1.5, 10.0]), ratio_z, gamma=1.0).tolist() == [0, 0.5, 1]
    ref = np.array([[0.2, 0.8], [0.4, 0.6]])
    prior = offline_prior(ref, np.ones_like(ref, bool), a=0.3)
    np.testing.assert_allclose(prior, 0.5 * (1.3 * np.array([0.3, 0.7]) + 0.7))


@pytest.mark.slow
def test_lira_and_rmia_beat_loss_at_low_fpr_on_the_overfit_fixture(
    demo_results: dict[str, Any],
) -> None:
    membership = demo_results["overfit"]["privacy"]["membership"]
    loss = membership["loss"]["tpr_at_fpr"]["0.001"]
    for name in ("lira_online", "rmia"):
        figure = membership[name]["tpr_at_fpr"]["0.001"]
        assert figure["value"] > loss["upper"], name
    assert membership["rmia"]["tpr_at_fpr"]["0.001"]["lower"] > loss["upper"]


@pytest.mark.slow
def test_no_interval_above_the_diagonal_for_a_model_that_never_saw_them(
    demo_results: dict[str, Any],
) -> None:
    # Coarse scores (label-only, ART's forest probabilities) tie, so their TPR at a low
    # FPR sits at or below the diagonal; no attack may sit above it.
    for name, figures in demo_results["population"]["privacy"]["membership"].items():
        assert figures["auc"]["lower"] <= 0.5 <= figures["auc"]["upper"], name
        for target, tpr in figures["tpr_at_fpr"].items():
            assert tpr["lower"] <= float(target), (name, target)
