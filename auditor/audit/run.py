"""Run one audit: load -> plan -> attacks -> metrics -> result (a plain dict) -> gates."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from auditor import __version__
from auditor.artifacts.models import LoadedModel, load_model
from auditor.artifacts.query import logits_fn
from auditor.attacks import ATTACKS, AttackContext
from auditor.attacks.inference.inversion import inversion_figures
from auditor.audit.baselines import baselines_section, real_records_model, utility_section
from auditor.config.spec import AuditSpec
from auditor.core.encoding import FeatureEncoding
from auditor.core.scores import softmax
from auditor.core.types import LogitsFn
from auditor.data.tables import AuditData, load_audit_data
from auditor.errors import fail
from auditor.metrics.fairness import fairness_figures
from auditor.metrics.groups import group_figures
from auditor.metrics.membership import membership_figures
from auditor.result.document import library_versions, seal
from auditor.result.gates import evaluate
from auditor.training.cache import DiskCache, default_dir
from auditor.training.ensembles import device_for
from auditor.training.executors import ExecutorUnavailable, make_executor
from auditor.training.recipes import Hyperparameters, RecipeInput, run_recipe
from auditor.training.references import ReferenceOutputs, reference_outputs

DEFAULT_DELTA = 1e-5
Progress = Callable[[str], None]


@dataclass(frozen=True)
class AuditOutcome:
    """The sealed result document and the wall-clock time per stage (kept out of it)."""

    result: dict[str, Any]
    timings: dict[str, float]

    @property
    def passed(self) -> bool:
        return all(g["passed"] for g in self.result["gates"])


@dataclass
class Stages:
    """Progress reporting and per-stage wall-clock times of one run."""

    say: Progress
    timings: dict[str, float] = field(default_factory=dict)
    clock: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self.clock, 3)
        self.clock = now


def plan(spec: AuditSpec) -> list[str]:
    """The stages of this audit, in order (for progress display)."""
    targets = [f"@{c}" for c in spec.consumers] if spec.artifact.kind == "dataset" else [""]
    attacks = [f"attack {a}{t}" for t in targets for a in spec.attacks.run]
    return ["load", *attacks, "utility", "baselines", "fairness"]


def _check_model_fits(model: LoadedModel, data: AuditData) -> None:
    meta = model.metadata
    try:
        out = model.logits(data.test.x[:2])
    except Exception as exc:  # any runtime's shape error: report it as bad input
        raise fail(
            str(model.path),
            "n_features",
            f"the model cannot take the {meta.encoding.n_features} encoded features: "
            f"{str(exc).splitlines()[0][:200]}",
            "the metadata's feature encoding must produce the model's input width",
        ) from exc
    if out.ndim != 2 or out.shape[1] != meta.n_classes:
        raise fail(
            str(model.path),
            "n_classes",
            f"the model returns shape {out.shape[1:]} but the metadata declares "
            f"{meta.n_classes} classes",
            "fix n_classes in the metadata",
        )


def membership_section(
    spec: AuditSpec,
    data: AuditData,
    *,
    recipe: str,
    hp: Hyperparameters,
    target: LogitsFn,
    n_classes: int,
    delta: float,
    seeds: list[int],
    stages: Stages,
    suffix: str = "",
    base: LogitsFn | None = None,
) -> dict[str, Any]:
    """Every membership attack of the spec against `target`, judged by one yardstick.

    Shadow and reference models re-run `recipe` with `hp` (for a dataset artifact: the
    release recipe followed by the consumer's training)."""
    cand_x = np.concatenate([data.members.x, data.non_members.x])
    cand_y = np.concatenate([data.members.y, data.non_members.y])
    is_member = np.r_[np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]

    def train_shadow(inp: RecipeInput, seed: int) -> LogitsFn:
        return logits_fn(run_recipe(recipe, inp, hp, seed).model)

    cache = DiskCache(default_dir(), enabled=spec.attacks.cache)
    by_mode: dict[str, ReferenceOutputs] = {}

    def references(mode: str) -> ReferenceOutputs:
        if mode not in by_mode:
            stages.say(f"{spec.attacks.reference_models} reference models ({mode}){suffix}")
            pop = data.population
            try:
                by_mode[mode] = reference_outputs(
                    executor=make_executor(**asdict(spec.executor)),
                    mode=mode,  # type: ignore[arg-type]
                    recipe=recipe,
                    hp=hp,
                    candidates=RecipeInput(cand_x, cand_y, n_classes=n_classes),
                    population=RecipeInput(pop.x, pop.y, pop.x, n_classes, public_y=pop.y),
                    k=spec.attacks.reference_models,
                    seed=seeds[4],
                    cache=cache,
                    device=spec.attacks.device,
                )
            except ExecutorUnavailable as exc:
                raise fail(
                    str(spec.path),
                    "executor",
                    str(exc),
                    'fix the cluster, or run in this process (executor name = "in_process")',
                ) from exc
            stages.timings[f"reference models trained ({mode}){suffix}"] = by_mode[mode].trained
        return by_mode[mode]

    ctx = AttackContext(
        candidates_x=cand_x,
        candidates_y=cand_y,
        target_logits=target(cand_x),
        target_query=target,
        population_x=data.population.x,
        population_y=data.population.y,
        n_classes=n_classes,
        train_shadow=train_shadow,
        seed=seeds[0],
        references=references,
        base_query=base,
    )
    membership = {}
    for i, name in enumerate(spec.attacks.run):
        stages.say(f"attack {name}{suffix}")
        attack = ATTACKS[name]
        scores = attack.score(ctx)
        figures = membership_figures(
            scores,
            is_member,
            rng=np.random.default_rng([seeds[1], i]),
            replicates=spec.attacks.bootstrap,
            confidence=spec.attacks.confidence,
            delta=delta,
        )
        by_group = {
            attribute: group_figures(
                scores,
                is_member,
                np.concatenate(
                    [data.members.groups[attribute], data.non_members.groups[attribute]]
                ),
                rng=np.random.default_rng([seeds[1], i, j]),
                replicates=spec.attacks.group_bootstrap,
                confidence=spec.attacks.confidence,
                delta=delta,
            )
            for j, attribute in enumerate(spec.data.sensitive)
        }
        membership[f"{name}{suffix}"] = {
            "title": attack.title + (f" on the {suffix[1:]} consumer model" if suffix else ""),
            "description": attack.description,
            **figures,
            "by_group": by_group,
        }
        stages.lap(f"attack {name}{suffix}")
    return membership


def run_section(spec: AuditSpec, recipe: str) -> dict[str, Any]:
    """The `run` part of a result: what makes it reproducible."""
    modes = sorted({ATTACKS[a].reference_models for a in spec.attacks.run} - {None})
    device = device_for(spec.attacks.device).type
    if modes and spec.executor.name != "in_process":
        # the attacks have already said so, with the fix, if the cluster cannot be reached
        with contextlib.suppress(ExecutorUnavailable):
            device = make_executor(**asdict(spec.executor)).device_type(spec.attacks.device)
    return {
        "name": spec.name,
        "seed": spec.seed,
        "spec_sha256": spec.sha256,
        "auditor_version": __version__,
        "libraries": library_versions(),
        "reference_models": {
            "k": spec.attacks.reference_models,
            "recipe": recipe,
            "modes": modes,
            # where they trained (a Ray cluster's GPUs, say), not where the driver runs
            "device": device,
        },
        "bootstrap": {
            "replicates": spec.attacks.bootstrap,
            "utility_replicates": spec.utility_bootstrap,
            "confidence": spec.attacks.confidence,
        },
    }


def data_section(spec: AuditSpec, data: AuditData) -> dict[str, Any]:
    """The `data` part of a result: hashes and sizes, never values."""
    return {
        "label": spec.data.label,
        "sensitive": list(spec.data.sensitive),
        "splits": {
            name: {"file_name": s.path.name, "sha256": s.sha256, "rows": s.rows}
            for name, s in data.splits().items()
        },
    }


def finish(spec: AuditSpec, result: dict[str, Any], stages: Stages) -> AuditOutcome:
    """Evaluate the gates and seal the document."""
    result["gates"] = [o.to_dict() for o in evaluate(spec.gates, result)]
    return AuditOutcome(seal(result), stages.timings)


def run_audit(
    spec: AuditSpec, *, allow_pickle: bool = False, progress: Progress | None = None
) -> AuditOutcome:
    """Run every stage of the audit described by `spec` (already validated)."""
    stages = Stages(progress or (lambda _stage: None))
    seeds = [int(s) for s in np.random.SeedSequence(spec.seed).generate_state(8)]
    if spec.artifact.kind == "dataset":
        from auditor.audit.dataset import run_dataset_audit

        return run_dataset_audit(spec, stages, seeds)
    if spec.artifact.kind == "weights":
        from auditor.audit.weights import run_weights_audit

        return run_weights_audit(spec, stages, seeds)
    stages.say("load")
    model = load_model(
        spec.artifact.path, architecture=spec.artifact.architecture, allow_pickle=allow_pickle
    )
    meta = model.metadata
    data = load_audit_data(spec.data, meta.encoding)
    _check_model_fits(model, data)
    recipe = spec.scheme or meta.recipe
    stages.lap("load")
    delta = spec.attacks.delta
    if delta is None:
        delta = meta.claims.get("delta", DEFAULT_DELTA)
    membership = membership_section(
        spec,
        data,
        recipe=recipe,
        hp=Hyperparameters.from_dict(meta.recipe_params),
        target=model.logits,
        n_classes=meta.n_classes,
        delta=delta,
        seeds=seeds,
        stages=stages,
    )
    privacy: dict[str, Any] = {"membership": membership}
    inference = attribute_section(
        spec, data, model.logits, meta.encoding, meta.n_classes, seeds, stages
    )
    if inference:
        privacy["attribute_inference"] = inference
    stages.say("model inversion")
    privacy["inversion"] = inversion_figures(
        model.module,
        data.members.x,
        data.non_members.x,
        data.population.x,
        seed=seeds[7],
        confidence=spec.attacks.confidence,
    )
    stages.lap("model inversion")
    stages.say("utility")
    real = real_records_model(
        spec,
        data,
        meta.architecture,
        Hyperparameters.from_dict(meta.recipe_params).architecture_params,
        seeds,
    )
    utility = utility_section(spec, data, model.logits, real, seeds)
    stages.lap("utility")
    stages.say("baselines")
    baselines = baselines_section(spec, data, real, utility, meta.n_classes, delta, seeds)
    stages.lap("baselines")
    fairness = fairness_section(spec, data, model.logits, seeds, stages)
    result = {
        "run": run_section(spec, recipe),
        "artifact": {
            "kind": spec.artifact.kind,
            "format": model.format,
            "file_name": model.path.name,
            "sha256": model.sha256,
            "scheme": recipe,
            "architecture": meta.architecture,
            "n_features": meta.n_features,
            "claims": dict(meta.claims),
        },
        "data": data_section(spec, data),
        "privacy": privacy,
        "utility": utility,
        "baselines": baselines,
        "fairness": fairness,
    }
    return finish(spec, result, stages)


def fairness_section(
    spec: AuditSpec, data: AuditData, target: LogitsFn, seeds: list[int], stages: Stages
) -> dict[str, Any]:
    """Utility and error rates by patient group on the test split (fairlearn)."""
    stages.say("fairness")
    fairness = fairness_figures(
        data.test.y,
        softmax(target(data.test.x))[:, 1],
        data.test.groups,
        rng=np.random.default_rng(seeds[3] + 1),
        replicates=spec.utility_bootstrap,
        confidence=spec.attacks.confidence,
    )
    stages.lap("fairness")
    return fairness


def attribute_section(
    spec: AuditSpec,
    data: AuditData,
    target: LogitsFn,
    encoding: FeatureEncoding,
    n_classes: int,
    seeds: list[int],
    stages: Stages,
) -> dict[str, Any]:
    """Attribute inference for every sensitive attribute that is a categorical model input."""
    from auditor.attacks.inference.attribute import attribute_inference

    categorical = {f.name for f in encoding.categorical}
    out = {}
    for attribute in spec.data.sensitive:
        if attribute not in categorical:
            continue
        stages.say(f"attribute inference {attribute}")
        out[attribute] = attribute_inference(
            target,
            encoding,
            attribute,
            members=(data.members.x, data.members.y),
            non_members=(data.non_members.x, data.non_members.y),
            population=(data.population.x, data.population.y),
            n_classes=n_classes,
            seed=seeds[6],
            replicates=spec.attacks.group_bootstrap,
            confidence=spec.attacks.confidence,
        )
        stages.lap(f"attribute inference {attribute}")
    return out
