"""Report section: membership inference. One log-log ROC figure per target model with every
attack overlaid, a table of every attack's headline figures, then each attack's own table
and figure (collapsible)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from auditor.report import figures
from auditor.report.formatting import (
    NA,
    as_list,
    as_mapping,
    display,
    fmt_general,
    fmt_interval,
    fmt_num,
    fmt_percent,
    fpr_label,
    fpr_sort_key,
    slug,
)
from auditor.result.sections import Band, Curve, MembershipFigures, Warnings, membership_of


def _epsilon(bound: Mapping[str, Any]) -> str:
    """Empirical epsilon lower bound with its confidence and delta."""
    if not bound:
        return NA
    text = fmt_num(bound.get("value"))
    details = []
    if bound.get("confidence") is not None:
        details.append(f"{fmt_percent(bound['confidence'])} confidence")
    if bound.get("delta") is not None:
        details.append(f"δ = {fmt_general(bound['delta'])}")
    return f"{text} ({', '.join(details)})" if details else text


def _tpr_cell(entry: Any) -> dict[str, Any]:
    """One TPR-at-FPR cell; an unresolvable entry shows its note, never a number."""
    entry = as_mapping(entry)
    if entry.get("resolvable") is False:
        note = entry.get("note") or "not resolvable with this many non-members"
        return {"text": str(note), "unresolvable": True}
    return {"text": fmt_interval(entry), "unresolvable": False}


def _exposed(exposed: Mapping[str, Any]) -> str:
    """Counts only (positions stay in the result, never in the report)."""
    beyond = as_mapping(exposed.get("beyond_chance"))
    value, lower = beyond.get("value"), beyond.get("lower")
    text = f"{display(exposed.get('flagged'))} of {display(exposed.get('members'))}"
    if isinstance(value, int | float) and isinstance(lower, int | float):
        # whole members; the lower end rounded down (never claims more than it shows)
        text += f"; beyond chance {round(value)} (at least {math.floor(lower)})"
    return text


def not_run_context(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The attacks of the spec that did not run, and why (`privacy.not_run`)."""
    not_run = as_mapping(as_mapping(result.get("privacy")).get("not_run"))
    return [(display(name), display(why)) for name, why in sorted(not_run.items())]


def membership_context(result: Mapping[str, Any], confidence: str) -> list[dict[str, Any]]:
    """Per-attack table rows and ROC figure of every membership-inference attack (read
    through `result.sections.membership_of`)."""
    out = []
    for index, (name, attack) in enumerate(membership_of(result).items()):
        rows = [
            (
                "Members / non-members",
                f"{display(attack.get('n_members'))} / {display(attack.get('n_non_members'))}",
                False,
            ),
            ("AUC", fmt_interval(attack.get("auc")), False),
            ("Advantage", fmt_interval(attack.get("advantage")), False),
        ]
        tprs = attack.get("tpr_at_fpr", {})
        for key in sorted(tprs, key=fpr_sort_key):
            cell = _tpr_cell(tprs[key])
            rows.append((f"TPR at {fpr_label(key)} FPR", cell["text"], cell["unresolvable"]))
        rows.append(
            ("Empirical ε lower bound", _epsilon(attack.get("epsilon_lower_bound", {})), False)
        )
        exposed = as_mapping(attack.get("exposed"))
        if exposed:
            rows.append(
                (
                    f"Members exposed at {fpr_label(str(exposed.get('fpr')))} FPR",
                    _exposed(exposed),
                    False,
                )
            )
        roc, band = attack.get("roc", Curve(fpr=[], tpr=[])), attack.get("roc_band", Band())
        figure = figures.roc_figure(name, roc["fpr"], roc["tpr"], band)
        out.append(
            {
                "name": name,
                "description": display(attack.get("description", "")),
                "rows": rows,
                "figure_id": f"fig-membership-{slug(name)}-{index}",
                "figure_json": figures.figure_json(figure),
                "interval_label": f"Estimate [{confidence} interval]",
                "band_label": f"TPR [{confidence} interval]",
                "band": _band_rows(band),
            }
        )
    return out


def overlaid_context(result: Mapping[str, Any], confidence: str) -> list[dict[str, Any]]:
    """Per target model (the artifact, or each consumer of a dataset: `<attack>@<consumer>`),
    the overlaid ROC figure and a headline row per attack."""
    targets: dict[str, list[tuple[str, MembershipFigures]]] = {}
    for name, figures_of_attack in membership_of(result).items():
        attack, _, target = name.partition("@")
        targets.setdefault(target, []).append((attack, figures_of_attack))
    out = []
    for index, (target, entries) in enumerate(targets.items()):
        curves: list[tuple[str, list[float], list[float], Mapping[str, Any]]] = []
        rows = []
        for attack, entry in entries:
            roc = entry.get("roc", Curve(fpr=[], tpr=[]))
            curves.append((attack, roc["fpr"], roc["tpr"], dict(entry.get("roc_band", Band()))))
            tprs = entry.get("tpr_at_fpr", {})
            rows.append(
                {
                    "attack": attack,
                    "auc": fmt_interval(entry.get("auc")),
                    "tpr": [_tpr_cell(tprs.get(k))["text"] for k in ("0.1", "0.01", "0.001")],
                    "warnings": display(entry.get("warnings", Warnings(value=0))["value"]),
                }
            )
        title = "Every attack, log-log" + (f", on the {target} consumer model" if target else "")
        out.append(
            {
                "target": target,
                "title": title,
                "figure_id": f"fig-roc-all-{slug(target or 'artifact')}-{index}",
                "figure_json": figures.figure_json(figures.overlaid_roc_figure(title, curves)),
                "rows": rows,
                "interval_label": f"[{confidence} interval]",
            }
        )
    return out


def _band_rows(band: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ROC band as table rows (FPR, TPR [interval]) so that no plotted number is
    available only to JavaScript."""
    rows = []
    for x, y, lo, hi in zip(
        as_list(band.get("fpr")),
        as_list(band.get("tpr")),
        as_list(band.get("lower")),
        as_list(band.get("upper")),
        strict=False,
    ):
        rows.append((f"{x:.3g}", fmt_interval({"value": y, "lower": lo, "upper": hi})))
    return rows
