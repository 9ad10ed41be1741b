"""Plotly figures for the report, built as plain dicts (``{"data": [...], "layout": {...}}``).

The dicts hold only JSON values, so :func:`figure_json` serialises them deterministically.
Text taken from the result (attack and group names) is passed through :func:`plotly_text`:
plotly.js interprets a small HTML subset in labels, so ``&``, ``<`` and ``>`` are turned into
entities that plotly.js shows literally instead of as markup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.report.formatting import as_list, as_mapping, metric_label

_FONT = {"family": "Helvetica, Arial, sans-serif", "size": 12}
_DEFAULT_FLOOR = 1e-4


def plotly_text(text: Any) -> str:
    """Make a label literal for plotly.js by entity-encoding ``&``, ``<`` and ``>``."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finite(x: Any) -> float | None:
    """Return ``x`` as a float if it is a finite number, else None."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def _positive_points(fpr: Iterable[Any], tpr: Iterable[Any]) -> tuple[list[float], list[float]]:
    """Keep the ROC points a log-log plot can show: both coordinates finite and > 0."""
    xs: list[float] = []
    ys: list[float] = []
    for x_raw, y_raw in zip(fpr, tpr, strict=True):
        x, y = _finite(x_raw), _finite(y_raw)
        if x is not None and y is not None and x > 0 and y > 0:
            xs.append(x)
            ys.append(y)
    return xs, ys


def _base_layout(title: str) -> dict[str, Any]:
    """Layout settings shared by every figure."""
    return {
        "title": {"text": title},
        "font": dict(_FONT),
        "height": 420,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.2},
    }


# One colour per attack in the overlaid figure (colour-blind-safe Okabe-Ito, then greys).
PALETTE = (
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
    "#7f7f7f", "#b2b2b2",
)  # fmt: skip


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _chance_trace(floor: float) -> dict[str, Any]:
    """The chance diagonal (TPR = FPR) from the axis floor to 1, dashed."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": "chance (TPR = FPR)",
        "x": [floor, 1.0],
        "y": [floor, 1.0],
        "line": {"color": "#888888", "width": 1, "dash": "dash"},
        "hoverinfo": "skip",
    }


def overlaid_roc_figure(
    title: str, curves: list[tuple[str, list[float], list[float], Mapping[str, Any]]]
) -> dict[str, Any]:
    """Every attack's ROC curve on one log-log figure, each with its interval band in its
    own colour; a legend entry toggles an attack's curve and band together."""
    data: list[dict[str, Any]] = []
    floors = []
    for i, (name, fpr, tpr, band) in enumerate(curves):
        xs, ys = _positive_points(fpr, tpr)
        floors.extend([*xs[:1], *ys[:1]])
        colour = PALETTE[i % len(PALETTE)]
        label = plotly_text(name)
        group = {"legendgroup": f"attack-{i}"}
        for trace in _band_traces(band, 1e-12) if band else []:
            trace.update(group, showlegend=False, fillcolor=_rgba(colour, 0.12))
            data.append(trace)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": xs,
                "y": ys,
                "line": {"color": colour, "width": 2},
                "hovertemplate": "FPR %{x:.4g}<br>TPR %{y:.4g}<extra>" + label + "</extra>",
                **group,
            }
        )
    data.append(_chance_trace(min(floors) if floors else _DEFAULT_FLOOR))
    layout = _base_layout(plotly_text(title))
    layout["height"] = 480
    layout["xaxis"] = {"type": "log", "title": {"text": "False positive rate"}, "showgrid": True}
    layout["yaxis"] = {"type": "log", "title": {"text": "True positive rate"}, "showgrid": True}
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1, "title": {"text": "click to hide"}}
    layout["margin"] = {"l": 70, "r": 200, "t": 50, "b": 60}
    return {"data": data, "layout": layout}


def _band_traces(band: Mapping[str, Any], floor: float) -> list[dict[str, Any]]:
    """The interval band as two traces (upper, then lower filled up to it).

    Grid points whose upper end is 0 cannot be drawn on a log axis and are dropped; a lower
    end of 0 is drawn at the axis floor (the table beneath the figure gives it as 0).
    """
    xs, lows, highs = [], [], []
    for x_raw, lo_raw, hi_raw in zip(
        as_list(band.get("fpr")),
        as_list(band.get("lower")),
        as_list(band.get("upper")),
        strict=False,
    ):
        x, lo, hi = _finite(x_raw), _finite(lo_raw), _finite(hi_raw)
        if x is None or lo is None or hi is None or x <= 0 or hi <= 0:
            continue
        xs.append(x)
        lows.append(max(lo, floor))
        highs.append(hi)
    if not xs:
        return []
    confidence = _finite(band.get("confidence"))
    label = f"{confidence:.0%} interval" if confidence is not None else "interval"
    common = {"type": "scatter", "mode": "lines", "x": xs, "hoverinfo": "skip"}
    return [
        {**common, "y": highs, "line": {"width": 0}, "showlegend": False, "name": label},
        {
            **common,
            "y": lows,
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(31, 78, 121, 0.18)",
            "name": f"{label} (pointwise bootstrap)",
        },
    ]


