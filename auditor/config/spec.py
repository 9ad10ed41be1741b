"""The audit spec (TOML): parsed into typed objects and validated as a whole.

Every problem found is reported together (AuditInputError carries them all), with the
file, the field and the fix; gates are parsed and checked against the metrics this audit
will produce when the spec is read, not at the end of the run.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from auditor.attacks import ATTACKS, DEFAULT_ATTACKS
from auditor.data.tables import SPLIT_NAMES, DataSpec
from auditor.errors import AuditInputError, Problem
from auditor.result.gates import Gate, metric_names, parse_gates
from auditor.training.executors import INSTALL_RAY, ray_installed

KINDS = ("model", "dataset", "weights")
CONSUMERS = ("mlp", "random_forest")  # default consumer architectures for datasets
SECTIONS = {
    "name": None,
    "seed": None,
    "artifact": {"kind", "path", "architecture", "base", "site_vectors"},
    "data": {*SPLIT_NAMES, "label", "id", "sensitive", "site"},
    "scheme": {"name"},
    "attacks": {
        *("run", "bootstrap", "confidence", "delta", "reference_models", "device", "cache"),
        "group_bootstrap",
    },
    "utility": {"baseline", "bootstrap", "dp_baseline", "dp_epsilon"},
    "consumer": {"architectures"},
    "executor": {"name", "address", "cpus_per_task", "max_retries"},
    "gates": None,
}

DEFAULT_DP_EPSILON = 3.0  # the DP baseline's epsilon unless [utility] dp_epsilon says otherwise


@dataclass(frozen=True)
class ArtifactSpec:
    kind: Literal["model", "dataset", "weights"]
    path: Path
    architecture: str | None
    base: Path | None = None  # weights: the public pre-trained model, if released
    site_vectors: Path | None = None  # weights: per-site data vectors, if released


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


@dataclass(frozen=True)
class ExecutorSettings:
    """Where reference-model shards train (`auditor.executors`); never part of the result."""

    name: str = "in_process"  # in_process | ray
    address: str | None = None  # ray: HOST:PORT, "auto", or None for a private local Ray
    cpus_per_task: int = 1
    max_retries: int = 3  # ray: attempts after a worker process dies


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


def load_spec(path: Path) -> AuditSpec:
    """Read and validate a spec file; AuditInputError listing every problem found."""
    where = str(path)
    if not path.is_file():
        raise AuditInputError(Problem(where, "spec", "does not exist", "check the path"))
    raw_bytes = path.read_bytes()
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuditInputError(
            Problem(where, "toml", f"is not valid TOML: {exc}", "fix the TOML syntax at that line")
        ) from exc
    problems: list[Problem] = []
    base = path.parent

    def p(field: str, message: str, fix: str) -> None:
        problems.append(Problem(where, field, message, fix))

    for key, value in raw.items():
        if key not in SECTIONS:
            p(key, "is not a known section or key", f"use only {', '.join(SECTIONS)}")
        elif SECTIONS[key] is not None and isinstance(value, dict):
            for sub in value:
                if sub not in SECTIONS[key]:
                    p(
                        f"{key}.{sub}",
                        "is not a known field",
                        f"use only {', '.join(sorted(SECTIONS[key]))}",
                    )

    def table(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            p(name, "must be a table", f"write it as [{name}]")
            return {}
        return value

    def file_field(section: dict[str, Any], name: str, field: str, required: bool) -> Path | None:
        value = section.get(name)
        if value is None:
            if required:
                p(field, "is missing", f'set {field} = "path/to/file"')
            return None
        if not isinstance(value, str):
            p(field, "must be a string path", f'set {field} = "path/to/file"')
            return None
        resolved = (base / value).resolve()
        if resolved.is_dir():
            p(field, f"names {value!r}, which is a folder", "name a file")
        elif not resolved.is_file():
            p(
                field,
                f"names {value!r}, which does not exist (looked in {base})",
                "check the path; relative paths are relative to the spec file",
            )
        return resolved

    art = table("artifact")
    kind = art.get("kind", "model")
    if kind not in KINDS:
        p("artifact.kind", f"is {kind!r}", f"use one of {', '.join(KINDS)}")
    artifact_path = file_field(art, "path", "artifact.path", required=True)
    architecture = art.get("architecture")
    if architecture is not None and not isinstance(architecture, str):
        p("artifact.architecture", "must be a string", 'e.g. "mlp" or "pkg.module:function"')

    base_path = file_field(art, "base", "artifact.base", required=False)
    vectors_path = file_field(art, "site_vectors", "artifact.site_vectors", required=False)
    if kind != "weights" and (base_path or vectors_path):
        p(
            "artifact.base",
            "base and site_vectors belong to weights artifacts",
            'set kind = "weights" or remove them',
        )
    data = table("data")
    split_paths = {s: file_field(data, s, f"data.{s}", required=True) for s in SPLIT_NAMES}
    label = data.get("label")
    if not isinstance(label, str) or not label:
        p("data.label", "is missing", 'name the outcome column, e.g. label = "death"')
    id_column = data.get("id", "patient_id")
    site_column = data.get("site")
    if site_column is not None and not isinstance(site_column, str):
        p("data.site", "must be a column name", 'e.g. site = "hospital"')
        site_column = None
    sensitive = data.get("sensitive", [])
    if not isinstance(sensitive, list) or not all(isinstance(s, str) for s in sensitive):
        p("data.sensitive", "must be a list of column names", 'e.g. sensitive = ["sex"]')
        sensitive = []

    attacks_raw = table("attacks")
    run = attacks_raw.get("run", list(DEFAULT_ATTACKS))
    if not isinstance(run, list):
        p("attacks.run", "must be a list", f"e.g. run = {list(DEFAULT_ATTACKS)}")
        run = []
    for name in run:
        if name not in ATTACKS:
            p("attacks.run", f"names unknown attack {name!r}", f"use any of {', '.join(ATTACKS)}")
    known_run = tuple(dict.fromkeys(a for a in run if a in ATTACKS))
    bootstrap = attacks_raw.get("bootstrap", 1000)
    if not isinstance(bootstrap, int) or isinstance(bootstrap, bool) or bootstrap < 50:
        p("attacks.bootstrap", f"is {bootstrap!r}", "use an integer >= 50 (default 1000)")
        bootstrap = 1000
    confidence = attacks_raw.get("confidence", 0.95)
    if not isinstance(confidence, float) or not 0.5 < confidence < 1.0:
        p("attacks.confidence", f"is {confidence!r}", "use a float in (0.5, 1), e.g. 0.95")
        confidence = 0.95
    delta = attacks_raw.get("delta")
    if delta is not None and (not isinstance(delta, float) or not 0.0 <= delta < 1.0):
        p("attacks.delta", f"is {delta!r}", "use a float in [0, 1), e.g. 1e-5")
        delta = None

    k_refs = attacks_raw.get("reference_models", 64)
    if not isinstance(k_refs, int) or isinstance(k_refs, bool) or not 1 <= k_refs <= 4096:
        p("attacks.reference_models", f"is {k_refs!r}", "use an integer from 1 to 4096")
        k_refs = 64
    if "base_reference" in known_run and base_path is None:
        p(
            "attacks.run",
            "includes base_reference, which needs the base model",
            'set [artifact] base = "path/to/base.safetensors"',
        )
    online = [a for a in known_run if ATTACKS[a].reference_models == "online"]
    if online and k_refs < 2:
        p(
            "attacks.reference_models",
            f"is {k_refs}, but {online[0]} needs models with and without each record",
            "use at least 2 (64 or more for tight figures)",
        )
    group_bootstrap = attacks_raw.get("group_bootstrap", 200)
    if (
        not isinstance(group_bootstrap, int)
        or isinstance(group_bootstrap, bool)
        or (group_bootstrap < 50)
    ):
        p("attacks.group_bootstrap", f"is {group_bootstrap!r}", "use an integer >= 50")
        group_bootstrap = 200
    device = attacks_raw.get("device", "auto")
    if device not in ("auto", "cpu", "cuda"):
        p("attacks.device", f"is {device!r}", 'use "auto", "cpu" or "cuda"')
        device = "auto"
    use_cache = attacks_raw.get("cache", True)
    if not isinstance(use_cache, bool):
        p("attacks.cache", f"is {use_cache!r}", "use true or false")
        use_cache = True

    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        p("seed", f"is {seed!r}", "use a non-negative integer")
        seed = 0
    scheme = table("scheme").get("name")
    if scheme is not None and scheme not in ("supervised", "mimic", "dp_sgd", "condense", "merge"):
        p("scheme.name", f"is {scheme!r}", "use supervised, mimic, dp_sgd, condense or merge")
    baseline = file_field(table("utility"), "baseline", "utility.baseline", required=False)
    utility_bootstrap = table("utility").get("bootstrap", 200)
    if (
        not isinstance(utility_bootstrap, int)
        or isinstance(utility_bootstrap, bool)
        or utility_bootstrap < 50
    ):
        p("utility.bootstrap", f"is {utility_bootstrap!r}", "use an integer >= 50 (default 200)")
        utility_bootstrap = 200
    dp_baseline = table("utility").get("dp_baseline", True)
    if not isinstance(dp_baseline, bool):
        p("utility.dp_baseline", f"is {dp_baseline!r}", "use true or false (default true)")
        dp_baseline = True
    dp_epsilon = table("utility").get("dp_epsilon", DEFAULT_DP_EPSILON)
    if isinstance(dp_epsilon, bool) or not isinstance(dp_epsilon, int | float) or dp_epsilon <= 0:
        p(
            "utility.dp_epsilon",
            f"is {dp_epsilon!r}",
            f"use a positive number (default {DEFAULT_DP_EPSILON:g})",
        )
        dp_epsilon = DEFAULT_DP_EPSILON
    executor = executor_settings(table("executor"), p)

    consumers = table("consumer").get("architectures", list(CONSUMERS))
    if (
        not isinstance(consumers, list)
        or not consumers
        or not all(c in ("mlp", "logistic", "random_forest") for c in consumers)
    ):
        p(
            "consumer.architectures",
            f"is {consumers!r}",
            'use a list of "mlp", "logistic", "random_forest"',
        )
        consumers = list(CONSUMERS)
    if scheme == "condense" and kind != "dataset":
        p("scheme.name", "condense releases a dataset", 'set [artifact] kind = "dataset"')

    gates, gate_problems = parse_gates(
        table("gates"),
        where,
        metric_names(
            known_run,
            tuple(sensitive),
            tuple(consumers) if kind == "dataset" else (),
            weights=kind == "weights",
        ),
    )
    problems += gate_problems
    if problems:
        raise AuditInputError(problems)
    assert artifact_path is not None and all(split_paths.values())
    return AuditSpec(
        path=path.resolve(),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        name=str(raw.get("name", path.stem)),
        seed=seed,
        artifact=ArtifactSpec(
            kind=kind,
            path=artifact_path,
            architecture=architecture,
            base=base_path,
            site_vectors=vectors_path,
        ),
        data=DataSpec(
            site=site_column, **split_paths, label=label, id=id_column, sensitive=tuple(sensitive)
        ),  # type: ignore[arg-type]
        scheme=scheme,
        attacks=AttackSettings(
            known_run, bootstrap, confidence, delta, k_refs, device, use_cache, group_bootstrap
        ),
        baseline=baseline,
        utility_bootstrap=utility_bootstrap,
        gates=gates,
        consumers=tuple(consumers),
        dp_epsilon=float(dp_epsilon) if dp_baseline else None,
        executor=executor,
    )


def executor_settings(raw: dict[str, Any], p: Any) -> ExecutorSettings:
    """The [executor] table (or CLI overrides in the same shape), each problem passed to `p`."""
    name = raw.get("name", "in_process")
    if name not in ("in_process", "ray"):
        p("executor.name", f"is {name!r}", 'use "in_process" (default) or "ray"')
        name = "in_process"
    elif name == "ray" and not ray_installed():
        p("executor.name", '"ray" but Ray is not installed', f"install it: {INSTALL_RAY}")
    address = raw.get("address")
    if address is not None and (not isinstance(address, str) or not address.strip()):
        p("executor.address", f"is {address!r}", 'use "HOST:PORT" of a Ray head, or "auto"')
        address = None
    numbers = {}
    for key, default, low in (("cpus_per_task", 1, 1), ("max_retries", 3, 0)):
        value = raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            p(f"executor.{key}", f"is {value!r}", f"use an integer >= {low} (default {default})")
            value = default
        numbers[key] = value
    return ExecutorSettings(name, address, **numbers)


def with_executor(spec: AuditSpec, name: str | None, address: str | None) -> AuditSpec:
    """`spec` with its executor overridden (the command line's --executor / --address);
    AuditInputError if the override is invalid. The spec's hash, and so the result, is kept."""
    problems: list[Problem] = []

    def p(field: str, message: str, fix: str) -> None:
        option = {"executor.name": "--executor", "executor.address": "--address"}.get(field, field)
        problems.append(Problem("command line", option, message, fix))

    raw = {**asdict(spec.executor)}
    raw.update({k: v for k, v in (("name", name), ("address", address)) if v is not None})
    settings = executor_settings(raw, p)
    if problems:
        raise AuditInputError(problems)
    return replace(spec, executor=settings)
