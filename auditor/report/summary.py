"""The first section: the audit in plain language, for an ethics board."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.formatting import as_list, as_mapping, fmt_interval, fmt_num
from auditor.result.schema import DP_BOUNDS


def percent(x: float | None) -> str:
    """A rate as a percentage with one decimal, or n/a."""
    return "n/a" if x is None else f"{100.0 * x:.1f}%"


def _pct_interval(entry: Mapping[str, Any]) -> str:
    if entry.get("value") is None:
        return "n/a"
    if entry.get("lower") is None or entry.get("upper") is None:
        return percent(entry["value"])
    return f"{percent(entry['value'])} ({percent(entry['lower'])} to {percent(entry['upper'])})"


def flagged(membership: Mapping[str, Any]) -> list[str]:
    """The attacks whose reference models do not behave like the model (fidelity flagged)."""
    return [
        str(name)
        for name, entry in membership.items()
        if as_mapping(as_mapping(entry).get("reference_fidelity")).get("flagged") is True
    ]


def readable(membership: Mapping[str, Any]) -> dict[str, Any]:
    """The attacks the label may read: every one not flagged."""
    skipped = set(flagged(membership))
    return {name: entry for name, entry in membership.items() if name not in skipped}


def strongest_attack(
    membership: Mapping[str, Any], key: str
) -> tuple[str, Mapping[str, Any] | None]:
    """The attack with the largest TPR at FPR `key`, and that estimate (None if none)."""
    best_name, best = "", None
    for name, figures in sorted(membership.items()):
        entry = as_mapping(as_mapping(figures.get("tpr_at_fpr")).get(key))
        if entry.get("value") is not None and (best is None or entry["value"] > best["value"]):
            best_name, best = name, entry
    return best_name, best


def _dp_audit_line(audit: Mapping[str, Any]) -> str | None:
    """The DP audit's verdict in one sentence, or None without a DP audit."""
    if not audit:
        return None
    best = max(
        (
            as_mapping(entry).get(method, {}).get("value") or 0.0
            for entry in as_mapping(audit.get("kinds")).values()
            for method in DP_BOUNDS
        ),
        default=0.0,
    )
    claimed = as_mapping(audit.get("claimed")).get("epsilon")
    if claimed is None:
        return f"DP audit: the training leaks at least epsilon = {fmt_num(best)} (no DP claim)."
    if audit.get("claim_refuted"):
        return (
            f"DP audit: the claim of epsilon = {fmt_num(claimed)} is false: canary games show "
            f"at least {fmt_num(best)}; the training code does not give the privacy it claims."
        )
    return (
        f"DP audit: no canary game contradicts the claimed epsilon of {fmt_num(claimed)} "
        f"(largest lower bound {fmt_num(best)}); a bound below the claim does not prove it."
    )


