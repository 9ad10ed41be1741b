"""A result's short HTML form for notebooks (`AuditResult._repr_html_`): the report's risk
label and release paragraph, its summary sentences, one row per membership attack and the
gates. Every value is escaped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import escape

from auditor.report.formatting import as_list, as_mapping, fmt_interval
from auditor.report.release import release_context
from auditor.report.summary import summary_context


def notebook_summary(result: Mapping[str, Any]) -> str:
    """HTML: summary sentences, membership attacks (AUC, TPR at 1% FPR) and gates."""
    run = as_mapping(result.get("run"))
    release = release_context(result)
    parts = [
        f"<h4>Privacy audit: {escape(run.get('name', ''))}</h4>",
        f"<p><strong>Membership risk: {escape(release['label'])}</strong>. ",
        escape(" ".join(release["sentences"])),
        "</p><ul>",
    ]
    parts += [f"<li>{escape(line)}</li>" for line in summary_context(result)]
    parts.append("</ul><table><tr><th>attack</th><th>AUC</th><th>TPR at 1% FPR</th></tr>")
    membership = as_mapping(as_mapping(result.get("privacy")).get("membership"))
    for attack, figures in sorted(membership.items()):
        tpr = as_mapping(as_mapping(figures.get("tpr_at_fpr")).get("0.01"))
        parts.append(
            f"<tr><td>{escape(attack)}</td><td>{escape(fmt_interval(figures.get('auc')))}</td>"
            f"<td>{escape(fmt_interval(tpr))}</td></tr>"
        )
    parts.append("</table>")
    for gate in as_list(result.get("gates")):
        mark = "PASS" if as_mapping(gate).get("passed") else "FAIL"
        parts.append(f"<div>{mark} {escape(as_mapping(gate).get('message', ''))}</div>")
    return "".join(parts)
