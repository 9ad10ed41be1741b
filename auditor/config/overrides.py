"""Command-line overrides of a parsed spec (`auditor run --executor --address`, `auditor
dp-audit --canaries --runs --per-run`), checked by the same field table as the spec."""

from __future__ import annotations

from dataclasses import replace

from auditor.config.fields import parse_field
from auditor.config.spec import FIELDS, AuditSpec, canary_problems
from auditor.errors import AuditInputError, Problem
from auditor.training.executors import INSTALL_RAY, ray_installed


def with_executor(spec: AuditSpec, name: str | None, address: str | None) -> AuditSpec:
    """`spec` with its executor overridden (the command line's --executor / --address);
    AuditInputError if the override is invalid. The spec's hash, and so the result, is kept."""
    by_name = {f.name: f for f in FIELDS}
    settings, problems = spec.executor, []
    for option, key, value in (("--executor", "name", name), ("--address", "address", address)):
        if value is None:
            continue
        parsed, problem = parse_field(by_name[f"executor.{key}"], value, spec.path.parent)
        if problem is not None:
            problems.append(Problem("command line", option, problem.message, problem.fix))
        settings = replace(settings, **{key: parsed})
    if settings.name == "ray" and not ray_installed():
        message = '"ray" but Ray is not installed'
        problems.append(
            Problem("command line", "--executor", message, f"install it: {INSTALL_RAY}")
        )
    if problems:
        raise AuditInputError(problems)
    return replace(spec, executor=settings)


def with_dp_audit(
    spec: AuditSpec, canaries: str | None, runs: int | None, per_run: int | None
) -> AuditSpec:
    """`spec` with its DP audit settings overridden (`auditor dp-audit --canaries --runs
    --per-run`); AuditInputError if an override is invalid."""
    by_name = {f.name: f for f in FIELDS}
    settings, problems = spec.dp_audit, []
    kinds = None if canaries is None else [c.strip() for c in canaries.split(",") if c.strip()]
    for option, key, value in (
        ("--canaries", "canaries", kinds),
        ("--runs", "runs", runs),
        ("--per-run", "per_run", per_run),
    ):
        if value is None:
            continue
        parsed, problem = parse_field(by_name[f"dp_audit.{key}"], value, spec.path.parent)
        if problem is not None:
            problems.append(Problem("command line", option, problem.message, problem.fix))
        new = tuple(parsed) if key == "canaries" else parsed
        settings = replace(settings, **{key: new})  # type: ignore[arg-type]  # by name
    if not problems:
        problems = canary_problems(settings.runs, settings.per_run, "command line", "--runs")
    if problems:
        raise AuditInputError(problems)
    return replace(spec, dp_audit=settings)
