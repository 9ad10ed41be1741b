"""Command line: `auditor run | validate | report | compare | demo | cache`.

Exit codes: 0 all gates pass, 1 a gate failed, 2 bad input or usage (the message names the
file, the field and the fix). Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.errors import AuditInputError, ResultSchemaError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)
out = Console()


def _bad_input(exc: Exception) -> typer.Exit:
    problems = getattr(exc, "problems", None)
    lines = [str(p) for p in problems] if problems else [str(exc)]
    err.print("[bold red]error:[/] bad input", highlight=False)
    for line in lines:
        err.print(f"  - {line}", markup=False, highlight=False)
    return typer.Exit(2)


@contextmanager
def _progress(stages: list[str]) -> Iterator[Any]:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(stages[0] if stages else "audit", total=len(stages))
        started = []

        def step(stage: str) -> None:
            if started:
                bar.advance(task)
            started.append(stage)
            bar.update(task, description=stage)

        yield step


def _publish(files: dict[str, str], folder: Path) -> None:
    """Write all output files into `folder` at once: staged in a temporary folder beside
    it, then moved in, so that a failure leaves no partial output behind."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.staging-"))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        folder.mkdir(exist_ok=True)
        for name in files:
            (staging / name).replace(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verdict_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="audit results")
    for col in ("audit", "attack", "AUC [95% CI]", "TPR@1% FPR", "TPR@0.1% FPR", "eps LB", "gates"):
        table.add_column(col)
    for name, result in results.items():
        gates = result["gates"]
        verdict = f"{sum(g['passed'] for g in gates)}/{len(gates)} pass"
        for attack, m in result["privacy"]["membership"].items():
            auc = m["auc"]
            cells = [f"{auc['value']:.3f} [{auc['lower']:.3f}, {auc['upper']:.3f}]"]
            for target in ("0.01", "0.001"):
                t = m["tpr_at_fpr"][target]
                cells.append(
                    "n/r"
                    if t["value"] is None
                    else f"{t['value']:.4f} [{t['lower']:.4f}, {t['upper']:.4f}]"
                )
            cells.append(f"{m['epsilon_lower_bound']['value']:.2f}")
            # Text, not markup: a spec's name like "[/bold]" is shown as written.
            table.add_row(*(Text(c) for c in (name, attack, *cells, verdict)))
            name, verdict = "", ""
    return table


def _audit(
    spec_path: Path, allow_pickle: bool, executor: str | None = None, address: str | None = None
) -> Any:
    from auditor.audit.run import plan, run_audit
    from auditor.config.spec import load_spec, with_executor

    spec = load_spec(spec_path)
    if executor is not None or address is not None:
        spec = with_executor(spec, executor, address)
    with _progress(plan(spec)) as step:
        return spec, run_audit(spec, allow_pickle=allow_pickle, progress=step)


def _outputs(outcome: Any, with_report: bool) -> dict[str, str]:
    import json

    from auditor.result.document import dumps

    text = dumps(outcome.result)
    files = {
        "result.json": text,
        "timings.json": json.dumps(outcome.timings, indent=2, sort_keys=True) + "\n",
    }
    if with_report:
        from auditor.report import render_report

        # From the JSON text, as `auditor report` does: the same bytes either way.
        files["report.html"] = render_report(json.loads(text), outcome.timings)
    return files


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="audit spec (TOML)")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    junit: Annotated[Path | None, typer.Option(help="write the gates as JUnit XML")] = None,
    allow_pickle: Annotated[
        bool, typer.Option(help="allow unpickling the artifact (runs its code: trusted files only)")
    ] = False,
    report: Annotated[bool, typer.Option(help="also render report.html")] = True,
    executor: Annotated[
        str | None,
        typer.Option(help="where reference models train: in_process or ray (default: the spec)"),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster HOST:PORT or auto (default: a private local Ray)"),
    ] = None,
) -> None:
    """Audit the artifact a spec describes; write result.json (+ report.html, timings.json)."""
    try:
        spec_obj, outcome = _audit(spec, allow_pickle, executor, address)
    except (AuditInputError, ResultSchemaError) as exc:
        raise _bad_input(exc) from None
    folder = out_dir or spec.parent / f"{spec.stem}-audit"
    _publish(_outputs(outcome, report), folder)
    if junit is not None:
        from auditor.result.gates import write_junit

        write_junit(outcome.result["gates"], junit, spec_obj.name)
    out.print(_verdict_table({spec_obj.name: outcome.result}))
    for gate in outcome.result["gates"]:
        mark = "[green]PASS[/]" if gate["passed"] else "[red]FAIL[/]"
        out.print(f"{mark} ", end="")
        out.print(gate["message"], markup=False, highlight=False)
    out.print(f"wrote {folder}", markup=False, highlight=False)
    raise typer.Exit(0 if outcome.passed else 1)


