"""The sections every artifact kind shares: membership (every attack of the spec against a
target model), attribute inference, fairness, and the run and data parts of the result."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import Any

import numpy as np

from auditor.artifacts.query import logits_fn
from auditor.attacks import ATTACKS, AttackContext
from auditor.attacks.inference.attribute import attribute_inference
from auditor.attacks.membership.lira import reference_statistics
from auditor.config.spec import AuditSpec
from auditor.core.encoding import FeatureEncoding
from auditor.core.scores import logit_scaled_confidence
from auditor.core.types import LogitsFn
from auditor.core.version import VERSION as __version__
from auditor.data.tables import AuditData
from auditor.errors import fail
from auditor.metrics.fairness import structured_fairness_figures
from auditor.metrics.fidelity import reference_fidelity
from auditor.metrics.groups import group_figures
from auditor.metrics.membership import membership_figures
from auditor.orchestration.context import Run
from auditor.orchestration.reliability import attack_warnings
from auditor.result.document import library_versions
from auditor.result.sections import DataSection, RunSection
from auditor.training.cache import DiskCache, default_dir
from auditor.training.ensembles import device_for
from auditor.training.executors import ExecutorUnavailable, make_executor
from auditor.training.recipes import RECIPES, Params, RecipeInput, run_recipe
from auditor.training.references import ReferenceOutputs, reference_outputs


def scored_figures(
    run: Run, data: AuditData, scores: np.ndarray, delta: float, *, stream: int, selection: int
) -> dict[str, Any]:
    """The membership figures of one attack's `scores` on the candidates (the members, then
    the non-members), and the same by each sensitive column's groups; `stream` keeps each
    attack's bootstrap apart, `selection` is how many attacks it is compared with."""
    spec, seeds = run.spec, run.seeds
    is_member = np.r_[np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]
    figures = membership_figures(
        scores,
        is_member,
        rng=np.random.default_rng([seeds.membership_figures, stream]),
        replicates=spec.attacks.bootstrap,
        confidence=spec.attacks.confidence,
        delta=delta,
        selection=selection,
    )
    by_group = {
        attribute: group_figures(
            scores,
            is_member,
            np.concatenate([data.members.groups[attribute], data.non_members.groups[attribute]]),
            rng=np.random.default_rng([seeds.membership_figures, stream, j]),
            replicates=spec.attacks.group_bootstrap,
            confidence=spec.attacks.confidence,
            delta=delta,
        )
        for j, attribute in enumerate(spec.data.sensitive)
    }
    return {**figures, "by_group": by_group}


