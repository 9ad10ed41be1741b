"""The re-identification section appears for dataset results only, escaped, with notes."""

from __future__ import annotations

from auditor.report.reidentification import reidentification_context


def _rate(v: float) -> dict:
    return {"value": v, "lower": v - 0.05, "upper": v + 0.05, "resolvable": True, "note": None}


def test_absent_for_model_results() -> None:
    assert reidentification_context({"privacy": {"membership": {}}}) is None


def test_rows_and_unmeasured_risk_note() -> None:
    result = {
        "privacy": {
            "linkage": {
                "released": 20,
                "dcr_linkage": _rate(0.75),
                "baseline": 0.5,
                "median_dcr_member": 1.0,
                "median_dcr_non_member": 1.2,
                "median_nndr_member": 0.9,
                "median_nndr_non_member": 0.95,
            },
            "linkability": {"attack": _rate(0.1), "control": _rate(0.1), "risk": _rate(0.0)},
            "inference": {
                "<b>x</b>": {
                    "risk": {
                        "value": None,
                        "lower": None,
                        "upper": None,
                        "resolvable": False,
                        "note": "not attacked",
                    }
                },
            },
        }
    }
    context = reidentification_context(result)
    assert context is not None
    assert (
        "Share closer to a member than to any non-member (DCR linkage)",
        "0.750 [0.700, 0.800]",
    ) in context["rows"]
    labels = {row["label"]: row for row in context["risks"]}
    assert labels["Inference of <b>x</b>"]["risk"] == "not attacked"

    from auditor.report import render_report

    html = render_report({"run": {"name": "d"}, **result, "gates": []})
    assert 'id="reidentification"' in html
    assert "Inference of &lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
