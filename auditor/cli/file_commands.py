"""The commands around an audit: `init` (metadata and spec from a model file), `report`
and `compare` (HTML from results), `keygen` and `verify` (signed results), `cache`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from auditor.cli.app import ALLOW_CODE, ALLOW_CODE_HELP, FORCE_HELP, app
from auditor.cli.console import bad_input, err, out
from auditor.core.outputs import output_problems
from auditor.errors import AuditInputError, Problem, ResultSchemaError


@app.command()
def init(
    model: Annotated[
        Path,
        typer.Argument(
            help="model file (.skops, .onnx, .txt LightGBM, .pt) or released table (.csv, .parquet)"
        ),
    ],
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
    """Write the metadata a model or a released table needs (<file>.meta.json) and an audit
    spec, from the file and the data; print what was inferred and what a person must still
    confirm."""
    from auditor.init import infer, infer_table, is_table, write_setup, write_table_setup

    interactive = err.is_terminal and out.is_terminal
    data = {
        "members": members,
        "non_members": non_members,
        "test": test,
        "population": population,
    }
    chosen = [s.strip() for s in sensitive.split(",") if s.strip()] if sensitive else None
    table = is_table(model)
    try:
        if table and train is not None:
            raise AuditInputError(
                Problem(
                    str(model),
                    "--train",
                    "names training code, but the artifact is a released table",
                    "drop --train (a table's generator is named in the spec, [artifact] generate)",
                )
            )
        inferred = (
            infer_table(model, members, population, label=label, id=id, sensitive=chosen)
            if table
            else infer(
                model,
                members,
                label=label,
                id=id,
                sensitive=chosen,
                train=train,
                allow_code=allow_code,
                trusted_functions=tuple(trust_function or ()),
            )
        )
        if interactive and chosen is None:
            answer = typer.prompt(
                "sensitive columns (comma-separated)", default=",".join(inferred.sensitive)
            )
            picked = [s.strip() for s in answer.split(",") if s.strip()]
            notes = [*inferred.notes[:-1], f"sensitive columns: {', '.join(picked) or 'none'}"]
            inferred = replace(inferred, sensitive=picked, notes=notes)
        run = [a.strip() for a in attacks.split(",") if a.strip()] if attacks else None
        written = (
            write_table_setup(inferred, model, data, spec, force=force, attacks=run)
            if table
            else write_setup(inferred, model, data, spec, force=force, train=train, attacks=run)
        )
    except AuditInputError as exc:
        raise bad_input(exc) from None
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


def timings_beside(result: Path) -> dict[str, float] | None:
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
        raise bad_input(exc) from None
    if outputs:
        raise bad_input(AuditInputError(outputs))
    write_report(document, target, timings_beside(result))
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
        raise bad_input(exc) from None
    if outputs:
        raise bad_input(AuditInputError(outputs))
    write_text_atomic(out_path, render_comparison(documents))
    out.print(f"wrote {out_path}", markup=False, highlight=False)


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
        raise bad_input(AuditInputError(problems))
    problems = output_problems(out_path, field="--out", folder=False)
    if problems:
        raise bad_input(AuditInputError(problems))
    try:
        public, fingerprint = generate_key(out_path)
    except AuditInputError as exc:
        raise bad_input(exc) from None
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
        raise bad_input(exc) from None
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
        raise bad_input(
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
