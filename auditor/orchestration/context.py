"""What one audit run settles once and every section reads: the spec, the named seed
streams, the user's decisions (allow pickle, architecture) and the stage clock."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.config.spec import AuditSpec
from auditor.core.seeds import SeedStreams
from auditor.data.tables import AuditData
from auditor.orchestration.progress import Quiet, Reporter

DEFAULT_DELTA = 1e-5  # the delta of the epsilon bounds when neither spec nor artifact sets one


@dataclass
class Stages:
    """Progress reporting and per-stage wall-clock times of one run."""

    reporter: Reporter
    timings: dict[str, float] = field(default_factory=dict)
    clock: float = field(default_factory=time.perf_counter)

    def say(self, stage: str) -> None:
        """A stage starts."""
        self.reporter.stage(stage)

    def shards(self, done: int, total: int) -> None:
        """`done` of `total` reference models are trained (or read from the cache)."""
        self.reporter.shards(done, total)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self.clock, 3)
        self.clock = now


@dataclass(frozen=True)
class Run:
    """One audit run: everything resolved from the spec and the command line, once."""

    spec: AuditSpec
    seeds: SeedStreams
    stages: Stages
    allow_code: bool = False

    @classmethod
    def start(
        cls, spec: AuditSpec, *, allow_code: bool = False, progress: Reporter | None = None
    ) -> Run:
        stages = Stages(progress or Quiet())
        return cls(spec, SeedStreams.from_seed(spec.seed), stages, allow_code)

    @property
    def architecture(self) -> str | None:
        """The architecture the user named ([artifact] architecture), if any."""
        return self.spec.artifact.architecture

    def delta(self, claims: Mapping[str, float]) -> float:
        """Delta of every epsilon bound: the spec's, else the artifact's claimed delta, else
        DEFAULT_DELTA. A stated 0.0 stays 0.0."""
        if self.spec.attacks.delta is not None:
            return self.spec.attacks.delta
        return float(claims.get("delta", DEFAULT_DELTA))


@dataclass(frozen=True)
class Audited:
    """What one artifact kind contributes to the result document (assembled in `run`)."""

    recipe: str
    artifact: dict[str, Any]
    data: AuditData
    privacy: dict[str, Any]
    utility: dict[str, Any]
    baselines: dict[str, Any]
    fairness: dict[str, Any]


@dataclass(frozen=True)
class AuditOutcome:
    """The sealed result document and the wall-clock time per stage (kept out of it)."""

    result: dict[str, Any]
    timings: dict[str, float]

    @property
    def passed(self) -> bool:
        return all(g["passed"] for g in self.result["gates"])
