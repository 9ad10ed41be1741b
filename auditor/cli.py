"""Command line: `auditor init | run | dp-audit | validate | report | compare | demo | cache`.

Exit codes: 0 all gates pass, 1 a gate failed, 2 bad input or usage (the message names the
file, the field and the fix). Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.core.outputs import mark, output_problems, publish
from auditor.errors import AuditInputError, Problem, ResultSchemaError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)
out = Console()
# Pickle and TorchScript run the artifact's own code (they can read and write files);
# --allow-pickle is the flag's older name.
ALLOW_CODE = ("--allow-code", "--allow-pickle")
FORCE_HELP = "write over files and folders the auditor did not write"
ALLOW_CODE_HELP = (
    "load pickle / TorchScript artifacts, which run their own code: trusted files only"
)


def _bad_input(exc: Exception) -> typer.Exit:
    problems = getattr(exc, "problems", None)
    lines = [str(p) for p in problems] if problems else [str(exc)]
    err.print("[bold red]error:[/] bad input", highlight=False)
    for line in lines:
        err.print(f"  - {line}", markup=False, highlight=False)
    return typer.Exit(2)


@dataclass
class _Bars:
    """Rich bars in a terminal: one over the stages, one over the current reference-model
    shards."""

    bar: Any
    task: Any
    started: list[str]
    shard_task: Any = None

    def stage(self, name: str) -> None:
        if self.started:
            self.bar.advance(self.task)
        self.started.append(name)
        self.bar.update(self.task, description=name)
        if self.shard_task is not None:
            self.bar.remove_task(self.shard_task)
            self.shard_task = None

    def shards(self, done: int, total: int) -> None:
        if self.shard_task is None:
            self.shard_task = self.bar.add_task("  reference models", total=total)
        self.bar.update(
            self.shard_task, completed=done, description=f"  reference models {done}/{total}"
        )


@contextmanager
def _progress(stages: list[str]) -> Iterator[Any]:
    """Bars when stderr is a terminal; otherwise one line per stage with the elapsed time
    (bars are transient and would leave nothing in a CI log)."""
    if not err.is_terminal:
        from auditor.audit.progress import StageLog

        log = StageLog(lambda line: err.print(line, markup=False, highlight=False))
        yield log
        log.close()
        return
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
        yield _Bars(bar, task, [])


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


def _checked(
    spec_path: Path,
    outputs: list[Problem],
    executor: str | None = None,
    address: str | None = None,
) -> Any:
    """The spec, or typer.Exit(2) with its problems and the output paths' together."""
    from auditor.config.spec import load_spec, with_executor

    try:
        spec = load_spec(spec_path)
        if executor is not None or address is not None:
            spec = with_executor(spec, executor, address)
    except AuditInputError as exc:
        raise _bad_input(AuditInputError(exc.problems + outputs)) from None
    if outputs:
        raise _bad_input(AuditInputError(outputs))
    return spec


def _audit(spec: Any, allow_code: bool) -> Any:
    from auditor.audit.run import plan, run_audit

    with _progress(plan(spec)) as progress:
        return run_audit(spec, allow_code=allow_code, progress=progress)


def _outputs(outcome: Any, with_report: bool, sign: Path | None = None) -> dict[str, str]:
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
    spec_obj = _checked(spec, outputs, executor, address)
    try:
        outcome = _audit(spec_obj, allow_code)
    except (AuditInputError, ResultSchemaError) as exc:
        raise _bad_input(exc) from None
    publish(_outputs(outcome, report, sign), folder)
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


