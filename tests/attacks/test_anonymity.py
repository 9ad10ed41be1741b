"""Anonymeter-style risks on SUPPORT2: a copy of member records leaks a hidden attribute,
population records do not; singling out on a toy release with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.attacks.records.anonymity import inference_risk, linkability_risk, singling_out_risk
from auditor.core.encoding import CategoricalFeature, FeatureEncoding, NumericFeature, fit_encoding
from auditor.data.embedded import CATEGORICAL, NUMERIC, load_support2, split_patients


@pytest.fixture(scope="module")
def splits() -> tuple[FeatureEncoding, dict[str, np.ndarray]]:
    parts = split_patients(load_support2(), seed=7).as_dict()
    enc = fit_encoding(parts["members"], numeric=list(NUMERIC), categorical=list(CATEGORICAL))
    return enc, {name: enc.encode(frame) for name, frame in parts.items()}


def test_copy_of_members_leaks_race_and_population_records_do_not(splits: tuple) -> None:
    enc, x = splits
    targets, control = x["members"][:500], x["non_members"][:500]
    rng = np.random.default_rng(0)
    copy = inference_risk(
        x["members"][:1000], targets, control, enc, "race", rng=rng, confidence=0.95
    )["risk"]
    assert copy["lower"] > 0.0
    other = inference_risk(
        x["population"][:1000], targets, control, enc, "race", rng=rng, confidence=0.95
    )["risk"]
    assert other["lower"] <= 0.0 <= other["upper"]
    linked = linkability_risk(x["members"][:1000], targets, control, enc, confidence=0.95)
    assert linked["risk"]["lower"] > 0.0


def test_singling_out_on_a_toy_release() -> None:
    enc = FeatureEncoding(
        numeric=(NumericFeature("age", 0.0, 1.0),),
        categorical=(CategoricalFeature("sex", ("f", "m")),),
    )
    released = np.array([[5.0, 1, 0], [0.0, 0, 1], [0.1, 0, 1]], dtype=np.float32)
    members = np.array([[5.0, 1, 0], [0.0, 0, 1], [0.2, 0, 1], [0.3, 0, 1]], dtype=np.float32)
    control = np.array([[1.0, 1, 0], [0.0, 0, 1], [6.0, 1, 0], [7.0, 0, 1]], dtype=np.float32)
    result = singling_out_risk(released, members, control, enc, confidence=0.95)
    # age >= 5 and sex == f each isolate the first released sample; both isolate exactly
    # one member; in the control set age >= 5 holds for two records, sex == f for two.
    assert result["predicates"] == 3  # age <= 0, age >= 5, sex == f
    assert result["attack"]["value"] == pytest.approx(3 / 3)
    assert result["control"]["value"] == pytest.approx(1 / 3)


def test_per_record_outcomes_pick_out_the_copied_members(splits: tuple) -> None:
    """A release copying 100 of 500 targeted members: the linkability attack's successes
    sit on those 100 (their positions), beyond what the control rate explains. (Not all
    100: a copy ties on its categorical half with other released records.)"""
    enc, x = splits
    targets, control = x["members"][:500], x["non_members"][:500]
    positions = np.arange(500) + 1000  # rows of the members' table the targets came from
    copied = np.r_[x["members"][:100], x["population"][:900]]
    linked = linkability_risk(copied, targets, control, enc, confidence=0.95, positions=positions)
    record = linked["per_record"]
    assert record["attacked"] == 500 and record["succeeded"] == len(record["positions"])
    hits = np.array(record["positions"]) - 1000
    # measured: 75 successes, 74 of them copied members; the control set links none
    assert (hits < 100).sum() >= 0.95 * record["succeeded"] and record["succeeded"] >= 50
    assert record["beyond_control"] >= 50
    inferred = inference_risk(
        copied, targets, control, enc, "race", rng=np.random.default_rng(0), confidence=0.95
    )["per_record"]
    assert "positions" not in inferred and inferred["succeeded"] >= 100


def test_singling_out_names_the_members_it_isolates() -> None:
    """A release whose oldest record is a member's copy: the predicate "age >= max" isolates
    that member (position 7) and no control record."""
    enc = FeatureEncoding(numeric=(NumericFeature("age", 0.0, 1.0),), categorical=())
    members = np.array([[0.1], [0.2], [0.3], [0.4], [0.5], [0.6], [0.7], [3.0]])
    control = np.array([[0.15], [0.25], [0.35], [0.45], [0.55], [0.65], [0.75], [0.85]])
    released = np.array([[0.3], [0.5], [3.0]])
    risk = singling_out_risk(
        released, members, control, enc, confidence=0.95, positions=np.arange(8)
    )
    record = risk["per_record"]
    assert 7 in record["positions"] and record["succeeded"] == len(record["positions"])
    assert record["beyond_control"] >= 1
