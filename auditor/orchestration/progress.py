"""What a running audit shows: a stage starting (`stage`) and reference-model shards done
(`shards`). Two reporters: rich bars for a terminal (in the CLI) and `StageLog`, one plain
line per event with the elapsed time, for everything else (CI logs, files, notebooks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Reporter(Protocol):
    """Receives a run's progress; both methods must return quickly."""

    def stage(self, name: str) -> None: ...

    def shards(self, done: int, total: int) -> None: ...


class Quiet:
    """Shows nothing."""

    def stage(self, name: str) -> None:
        return None

    def shards(self, done: int, total: int) -> None:
        return None


@dataclass
class StageLog:
    """One line per stage as it starts, one per reference-model shard as it finishes, and a
    last line from `close`, each with the seconds since the run started."""

    write: Callable[[str], None]
    started: float = field(default_factory=time.perf_counter)

    def _line(self, text: str) -> None:
        self.write(f"[{time.perf_counter() - self.started:8.1f} s] {text}")

    def stage(self, name: str) -> None:
        self._line(name)

    def shards(self, done: int, total: int) -> None:
        self._line(f"  reference models {done}/{total}")

    def close(self) -> None:
        self._line("done")
