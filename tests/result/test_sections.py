"""`result.sections`: the typed reader of the fairness section reads the current shape as
it is and upgrades results written before every figure had the estimate shape."""

from __future__ import annotations

from auditor.result.sections import estimate_of, fairness_of

CURRENT = {
    "fairness": {
        "sex": {
            "groups": {
                "female": {
                    "n": 900,
                    "recall": {"value": 0.8, "lower": 0.75, "upper": 0.84, "method": "exact"},
                    "auroc": {"value": 0.74, "lower": 0.71, "upper": 0.78, "method": "boot"},
                    "false_positive_rate": {"value": 0.4},
                }
            },
            "recall_gap": {"value": 0.03, "lower": 0.01, "upper": 0.06},
        }
    }
}
LEGACY = {
    "fairness": {
        "sex": {
            "groups": {
                "female": {
                    "n": 900,
                    "recall": 0.8,
                    "auroc": 0.74,
                    "false_positive_rate": 0.4,
                    "recall_interval": {"lower": 0.75, "upper": 0.84, "method": "exact"},
                    "auroc_interval": {"lower": 0.71, "upper": 0.78, "method": "boot"},
                }
            },
            "recall_gap": {"value": 0.03, "lower": 0.01, "upper": 0.06},
        }
    }
}


def test_a_legacy_result_reads_as_the_current_shape() -> None:
    assert fairness_of(LEGACY) == fairness_of(CURRENT)
    group = fairness_of(CURRENT)["sex"]["groups"]["female"]
    assert group["recall"] == CURRENT["fairness"]["sex"]["groups"]["female"]["recall"]


def test_values_of_the_wrong_type_read_as_missing() -> None:
    broken = {"fairness": {"sex": {"groups": {"a": {"n": True, "recall": "high"}}}, "x": [1]}}
    read = fairness_of(broken)
    assert read["sex"]["groups"]["a"]["n"] is None
    assert read["sex"]["groups"]["a"]["recall"] == {"value": None}
    assert read["x"] == {"groups": {}}
    assert fairness_of([]) == {} and fairness_of({"fairness": "none"}) == {}
    assert estimate_of(0.5, {"lower": "a", "upper": 0.7}) == {
        "value": 0.5,
        "lower": None,
        "upper": 0.7,
    }
