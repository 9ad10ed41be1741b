"""Report sections for membership risk by group and attribute inference."""

from __future__ import annotations

from auditor.report import render_report
from auditor.report.groups import attribute_context, groups_context


def _est(v: float) -> dict:
    return {"value": v, "lower": v - 0.01, "upper": v + 0.01, "resolvable": True, "note": None}


RESULT = {
    "run": {"name": "g"},
    "privacy": {
        "membership": {
            "loss": {
                "by_group": {
                    "<i>sex</i>": {
                        "groups": {
                            "female": {
                                "n_members": 900,
                                "n_non_members": 950,
                                "auc": _est(0.6),
                                "tpr_at_fpr": {
                                    "0.01": _est(0.02),
                                    "0.001": {"value": None, "note": "not resolvable"},
                                },
                            },
                            "x": {"n_members": 3, "n_non_members": 2, "note": "too few"},
                        },
                        "gaps": {
                            "auc": {**_est(0.05), "p_value": 0.2},
                            "tpr_at_fpr_0.01": _est(0.01),
                        },
                    }
                }
            }
        },
        "attribute_inference": {
            "sex": {
                "members": {
                    "art_baseline": _est(0.58),
                    "art_blackbox": _est(0.59),
                    "loss_membership": _est(0.92),
                },
                "advantage_loss_membership": {"excess_on_members": _est(0.4)},
                "advantage_art_blackbox": {"excess_on_members": _est(0.0)},
            }
        },
    },
    "gates": [],
}


def test_group_rows_and_notes() -> None:
    (block,) = groups_context(RESULT)
    assert block["auc_gap"] == "0.050 [0.040, 0.060] (permutation p = 0.200)"
    assert [
        "female",
        "900 / 950",
        "0.600 [0.590, 0.610]",
        "n/a",  # a result without TPR at 10% FPR (written before it was measured)
        "0.020 [0.010, 0.030]",
        "not resolvable",
    ] in block["rows"]
    assert attribute_context(RESULT)[0]["loss_excess"] == "0.400 [0.390, 0.410]"


def test_sections_render_escaped() -> None:
    html = render_report(RESULT)
    assert 'id="privacy-by-group"' in html and 'id="attribute-inference"' in html
    assert "<i>sex</i>" not in html and "&lt;i&gt;sex&lt;/i&gt;" in html
