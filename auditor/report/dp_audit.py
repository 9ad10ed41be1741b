"""The DP audit section: the claimed epsilon beside each audited bound (with its
tightness), the bound against the number of runs, and what a bound does and does not prove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.figures import dp_bound_figure, figure_json
from auditor.report.formatting import as_list, as_mapping, display, fmt_num, fmt_percent, is_number

METHODS = (
    ("one_run", "One run (Steinke et al. 2023)"),
    ("many_runs", "Many runs (held-out runs)"),
    ("fdp_one_run", "f-DP one run (Mahloujifar et al. 2025)"),
    ("gdp_many_runs", "Gaussian DP, many runs (Nasr et al. 2023)"),
)


def _bound(entry: Mapping[str, Any]) -> str:
    value = entry.get("value")
    return fmt_num(value) if is_number(value) else display(entry.get("note", "n/a"))


def dp_audit_context(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """Rows and figure for the template, or None when the result has no DP audit."""
    audit = as_mapping(as_mapping(result.get("privacy")).get("dp_audit"))
    if not audit:
        return None
    claimed = as_mapping(audit.get("claimed")).get("epsilon")
    rows, figures = [], []
    for kind, entry in sorted(as_mapping(audit.get("kinds")).items()):
        entry = as_mapping(entry)
        for key, label in METHODS:
            bound = as_mapping(entry.get(key))
            if not bound:  # a result from before this estimator
                continue
            rows.append(
                {
                    "kind": display(kind),
                    "method": label,
                    "bound": _bound(bound),
                    "tightness": fmt_num(bound.get("tightness")),
                    "exceeds": is_number(claimed)
                    and is_number(bound.get("value"))
                    and bound["value"] > claimed,
                }
            )
        figure = dp_bound_figure(str(kind), as_list(entry.get("by_runs")), claimed)
        figures.append(
            {
                "kind": display(kind),
                "threat_model": display(entry.get("threat_model", "")),
                "canaries": display(entry.get("canaries_per_run", "n/a")),
                "figure_id": f"dp-audit-{kind}",
                "figure_json": figure_json(figure),
            }
        )
    refuted = audit.get("claim_refuted")
    if refuted is None:
        verdict = "The artifact makes no DP claim: the bounds show how much the training leaks."
    elif refuted:
        kinds = ", ".join(str(k) for k in as_list(audit.get("refuted_by")))
        verdict = (
            f"The claim is refuted: a lower bound ({kinds} canaries) exceeds the claimed "
            f"epsilon of {fmt_num(claimed)} at {fmt_percent(audit.get('verdict_confidence'))} "
            "confidence (every bound of the audit taken together). The training code does not "
            "give the privacy it claims."
        )
        if audit.get("refuted_without_assumption") is False:
            verdict += (
                " Only the estimators that assume DP-SGD's Gaussian trade-off exceed it; the "
                "(epsilon, delta) bounds, which assume nothing, do not."
            )
    else:
        verdict = (
            f"No bound exceeds the claimed epsilon of {fmt_num(claimed)}: the audit found no "
            "evidence against the claim."
        )
    return {
        "claimed": fmt_num(claimed),
        "accounted": fmt_num(audit.get("accounted_epsilon")),
        "delta": fmt_num(audit.get("delta")),
        "runs": display(audit.get("runs", "n/a")),
        "confidence": fmt_percent(audit.get("confidence")),
        "verdict": verdict,
        "refuted": bool(refuted),
        "rows": rows,
        "figures": figures,
        "what_it_proves": display(audit.get("what_it_proves", "")),
        "assumption": display(audit.get("assumption", "")),
    }