@app.command("dp-audit")
def dp_audit(
    spec: Annotated[Path, typer.Argument(help="audit spec (TOML) of a DP-SGD model")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    runs: Annotated[int | None, typer.Option(help="runs of the game (default: the spec's)")] = None,
    per_run: Annotated[
        int | None, typer.Option(help="canaries per run (default: the spec's)")
    ] = None,
    canaries: Annotated[
        str | None, typer.Option(help="comma-separated kinds: gradient,input (default: the spec's)")
    ] = None,
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
) -> None:
    """Test the artifact's DP claim with canary games alone; write dp_audit.json. Exit 1
    when a lower bound exceeds the claimed epsilon."""
    from auditor.audit.run import run_dp_audit
    from auditor.config.spec import with_dp_audit

    folder = out_dir or spec.parent / f"{spec.stem}-dp-audit"
    outputs = output_problems(
        folder, field="--out", folder=True, force=force, writes=("dp_audit.json",)
    )
    spec_obj = _checked(spec, outputs)
    try:
        spec_obj = with_dp_audit(spec_obj, canaries, runs, per_run)
        with _progress([]) as progress:
            section = run_dp_audit(spec_obj, progress=progress)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    publish({"dp_audit.json": json.dumps(section, indent=2, sort_keys=True) + "\n"}, folder)
    audit = section["dp_audit"]
    table = Table("canaries", "method", "epsilon >=", "bound / claim", title="DP audit")
    for kind, entry in sorted(audit["kinds"].items()):
        for method in ("one_run", "many_runs"):
            bound = entry[method]
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
    from auditor.audit.inputs import check_inputs
    from auditor.config.spec import load_spec

    try:
        parsed = load_spec(spec)
        if parsed.attacks.device == "cuda":
            from auditor.audit.run import check_device

            check_device(parsed)
        check_inputs(parsed, allow_code=allow_code)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    out.print(
        f"{spec}: valid ({len(parsed.attacks.run)} attacks, {len(parsed.gates)} gates)",
        markup=False,
        highlight=False,
    )


@app.command()
def init(
    model: Annotated[Path, typer.Argument(help="model file: .skops, .onnx, .txt (LightGBM), .pt")],
    members: Annotated[Path, typer.Option(help="CSV of the records the model was trained on")],
    non_members: Annotated[Path, typer.Option(help="CSV of like records it never saw")],
    test: Annotated[Path, typer.Option(help="CSV of records to measure utility on")],
    population: Annotated[Path, typer.Option(help="CSV of records an attacker may have")],
    spec: Annotated[Path, typer.Option(help="spec to write")] = Path("audit.toml"),
    label: Annotated[str | None, typer.Option(help="outcome column (0/1)")] = None,
    id: Annotated[str | None, typer.Option("--id", help="patient id column")] = None,
    sensitive: Annotated[
        str | None, typer.Option(help="comma-separated group columns (default: by name)")
    ] = None,
    train: Annotated[
        str | None, typer.Option(help='your training code, "package.module:function"')
    ] = None,
    attacks: Annotated[
        str | None, typer.Option(help="comma-separated attacks (default: loss ... lira, rmia)")
    ] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing spec or metadata")] = False,
    allow_code: Annotated[bool, typer.Option(*ALLOW_CODE, help=ALLOW_CODE_HELP)] = False,
    trust_function: Annotated[
        list[str] | None,
        typer.Option(help="a function a skops model may call, e.g. numpy.log1p (repeatable)"),
    ] = None,
) -> None:
    """Write the metadata a model needs (<model>.meta.json) and an audit spec, from the model
    file and the data; print what was inferred and what a person must still confirm."""
    from auditor.init import infer, write_setup

    interactive = err.is_terminal and out.is_terminal
    data = {
        "members": members,
        "non_members": non_members,
        "test": test,
        "population": population,
    }
    chosen = [s.strip() for s in sensitive.split(",") if s.strip()] if sensitive else None
    try:
        inferred = infer(
            model,
            members,
            label=label,
            id=id,
            sensitive=chosen,
            train=train,
            allow_code=allow_code,
            trusted_functions=tuple(trust_function or ()),
        )
        if interactive and chosen is None:
            answer = typer.prompt(
                "sensitive columns (comma-separated)", default=",".join(inferred.sensitive)
            )
            picked = [s.strip() for s in answer.split(",") if s.strip()]
            notes = [*inferred.notes[:-1], f"sensitive columns: {', '.join(picked) or 'none'}"]
            inferred = replace(inferred, sensitive=picked, notes=notes)
        run = [a.strip() for a in attacks.split(",") if a.strip()] if attacks else None
        written = write_setup(inferred, model, data, spec, force=force, train=train, attacks=run)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    for line in inferred.notes:
        out.print(f"inferred: {line}", markup=False, highlight=False)
    for line in inferred.confirm:
        out.print(f"confirm: {line}", markup=False, highlight=False)
    for path in written:
        out.print(f"wrote {path}", markup=False, highlight=False)
    flag = " --allow-code" if allow_code else ""
    out.print(
        f"next: auditor validate {spec}{flag} && auditor run {spec}{flag}",
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
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
) -> None:
    """Render the HTML report from a result JSON alone."""
    from auditor.report import write_report
    from auditor.result.document import load_result

    target = out_path or result.with_name("report.html")
    outputs = output_problems(target, field="--out", folder=False, force=force)
    try:
        document = load_result(result)
    except ResultSchemaError as exc:
        raise _bad_input(exc) from None
    if outputs:
        raise _bad_input(AuditInputError(outputs))
    write_report(document, target, _timings_beside(result))
    out.print(f"wrote {target}", markup=False, highlight=False)


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="result.json files to compare")],
    out_path: Annotated[Path, typer.Option("--out", help="HTML file")] = Path("comparison.html"),
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
) -> None:
    """Render one report over several results: the privacy-utility frontier."""
    from auditor.report.compare import render_comparison
    from auditor.result.document import load_result, write_text_atomic

    outputs = output_problems(out_path, field="--out", folder=False, force=force)
    try:
        documents = [load_result(path) for path in results]
    except ResultSchemaError as exc:
        raise _bad_input(exc) from None
    if outputs:
        raise _bad_input(AuditInputError(outputs))
    write_text_atomic(out_path, render_comparison(documents))
    out.print(f"wrote {out_path}", markup=False, highlight=False)


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
        raise _bad_input(AuditInputError(outputs))
    mark(out_dir)
    start = time.perf_counter()

    def say(line: str) -> None:
        err.print(f"[{time.perf_counter() - start:7.1f} s] {line}", markup=False, highlight=False)

    specs = demo_specs(out_dir, seed=seed, bootstrap=bootstrap, full=full, say=say)
    results = {}
    for i, (name, spec_path) in enumerate(specs.items(), start=1):
        say(f"audit {i}/{len(specs)}: {name}")
        outcome = _audit(_checked(spec_path, []), allow_code=False)
        publish(_outputs(outcome, True), out_dir / name)
        results[name] = outcome.result
    from auditor.report.compare import render_comparison
    from auditor.result.document import write_text_atomic

    write_text_atomic(out_dir / "comparison.html", render_comparison(list(results.values())))
    say(f"done: {len(results)} audits")
    out.print(_verdict_table(results))
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


