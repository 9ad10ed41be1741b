"""The plain-language summary carries the strongest attack, the DP claim and the gates."""

from __future__ import annotations

from reports.summary import summary_context


def _est(v: float) -> dict:
    return {"value": v, "lower": v - 0.05, "upper": v + 0.05, "resolvable": True, "note": None}


def test_sentences() -> None:
    result = {
        "artifact": {
            "kind": "model",
            "file_name": "m.safetensors",
            "scheme": "dp_sgd",
            "claims": {"epsilon": 3.0},
        },
        "privacy": {
            "membership": {
                "loss": {"tpr_at_fpr": {"0.001": _est(0.1)}, "epsilon_lower_bound": {"value": 0.5}},
                "rmia": {
                    "tpr_at_fpr": {"0.001": _est(0.2)},
                    "epsilon_lower_bound": {"value": 1.25},
                },
            }
        },
        "utility": {"artifact": {"auroc": _est(0.7)}},
        "gates": [{"passed": True}, {"passed": False}],
    }
    text = " ".join(summary_context(result))
    assert "strongest of 2 attacks (rmia, chosen after the fact) picks out 20.0%" in text
    assert "interval 15.0% to 25.0%" in text
    assert "(epsilon): 1.250, against a claimed epsilon of 3.000" in text
    assert "Release gates: 1 of 2 passed." in text


def test_unresolvable_low_fpr_is_said_not_zeroed() -> None:
    result = {"privacy": {"membership": {"loss": {"tpr_at_fpr": {"0.001": {"value": None}}}}}}
    text = " ".join(summary_context(result))
    assert "Too few non-members" in text and "0.0%" not in text
