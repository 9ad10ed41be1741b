"""The re-identification section: linkage of released samples to patients, and
anonymeter-style linkability and inference risks (dataset artifacts only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.formatting import as_list, as_mapping, fmt_interval, fmt_num
from auditor.report.pictures import inversion_pictures


def reidentification_context(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """Rows for the template, or None when the result has no re-identification figures."""
    privacy = as_mapping(result.get("privacy"))
    inversion = as_mapping(privacy.get("inversion"))
    if isinstance(inversion, Mapping) and "note" not in inversion and inversion:
        return {**_inversion_rows(inversion), "pictures": inversion_pictures(inversion)}
    linkage = privacy.get("linkage")
    attribution = privacy.get("site_attribution")
    if not isinstance(linkage, Mapping) and not isinstance(attribution, Mapping):
        return None
    rows = []
    if isinstance(attribution, Mapping):
        rows.append(
            (
                "Patients attributed to their hospital (site vectors)",
                fmt_interval(attribution.get("accuracy")),
            )
        )
        rows.append(("Chance", fmt_num(attribution.get("chance"))))
        for site, figures in sorted(as_mapping(privacy.get("sites")).items()):
            rows.append((f"Membership AUC of {site}'s own model", fmt_interval(figures.get("auc"))))
    if not isinstance(linkage, Mapping):
        return {"rows": rows, "risks": [], "pictures": []}
    rows += [
        ("Released samples", str(linkage.get("released", "n/a"))),
        (
            "Share closer to a member than to any non-member (DCR linkage)",
            fmt_interval(linkage.get("dcr_linkage")),
        ),
        ("Baseline (no individual information)", fmt_num(linkage.get("baseline"))),
        (
            "95% band of the linkage under random member/non-member splits",
            " to ".join(fmt_num(v) for v in as_list(linkage.get("null_band"))) or "n/a",
        ),
        ("Permutation p-value", fmt_num(linkage.get("p_value"))),
        ("Median distance to closest member", fmt_num(linkage.get("median_dcr_member"))),
        ("Median distance to closest non-member", fmt_num(linkage.get("median_dcr_non_member"))),
        ("Median NNDR to members", fmt_num(linkage.get("median_nndr_member"))),
        ("Median NNDR to non-members", fmt_num(linkage.get("median_nndr_non_member"))),
    ]
    risks = []
    linkability = privacy.get("linkability")
    if isinstance(linkability, Mapping):
        split = linkability.get("split", "numeric half to categorical half")
        risks.append((f"Linkability ({split})", linkability))
    singling_out = privacy.get("singling_out")
    if isinstance(singling_out, Mapping):
        risks.append(("Singling out (one-attribute predicates)", singling_out))
    for attribute, entry in sorted(as_mapping(privacy.get("inference")).items()):
        risks.append((f"Inference of {attribute}", entry))
    risk_rows = []
    for label, entry in risks:
        risk = as_mapping(entry.get("risk"))
        note = risk.get("note") if risk.get("value") is None else None
        risk_rows.append(
            {
                "label": label,
                "attack": fmt_interval(entry.get("attack")),
                "control": fmt_interval(entry.get("control")),
                "risk": note or fmt_interval(risk),
            }
        )
    return {"rows": rows, "risks": risk_rows, "pictures": []}


def _inversion_rows(inversion: Mapping[str, Any]) -> dict[str, Any]:
    titles = {"miface": "ART MIFace", "gradient": "gradient-based reconstruction"}
    rows = []
    for method, figures in sorted(inversion.items()):
        name = titles.get(method, method)
        band = " to ".join(fmt_num(v) for v in as_list(figures.get("null_band"))) or "n/a"
        rows.append(
            (
                f"{name}: share closer to a member than to any non-member",
                fmt_interval(figures.get("dcr_linkage")),
            )
        )
        rows.append(
            (
                f"{name}: 95% band under random splits; p-value",
                f"{band}; p = {fmt_num(figures.get('p_value'))}",
            )
        )
    return {"rows": rows, "risks": []}
