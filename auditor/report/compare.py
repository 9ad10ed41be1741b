"""One report over several audit results: the privacy-utility frontier.

Each result contributes one point: its utility AUROC and the largest TPR at 0.1% FPR any of
its membership attacks reached (the attacker picks the best attack), both with intervals.
Rendered from the result documents alone, like the single-run report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.figures import figure_json
from auditor.report.formatting import fmt_interval, signature_label
from auditor.report.render import confidence_label, environment, plotly_bundle

FPR = "0.001"


def _strongest(result: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    best_name, best = "none", None
    for name, figures in sorted(result.get("privacy", {}).get("membership", {}).items()):
        entry = figures.get("tpr_at_fpr", {}).get(FPR)
        if (
            entry
            and entry.get("value") is not None
            and (best is None or entry["value"] > best["value"])
        ):
            best_name, best = name, entry
    return best_name, best


def _point(result: Mapping[str, Any]) -> dict[str, Any]:
    run, artifact = result.get("run", {}), result.get("artifact", {})
    auroc = result.get("utility", {}).get("artifact", {}).get("auroc", {})
    attack, tpr = _strongest(result)
    gates = result.get("gates", [])
    return {
        "name": str(run.get("name", "unnamed")),
        "kind": str(artifact.get("kind", "")),
        "file_name": str(artifact.get("file_name", "")),
        "scheme": str(artifact.get("scheme", "")),
        "auroc": fmt_interval(auroc),
        "attack": attack,
        "tpr": fmt_interval(tpr) if tpr else "not resolvable",
        "unresolvable": tpr is None,
        "gates": f"{sum(g['passed'] for g in gates)}/{len(gates)} pass" if gates else "none",
        "signature": signature_label(result),
        "_auroc": auroc,
        "_tpr": tpr,
    }


def frontier_figure(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Scatter of TPR at 0.1% FPR against AUROC with both intervals as error bars."""
    shown = [p for p in points if p["_tpr"] and p["_auroc"].get("value") is not None]

    def bars(key: str, end: str) -> list[float]:
        return [abs(p[key][end] - p[key]["value"]) for p in shown]

    trace = {
        "type": "scatter",
        "mode": "markers+text",
        "x": [p["_auroc"]["value"] for p in shown],
        "y": [p["_tpr"]["value"] for p in shown],
        "text": [
            p["name"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for p in shown
        ],
        "textposition": "top center",
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": bars("_auroc", "upper"),
            "arrayminus": bars("_auroc", "lower"),
        },
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": bars("_tpr", "upper"),
            "arrayminus": bars("_tpr", "lower"),
        },
    }
    return {
        "data": [trace],
        "layout": {
            "xaxis": {"title": {"text": "utility: AUROC on the test split"}},
            "yaxis": {"title": {"text": "TPR at 0.1% FPR (strongest attack)"}},
            "showlegend": False,
            "margin": {"t": 30},
        },
    }


def render_comparison(results: list[dict[str, Any]]) -> str:
    """HTML comparing several results (deterministic; order as given)."""
    points = [_point(r) for r in results]
    confidence = confidence_label(results[0].get("run", {})) if results else "95%"
    return (
        environment()
        .get_template("compare.html.j2")
        .render(
            title="Privacy-utility comparison",
            runs=points,
            confidence=confidence,
            fpr_label="0.1%",
            frontier_json=figure_json(frontier_figure(points)),
            plotly_js=plotly_bundle(),
        )
    )
