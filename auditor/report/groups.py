"""Report sections: membership risk by patient group, and attribute inference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.formatting import fmt_interval, fmt_num


def _tpr(entry: Mapping[str, Any], key: str) -> str:
    tpr = (entry.get("tpr_at_fpr") or {}).get(key) or {}
    if tpr.get("value") is None:
        return tpr.get("note") or "n/a"
    return fmt_interval(tpr)


def groups_context(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One block per attack and attribute: group rows and the largest gaps."""
    blocks = []
    membership = (result.get("privacy") or {}).get("membership") or {}
    for attack, figures in sorted(membership.items()):
        for attribute, breakdown in sorted((figures.get("by_group") or {}).items()):
            rows = []
            for group, entry in sorted((breakdown.get("groups") or {}).items()):
                if "auc" not in entry:
                    rows.append(
                        [group, str(entry.get("n_members", "")), entry.get("note", ""), "", ""]
                    )
                    continue
                rows.append(
                    [
                        group,
                        f"{entry['n_members']} / {entry['n_non_members']}",
                        fmt_interval(entry["auc"]),
                        _tpr(entry, "0.01"),
                        _tpr(entry, "0.001"),
                    ]
                )
            gaps = breakdown.get("gaps") or {}
            auc_gap = gaps.get("auc") or {}
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


def attribute_context(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per attacked attribute."""
    rows = []
    inference = (result.get("privacy") or {}).get("attribute_inference") or {}
    for attribute, entry in sorted(inference.items()):
        members = entry.get("members") or {}
        loss_adv = entry.get("advantage_loss_membership") or {}
        bb_adv = entry.get("advantage_art_blackbox") or {}
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
