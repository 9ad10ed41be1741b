"""The audit spec (TOML): parsed into typed objects and validated as a whole.

Every field is declared once in FIELDS (type, default, bounds, options: the option lists
come from the registries of attacks, recipes, artifact kinds and executors); every problem
found is reported together (AuditInputError carries them all), with the file, the field and
the fix; gates are parsed and checked against the metrics this audit will produce when the
spec is read, not at the end of the run. Reading a spec imports no torch.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.artifacts import KINDS, MetricScope
from auditor.artifacts.builtin import BUILTIN
from auditor.attacks import ATTACKS, DEFAULT_ATTACKS
from auditor.config.fields import Field, parse_table
from auditor.core.types import CANARY_KINDS
from auditor.data.tables import SPLIT_NAMES, DataSpec
from auditor.errors import AuditInputError, Problem
from auditor.result.gates import Gate, metric_names, parse_gates
from auditor.training.executors import EXECUTORS, INSTALL_RAY, ray_installed
from auditor.training.recipes import RECIPES
from auditor.training.recipes.user import DEFAULT_TIMEOUT

MAX_CANARY_RUNS = 4096  # runs of the canary game: one ensemble, held in memory at once
# canaries over all runs: each run's model trains on its own, so the game's time grows
# with runs x per_run; 4096 x 3000 ran for hours with no end in sight
MAX_CANARIES = 200_000

CONSUMERS = ("mlp", "random_forest")  # default consumer architectures for datasets
TABLE_BUILTIN = tuple(a for a in BUILTIN if a != "cnn")  # what a table-record consumer can be
DEFAULT_DP_EPSILON = 3.0  # the DP baseline's epsilon unless [utility] dp_epsilon says otherwise
# Bounds that keep a careless spec from exhausting memory or time, each with its reason.
MAX_REPLICATES = 20_000  # bootstrap replicates: more narrows no interval that 20,000 leave open
MAX_REFERENCE_MODELS = 4096  # reference models: their logits are held in memory at once
MAX_SPEC_BYTES = 1 << 20  # a spec is a few kilobytes; a larger file is not one
_REPLICATES = "more adds run time, not accuracy"

FIELDS: tuple[Field, ...] = (
    Field("name", "str"),
    Field("seed", "int", 0, low=0, high=2**63 - 1),
    Field("artifact.kind", "choice", "model", options=lambda: tuple(KINDS)),
    Field("artifact.path", "path", required=True),
    Field("artifact.architecture", "str"),
    Field("artifact.train", "str"),
    Field("artifact.generate", "str"),
    Field("artifact.base", "path"),
    Field("artifact.trusted_functions", "names", ()),
    Field("artifact.train_timeout", "number", DEFAULT_TIMEOUT, low=1.0, high=7 * 86400.0),
    Field("artifact.site_vectors", "path"),
    *(Field(f"data.{split}", "path", required=True) for split in SPLIT_NAMES),
    Field("data.label", "str"),
    Field("data.labels", "names", ()),
    Field("data.id", "str", "patient_id"),
    Field("data.sensitive", "names", ()),
    Field("data.site", "str"),
    Field("data.records", "path"),
    Field("data.description", "str"),
    Field("data.max_tensor_mib", "int", 512, low=1, high=1 << 20),
    Field("scheme.name", "choice", options=lambda: tuple(RECIPES)),
    Field("attacks.run", "names", DEFAULT_ATTACKS, options=lambda: tuple(ATTACKS)),
    Field("attacks.bootstrap", "int", 1000, low=50, high=MAX_REPLICATES, why=_REPLICATES),
    Field("attacks.confidence", "number", 0.95, low=0.5, high=0.999),
    Field("attacks.delta", "number", low=0.0, high=0.5),
    Field("attacks.reference_models", "int", 64, low=1, high=MAX_REFERENCE_MODELS),
    Field("attacks.device", "choice", "auto", options=lambda: ("auto", "cpu", "cuda")),
    Field("attacks.cache", "bool", True),
    Field("attacks.group_bootstrap", "int", 200, low=50, high=MAX_REPLICATES, why=_REPLICATES),
    Field("attacks.shadow_releases", "int", 16, low=2, high=256),
    Field("utility.baseline", "path"),
    Field("utility.bootstrap", "int", 200, low=50, high=MAX_REPLICATES, why=_REPLICATES),
    Field("utility.dp_baseline", "bool", True),
    Field("utility.dp_epsilon", "number", DEFAULT_DP_EPSILON, low=0.01, high=1000.0),
    Field("consumer.architectures", "names", CONSUMERS, options=lambda: TABLE_BUILTIN),
    Field("dp_audit.canaries", "names", (), options=lambda: CANARY_KINDS),
    Field("dp_audit.runs", "int", 16, low=1, high=MAX_CANARY_RUNS),
    Field("dp_audit.per_run", "int", 1000, low=2, high=100_000),
    Field("executor.name", "choice", "in_process", options=lambda: EXECUTORS),
    Field("executor.address", "str"),
    Field("executor.cpus_per_task", "int", 1, low=1, high=1024),
    Field("executor.max_retries", "int", 3, low=0, high=100),
)


@dataclass(frozen=True)
class ArtifactSpec:
    kind: str  # a registered artifact kind (`auditor.artifacts.KINDS`)
    path: Path
    architecture: str | None
    base: Path | None = None  # weights: the public pre-trained model, if released
    site_vectors: Path | None = None  # weights: per-site data vectors, if released
    train: str | None = None  # the user's training function, "package.module:function"
    # functions a skops model may hold and call ("numpy.log1p"): the user's word for them
    trusted_functions: tuple[str, ...] = ()
    train_timeout: float = DEFAULT_TIMEOUT  # seconds per call of the training function
    # dataset: the user's generator of the released table, "package.module:function"
    generate: str | None = None


@dataclass(frozen=True)
class AttackSettings:
    run: tuple[str, ...]
    bootstrap: int
    confidence: float
    delta: float | None  # None: the artifact's claimed delta, else 1e-5
    reference_models: int = 64  # K, for attacks calibrated with reference models
    device: str = "auto"  # auto | cpu | cuda
    cache: bool = True  # reuse reference models from the disk cache
    group_bootstrap: int = 200  # replicates for the breakdown by patient group
    shadow_releases: int = 16  # releases the user's generator makes for shadow attacks


@dataclass(frozen=True)
class ExecutorSettings:
    """Where reference-model shards train (`auditor.training.executors`); never part of
    the result."""

    name: str = "in_process"  # in_process | ray
    address: str | None = None  # ray: HOST:PORT, "auto", or None for a private local Ray
    cpus_per_task: int = 1
    max_retries: int = 3  # ray: attempts after a worker process dies


@dataclass(frozen=True)
class DPAuditSettings:
    """The DP audit (`[dp_audit]`): the canary kinds to play (none: no DP audit), the runs
    of the game and the canaries in each run."""

    canaries: tuple[str, ...] = ()
    runs: int = 16
    per_run: int = 1000


@dataclass(frozen=True)
class AuditSpec:
    path: Path
    sha256: str
    name: str
    seed: int
    artifact: ArtifactSpec
    data: DataSpec
    scheme: str | None  # None: the recipe recorded in the artifact's metadata
    attacks: AttackSettings
    baseline: Path | None
    utility_bootstrap: int
    gates: tuple[Gate, ...]
    consumers: tuple[str, ...] = CONSUMERS  # dataset artifacts: third parties' models
    dp_epsilon: float | None = DEFAULT_DP_EPSILON  # DP-SGD baseline's epsilon; None: no baseline
    executor: ExecutorSettings = ExecutorSettings()
    dp_audit: DPAuditSettings = DPAuditSettings()


def _read(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The spec's bytes and TOML document; AuditInputError when it cannot be read."""
    where = str(path)
    try:
        is_file = path.is_file()  # False for a missing file, a folder, a FIFO (would block)
        size = path.stat().st_size if is_file else 0
        raw_bytes = path.read_bytes() if is_file and size <= MAX_SPEC_BYTES else b""
    except (OSError, ValueError) as exc:  # a link loop, a name too long, a NUL byte
        reason = getattr(exc, "strerror", None) or "is not a usable path"
        raise AuditInputError(Problem(where, "spec", reason, "check the path")) from exc
    if not is_file:
        raise AuditInputError(Problem(where, "spec", "is not a file", "check the path"))
    if size > MAX_SPEC_BYTES:
        message = f"is {size} bytes; a spec is a few kilobytes"
        raise AuditInputError(Problem(where, "spec", message, "check that this is the spec"))
    try:
        return raw_bytes, tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (byte offset {exc.start})"
        raise AuditInputError(Problem(where, "toml", message, "save it as UTF-8")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise AuditInputError(
            Problem(where, "toml", f"is not valid TOML: {exc}", "fix the TOML syntax at that line")
        ) from exc
    except RecursionError as exc:
        message = "nests tables or arrays too deeply"
        raise AuditInputError(Problem(where, "toml", message, "write a flat spec")) from exc


def canary_problems(runs: int, per_run: int, where: str, field: str) -> list[Problem]:
    """A DP audit whose games would not end in a working day."""
    if runs * per_run <= MAX_CANARIES:
        return []
    message = f"asks for {runs} runs x {per_run} canaries = {runs * per_run:,} canaries"
    fix = f"keep runs x per_run at most {MAX_CANARIES:,} (the game's time grows with both)"
    return [Problem(where, field, message, fix)]


def _cross_checks(v: dict[str, Any], where: str) -> list[Problem]:
    """Problems that involve more than one field."""
    problems = canary_problems(v["dp_audit.runs"], v["dp_audit.per_run"], where, "dp_audit")
    kind, run = v["artifact.kind"], v["attacks.run"]
    problems += _kind_fields(v, kind, where)
    if (v["data.label"] is None) == (not v["data.labels"]):
        problems.append(
            Problem(
                where,
                "data.label",
                "needs exactly one of label and labels",
                'label = "death" names the outcome column (binary or multi-class); labels = '
                '["a", "b"] names one 0/1 column per label of a multi-label model',
            )
        )
    if "base_reference" in run and v["artifact.base"] is None:
        fix = 'set [artifact] base = "path/to/base.safetensors"'
        problems.append(
            Problem(
                where, "attacks.run", "includes base_reference, which needs the base model", fix
            )
        )
    online = [a for a in run if ATTACKS[a].reference_models == "online"]
    if online and v["attacks.reference_models"] < 2:
        k = v["attacks.reference_models"]
        message = f"is {k}, but {online[0]} needs models with and without each record"
        problems.append(
            Problem(
                where,
                "attacks.reference_models",
                message,
                "use at least 2 (64 or more for tight figures)",
            )
        )
    if not run:
        problems.append(
            Problem(where, "attacks.run", "names no attack", f"e.g. run = {list(DEFAULT_ATTACKS)}")
        )
    if not v["consumer.architectures"]:
        problems.append(
            Problem(where, "consumer.architectures", "is empty", f"e.g. {list(CONSUMERS)}")
        )
    problems += _scheme_checks(v["scheme.name"], kind, where)
    if v["executor.name"] == "ray" and not ray_installed():
        problems.append(
            Problem(
                where,
                "executor.name",
                '"ray" but Ray is not installed',
                f"install it: {INSTALL_RAY}",
            )
        )
    return problems


def _kind_fields(v: dict[str, Any], kind: str, where: str) -> list[Problem]:
    """A spec field that only another artifact kind reads (`ArtifactKind.fields`)."""
    own = KINDS[kind].fields if kind in KINDS else ()
    problems = []
    for owner in KINDS.values():
        for name in owner.fields:
            if name not in own and v.get(name) not in (None, (), [], ""):
                message = f'is for {owner.name} artifacts (kind = "{owner.name}")'
                fix = f'remove it, or audit a {owner.name} artifact (kind = "{owner.name}")'
                problems.append(Problem(where, name, message, fix))
    return problems


def _scheme_checks(scheme: str | None, kind: str, where: str) -> list[Problem]:
    releases = RECIPES[scheme].releases if scheme is not None else None
    if releases == "dataset" and kind != "dataset":
        return [
            Problem(
                where,
                "scheme.name",
                f"{scheme} releases a dataset",
                'set [artifact] kind = "dataset"',
            )
        ]
    if releases not in (None, "dataset") and kind == "dataset":
        recipes = ", ".join(r for r, d in RECIPES.items() if d.releases == "dataset")
        return [
            Problem(
                where,
                "scheme.name",
                f"{scheme} releases a {releases}, not a dataset",
                f"use a dataset recipe: {recipes}",
            )
        ]
    return []


def load_spec(path: Path) -> AuditSpec:
    """Read and validate a spec file; AuditInputError listing every problem found."""
    raw_bytes, raw = _read(path)
    return _parse(raw, path, hashlib.sha256(raw_bytes).hexdigest(), {})


def parse_spec(
    mapping: Mapping[str, Any],
    base_dir: Path,
    *,
    tables: Mapping[str, Any] | None = None,
    name: str = "audit",
) -> AuditSpec:
    """A spec from a mapping in memory, as a spec file's TOML would read (relative paths
    relative to `base_dir`); AuditInputError listing every problem found. `tables` gives
    splits as DataFrames by name (`members`, ...): their `[data]` entry is then only the
    file name the result shows, and nothing is read from or written to disk for them. The
    spec's hash is that of its TOML (`config.writer.spec_toml`), so the same mapping gives
    the same result as the file that writer makes."""
    from auditor.config.writer import spec_toml

    tables = dict(tables or {})
    try:
        text = spec_toml(mapping)
    except (TypeError, ValueError) as exc:  # a value no spec file could hold
        fix = "give strings, finite numbers, booleans, lists and tables only"
        raise AuditInputError(
            Problem(str(base_dir / f"{name}.toml"), "spec", str(exc), fix)
        ) from None
    raw = tomllib.loads(text)  # the mapping as a file would hold it (paths as strings)
    return _parse(raw, base_dir / f"{name}.toml", hashlib.sha256(text.encode()).hexdigest(), tables)


def _parse(raw: dict[str, Any], path: Path, sha256: str, tables: dict[str, Any]) -> AuditSpec:
    where = str(path)
    v, problems = parse_table(raw, FIELDS, where, path.parent)
    in_memory = {f"data.{split}" for split in tables}
    problems = [p for p in problems if p.field not in in_memory]  # no file to look for
    for split in tables:
        v[f"data.{split}"] = path.parent / str(raw.get("data", {}).get(split, f"{split}.csv"))
    problems += _cross_checks(v, where)
    kind, consumers = v["artifact.kind"], v["consumer.architectures"]
    scope = MetricScope(v["attacks.run"], v["data.sensitive"], consumers, v["dp_audit.canaries"])
    known = metric_names(kind, scope)
    gates_raw = raw.get("gates", {})
    gates, gate_problems = parse_gates(
        gates_raw if isinstance(gates_raw, dict) else {}, where, known
    )
    problems += gate_problems
    if problems:
        raise AuditInputError(problems)
    return AuditSpec(
        path=path.resolve(),
        sha256=sha256,
        name=v["name"] or path.stem,
        seed=v["seed"],
        artifact=ArtifactSpec(
            kind=kind,
            path=v["artifact.path"],
            architecture=v["artifact.architecture"],
            base=v["artifact.base"],
            site_vectors=v["artifact.site_vectors"],
            train=v["artifact.train"],
            trusted_functions=tuple(v["artifact.trusted_functions"]),
            train_timeout=v["artifact.train_timeout"],
            generate=v["artifact.generate"],
        ),
        data=DataSpec(
            **{split: v[f"data.{split}"] for split in SPLIT_NAMES},
            label=v["data.label"] or "",
            labels=tuple(v["data.labels"]),
            records=v["data.records"],
            description=v["data.description"],
            max_tensor_mib=v["data.max_tensor_mib"],
            tables=tables,
            id=v["data.id"],
            sensitive=tuple(v["data.sensitive"]),
            site=v["data.site"],
        ),
        scheme=v["scheme.name"],
        attacks=AttackSettings(
            run=tuple(v["attacks.run"]),
            bootstrap=v["attacks.bootstrap"],
            confidence=v["attacks.confidence"],
            delta=v["attacks.delta"],
            reference_models=v["attacks.reference_models"],
            device=v["attacks.device"],
            cache=v["attacks.cache"],
            group_bootstrap=v["attacks.group_bootstrap"],
            shadow_releases=v["attacks.shadow_releases"],
        ),
        baseline=v["utility.baseline"],
        utility_bootstrap=v["utility.bootstrap"],
        gates=gates,
        consumers=tuple(consumers),
        dp_epsilon=v["utility.dp_epsilon"] if v["utility.dp_baseline"] else None,
        executor=ExecutorSettings(
            v["executor.name"],
            v["executor.address"],
            v["executor.cpus_per_task"],
            v["executor.max_retries"],
        ),
        dp_audit=DPAuditSettings(
            tuple(v["dp_audit.canaries"]), v["dp_audit.runs"], v["dp_audit.per_run"]
        ),
    )
