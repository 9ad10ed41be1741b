"""What the command line prints: the consoles, the exit-2 message of bad input, progress
(bars in a terminal, one line per stage in a log) and the verdict table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

err = Console(stderr=True)
out = Console()


def bad_input(exc: Exception) -> typer.Exit:
    problems = getattr(exc, "problems", None)
    lines = [str(p) for p in problems] if problems else [str(exc)]
    err.print("[bold red]error:[/] bad input", highlight=False)
    for line in lines:
        err.print(f"  - {line}", markup=False, highlight=False)
    return typer.Exit(2)


@dataclass
class Bars:
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
def progress(stages: list[str]) -> Iterator[Any]:
    """Bars when stderr is a terminal; otherwise one line per stage with the elapsed time
    (bars are transient and would leave nothing in a CI log)."""
    if not err.is_terminal:
        from auditor.orchestration.progress import StageLog

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
        yield Bars(bar, task, [])


def verdict_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="audit results")
    columns = ("AUC [95% CI]", "TPR@10% FPR", "TPR@1% FPR", "TPR@0.1% FPR", "eps LB")
    for col in ("audit", "attack", *columns, "gates"):
        table.add_column(col)
    for name, result in results.items():
        gates = result["gates"]
        verdict = f"{sum(g['passed'] for g in gates)}/{len(gates)} pass"
        for attack, m in result["privacy"]["membership"].items():
            auc = m["auc"]
            cells = [f"{auc['value']:.3f} [{auc['lower']:.3f}, {auc['upper']:.3f}]"]
            for target in ("0.1", "0.01", "0.001"):
                t = m["tpr_at_fpr"].get(target)  # absent from results written before 0.1
                cells.append(
                    "n/a"
                    if t is None
                    else "n/r"
                    if t["value"] is None
                    else f"{t['value']:.4f} [{t['lower']:.4f}, {t['upper']:.4f}]"
                )
            cells.append(f"{m['epsilon_lower_bound']['value']:.2f}")
            # Text, not markup: a spec's name like "[/bold]" is shown as written.
            table.add_row(*(Text(c) for c in (name, attack, *cells, verdict)))
            name, verdict = "", ""
    return table
