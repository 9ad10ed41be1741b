"""The plain-language summary carries the strongest attack, the DP claim and the gates."""

from __future__ import annotations

from auditor.report.summary import summary_context


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


def test_artifact_beside_real_records_and_dp_baseline() -> None:
    from auditor.report.summary import beside_context

    def side(auc: float, tpr: float, auroc: float) -> dict:
        membership = {"auc": _est(auc), "tpr_at_fpr": {"0.01": _est(tpr), "0.001": _est(tpr)}}
        return {"membership": membership, "utility": {"auroc": _est(auroc)}}

    result = {
        "privacy": {"membership": {"loss@mlp": side(0.8, 0.3, 0)["membership"]}},
        "utility": {"artifact": {"auroc": _est(0.75)}},
        "baselines": {
            "attack": "loss",
            "real_records": {**side(0.6, 0.1, 0.77), "description": "real"},
            "dp_sgd": {**side(0.5, 0.06, 0.7), "description": "dp", "claims": {"epsilon": 2.5}},
        },
    }
    beside = beside_context(result)
    assert beside is not None and beside["attack"] == "loss@mlp"
    assert [r["auc"] for r in beside["rows"]] == [
        "0.800 [0.750, 0.850]",
        "0.600 [0.550, 0.650]",
        "0.500 [0.450, 0.550]",
    ]
    assert beside["rows"][2]["label"] == "DP-SGD model on the real records (epsilon 2.500)"
    assert beside["rows"][0]["auroc"] == "0.750 [0.700, 0.800]"
    text = " ".join(summary_context(result))
    assert (
        "picks out 30.0% (25.0% to 35.0%) from the shared artifact; 10.0% (5.0% to 15.0%)" in text
    )
    assert "from a DP-SGD model of them (epsilon 2.500)" in text
    assert beside_context({"privacy": {}}) is None


def test_the_summary_reads_the_strongest_attack_whose_references_hold() -> None:
    def attack(tpr: float, flagged: bool) -> dict[str, object]:
        estimate = {"value": tpr, "lower": tpr / 2, "upper": tpr * 2}
        return {"tpr_at_fpr": {"0.001": estimate}, "reference_fidelity": {"flagged": flagged}}

    membership = {"rmia": attack(0.3, True), "lira_offline": attack(0.05, False)}
    text = " ".join(summary_context({"privacy": {"membership": membership}}))
    assert "strongest of 1 attacks (lira_offline" in text and "(rmia" not in text
