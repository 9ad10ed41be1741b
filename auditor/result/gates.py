"""Policy gates: thresholds on result figures -> pass/fail, exit codes and JUnit XML.

Gates are parsed into objects when the spec is read (an unknown metric is an error then)
and checked once the result exists.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from auditor.artifacts.kinds import MetricScope
from auditor.core.outputs import GENERATOR
from auditor.errors import Problem
from auditor.result.schema import lookup, metric_paths
from auditor.result.sections import GateResult

__all__ = ["Gate", "GateOutcome", "evaluate", "lookup", "metric_names", "parse_gates"]


Bound = Literal["value", "lower", "upper"]


@dataclass(frozen=True)
class Gate:
    """`metric` must stay at most (`max`) or at least (`min`) `threshold`; `bound` picks
    the point value or an end of its interval ("upper end of TPR at 0.1% FPR <= 1%")."""

    metric: str
    op: Literal["max", "min"]
    threshold: float
    bound: Bound = "value"


@dataclass(frozen=True)
class GateOutcome:
    gate: Gate
    observed: float | None
    interval: tuple[float | None, float | None]
    passed: bool
    message: str

    def to_dict(self) -> GateResult:
        return {
            "metric": self.gate.metric,
            "op": self.gate.op,
            "threshold": self.gate.threshold,
            "bound": self.gate.bound,
            "observed": self.observed,
            "interval": list(self.interval),
            "passed": self.passed,
            "message": self.message,
        }


def metric_names(kind: str, scope: MetricScope) -> list[str]:
    """Every metric name a gate may use for an audit of `kind` (`schema.metric_paths`)."""
    return list(metric_paths(kind, scope))


def _flatten(raw: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    # Unquoted dotted keys in TOML become nested tables; a gate is a table of plain values.
    # Metric names have at most 5 parts: deeper nesting is kept whole (and refused as unknown).
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        nested = isinstance(value, dict) and any(isinstance(v, dict) for v in value.values())
        if nested and depth < 6:
            out.update(_flatten(value, name + ".", depth + 1))
        else:
            out[name] = value
    return out


def parse_gates(
    raw: dict[str, Any], where: str, known: list[str]
) -> tuple[tuple[Gate, ...], list[Problem]]:
    """Parse the [gates] table; returns the gates and the problems found."""
    gates, problems = [], []
    for metric, body in sorted(_flatten(raw).items()):
        field = f"gates.{metric}"
        if metric not in known:
            close = [k for k in known if k.split(".")[0] == metric.split(".")[0]][:6]
            problems.append(
                Problem(
                    where,
                    field,
                    "names a metric this audit does not produce",
                    f"use one of {', '.join(close or known[:6])}, ...",
                )
            )
            continue
        ops = {k for k in ("max", "min") if isinstance(body, dict) and k in body}
        if len(ops) != 1:
            problems.append(
                Problem(
                    where,
                    field,
                    "must set exactly one of max or min",
                    f'write "{metric}" = {{ max = 0.05 }}',
                )
            )
            continue
        op: Literal["max", "min"] = "max" if "max" in ops else "min"
        threshold, bound = body[op], body.get("bound", "value")
        extra = set(body) - {op, "bound"}
        number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
        if not number or not math.isfinite(threshold) or extra:
            problems.append(
                Problem(
                    where,
                    field,
                    "has a threshold that is not a finite number, or unknown keys",
                    'use { max = <number>, bound = "value" }',
                )
            )
            continue
        if bound not in ("value", "lower", "upper"):
            problems.append(
                Problem(where, f"{field}.bound", f"is {bound!r}", 'use "value", "lower" or "upper"')
            )
            continue
        gates.append(Gate(metric, op, float(threshold), cast(Bound, bound)))
    return tuple(gates), problems


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def evaluate(gates: tuple[Gate, ...], result: Mapping[str, Any]) -> list[GateOutcome]:
    """Check every gate against a result; an unmeasurable figure fails its gate."""
    outcomes = []
    for gate in gates:
        try:
            fig = lookup(result, gate.metric)
        except KeyError:  # e.g. site attribution of weights released without site vectors
            fig = {"value": None, "note": "not measured in this audit"}
        observed = fig.get(gate.bound)
        interval = (fig.get("lower"), fig.get("upper"))
        ci = f" (CI {_fmt(interval[0])}-{_fmt(interval[1])})" if interval[0] is not None else ""
        what = gate.metric if gate.bound == "value" else f"{gate.bound} end of {gate.metric}"
        if observed is None or (isinstance(observed, float) and math.isnan(observed)):
            why = fig.get("note") or "could not be measured"
            outcomes.append(GateOutcome(gate, None, interval, False, f"{what}: {why}"))
            continue
        passed = observed <= gate.threshold if gate.op == "max" else observed >= gate.threshold
        verb = (
            ("within" if passed else "exceeds")
            if gate.op == "max"
            else ("meets" if passed else "below")
        )
        message = f"{what} = {_fmt(observed)}{ci} {verb} {gate.op} {_fmt(gate.threshold)}"
        outcomes.append(GateOutcome(gate, float(observed), interval, passed, message))
    return outcomes


def write_junit(outcomes: list[dict[str, Any]], path: Path, suite: str) -> None:
    """JUnit XML with one test case per gate (from the result's `gates` list)."""
    failures = sum(not o["passed"] for o in outcomes)
    root = ET.Element(
        "testsuite",
        name=f"audit gates: {suite}",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors="0",
    )
    # names the writer, so that a re-run may replace this file and no other (core.outputs)
    properties = ET.SubElement(root, "properties")
    ET.SubElement(properties, "property", name="generator", value=GENERATOR)
    for o in outcomes:
        case = ET.SubElement(root, "testcase", classname="auditor.gates", name=o["metric"])
        if not o["passed"]:
            ET.SubElement(case, "failure", message=o["message"]).text = o["message"]
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
