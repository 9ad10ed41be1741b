"""Membership figures against scikit-learn and scipy, and the FPR-resolution rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score, roc_curve

from auditor.core.estimates import clopper_pearson_upper
from auditor.metrics.membership import epsilon_lower_bound, membership_figures, read_roc


def _scores(seed: int, shift: float, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    scores = rng.normal(size=2 * n) + shift * is_member
    return scores, is_member


def test_auc_and_tpr_equal_sklearn() -> None:
    scores, is_member = _scores(0, 1.0)
    scores = np.round(scores, 1)  # ties, the case interpolation gets wrong
    point = read_roc(scores, is_member)
    assert point.auc == pytest.approx(roc_auc_score(is_member, scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(is_member, scores)  # sklearn's own (dropped intermediates)
    for target in (0.01, 0.001):
        assert point.tpr_at[target] == pytest.approx(tpr[fpr <= target].max(), abs=1e-12)


def test_intervals_cover_truth_and_unresolvable_fpr_is_not_a_number() -> None:
    scores, is_member = _scores(1, 0.0, n=500)
    figs = membership_figures(
        scores,
        is_member,
        rng=np.random.default_rng(0),
        replicates=300,
        confidence=0.95,
        delta=1e-5,
    )
    assert figs["auc"]["lower"] <= 0.5 <= figs["auc"]["upper"]
    low = figs["tpr_at_fpr"]["0.001"]
    assert low["resolvable"] is False and low["value"] is None
    assert "not resolvable with 500 non-members" in low["note"]
    assert figs["tpr_at_fpr"]["0.01"]["resolvable"] is True


def test_clopper_pearson_matches_scipy_binomtest() -> None:
    for k, n in [(0, 50), (3, 50), (49, 50), (50, 50), (7, 1000)]:
        # one-sided 97.5% upper bound = upper end of the two-sided 95% exact interval
        expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact").high
        got = clopper_pearson_upper(np.array([k]), np.array([n]), alpha=0.025)[0]
        assert got == pytest.approx(expected, rel=1e-9)


def test_epsilon_bound_zero_without_signal_and_positive_with_it() -> None:
    rng = np.random.default_rng(3)
    noise, is_member = _scores(2, 0.0)
    assert epsilon_lower_bound(noise, is_member, rng=rng, delta=1e-5, confidence=0.95) < 0.2
    separated = is_member.astype(float) + rng.normal(scale=0.01, size=len(is_member))
    eps = epsilon_lower_bound(separated, is_member, rng=rng, delta=1e-5, confidence=0.95)
    # perfect separation on 1000 + 1000 held-out records: FPR, FNR <= 0.0037 at 97.5%
    assert eps > np.log((1 - 0.0037) / 0.0037) - 0.05


def test_saturated_scores_stay_ranked() -> None:
    # A confident member at loss 1e-20 must rank above one at 1e-10: no saturation.
    from auditor.core.scores import true_class_log_prob

    logits = np.array([[0.0, 46.0], [0.0, 23.0], [0.0, 5.0]], dtype=np.float32)
    log_p = true_class_log_prob(logits, np.array([1, 1, 1]))
    assert log_p[0] > log_p[1] > log_p[2]
    assert log_p[0] < 0.0


def test_roc_band_reads_the_curve_and_brackets_it() -> None:
    scores, is_member = _scores(4, 1.0, n=1000)
    figs = membership_figures(
        scores,
        is_member,
        rng=np.random.default_rng(0),
        replicates=200,
        confidence=0.95,
        delta=1e-5,
    )
    band = figs["roc_band"]
    fpr, tpr, _ = roc_curve(is_member, scores, drop_intermediate=False)
    assert band["fpr"][0] == pytest.approx(1 / 1000) and band["fpr"][-1] == 1.0
    for x, y, lo, hi in zip(band["fpr"], band["tpr"], band["lower"], band["upper"], strict=True):
        assert y == pytest.approx(tpr[fpr <= x + 1e-12].max(), abs=1e-12)  # sklearn's curve
        assert lo <= y <= hi
    assert np.all(np.diff(band["tpr"]) >= 0) and band["upper"][-1] == 1.0
    # a real band: wide at the lowest FPR, where few non-members decide the threshold
    assert band["upper"][0] - band["lower"][0] > band["upper"][-2] - band["lower"][-2]


@pytest.mark.parametrize("tied", [False, True], ids=["distinct scores", "tied scores"])
def test_replicates_at_once_equal_the_one_at_a_time_sklearn_loop(tied: bool) -> None:
    """Each replicate of the vectorised bootstrap is the resample the loop drew, read by
    scikit-learn's curve: TPR at each FPR and the advantage bit for bit, the AUC to 1e-12
    (exact trapezoids against scikit-learn's float sum); the stream ends where the loop's
    ends, so later draws (the epsilon bound's split) do not move."""
    from auditor.metrics.membership import band_grid, bootstrap_rocs

    rng = np.random.default_rng(3)
    is_member = rng.random(300) < 0.4
    scores = rng.normal(0.4 * is_member, 1.0)
    if tied:
        scores = np.round(scores, 1)  # many ties, across members and non-members
    grid = band_grid(int((~is_member).sum()))
    point, boots = bootstrap_rocs(
        scores, is_member, rng=np.random.default_rng(9), replicates=300, grid=grid
    )
    loop = np.random.default_rng(9)
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    for r in range(300):
        i = np.concatenate([loop.choice(members, len(members)), loop.choice(others, len(others))])
        expected = read_roc(scores[i], is_member[i], grid)
        assert boots.auc[r] == pytest.approx(expected.auc, abs=1e-12)
        assert boots.advantage[r] == expected.advantage
        assert {t: v[r] for t, v in boots.tpr_at.items()} == expected.tpr_at
        assert tuple(boots.band[r]) == expected.band
    assert point == read_roc(scores, is_member, grid)
    after = np.random.default_rng(9)
    bootstrap_rocs(scores, is_member, rng=after, replicates=300, grid=grid)
    assert after.random() == loop.random()


def test_the_replicate_block_bounds_memory_and_leaves_the_figures_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 400,000 candidates a block of 256 replicates would hold ~5 GB: the block shrinks
    to the memory budget, and a smaller block gives the same replicates bit for bit."""
    from auditor.metrics import membership

    assert membership.replicate_block(2_000) == 256
    assert membership.replicate_block(400_000) * 400_000 * 48 <= membership.BLOCK_BYTES
    rng = np.random.default_rng(5)
    is_member = rng.random(500) < 0.5
    scores = rng.normal(0.3 * is_member, 1.0)
    whole = membership.bootstrap_rocs(
        scores, is_member, rng=np.random.default_rng(1), replicates=50
    )
    monkeypatch.setattr(membership, "BLOCK_BYTES", 48 * 500 * 7)  # blocks of 7 replicates
    assert membership.replicate_block(500) == 7
    blocked = membership.bootstrap_rocs(
        scores, is_member, rng=np.random.default_rng(1), replicates=50
    )
    np.testing.assert_array_equal(whole[1].auc, blocked[1].auc)
    for t in whole[1].tpr_at:
        np.testing.assert_array_equal(whole[1].tpr_at[t], blocked[1].tpr_at[t])
