"""Report sections: membership risk by patient group, and attribute inference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.figures import figure_json, group_risk_figure
from auditor.report.formatting import as_mapping, fmt_interval, fmt_num, slug


def _tpr(entry: Mapping[str, Any], key: str) -> str:
    tpr = as_mapping(as_mapping(entry.get("tpr_at_fpr")).get(key))
    if tpr.get("value") is None:
        return tpr.get("note") or "n/a"
    return fmt_interval(tpr)


def groups_context(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One block per attack and attribute: group rows and the largest gaps."""
    blocks = []
    membership = as_mapping(as_mapping(result.get("privacy")).get("membership"))
    for attack, figures in sorted(membership.items()):
        for attribute, breakdown in sorted(as_mapping(figures.get("by_group")).items()):
            rows = []
            for group, entry in sorted(as_mapping(breakdown.get("groups")).items()):
                if "auc" not in entry:
                    rows.append(
                        [group, str(entry.get("n_members", "")), entry.get("note", ""), "", "", ""]
                    )
                    continue
                rows.append(
                    [
                        group,
                        f"{entry['n_members']} / {entry['n_non_members']}",
                        fmt_interval(entry["auc"]),
                        _tpr(entry, "0.1"),
                        _tpr(entry, "0.01"),
                        _tpr(entry, "0.001"),
                    ]
                )
            gaps = as_mapping(breakdown.get("gaps"))
            auc_gap = as_mapping(gaps.get("auc"))
            gap_text = fmt_interval(auc_gap) if auc_gap.get("value") is not None else "n/a"
            if auc_gap.get("p_value") is not None:
                gap_text += f" (permutation p = {fmt_num(auc_gap['p_value'])})"
            blocks.append(
                {
                    "attack": attack,
                    "attribute": attribute,
                    "rows": rows,
                    "auc_gap": gap_text,
                    "tpr_gap": fmt_interval(gaps.get("tpr_at_fpr_0.01")),
                }
            )
    return blocks


def group_pictures(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per sensitive attribute, the dot-and-interval picture of the strongest attack (the
    highest AUC among those broken down by that attribute)."""
    membership = as_mapping(as_mapping(result.get("privacy")).get("membership"))
    strongest: dict[str, tuple[float, str, Mapping[str, Any]]] = {}
    for attack, figures in membership.items():
        auc = as_mapping(as_mapping(figures).get("auc")).get("value")
        for attribute, breakdown in as_mapping(as_mapping(figures).get("by_group")).items():
            if isinstance(auc, int | float) and (
                attribute not in strongest or auc > strongest[attribute][0]
            ):
                strongest[attribute] = (float(auc), str(attack), as_mapping(breakdown))
    out = []
    for index, (attribute, (_, attack, breakdown)) in enumerate(sorted(strongest.items())):
        p_value = as_mapping(as_mapping(breakdown.get("gaps")).get("auc")).get("p_value")
        figure = group_risk_figure(
            str(attribute), attack, as_mapping(breakdown.get("groups")), p_value
        )
        out.append(
            {
                "attribute": str(attribute),
                "attack": attack,
                "figure_id": f"fig-groups-{slug(str(attribute))}-{index}",
                "figure_json": figure_json(figure),
            }
        )
    return out


def attribute_context(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per attacked attribute."""
    rows = []
    inference = as_mapping(as_mapping(result.get("privacy")).get("attribute_inference"))
    for attribute, entry in sorted(inference.items()):
        members = as_mapping(entry.get("members"))
        loss_adv = as_mapping(entry.get("advantage_loss_membership"))
        bb_adv = as_mapping(entry.get("advantage_art_blackbox"))
        rows.append(
            {
                "attribute": attribute,
                "baseline": fmt_interval(members.get("art_baseline")),
                "blackbox": fmt_interval(members.get("art_blackbox")),
                "loss": fmt_interval(members.get("loss_membership")),
                "loss_excess": fmt_interval(loss_adv.get("excess_on_members")),
                "blackbox_excess": fmt_interval(bb_adv.get("excess_on_members")),
            }
        )
    return rows
