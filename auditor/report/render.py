"""Render an audit result document (a plain dict) into one self-contained HTML report.

The dict is first turned into a view model of pre-formatted strings (so the template does no
arithmetic and every number is formatted the same way), then rendered by a Jinja2 environment
with autoescaping and ``StrictUndefined``. All text from the result is escaped by the template.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from plotly.offline import get_plotlyjs

from auditor.report import figures
from auditor.report.dp_audit import dp_audit_context
from auditor.report.formatting import (
    as_list,
    as_mapping,
    display,
    fmt_bounds,
    fmt_interval,
    fmt_num,
    fmt_percent,
    fmt_signed,
    is_number,
    metric_label,
    signature_label,
    slug,
)
from auditor.report.groups import attribute_context, group_pictures, groups_context
from auditor.report.membership import membership_context, not_run_context, overlaid_context
from auditor.report.reidentification import reidentification_context
from auditor.report.release import release_context
from auditor.report.summary import beside_context, summary_context
from auditor.result.schema import lookup
from auditor.result.sections import fairness_of

SECTION_IDS = (
    "summary",
    "verdict",
    "artifact",
    "membership",
    "utility",
    "fairness",
    "method",
    "glossary",
)


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescape on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("auditor.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def plotly_bundle() -> markupsafe.Markup:
    """plotly.js, to be inlined once in a <script> element.

    This is the trusted library bundle shipped inside the installed plotly package, never data
    from the result; it is the only value marked safe (unescaped) in the whole report.
    """
    bundle = get_plotlyjs()
    if "</script" in bundle.lower():  # would end the inline <script> element early
        raise RuntimeError("installed plotly.js bundle contains '</script'; cannot inline it")
    return markupsafe.Markup(bundle)


def confidence_label(run: Mapping[str, Any]) -> str:
    """The bootstrap confidence level as a percentage label (``95%``)."""
    confidence = as_mapping(run.get("bootstrap")).get("confidence")
    return fmt_percent(confidence) if is_number(confidence) else "confidence"


def _lookup_estimate(result: Mapping[str, Any], metric: str) -> Mapping[str, Any]:
    """The estimate dict a gate's metric name refers to, or an empty dict if unknown."""
    try:
        return lookup(result, metric)
    except KeyError:
        return {}