def membership_section(
    run: Run,
    data: AuditData,
    *,
    recipe: str,
    hp: Params,
    target: LogitsFn,
    n_classes: int,
    delta: float,
    suffix: str = "",
    base: LogitsFn | None = None,
    fitted: bool = False,
    attacks: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every membership attack of the spec (or of `attacks`, a part of it) against
    `target`, judged by one yardstick.

    Shadow and reference models re-run `recipe` with `hp` (for a dataset artifact: the
    release recipe followed by the consumer's training). `fitted`: part of `hp` was chosen
    on the population records (`settings_fit`), so reference fidelity is judged on the
    non-members alone, which that choice never read."""
    spec, seeds, stages = run.spec, run.seeds, run.stages
    names = spec.attacks.run if attacks is None else attacks
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
                    seed=seeds.references,
                    cache=cache,
                    device=spec.attacks.device,
                    progress=stages.shards,
                    train_size=data.members.rows,
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
        seed=seeds.attacks,
        references=references,
        base_query=base,
    )
    fidelity_by_mode: dict[str, dict[str, Any]] = {}

    def fidelity(mode: str) -> dict[str, Any]:
        """Whether `mode`'s reference models behave like the target on unseen records."""
        if mode not in fidelity_by_mode:
            refs = references(mode)
            labels = np.concatenate([cand_y, data.population.y])
            logits = np.concatenate([ctx.target_logits, target(data.population.x)])
            unseen = np.r_[~is_member, np.full(data.population.rows, not fitted)]
            fidelity_by_mode[mode] = reference_fidelity(
                logit_scaled_confidence(logits, labels),
                reference_statistics(refs.logits, labels),
                unseen,
                ~refs.in_mask,
                alpha=round(1 - spec.attacks.confidence, 6),
            )
            if fitted:
                fidelity_by_mode[mode]["judged_on"] = (
                    "non-members only: the training settings were fitted on the population"
                )
        return fidelity_by_mode[mode]

    membership = {}
    for i, name in enumerate(names):
        stages.say(f"attack {name}{suffix}")
        attack = ATTACKS[name]
        scores = attack.score(ctx)
        membership[f"{name}{suffix}"] = {
            "title": attack.title + (f" on the {suffix[1:]} consumer model" if suffix else ""),
            "description": attack.description,
            # the report reads the strongest of them
            **scored_figures(run, data, scores, delta, stream=i, selection=len(names)),
        }
        entry = membership[f"{name}{suffix}"]
        if attack.reference_models is not None:
            entry["reference_fidelity"] = fidelity(attack.reference_models)
        entry["warnings"] = attack_warnings(entry)
        stages.lap(f"attack {name}{suffix}")
    # A shadow model is trained by the same recipe as the reference models: when this audit
    # trained references, their fidelity verdict stands for the shadow-model attacks too
    # (one shadow model alone gives no spread to judge it by).
    mode = next((m for m in ("offline", "online") if m in by_mode), None)
    for name in names:
        if ATTACKS[name].needs_shadow_models and mode is not None:
            entry = membership[f"{name}{suffix}"]
            entry["reference_fidelity"] = {**fidelity(mode), "judged_by": f"{mode} references"}
            entry["warnings"] = attack_warnings(entry)
    return membership


def run_section(spec: AuditSpec, recipe: str) -> RunSection:
    """The `run` part of a result: what makes it reproducible."""
    modes: list[str] = sorted({m for a in spec.attacks.run if (m := ATTACKS[a].reference_models)})
    if recipe in RECIPES and not RECIPES[recipe].rerunnable and spec.artifact.generate is None:
        modes = []  # those attacks did not run (`orchestration.dataset.runnable_attacks`)
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


def data_section(spec: AuditSpec, data: AuditData) -> DataSection:
    """The `data` part of a result: hashes and sizes, never values."""
    return {
        "label": list(spec.data.labels) if spec.data.multilabel else spec.data.label,
        "structure": structure_name(data),
        **({"description": spec.data.description} if spec.data.description else {}),
        "sensitive": list(spec.data.sensitive),
        "splits": {
            name: {"file_name": s.path.name, "sha256": s.sha256, "rows": s.rows}
            for name, s in data.splits().items()
        },
    }


def structure_name(data: AuditData) -> str:
    """The label structure, as results name it."""
    if data.multilabel:
        return "multi-label"
    return "binary" if data.n_outputs == 2 else "multi-class"


def fairness_section(run: Run, data: AuditData, target: LogitsFn) -> dict[str, Any]:
    """Utility and error rates by patient group on the test split (fairlearn)."""
    spec, stages = run.spec, run.stages
    stages.say("fairness")
    fairness = structured_fairness_figures(
        data.test.y,
        target(data.test.x),
        data.test.groups,
        rng=np.random.default_rng(run.seeds.fairness),
        replicates=spec.utility_bootstrap,
        confidence=spec.attacks.confidence,
    )
    stages.lap("fairness")
    return fairness


def attribute_section(
    run: Run, data: AuditData, target: LogitsFn, encoding: FeatureEncoding, n_classes: int
) -> dict[str, Any]:
    """Attribute inference for every sensitive attribute that is a categorical model input
    (single-label models: ART's attackers take one class per record)."""
    spec, stages = run.spec, run.stages
    if data.multilabel:
        return {}
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
            seed=run.seeds.attribute_inference,
            replicates=spec.attacks.group_bootstrap,
            confidence=spec.attacks.confidence,
        )
        stages.lap(f"attribute inference {attribute}")
    return out
