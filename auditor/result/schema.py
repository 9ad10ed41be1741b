"""The one table of metric names and where each lives in a result document.

Gates (`result.gates`), the pytest plugin and the report all read figures through it: a
metric name such as `privacy.lira_online.tpr_at_fpr_0.001` or
`fairness.recall_gap.sex` maps to one path of keys in the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.artifacts.kinds import MetricScope, Path, kind_paths
from auditor.core.types import RELEASE_ATTACKS, SHADOW_RELEASE_ATTACKS
from auditor.metrics.utility import UTILITY_METRICS

FPRS = ("0.1", "0.01", "0.001")
FAIRNESS_FIGURES = ("recall_gap", "auroc_gap", "equalized_odds_difference")


def _membership(attack: str, sensitive: Iterable[str]) -> dict[str, Path]:
    """Names of one membership attack's figures (and its group gaps)."""
    base: Path = ("privacy", "membership", attack)
    out: dict[str, Path] = {
        f"privacy.{attack}.auc": (*base, "auc"),
        f"privacy.{attack}.advantage": (*base, "advantage"),
        **{f"privacy.{attack}.tpr_at_fpr_{f}": (*base, "tpr_at_fpr", f) for f in FPRS},
        f"privacy.{attack}.epsilon_lower_bound": (*base, "epsilon_lower_bound"),
        f"privacy.{attack}.warnings": (*base, "warnings"),
    }
    for s in sensitive:
        gaps = (*base, "by_group", s, "gaps")
        out[f"privacy.{attack}.auc_gap.{s}"] = (*gaps, "auc")
        for f in FPRS:
            out[f"privacy.{attack}.tpr_gap_{f}.{s}"] = (*gaps, f"tpr_at_fpr_{f}")
    return out


# The DP audit's estimators (`metrics.dp_audit.dp_audit_bounds`): the (epsilon, delta)
# bounds, then the f-DP one-run bound and the Gaussian-DP estimate.
DP_BOUNDS = ("one_run", "many_runs", "fdp_one_run", "gdp_many_runs")


def model_paths(scope: MetricScope) -> dict[str, Path]:
    """A model's privacy figures: each attack's, and attribute inference per sensitive
    column (the `model` kind's `privacy_paths`)."""
    out: dict[str, Path] = {}
    for attack in scope.attacks:
        out.update(_membership(attack, scope.sensitive))
    for s in scope.sensitive:
        entry = ("privacy", "attribute_inference", s, "advantage_loss_membership")
        out[f"privacy.attribute_inference.{s}.advantage"] = (*entry, "members")
        out[f"privacy.attribute_inference.{s}.excess"] = (*entry, "excess_on_members")
    return out


def weights_paths(scope: MetricScope) -> dict[str, Path]:
    """Merged weights: a model's figures, and which site a record came from."""
    site = ("privacy", "site_attribution", "accuracy")
    return {**model_paths(scope), "privacy.site_attribution.accuracy": site}


def dataset_paths(scope: MetricScope) -> dict[str, Path]:
    """Released records: each attack on each consumer model (`<attack>@<consumer>`), each
    membership attack on the records themselves with the share of members it exposes, the
    linkage and the record-level risks of the records themselves."""
    out: dict[str, Path] = {}
    for target in (f"{a}@{c}" for a in scope.attacks for c in scope.consumers):
        out.update(_membership(target, scope.sensitive))
    for attack in (*RELEASE_ATTACKS, *SHADOW_RELEASE_ATTACKS):  # on the records themselves
        out.update(_membership(attack, scope.sensitive))
        exposed = ("privacy", "membership", attack, "exposed", "flagged_share")
        out[f"privacy.{attack}.exposed_share"] = exposed
    out["privacy.linkage.dcr_linkage"] = ("privacy", "linkage", "dcr_linkage")
    out["privacy.linkability.risk"] = ("privacy", "linkability", "risk")
    out["privacy.singling_out.risk"] = ("privacy", "singling_out", "risk")
    for s in scope.sensitive:
        out[f"privacy.inference.{s}.risk"] = ("privacy", "inference", s, "risk")
    return out


def metric_paths(kind: str, scope: MetricScope) -> dict[str, Path]:
    """Every metric name an audit of `kind` produces, with its path: the kind's privacy
    figures (`ArtifactKind.privacy_paths`), the DP audit's bounds for each canary kind
    (`privacy.dp_audit.<kind>.<bound>`), utility and fairness."""
    out = kind_paths(kind, scope)
    for canary in scope.canaries:
        for bound in DP_BOUNDS:
            path = ("privacy", "dp_audit", "kinds", canary, bound)
            out[f"privacy.dp_audit.{canary}.{bound}"] = path
    for m in UTILITY_METRICS:
        out[f"utility.{m}"] = ("utility", "artifact", m)
        out[f"utility.difference.{m}"] = ("utility", "difference", m)
    for figure in FAIRNESS_FIGURES:
        for s in scope.sensitive:
            out[f"fairness.{figure}.{s}"] = ("fairness", s, figure)
    return out


def result_paths(result: Mapping[str, Any]) -> dict[str, Path]:
    """The metric names of an existing result (read from its own sections)."""

    def section(doc: Any, key: str) -> Mapping[str, Any]:
        value = doc.get(key) if isinstance(doc, Mapping) else None
        return value if isinstance(value, Mapping) else {}

    attacks = list(section(section(result, "privacy"), "membership"))
    sensitive = [str(s) for s in section(result, "data").get("sensitive", []) or []]
    kind = str(section(result, "artifact").get("kind", "model"))
    consumers: list[str] = []
    if any("@" in a for a in attacks):  # attacks through consumers: "<attack>@<consumer>"
        consumers = sorted({a.partition("@")[2] for a in attacks})
        attacks = sorted({a.partition("@")[0] for a in attacks})
    canaries = [str(c) for c in section(section(section(result, "privacy"), "dp_audit"), "kinds")]
    scope = MetricScope(tuple(attacks), tuple(sensitive), tuple(consumers), tuple(canaries))
    return metric_paths(kind, scope)


def lookup(result: Mapping[str, Any], metric: str) -> Mapping[str, Any]:
    """The figure a metric name refers to ({value, lower, upper[, note]}); KeyError when the
    name is unknown or the result does not hold that figure."""
    entry: Any = result
    for key in result_paths(result)[metric]:
        if not isinstance(entry, Mapping):
            raise KeyError(metric)
        entry = entry[key]
    if not isinstance(entry, Mapping):
        raise KeyError(metric)
    return entry
