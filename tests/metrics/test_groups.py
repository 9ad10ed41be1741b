"""Membership figures by patient group."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from auditor.metrics.groups import _auc, _group_aucs, auc_gap_p_value, group_figures
from auditor.metrics.membership import membership_figures


def _scores(seed: int, shift_a: float, shift_b: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = 2000
    is_member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    groups = np.where(rng.uniform(size=2 * n) < 0.5, "a", "b")
    shift = np.where(groups == "a", shift_a, shift_b)
    return rng.normal(size=2 * n) + shift * is_member, is_member, groups


def test_one_group_holding_everyone_equals_the_overall_figure() -> None:
    scores, is_member, _ = _scores(0, 0.5, 0.5)
    everyone = np.array(["all"] * len(scores))
    by_group = group_figures(
        scores, is_member, everyone, rng=np.random.default_rng(1), replicates=100, confidence=0.95
    )
    overall = membership_figures(
        scores, is_member, rng=np.random.default_rng(1), replicates=100, confidence=0.95, delta=1e-5
    )
    group = by_group["groups"]["all"]
    assert group["auc"]["value"] == overall["auc"]["value"]
    assert group["tpr_at_fpr"]["0.01"]["value"] == overall["tpr_at_fpr"]["0.01"]["value"]
    assert by_group["gaps"]["auc"]["resolvable"] is False  # one group: no gap


def test_gap_found_when_one_group_leaks_and_not_when_none_does() -> None:
    leaky = group_figures(
        *_scores(2, 1.0, 0.0), rng=np.random.default_rng(3), replicates=200, confidence=0.95
    )
    assert leaky["gaps"]["auc"]["highest"] == "a" and leaky["gaps"]["auc"]["p_value"] < 0.01
    same = group_figures(
        *_scores(4, 0.3, 0.3), rng=np.random.default_rng(5), replicates=200, confidence=0.95
    )
    assert same["gaps"]["auc"]["p_value"] > 0.05


def test_fast_auc_equals_sklearn() -> None:
    scores, is_member, _ = _scores(6, 0.4, 0.4)
    scores = np.round(scores, 1)  # ties
    assert _auc(scores, is_member) == pytest.approx(roc_auc_score(is_member, scores), abs=1e-12)


def test_permutation_aucs_are_the_per_group_aucs_bit_for_bit() -> None:
    """All rounds at once: each round's group AUCs equal `_auc` on that round's groups,
    with tied scores and three unequal groups."""
    rng = np.random.default_rng(7)
    n = 300
    is_member = rng.uniform(size=n) < 0.4
    scores = np.round(rng.normal(size=n) + 0.5 * is_member, 1)
    names = np.array(["a", "b", "c"])
    labels = rng.choice(3, size=(20, n), p=[0.5, 0.3, 0.2])
    for stratum in (is_member, ~is_member):  # sizes per group kept, as permutations keep them
        labels[:, stratum] = np.sort(labels[0, stratum])[
            rng.permuted(np.tile(np.arange(stratum.sum()), (20, 1)), axis=1)
        ]
    fast = _group_aucs(scores, is_member, labels, 3)
    for r in range(20):
        for code in range(3):
            rows = labels[r] == code
            assert fast[r, code] == _auc(scores[rows], is_member[rows]), (r, names[code])


@pytest.mark.parametrize("block", [None, 7])  # rounds all at once, or 7 at a time
def test_permutation_p_value_equals_the_round_by_round_test(
    block: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.metrics import groups as module

    if block is not None:
        monkeypatch.setattr(module, "ROUND_ENTRIES", block * 4000)
    scores, is_member, groups = _scores(8, 0.6, 0.4)
    scores = np.round(scores, 2)
    fast = auc_gap_p_value(
        scores, is_member, groups, ["b", "a"], rng=np.random.default_rng(9), rounds=100
    )
    rng = np.random.default_rng(9)

    def gap(labels: np.ndarray) -> float:
        aucs = [_auc(scores[labels == g], is_member[labels == g]) for g in ("a", "b")]
        return max(aucs) - min(aucs)

    null = []
    for _ in range(100):
        shuffled = groups.copy()
        for stratum in (is_member, ~is_member):
            shuffled[stratum] = rng.permutation(groups[stratum])
        null.append(gap(shuffled))
    expected = (1 + np.sum(np.array(null) >= gap(groups) - 1e-12)) / 101
    assert fast == expected


def test_no_permutation_rounds_give_p_one() -> None:
    scores, is_member, groups = _scores(10, 0.6, 0.4)
    rng = np.random.default_rng(0)
    assert auc_gap_p_value(scores, is_member, groups, ["a", "b"], rng=rng, rounds=0) == 1.0
