""" "What this means for release": a risk label and a short paragraph, generated from the
result with fixed wording rules, the first thing the report says.

The rules (tested on the demo fixtures, tests/report/test_release.py):

- The attack read is the strongest by TPR at the lowest false-positive rate the audit can
  resolve (1 in 1,000 when there are at least 1,000 non-members, else 1 in 100), chosen
  after the fact, as an attacker with the same data would, among the attacks whose
  reference models hold (reference fidelity not flagged). Flagged attacks are named apart:
  their figures are measured against the truth, so they cannot overstate what they did,
  but a faithful attack could find more.
- Choosing the strongest after the fact is corrected for: the label reads the TPR's lower
  end at the Bonferroni level over the attacks run (`selection_lower`, results written
  before it carry the plain lower end).
- Risk label, from that TPR's (corrected) lower end at that FPR:
  - **high**: the lower end is at least 10 times the FPR (for every outsider wrongly
    flagged, at least 10 private patients are picked out);
  - **elevated**: the lower end is above the FPR (significantly better than guessing);
  - **no evidence of membership**: no attack's AUC interval lies above 0.5 and no lower
    end of a TPR is above its FPR;
  - **low**: otherwise (a point estimate above chance that the interval does not confirm).
- Figures are said in natural frequencies ("about 1 in 2 of the private patients"), set
  beside the real-records and DP-SGD baselines when the result has them (the same attack,
  LOSS, on each).
- Failed gates are named with their observed value; what cannot be measured is said
  ("not resolvable with 500 outsiders").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.formatting import as_list, as_mapping
from auditor.report.summary import flagged, percent, readable, strongest_attack

FPRS = (("0.001", 1000), ("0.01", 100))
HIGH_FACTOR = 10  # "high": at least this many members picked out per false alarm


def one_in(rate: float | None) -> str:
    """A rate as a natural frequency: 0.48 -> "about 1 in 2", 0.004 -> "about 4 in 1,000"."""
    if rate is None:
        return "n/a"
    if rate <= 0:
        return "none"
    if rate >= 0.095:
        n = max(1, round(1 / rate))
        return "almost all" if rate >= 0.95 else f"about 1 in {n:,}"
    scaled = round(rate * 1000)
    return f"about {scaled} in 1,000" if scaled >= 1 else "fewer than 1 in 1,000"


def _resolved_fpr(membership: Mapping[str, Any]) -> tuple[str, int] | None:
    for key, per in FPRS:
        for entry in membership.values():
            if (
                as_mapping(as_mapping(entry).get("tpr_at_fpr")).get(key, {}).get("value")
                is not None
            ):
                return key, per
    return None


def corrected_lower(estimate: Mapping[str, Any]) -> float:
    """A TPR's lower end corrected for selection, else its plain lower end (0 if none)."""
    lower = estimate.get("selection_lower", estimate.get("lower"))
    return float(lower) if isinstance(lower, int | float) else 0.0


def risk_label(membership: Mapping[str, Any]) -> str:
    """The one-line label of the rules above."""
    membership = readable(membership)
    resolved = _resolved_fpr(membership)
    if resolved is None:
        return "not measured"
    key, per = resolved
    _, best = strongest_attack(membership, key)
    best = best or {}
    fpr = 1.0 / per
    lower = corrected_lower(best)
    if lower >= HIGH_FACTOR * fpr:
        return "high"
    if lower > fpr:
        return "elevated"
    evidence = False
    for entry in membership.values():
        entry = as_mapping(entry)
        if (as_mapping(entry.get("auc")).get("lower") or 0.0) > 0.5:
            evidence = True
        for k, p in FPRS:
            t = as_mapping(as_mapping(entry.get("tpr_at_fpr")).get(k))
            if (t.get("lower") or 0.0) > 1.0 / p:
                evidence = True
    return "low" if evidence else "no evidence of membership"


def _baseline_line(result: Mapping[str, Any], key: str, per: int) -> str | None:
    baselines = as_mapping(result.get("baselines"))
    parts = []
    for name, label in (("real_records", "the real-records model"), ("dp_sgd", "a DP-SGD model")):
        tpr = as_mapping(
            as_mapping(
                as_mapping(as_mapping(baselines.get(name)).get("membership")).get("tpr_at_fpr")
            ).get(key)
        )
        if tpr.get("value") is not None:
            parts.append(f"{label} allows {one_in(tpr['value'])}")
    if not parts:
        return None
    return f"Under the same attack (LOSS) and at the same rate, {' and '.join(parts)}."


def release_context(result: Mapping[str, Any]) -> dict[str, Any]:
    """The label and the paragraph's sentences."""
    every = as_mapping(as_mapping(result.get("privacy")).get("membership"))
    label = risk_label(every)
    membership = readable(every)
    sentences = []
    resolved = _resolved_fpr(membership)
    unread = flagged(every)
    if resolved is None:
        sentences.append("No membership attack could be measured on this result.")
    else:
        key, per = resolved
        name, found = strongest_attack(membership, key)
        best = found or {}
        if label == "no evidence of membership":
            sentences.append(
                f"No attack found evidence of membership: none of the {len(membership)} "
                "attacks tells the private patients from outsiders better than chance "
                "(every AUC interval reaches 0.5)."
            )
        else:
            verb = "can be picked out" if label in ("high", "elevated") else "may be picked out"
            corrected = (
                f"; lower end {percent(best.get('selection_lower'))} corrected for choosing the "
                f"strongest of {best.get('selection')} (Bonferroni)"
                if best.get("selection_lower") is not None
                else ""
            )
            sentences.append(
                f"At 1 false alarm per {per:,} outsiders, {one_in(best['value'])} of the private "
                f"patients {verb} ({name}, the strongest of {len(membership)} attacks; "
                f"interval {percent(best.get('lower'))} to {percent(best.get('upper'))}"
                f"{corrected})."
            )
        baseline = _baseline_line(result, key, per)
        if baseline:
            sentences.append(baseline)
        if key == "0.01":
            n_non = max(
                (as_mapping(e).get("n_non_members") or 0 for e in membership.values()), default=0
            )
            sentences.append(
                f"One false alarm per 1,000 outsiders is not resolvable with {n_non} outsiders."
            )
    if unread:
        sentences.append(
            f"Not read for this: {', '.join(unread)}, whose reference models do not behave "
            "like the model (reference fidelity flagged). Their figures are measured against "
            "the truth, so they cannot overstate what those attacks did; a faithful attack "
            "could find more."
        )
    failed = [
        as_mapping(g) for g in as_list(result.get("gates")) if not as_mapping(g).get("passed")
    ]
    if failed:
        named = "; ".join(str(g.get("message", g.get("metric", ""))) for g in failed[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        sentences.append(f"{len(failed)} release gate(s) failed: {named}{more}.")
    elif as_list(result.get("gates")):
        sentences.append("Every release gate passed.")
    return {"label": label, "sentences": sentences}
