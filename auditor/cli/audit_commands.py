"""The commands that audit: `run`, `dp-audit`, `validate` and `demo`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor.cli.app import (
    ALLOW_CODE,
    ALLOW_CODE_HELP,
    FORCE_HELP,
    app,
    audit_with_progress,
    checked,
    outputs_of,
)
from auditor.cli.console import bad_input, err, out, progress, verdict_table
from auditor.core.outputs import mark, output_problems, publish
from auditor.errors import AuditInputError, ResultSchemaError
from auditor.result.schema import DP_BOUNDS


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="audit spec (TOML)")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    junit: Annotated[Path | None, typer.Option(help="write the gates as JUnit XML")] = None,
    allow_code: Annotated[bool, typer.Option(*ALLOW_CODE, help=ALLOW_CODE_HELP)] = False,
    report: Annotated[bool, typer.Option(help="also render report.html")] = True,
    executor: Annotated[
        str | None,
        typer.Option(help="where reference models train: in_process or ray (default: the spec)"),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster HOST:PORT or auto (default: a private local Ray)"),
    ] = None,
    sign: Annotated[
        Path | None,
        typer.Option(help="sign result.json with this Ed25519 private key (auditor keygen)"),
    ] = None,
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
    verbose: Annotated[
        bool, typer.Option(help="show your training function's error messages (may quote records)")
    ] = False,
) -> None:
    """Audit the artifact a spec describes; write result.json (+ report.html, timings.json)."""
    if verbose:
        from auditor.training.recipes.user import VERBOSE_ENV

        os.environ[VERBOSE_ENV] = "1"
    folder = out_dir or spec.parent / f"{spec.stem}-audit"
    outputs = output_problems(folder, field="--out", folder=True, force=force)
    if junit is not None:
        outputs += output_problems(junit, field="--junit", folder=False, force=force)
    if sign is not None:  # an unreadable key is found now, not after the audit
        from auditor.result.signing import key_problems

        outputs += key_problems(sign)
    spec_obj = checked(spec, outputs, executor, address)
    try:
        outcome = audit_with_progress(spec_obj, allow_code)
    except (AuditInputError, ResultSchemaError) as exc:
        raise bad_input(exc) from None
    publish(outputs_of(outcome, report, sign), folder)
    if junit is not None:
        from auditor.result.gates import write_junit

        write_junit(outcome.result["gates"], junit, spec_obj.name)
    out.print(verdict_table({spec_obj.name: outcome.result}))
    for gate in outcome.result["gates"]:
        mark = "[green]PASS[/]" if gate["passed"] else "[red]FAIL[/]"
        out.print(f"{mark} ", end="")
        out.print(gate["message"], markup=False, highlight=False)
    out.print(f"wrote {folder}", markup=False, highlight=False)
    raise typer.Exit(0 if outcome.passed else 1)


@app.command("dp-audit")
def dp_audit(
    spec: Annotated[Path, typer.Argument(help="audit spec (TOML) of a DP-SGD model")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    runs: Annotated[int | None, typer.Option(help="runs of the game (default: the spec's)")] = None,
    per_run: Annotated[
        int | None, typer.Option(help="canaries per run (default: the spec's)")
    ] = None,
    canaries: Annotated[
        str | None,
        typer.Option(
            help="comma-separated kinds: gradient,input,ood,crafted (default: the spec's)"
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
) -> None:
    """Test the artifact's DP claim with canary games alone; write dp_audit.json. Exit 1
    when a lower bound exceeds the claimed epsilon."""
    from auditor.config.overrides import with_dp_audit
    from auditor.orchestration.run import run_dp_audit

    folder = out_dir or spec.parent / f"{spec.stem}-dp-audit"
    outputs = output_problems(
        folder, field="--out", folder=True, force=force, writes=("dp_audit.json",)
    )
    spec_obj = checked(spec, outputs)
    try:
        spec_obj = with_dp_audit(spec_obj, canaries, runs, per_run)
        with progress([]) as reporter:
            section = run_dp_audit(spec_obj, progress=reporter)
    except AuditInputError as exc:
        raise bad_input(exc) from None
    publish({"dp_audit.json": json.dumps(section, indent=2, sort_keys=True) + "\n"}, folder)
    audit = section["dp_audit"]
    table = Table("canaries", "method", "epsilon >=", "bound / claim", title="DP audit")
    for kind, entry in sorted(audit["kinds"].items()):
        for method in DP_BOUNDS:
            bound = entry.get(method, {})
            value, ratio = bound.get("value"), bound.get("tightness")
            table.add_row(
                kind,
                method.replace("_", " "),
                "n/a" if value is None else f"{value:.2f}",
                "n/a" if ratio is None else f"{ratio:.2f}",
            )
    out.print(table)
    claimed = audit["claimed"]["epsilon"]
    verdict = (
        "no DP claim"
        if claimed is None
        else f"claimed epsilon {claimed:.3g}: "
        + ("REFUTED" if audit["claim_refuted"] else "not contradicted")
    )
    out.print(verdict, markup=False, highlight=False)
    out.print(f"wrote {folder}", markup=False, highlight=False)
    raise typer.Exit(1 if audit["claim_refuted"] else 0)


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="audit spec (TOML)")],
    allow_code: Annotated[bool, typer.Option(*ALLOW_CODE, help=ALLOW_CODE_HELP)] = False,
) -> None:
    """Check a spec and everything it names (artifact, metadata, data, gates) as `run`
    would, without training or attacking anything: exit 2 with every problem found."""
    from auditor.config.spec import load_spec
    from auditor.orchestration.inputs import check_inputs, training_procedure

    try:
        parsed = load_spec(spec)
        if parsed.attacks.device == "cuda":
            from auditor.orchestration.run import check_device

            check_device(parsed)
        check_inputs(parsed, allow_code=allow_code)
        procedure = training_procedure(parsed, allow_code=allow_code)
    except AuditInputError as exc:
        raise bad_input(exc) from None
    out.print(
        f"{spec}: valid ({len(parsed.attacks.run)} attacks, {len(parsed.gates)} gates)\n"
        f"reference models: {procedure}",
        markup=False,
        highlight=False,
    )


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="seed for splits, recipes and attacks")] = 7,
    bootstrap: Annotated[int, typer.Option(help="bootstrap replicates")] = 1000,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="the whole tour: every scheme's fixture, the population control, dp_coding "
            "(a multi-label coder, non-private and DP-SGD at epsilon 1, 3, 8) and "
            "merge_images (a CNN on digits merged from four sites)",
        ),
    ] = False,
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
) -> None:
    """Build fixtures on the embedded data and audit each: by default a quick tour (a leaky
    model, a DP model, a condensed dataset, merged weights); --full for every fixture."""
    import time

    from auditor.demo.tour import demo_specs

    outputs = output_problems(out_dir, field="--out", folder=True, force=force, writes=None)
    if outputs:
        raise bad_input(AuditInputError(outputs))
    mark(out_dir)
    start = time.perf_counter()

    def say(line: str) -> None:
        err.print(f"[{time.perf_counter() - start:7.1f} s] {line}", markup=False, highlight=False)

    specs = demo_specs(out_dir, seed=seed, bootstrap=bootstrap, full=full, say=say)
    results = {}
    for i, (name, spec_path) in enumerate(specs.items(), start=1):
        say(f"audit {i}/{len(specs)}: {name}")
        outcome = audit_with_progress(checked(spec_path, []), allow_code=False)
        publish(outputs_of(outcome, True), out_dir / name)
        results[name] = outcome.result
    from auditor.report.compare import render_comparison
    from auditor.result.document import write_text_atomic

    write_text_atomic(out_dir / "comparison.html", render_comparison(list(results.values())))
    say(f"done: {len(results)} audits")
    out.print(verdict_table(results))
    if full:
        from auditor.demo.coding import coding_tradeoffs

        table = json.dumps({"rows": coding_tradeoffs(results)}, indent=2, sort_keys=True)
        write_text_atomic(out_dir / "dp_coding.json", table + "\n")
        out.print(f"dp_coding table: {out_dir / 'dp_coding.json'}", markup=False, highlight=False)
    out.print(f"comparison: {out_dir / 'comparison.html'}", markup=False, highlight=False)
    out.print(
        f"reports: {', '.join(str(out_dir / n / 'report.html') for n in results)}",
        markup=False,
        highlight=False,
    )