def _gate_interval(gate: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The interval around a gate's observed metric: from the gate itself, else the result."""
    if gate.get("lower") is not None and gate.get("upper") is not None:
        return fmt_bounds(gate["lower"], gate["upper"])
    interval = gate.get("interval")
    if isinstance(interval, list | tuple) and len(interval) == 2:
        return fmt_bounds(interval[0], interval[1])
    estimate = _lookup_estimate(result, str(gate.get("metric", "")))
    return fmt_bounds(estimate.get("lower"), estimate.get("upper"))


def _threshold(gate: Mapping[str, Any]) -> str:
    """A gate's threshold with its operator: ``≤ 0.020 (max)`` or ``≥ 0.700 (min)``."""
    op = str(gate.get("op", ""))
    value = fmt_num(gate.get("threshold"))
    symbol = {"max": "≤", "min": "≥"}.get(op)
    return f"{symbol} {value} ({op})" if symbol else f"{op} {value}".strip()


def _verdict(result: Mapping[str, Any]) -> dict[str, Any]:
    """Gates table rows and the overall PASS/FAIL (``None`` when no gates are declared)."""
    gates = [g for g in as_list(result.get("gates")) if isinstance(g, Mapping)]
    rows = []
    for gate in gates:
        passed = gate.get("passed")
        rows.append(
            {
                "metric": display(gate.get("metric")),
                "observed": fmt_num(gate.get("observed")),
                "interval": _gate_interval(gate, result),
                "threshold": _threshold(gate),
                "bound": display(gate.get("bound", "value")),
                "outcome": {True: "PASS", False: "FAIL"}.get(passed, "not evaluated")
                if isinstance(passed, bool)
                else "not evaluated",
                "css": {True: "pass", False: "fail"}.get(passed, "na")
                if isinstance(passed, bool)
                else "na",
                "message": display(gate.get("message", "")),
            }
        )
    overall = None
    if rows:
        overall = "PASS" if all(g.get("passed") is True for g in gates) else "FAIL"
    n_failed = sum(1 for g in gates if g.get("passed") is not True)
    return {"rows": rows, "overall": overall, "n_failed": n_failed, "n_gates": len(rows)}


def _artifact(result: Mapping[str, Any]) -> dict[str, Any]:
    """Artifact card, data splits and run provenance as label/value rows."""
    artifact, data, run = (as_mapping(result.get(k)) for k in ("artifact", "data", "run"))
    card_keys = [
        ("Kind", "kind"),
        ("Format", "format"),
        ("File name", "file_name"),
        ("SHA-256", "sha256"),
        ("Scheme", "scheme"),
        ("Architecture", "architecture"),
        ("Number of features", "n_features"),
    ]
    card = [(label, display(artifact.get(key))) for label, key in card_keys]
    claims = [(str(k), display(v)) for k, v in as_mapping(artifact.get("claims")).items()]
    sensitive = as_list(data.get("sensitive"))
    data_rows = [
        ("Label", display(data.get("label"))),
        ("Sensitive attributes", ", ".join(str(s) for s in sensitive) or "none"),
    ]
    if data.get("description"):  # what the data is (e.g. "not patient data")
        data_rows.insert(0, ("Data", display(data.get("description"))))
    splits = [
        {
            "name": str(name),
            "file_name": display(as_mapping(split).get("file_name")),
            "rows": fmt_num(as_mapping(split).get("rows")),
            "sha256": display(as_mapping(split).get("sha256")),
        }
        for name, split in as_mapping(data.get("splits")).items()
    ]
    bootstrap = as_mapping(run.get("bootstrap"))
    run_rows = [
        ("Run name", display(run.get("name"))),
        ("Signature", signature_label(result)),
        ("Seed", display(run.get("seed"))),
        ("Spec SHA-256", display(run.get("spec_sha256"))),
        ("Auditor version", display(run.get("auditor_version"))),
        ("Bootstrap replicates", display(bootstrap.get("replicates"))),
        ("Bootstrap confidence", display(bootstrap.get("confidence"))),
    ]
    libraries = [(str(k), display(v)) for k, v in as_mapping(run.get("libraries")).items()]
    return {
        "card": card,
        "claims": claims,
        "data_rows": data_rows,
        "splits": splits,
        "run_rows": run_rows,
        "libraries": libraries,
    }


# What each label structure's headline figures mean (results before structures: binary).
STRUCTURE_NOTES = {
    "multi-class": (
        "A multi-class model: AUROC is the macro average of one-vs-rest AUROCs; "
        "fairness figures are micro averages (recall is accuracy)."
    ),
    "multi-label": (
        "A multi-label model: AUROC is micro-averaged over every (patient, label) pair; "
        "fairness figures are micro averages over each group's pairs."
    ),
}


def _utility(result: Mapping[str, Any]) -> dict[str, Any]:
    """Utility metrics of the artifact, and of the baseline with the difference when present."""
    utility = as_mapping(result.get("utility"))
    artifact_metrics = as_mapping(utility.get("artifact"))
    baseline_raw = utility.get("baseline")
    baseline = as_mapping(baseline_raw) if baseline_raw is not None else None
    base_metrics = as_mapping(baseline.get("metrics")) if baseline is not None else {}
    names = list(artifact_metrics) + [m for m in base_metrics if m not in artifact_metrics]
    rows = []
    for name in names:
        art, base = artifact_metrics.get(name), base_metrics.get(name)
        art_value = as_mapping(art).get("value") if isinstance(art, Mapping) else art
        base_value = as_mapping(base).get("value") if isinstance(base, Mapping) else base
        diff = art_value - base_value if is_number(art_value) and is_number(base_value) else None
        rows.append(
            {
                "metric": metric_label(str(name)),
                "artifact": fmt_interval(art),
                "baseline": fmt_interval(base),
                "difference": fmt_signed(diff),
            }
        )
    per_label = as_mapping(utility.get("per_label_recall"))
    order = as_mapping(result.get("data")).get("label")  # the model's label order
    if isinstance(order, list) and set(map(str, order)) == set(per_label):
        per_label = {str(name): per_label[str(name)] for name in order}
    return {
        "n_test": display(utility.get("n_test")),
        "structure": STRUCTURE_NOTES.get(str(as_mapping(result.get("data")).get("structure")), ""),
        "per_label": [
            {"label": str(name), "recall": fmt_interval(value)} for name, value in per_label.items()
        ],
        "has_baseline": baseline is not None,
        "baseline_description": display(baseline.get("description", "")) if baseline else "",
        "rows": rows,
    }


def _fairness(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per sensitive attribute: group rows, gap summaries and the recall/AUROC bar figure
    (read through `result.sections.fairness_of`, which also reads legacy results)."""
    out = []
    for index, (attribute, entry) in enumerate(fairness_of(result).items()):
        groups = entry.get("groups", {})
        group_rows = [
            {
                "name": group,
                "n": fmt_num(stats["n"]),
                "recall": fmt_interval(stats["recall"]),
                "auroc": fmt_interval(stats["auroc"]),
                "fpr": fmt_interval(stats["false_positive_rate"]),
            }
            for group, stats in groups.items()
        ]
        summary = [
            (metric_label(key), fmt_interval(value))
            for key, value in entry.items()
            if key != "groups"
        ]
        plotted = {
            group: {"recall": stats["recall"], "auroc": stats["auroc"]}
            for group, stats in groups.items()
        }
        out.append(
            {
                "attribute": attribute,
                "groups": group_rows,
                "summary": summary,
                "figure_id": f"fig-fairness-{slug(attribute)}-{index}",
                "figure_json": figures.figure_json(figures.fairness_figure(attribute, plotted)),
            }
        )
    return out


def _reference_models(run: Mapping[str, Any]) -> str | None:
    """One sentence on the reference models, or None when no attack used any."""
    refs = as_mapping(run.get("reference_models"))
    modes = [str(m) for m in as_list(refs.get("modes"))]
    if not modes:
        return None
    return (
        f"{display(refs.get('k'))} per mode ({', '.join(modes)}), re-running the "
        f"{display(refs.get('recipe'))} recipe, trained on {display(refs.get('device'))}"
    )


def _run_time(timings: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Stage timings (seconds), longest first, then the total; empty without timings."""
    stages = [(str(k), float(v)) for k, v in as_mapping(timings).items() if is_number(v)]
    if not stages:
        return []
    rows = [(k, f"{v:.1f} s") for k, v in sorted(stages, key=lambda kv: -kv[1])]
    return [*rows, ("total", f"{sum(v for _, v in stages):.1f} s")]


def _method(
    result: Mapping[str, Any], confidence: str, timings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Facts for the method section: bootstrap, seeds, reference models, the epsilon-bound
    methods used and, when the run's timings are given, the run time."""
    run = as_mapping(result.get("run"))
    bootstrap = as_mapping(run.get("bootstrap"))
    methods: dict[str, list[str]] = {}
    for name, attack in as_mapping(as_mapping(result.get("privacy")).get("membership")).items():
        method = as_mapping(as_mapping(attack).get("epsilon_lower_bound")).get("method")
        if method:
            methods.setdefault(str(method).rstrip("."), []).append(str(name))
    return {
        "replicates": display(bootstrap.get("replicates")),
        "confidence": confidence,
        "seed": display(run.get("seed")),
        "spec_sha256": display(run.get("spec_sha256")),
        "n_test": display(as_mapping(result.get("utility")).get("n_test")),
        "epsilon_methods": [(m, ", ".join(names)) for m, names in methods.items()],
        "reference_models": _reference_models(run),
        "run_time": _run_time(timings),
    }


def build_context(
    result: Mapping[str, Any], timings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Turn a result dict (and the run's stage timings, kept out of the result) into the
    template's view model (strings and lists only)."""
    run = as_mapping(result.get("run"))
    confidence = confidence_label(run)
    return {
        "title": f"Privacy audit report: {display(run.get('name', 'unnamed run'))}",
        "schema": f"{display(result.get('schema'))} v{display(result.get('schema_version'))}",
        "auditor_version": display(run.get("auditor_version")),
        "confidence": confidence,
        "sections": SECTION_IDS,
        "release": release_context(result),
        "summary": summary_context(result),
        "beside": beside_context(result),
        "verdict": _verdict(result),
        "artifact": _artifact(result),
        "membership": membership_context(result, confidence),
        "overlaid": overlaid_context(result, confidence),
        "not_run": not_run_context(result),
        "reidentification": reidentification_context(result),
        "dp_audit": dp_audit_context(result),
        "by_group": groups_context(result),
        "group_pictures": group_pictures(result),
        "attribute_inference": attribute_context(result),
        "utility": _utility(result),
        "fairness": _fairness(result),
        "method": _method(result, confidence, timings),
        "plotly_js": plotly_bundle(),
    }


def render_report(result: dict[str, Any], timings: Mapping[str, Any] | None = None) -> str:
    """Render the result dict into a self-contained, deterministic HTML document; the run's
    stage timings (``timings.json``), if given, go into the method section."""
    if not isinstance(result, Mapping):
        raise TypeError(f"result must be a dict, not {type(result).__name__}")
    template = environment().get_template("report.html.j2")
    return template.render(build_context(result, timings))


def write_report(
    result: dict[str, Any], path: Path, timings: Mapping[str, Any] | None = None
) -> None:
    """Render ``result`` and write it to ``path`` atomically (same-directory temp file, replace)."""
    path = Path(path)
    html = render_report(result, timings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(html)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