@app.command()
def keygen(
    out_path: Annotated[Path, typer.Option("--out", help="private key file (PEM)")] = Path(
        "auditor-key.pem"
    ),
) -> None:
    """Create an Ed25519 key pair for signing results: the private key (owner-only; encrypted
    when $AUDITOR_KEY_PASSPHRASE is set) and its public key beside it (.pub.pem)."""
    from auditor.result.signing import generate_key, public_key_path

    existing = [p for p in (out_path, public_key_path(out_path)) if p.exists()]
    if existing:  # neither half of a key pair is ever replaced
        fix = "choose a new file name, or move the old key pair away first"
        problems = [Problem("command line", "--out", f"{p} exists", fix) for p in existing]
        raise _bad_input(AuditInputError(problems))
    problems = output_problems(out_path, field="--out", folder=False)
    if problems:
        raise _bad_input(AuditInputError(problems))
    try:
        public, fingerprint = generate_key(out_path)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    out.print(f"private key: {out_path} (keep it secret)", markup=False, highlight=False)
    out.print(f"public key: {public}  fingerprint {fingerprint}", markup=False, highlight=False)


@app.command()
def verify(
    result: Annotated[Path, typer.Argument(help="result.json to verify")],
    key: Annotated[Path, typer.Option("--key", help="the signer's public key (PEM)")],
) -> None:
    """Check that a result was signed by the holder of KEY and not changed since: exit 0 if
    so, 1 if it is unsigned or signed by another key, 2 if its signature does not verify."""
    from auditor.result.document import load_result
    from auditor.result.signing import verify as verify_document

    try:
        document = load_result(result)  # refuses a signature that does not verify
        why = verify_document(document, key)
    except AuditInputError as exc:
        raise _bad_input(exc) from None
    if why is not None:
        err.print(f"not verified: {why}", markup=False, highlight=False)
        raise typer.Exit(1)
    fingerprint = document["signature"]["fingerprint"]
    out.print(f"{result}: verified, signed by key {fingerprint}", markup=False, highlight=False)


@app.command()
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="delete every entry")] = False,
) -> None:
    """Show (or clear) the reference-model cache ($AUDITOR_CACHE_DIR or ~/.cache)."""
    from auditor.training.cache import DiskCache, default_dir

    disk = DiskCache(default_dir())
    if disk.folder.exists() and not disk.is_cache():
        raise _bad_input(
            AuditInputError(
                Problem(
                    str(disk.folder),
                    "AUDITOR_CACHE_DIR",
                    "is not a reference-model cache (it has no CACHEDIR.TAG written by the "
                    "auditor); nothing in it is listed or deleted",
                    "point AUDITOR_CACHE_DIR at the cache folder (default "
                    "~/.cache/release-auditor)",
                )
            )
        )
    if clear:
        removed = disk.clear() if disk.folder.exists() else 0
        out.print(f"removed {removed} entries from {disk.folder}", markup=False)
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