def summary_context(result: Mapping[str, Any]) -> list[str]:
    """Plain-language sentences, each carrying its interval."""
    artifact = as_mapping(result.get("artifact"))
    privacy = as_mapping(result.get("privacy"))
    membership = as_mapping(privacy.get("membership"))
    lines = [
        f"What was shared: a {artifact.get('kind', 'n/a')} ({artifact.get('file_name', 'n/a')}), "
        f"made by the {artifact.get('scheme', 'n/a')} scheme."
    ]
    held = readable(membership)  # attacks whose reference models hold
    name, best = strongest_attack(held, "0.001")
    if best is not None:
        lines.append(
            f"Accepting one false alarm per 1,000 people who were not in the private data, the "
            f"strongest of {len(held)} attacks ({name}, chosen after the fact) picks out "
            f"{percent(best['value'])} of the patients who were (interval {percent(best['lower'])} "
            f"to {percent(best['upper'])})."
        )
    elif membership:
        lines.append(
            "Too few non-members were available to measure attacks at a 1-in-1,000 "
            "false-alarm rate; see the membership section for 1 in 100."
        )
    for attack, figures in sorted(membership.items()):
        for message in as_list(as_mapping(figures.get("warnings")).get("messages")):
            lines.append(f"Warning on {attack}: {message}.")
    bounds = [
        f["epsilon_lower_bound"]["value"]
        for f in membership.values()
        if as_mapping(f.get("epsilon_lower_bound")).get("value") is not None
    ]
    claimed = as_mapping(artifact.get("claims")).get("epsilon")
    if bounds:
        text = f"Largest empirical privacy-loss lower bound (epsilon): {fmt_num(max(bounds))}"
        if claimed is not None:
            text += f", against a claimed epsilon of {fmt_num(claimed)}"
        lines.append(text + ".")
    dp_line = _dp_audit_line(as_mapping(privacy.get("dp_audit")))
    if dp_line:
        lines.append(dp_line)
    linkage = privacy.get("linkage")
    if isinstance(linkage, Mapping):
        lines.append(
            f"{percent(as_mapping(linkage.get('dcr_linkage')).get('value'))} of the released "
            f"samples sit closer to a patient in the private data than to any outsider "
            f"(50% when they carry no individual information; permutation p = "
            f"{fmt_num(linkage.get('p_value'))})."
        )
    for attribute, entry in sorted(as_mapping(privacy.get("attribute_inference")).items()):
        excess = as_mapping(
            as_mapping(entry.get("advantage_loss_membership")).get("excess_on_members")
        )
        if excess.get("lower") is not None and excess["lower"] > 0:
            lines.append(
                f"The hidden {attribute} of patients in the private data can be "
                f"guessed better than for outsiders: excess {fmt_interval(excess)}."
            )
    beside = beside_context(result)
    if beside is not None and len(beside["rows"]) > 1:
        shares = [f"{row['tpr_01_pct']} from {row['phrase']}" for row in beside["rows"]]
        lines.append(
            f"For comparison, at 1 false alarm per 1,000 the same {beside['attack']} attack "
            f"picks out {'; '.join(shares)} (table below)."
        )
    utility = as_mapping(result.get("utility"))
    auroc = as_mapping(utility.get("artifact")).get("auroc")
    base = as_mapping(as_mapping(utility.get("baseline")).get("metrics")).get("auroc")
    if auroc:
        text = f"Clinical utility (AUROC on held-out patients): {fmt_interval(auroc)}"
        if base:
            text += f", against {fmt_interval(base)} for a model trained on the real records"
        lines.append(text + ".")
    gates = as_list(result.get("gates"))
    if gates:
        passed = sum(bool(g.get("passed")) for g in gates)
        lines.append(f"Release gates: {passed} of {len(gates)} passed.")
    return lines


def _loss_key(membership: Mapping[str, Any]) -> str | None:
    """The artifact's LOSS attack entry (``loss``, or ``loss@<consumer>`` for a dataset)."""
    return next((k for k in membership if k == "loss" or k.startswith("loss@")), None)


def _beside_row(
    label: str, phrase: str, membership: Mapping[str, Any], utility: Mapping[str, Any]
) -> dict[str, str]:
    tprs = as_mapping(membership.get("tpr_at_fpr"))
    return {
        "label": label,
        "phrase": phrase,
        "auc": fmt_interval(membership.get("auc")),
        "tpr_1": fmt_interval(tprs.get("0.01")),
        "tpr_01": fmt_interval(tprs.get("0.001")),
        "tpr_01_pct": _pct_interval(as_mapping(tprs.get("0.001"))),
        "auroc": fmt_interval(utility.get("auroc")),
    }


def beside_context(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The artifact beside the real-records model and the DP baseline: the same LOSS attack
    against each, and each one's utility on the same test patients (None if the result has
    no baselines)."""
    baselines = result.get("baselines")
    if not isinstance(baselines, Mapping):
        return None
    membership = as_mapping(as_mapping(result.get("privacy")).get("membership"))
    key = _loss_key(membership)
    utility = as_mapping(result.get("utility"))
    rows = [
        _beside_row(
            "The shared artifact",
            "the shared artifact",
            as_mapping(membership.get(key) if key is not None else None),
            as_mapping(utility.get("artifact")),
        )
    ]
    notes = []
    epsilon = as_mapping(as_mapping(baselines.get("dp_sgd")).get("claims")).get("epsilon")
    dp = f" (epsilon {fmt_num(epsilon)})" if epsilon is not None else ""
    for name, label, phrase in (
        ("real_records", "Model trained on the real records", "the real-records model"),
        ("dp_sgd", f"DP-SGD model on the real records{dp}", f"a DP-SGD model of them{dp}"),
    ):
        entry = baselines.get(name)
        if isinstance(entry, Mapping):
            membership_entry, utility_entry = entry.get("membership"), entry.get("utility")
            rows.append(
                _beside_row(label, phrase, as_mapping(membership_entry), as_mapping(utility_entry))
            )
            notes.append(str(entry.get("description", "")))
    return {"rows": rows, "notes": notes, "attack": key or "loss (not run on the artifact)"}