def roc_figure(
    name: str, fpr: list[float], tpr: list[float], band: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """ROC curve of one membership attack on log-log axes, with the chance diagonal dashed
    and, if `band` is given (the result's ``roc_band``), the interval band shaded.

    Points with ``fpr == 0`` or ``tpr == 0`` (and non-finite points) are dropped because a log
    axis cannot show them; the tables keep every number. Raises ValueError if the lengths differ.
    """
    if len(fpr) != len(tpr):
        raise ValueError(f"ROC of {name!r}: {len(fpr)} FPR values but {len(tpr)} TPR values")
    xs, ys = _positive_points(fpr, tpr)
    floor = min([*xs, *ys]) if xs else _DEFAULT_FLOOR
    label = plotly_text(name)
    data: list[dict[str, Any]] = [
        *(_band_traces(band, floor) if band else []),
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "x": xs,
            "y": ys,
            "line": {"color": "#1f4e79", "width": 2},
            "marker": {"size": 4},
            "hovertemplate": "FPR %{x:.4g}<br>TPR %{y:.4g}<extra></extra>",
        },
        _chance_trace(floor),
    ]
    layout = _base_layout(f"ROC, {label} (log-log)")
    layout["xaxis"] = {"type": "log", "title": {"text": "False positive rate"}, "showgrid": True}
    layout["yaxis"] = {"type": "log", "title": {"text": "True positive rate"}, "showgrid": True}
    if not xs:
        layout["annotations"] = [
            {
                "text": "no ROC point with FPR > 0 and TPR > 0 to plot",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ]
    return {"data": data, "layout": layout}


def _estimate(entry: Any) -> tuple[float | None, float | None, float | None]:
    """(value, lower, upper) of a number or an estimate dict; non-finite parts become None."""
    if isinstance(entry, Mapping):
        return _finite(entry.get("value")), _finite(entry.get("lower")), _finite(entry.get("upper"))
    return _finite(entry), None, None


def fairness_figure(attribute: str, groups: dict[str, Any]) -> dict[str, Any]:
    """Grouped bar chart of recall and AUROC per group of one sensitive attribute, with
    error bars where the groups' figures carry intervals.

    ``groups`` maps a group name to a dict with ``recall`` and ``auroc`` (numbers or
    ``{value, lower, upper}``); a missing or non-finite value becomes a gap (JSON ``null``),
    never a zero-height bar.
    """
    names = [plotly_text(group) for group in groups]
    data = []
    for metric, color in (("recall", "#1f4e79"), ("auroc", "#c55a11")):
        entries = [
            _estimate(stats.get(metric) if isinstance(stats, Mapping) else None)
            for stats in groups.values()
        ]
        values = [value for value, _, _ in entries]
        trace: dict[str, Any] = {
            "type": "bar",
            "name": metric_label(metric),
            "x": names,
            "y": values,
            "marker": {"color": color},
            "hovertemplate": "%{x}: %{y:.3f}<extra>" + metric_label(metric) + "</extra>",
        }
        if any(low is not None for _, low, _ in entries):
            # error bars from the interval ends (0 where a group has none)
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [
                    hi - v if v is not None and hi is not None else 0 for v, _, hi in entries
                ],
                "arrayminus": [
                    v - lo if v is not None and lo is not None else 0 for v, lo, _ in entries
                ],
                "color": "#333333",
                "thickness": 1.2,
            }
        data.append(trace)
    layout = _base_layout(f"Recall and AUROC by {plotly_text(attribute)}")
    layout["barmode"] = "group"
    layout["xaxis"] = {"type": "category", "title": {"text": plotly_text(attribute)}}
    layout["yaxis"] = {"range": [0, 1], "title": {"text": "value"}}
    return {"data": data, "layout": layout}