@app.command()
def validate(spec: Annotated[Path, typer.Argument(help="audit spec (TOML)")]) -> None:
    """Check a spec (fields, files, attacks, gates) without running it."""
    from auditor.config.spec import load_spec

    try:
        parsed = load_spec(spec)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    out.print(
        f"{spec}: valid ({len(parsed.attacks.run)} attacks, {len(parsed.gates)} gates)",
        markup=False,
        highlight=False,
    )


def _timings_beside(result: Path) -> dict[str, float] | None:
    """The run's timings.json next to `result`, if there is a readable one (it only adds the
    run time to the report's method section); a malformed one is ignored with a warning."""
    import json

    path = result.with_name("timings.json")
    if not path.is_file():
        return None
    try:
        timings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        timings = None
    if not isinstance(timings, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in timings.values()
    ):
        err.print(f"ignored {path}: not a JSON object of stage -> seconds", markup=False)
        return None
    return timings


@app.command("report")
def report_command(
    result: Annotated[Path, typer.Argument(help="result.json written by `auditor run`")],
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file")] = None,
) -> None:
    """Render the HTML report from a result JSON alone."""
    from auditor.report import write_report
    from auditor.result.document import load_result

    try:
        document = load_result(result)
    except ResultSchemaError as exc:
        raise _bad_input(exc) from None
    target = out_path or result.with_name("report.html")
    write_report(document, target, _timings_beside(result))
    out.print(f"wrote {target}", markup=False, highlight=False)


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="result.json files to compare")],
    out_path: Annotated[Path, typer.Option("--out", help="HTML file")] = Path("comparison.html"),
) -> None:
    """Render one report over several results: the privacy-utility frontier."""
    from auditor.report.compare import render_comparison
    from auditor.result.document import load_result, write_text_atomic

    try:
        documents = [load_result(path) for path in results]
    except ResultSchemaError as exc:
        raise _bad_input(exc) from None
    write_text_atomic(out_path, render_comparison(documents))
    out.print(f"wrote {out_path}", markup=False, highlight=False)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="seed for splits, recipes and attacks")] = 7,
    bootstrap: Annotated[int, typer.Option(help="bootstrap replicates")] = 1000,
) -> None:
    """Build the fixtures on the embedded SUPPORT2 data and audit each one."""
    from auditor.demo import build_fixtures

    with _progress(["build fixtures"]) as step:
        step("build fixtures (SUPPORT2 splits, recipes)")
        specs = build_fixtures(out_dir, seed=seed, bootstrap=bootstrap)
    results = {}
    for name, spec_path in specs.items():
        _, outcome = _audit(spec_path, allow_pickle=False)
        _publish(_outputs(outcome, True), out_dir / name)
        results[name] = outcome.result
    from auditor.report.compare import render_comparison
    from auditor.result.document import write_text_atomic

    write_text_atomic(out_dir / "comparison.html", render_comparison(list(results.values())))
    out.print(_verdict_table(results))
    out.print(f"comparison: {out_dir / 'comparison.html'}", markup=False, highlight=False)
    out.print(
        f"reports: {', '.join(str(out_dir / n / 'report.html') for n in results)}",
        markup=False,
        highlight=False,
    )


@app.command()
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="delete every entry")] = False,
) -> None:
    """Show (or clear) the reference-model cache ($AUDITOR_CACHE_DIR or ~/.cache)."""
    from auditor.training.cache import DiskCache, default_dir

    disk = DiskCache(default_dir())
    if clear:
        out.print(f"removed {disk.clear()} entries from {disk.folder}", markup=False)
        return
    entries = disk.entries() if disk.folder.is_dir() else []
    table = Table(title=Text(f"reference-model cache: {disk.folder}"))
    for col in ("key", "MiB", "what"):
        table.add_column(col)
    for key, size, description in entries:
        table.add_row(*(Text(c) for c in (key[:16], f"{size / 2**20:.1f}", description)))
    out.print(table)
    total = sum(size for _, size, _ in entries) / 2**20
    out.print(f"{len(entries)} entries, {total:.1f} MiB", markup=False)
