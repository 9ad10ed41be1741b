"""The `auditor` Typer app and what its commands share: the options named once, the spec
check (with the output paths' problems) and an audit run with its progress display."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from auditor.cli.console import bad_input, progress
from auditor.errors import AuditInputError, Problem

HELP = """Command line: `auditor init | run | dp-audit | validate | report | compare | demo |
cache | keygen | verify`.

Exit codes: 0 all gates pass, 1 a gate failed, 2 bad input or usage (the message names the
file, the field and the fix). Heavy libraries are imported inside the commands.
"""
app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP)
# Pickle and TorchScript run the artifact's own code (they can read and write files);
# --allow-pickle is the flag's older name.
ALLOW_CODE = ("--allow-code", "--allow-pickle")
FORCE_HELP = "write over files and folders the auditor did not write"
ALLOW_CODE_HELP = (
    "load pickle / TorchScript artifacts, which run their own code: trusted files only"
)


def checked(
    spec_path: Path,
    outputs: list[Problem],
    executor: str | None = None,
    address: str | None = None,
) -> Any:
    """The spec, or typer.Exit(2) with its problems and the output paths' together."""
    from auditor.config.overrides import with_executor
    from auditor.config.spec import load_spec

    try:
        spec = load_spec(spec_path)
        if executor is not None or address is not None:
            spec = with_executor(spec, executor, address)
    except AuditInputError as exc:
        raise bad_input(AuditInputError(exc.problems + outputs)) from None
    if outputs:
        raise bad_input(AuditInputError(outputs))
    return spec


def audit_with_progress(spec: Any, allow_code: bool) -> Any:
    from auditor.orchestration.run import plan, run_audit

    with progress(plan(spec)) as reporter:
        return run_audit(spec, allow_code=allow_code, progress=reporter)


def outputs_of(outcome: Any, with_report: bool, sign: Path | None = None) -> dict[str, str]:
    import json

    from auditor.result.document import dumps

    document = outcome.result
    if sign is not None:
        from auditor.result.signing import sign as sign_document

        document = sign_document(document, sign)
    text = dumps(document)
    files = {
        "result.json": text,
        "timings.json": json.dumps(outcome.timings, indent=2, sort_keys=True) + "\n",
    }
    if with_report:
        from auditor.report import render_report

        # From the JSON text, as `auditor report` does: the same bytes either way.
        files["report.html"] = render_report(json.loads(text), outcome.timings)
    return files