def dp_bound_figure(kind: str, by_runs: list[Any], claimed: Any) -> dict[str, Any]:
    """The DP audit's bounds against the number of runs (log x), the claim as a line."""
    data = []
    for key, name, color in (
        ("one_run", "one run", "#1f4e79"),
        ("many_runs", "many runs", "#c55a11"),
        ("fdp_one_run", "f-DP one run", "#548235"),
        ("gdp_many_runs", "Gaussian DP", "#7030a0"),
    ):
        points = [p for p in by_runs if isinstance(p, Mapping) and _finite(p.get(key)) is not None]
        if not points:  # an estimator this audit did not read
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [_finite(p.get("runs")) for p in points],
                "y": [_finite(p.get(key)) for p in points],
                "line": {"color": color},
                "hovertemplate": "%{x} runs: epsilon >= %{y:.2f}<extra>" + name + "</extra>",
            }
        )
    layout = _base_layout(f"Epsilon lower bound, {plotly_text(kind)} canaries")
    layout["xaxis"] = {"type": "log", "title": {"text": "runs of the canary game"}}
    layout["yaxis"] = {"rangemode": "tozero", "title": {"text": "epsilon lower bound"}}
    if _finite(claimed) is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": _finite(claimed),
                "y1": _finite(claimed),
                "line": {"color": "#333333", "dash": "dash", "width": 1.5},
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 0,
                "y": _finite(claimed),
                "xanchor": "left",
                "yanchor": "bottom",
                "text": "claimed epsilon",
                "showarrow": False,
            }
        ]
    return {"data": data, "layout": layout}


def group_risk_figure(
    attribute: str, attack: str, groups: Mapping[str, Any], p_value: Any
) -> dict[str, Any]:
    """Dot-and-interval plot of one attack's membership risk per group of one attribute:
    AUC (left) and TPR at 1% FPR (right), each group a dot with its interval; groups with
    too few records to measure are left out (the table below names them)."""
    names, aucs, tprs = [], [], []
    for group, entry in groups.items():
        entry = as_mapping(entry) if isinstance(entry, Mapping) else {}
        if "auc" not in entry:
            continue
        names.append(plotly_text(group))
        aucs.append(_estimate(entry.get("auc")))
        tprs.append(_estimate(as_mapping(entry.get("tpr_at_fpr")).get("0.01")))
    data = []
    for estimates, axis, colour, label in (
        (aucs, "x", "#0072b2", "AUC"),
        (tprs, "x2", "#d55e00", "TPR at 1% FPR"),
    ):
        values = [v for v, _, _ in estimates]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": values,
                "y": names,
                "xaxis": axis,
                "yaxis": "y",
                "marker": {"color": colour, "size": 9},
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        h - v if v is not None and h is not None else 0 for v, _, h in estimates
                    ],
                    "arrayminus": [
                        v - lo if v is not None and lo is not None else 0 for v, lo, _ in estimates
                    ],
                    "color": colour,
                    "thickness": 1.5,
                },
                "hovertemplate": "%{y}: %{x:.3f}<extra>" + label + "</extra>",
            }
        )
    p = _finite(p_value)
    title = f"Membership risk by {plotly_text(attribute)} ({plotly_text(attack)})"
    if p is not None:
        title += f": AUC gap permutation p = {p:.3g}"
    layout = _base_layout(title)
    layout["height"] = max(220, 60 + 40 * len(names))
    ends = [e for v, lo, hi in aucs for e in (v, lo, hi) if e is not None] + [0.5]
    auc_range = [max(0.0, min(ends) - 0.03), min(1.0, max(ends) + 0.03)]
    layout["xaxis"] = {"domain": [0, 0.47], "title": {"text": "AUC"}, "range": auc_range}
    layout["xaxis2"] = {
        "domain": [0.53, 1],
        "title": {"text": "TPR at 1% FPR"},
        "rangemode": "tozero",
    }
    layout["yaxis"] = {"type": "category", "automargin": True}
    layout["shapes"] = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": 0.5, "x1": 0.5, "y0": 0, "y1": 1,
         "line": {"color": "#888888", "dash": "dash", "width": 1}},
        {"type": "line", "xref": "x2", "yref": "paper", "x0": 0.01, "x1": 0.01, "y0": 0, "y1": 1,
         "line": {"color": "#888888", "dash": "dash", "width": 1}},
    ]  # fmt: skip
    layout["showlegend"] = False
    return {"data": data, "layout": layout}


def figure_json(figure: Mapping[str, Any]) -> str:
    """Serialise a figure dict to compact, key-sorted JSON (NaN/Infinity are rejected)."""
    return json.dumps(figure, sort_keys=True, separators=(",", ":"), allow_nan=False)
