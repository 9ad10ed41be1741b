"""One report over several audit results: the privacy-utility frontier.

Each result contributes one point: its utility AUROC and the largest TPR at 0.1% FPR any of
its membership attacks reached (the attacker picks the best attack), both with intervals.
The TPR axis is logarithmic, floored at 1 / non-members (a TPR of 0, or an interval end
below it, is drawn on the floor, which is marked); each artifact is its own trace, named in
the legend and the hover text, so no label is drawn over another. Results on different data
(other member or test splits, by their SHA-256) are not comparable: each data set gets its
own figure. Rendered from the result documents alone, like the single-run report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from auditor.report.figures import PALETTE, figure_json
from auditor.report.formatting import as_mapping, fmt_interval, signature_label
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


def _data_key(result: Mapping[str, Any]) -> str:
    """What makes two results comparable: the same members and test splits."""
    splits = as_mapping(as_mapping(result.get("data")).get("splits"))
    return "/".join(str(as_mapping(splits.get(s)).get("sha256", "")) for s in ("members", "test"))


def _non_members(result: Mapping[str, Any]) -> int:
    attacks = as_mapping(as_mapping(result.get("privacy")).get("membership")).values()
    counts = [as_mapping(a).get("n_non_members") for a in attacks]
    return max((c for c in counts if isinstance(c, int) and c > 0), default=0)


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
        "_data": _data_key(result),
        "_non_members": _non_members(result),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def frontier_figure(points: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    """TPR at 0.1% FPR (log axis, floored at 1 / non-members) against AUROC, one trace per
    artifact with both intervals as error bars."""
    shown = [p for p in points if p["_tpr"] and p["_auroc"].get("value") is not None]
    largest = max((p["_non_members"] for p in shown), default=0)
    floor = 1.0 / largest if largest else 1e-4
    data = []
    for i, p in enumerate(shown):
        value, low, high = (p["_tpr"].get(k) for k in ("value", "lower", "upper"))
        y = max(value, floor)
        low = max(low if low is not None else value, floor)
        high = max(high if high is not None else value, floor)
        a = p["_auroc"]
        name = _escape(p["name"])
        note = " (0: drawn on the floor)" if value < floor else ""
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [a["value"]],
                "y": [y],
                "marker": {
                    "size": 10,
                    "color": PALETTE[i % len(PALETTE)],
                    "symbol": "circle-open" if value < floor else "circle",
                },
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [abs((a.get("upper") or a["value"]) - a["value"])],
                    "arrayminus": [abs(a["value"] - (a.get("lower") or a["value"]))],
                },
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [high - y],
                    "arrayminus": [y - low],
                },
                "hovertemplate": f"{name}<br>AUROC %{{x:.3f}}<br>TPR at 0.1% FPR "
                f"{value:.4g}{note}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "title": {"text": _escape(title)},
            "xaxis": {"title": {"text": "utility: AUROC on the test split"}},
            "yaxis": {
                "type": "log",
                "title": {"text": "TPR at 0.1% FPR (strongest attack, log)"},
            },
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": floor,
                    "y1": floor,
                    "line": {"color": "#888888", "dash": "dot", "width": 1},
                }
            ],
            "annotations": [
                {
                    "xref": "paper",
                    "x": 1,
                    "y": math.log10(floor),
                    "xanchor": "right",
                    "yanchor": "bottom",
                    "text": f"floor: 1 / {largest} non-members" if largest else "floor",
                    "showarrow": False,
                    "font": {"size": 11, "color": "#555555"},
                }
            ],
            "legend": {"orientation": "v", "x": 1.02, "y": 1},
            "margin": {"t": 40, "r": 220},
            "height": 460,
        },
    }


def frontiers(points: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One frontier per data set (results on different data share no axis)."""
    by_data: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        by_data.setdefault(p["_data"], []).append(p)
    out = []
    for i, group in enumerate(by_data.values()):
        title = "" if len(by_data) == 1 else f"Data set {i + 1} ({len(group)} audits)"
        out.append({"id": f"fig-frontier-{i}", "json": figure_json(frontier_figure(group, title))})
    return out


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
            frontiers=frontiers(points),
            plotly_js=plotly_bundle(),
        )
    )
