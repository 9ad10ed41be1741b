"""The first section: the audit in plain language, for an ethics board."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.formatting import fmt_interval, fmt_num


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100.0 * x:.1f}%"


def _strongest(membership: Mapping[str, Any], key: str) -> tuple[str, Mapping[str, Any] | None]:
    best_name, best = "", None
    for name, figures in sorted(membership.items()):
        entry = (figures.get("tpr_at_fpr") or {}).get(key) or {}
        if entry.get("value") is not None and (best is None or entry["value"] > best["value"]):
            best_name, best = name, entry
    return best_name, best


def summary_context(result: Mapping[str, Any]) -> list[str]:
    """Plain-language sentences, each carrying its interval."""
    artifact = result.get("artifact") or {}
    privacy = result.get("privacy") or {}
    membership = privacy.get("membership") or {}
    lines = [
        f"What was shared: a {artifact.get('kind', 'n/a')} ({artifact.get('file_name', 'n/a')}), "
        f"made by the {artifact.get('scheme', 'n/a')} scheme."
    ]
    name, best = _strongest(membership, "0.001")
    if best is not None:
        lines.append(
            f"Accepting one false alarm per 1,000 people who were not in the private data, the "
            f"strongest of {len(membership)} attacks ({name}, chosen after the fact) picks out "
            f"{_pct(best['value'])} of the patients who were (interval {_pct(best['lower'])} "
            f"to {_pct(best['upper'])})."
        )
    elif membership:
        lines.append(
            "Too few non-members were available to measure attacks at a 1-in-1,000 "
            "false-alarm rate; see the membership section for 1 in 100."
        )
    bounds = [
        f["epsilon_lower_bound"]["value"]
        for f in membership.values()
        if (f.get("epsilon_lower_bound") or {}).get("value") is not None
    ]
    claimed = (artifact.get("claims") or {}).get("epsilon")
    if bounds:
        text = f"Largest empirical privacy-loss lower bound (epsilon): {fmt_num(max(bounds))}"
        if claimed is not None:
            text += f", against a claimed epsilon of {fmt_num(claimed)}"
        lines.append(text + ".")
    linkage = privacy.get("linkage")
    if isinstance(linkage, Mapping):
        lines.append(
            f"{_pct((linkage.get('dcr_linkage') or {}).get('value'))} of the released "
            f"samples sit closer to a patient in the private data than to any outsider "
            f"(50% when they carry no individual information; permutation p = "
            f"{fmt_num(linkage.get('p_value'))})."
        )
    for attribute, entry in sorted((privacy.get("attribute_inference") or {}).items()):
        excess = (entry.get("advantage_loss_membership") or {}).get("excess_on_members") or {}
        if excess.get("lower") is not None and excess["lower"] > 0:
            lines.append(
                f"The hidden {attribute} of patients in the private data can be "
                f"guessed better than for outsiders: excess {fmt_interval(excess)}."
            )
    utility = result.get("utility") or {}
    auroc = (utility.get("artifact") or {}).get("auroc")
    base = ((utility.get("baseline") or {}).get("metrics") or {}).get("auroc")
    if auroc:
        text = f"Clinical utility (AUROC on held-out patients): {fmt_interval(auroc)}"
        if base:
            text += f", against {fmt_interval(base)} for a model trained on the real records"
        lines.append(text + ".")
    gates = result.get("gates") or []
    if gates:
        passed = sum(bool(g.get("passed")) for g in gates)
        lines.append(f"Release gates: {passed} of {len(gates)} passed.")
    return lines
