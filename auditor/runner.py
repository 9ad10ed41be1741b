"""Run one audit: load -> plan -> attacks -> metrics -> result (a plain dict) -> gates."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from attacks import ATTACKS, AttackContext
from attacks.scores import softmax
from auditor import __version__
from auditor.artifacts import LoadedModel, load_model
from auditor.cache import DiskCache, default_dir
from auditor.ensembles import device_for
from auditor.errors import fail
from auditor.gates import evaluate
from auditor.loading import AuditData, load_audit_data
from auditor.metrics.fairness import fairness_figures
from auditor.metrics.membership import membership_figures
from auditor.metrics.utility import UTILITY_METRICS, utility_figures
from auditor.models import logits_fn
from auditor.recipes import PRESETS, RecipeInput, run_recipe
from auditor.references import ReferenceOutputs, reference_outputs
from auditor.result import library_versions, seal
from auditor.spec import AuditSpec

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


def plan(spec: AuditSpec) -> list[str]:
    """The stages of this audit, in order (for progress display)."""
    return ["load", *[f"attack {a}" for a in spec.attacks.run], "utility", "fairness"]


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


def run_audit(
    spec: AuditSpec, *, allow_pickle: bool = False, progress: Progress | None = None
) -> AuditOutcome:
    """Run every stage of the audit described by `spec` (already validated)."""
    say = progress or (lambda _stage: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    say("load")
    model = load_model(
        spec.artifact.path, architecture=spec.artifact.architecture, allow_pickle=allow_pickle
    )
    meta = model.metadata
    data = load_audit_data(spec.data, meta)
    _check_model_fits(model, data)
    recipe = spec.scheme or meta.recipe
    seeds = [int(s) for s in np.random.SeedSequence(spec.seed).generate_state(8)]
    lap("load")

    cand_x = np.concatenate([data.members.x, data.non_members.x])
    cand_y = np.concatenate([data.members.y, data.non_members.y])
    is_member = np.concatenate(
        [np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]
    )
    hp = meta.hyperparameters

    def train_shadow(inp: RecipeInput, seed: int) -> Callable[[np.ndarray], np.ndarray]:
        return logits_fn(run_recipe(recipe, inp, hp, seed).model)

    cache = DiskCache(default_dir(), enabled=spec.attacks.cache)
    references_by_mode: dict[str, ReferenceOutputs] = {}

    def references(mode: str) -> ReferenceOutputs:
        if mode not in references_by_mode:
            say(f"{spec.attacks.reference_models} reference models ({mode})")
            refs = reference_outputs(
                mode=mode,  # type: ignore[arg-type]
                recipe=recipe,
                hp=hp,
                candidates=RecipeInput(cand_x, cand_y, n_classes=meta.n_classes),
                population=RecipeInput(
                    data.population.x, data.population.y, data.population.x, meta.n_classes
                ),
                k=spec.attacks.reference_models,
                seed=seeds[4],
                cache=cache,
                device=spec.attacks.device,
            )
            timings[f"reference models trained ({mode})"] = refs.trained
            references_by_mode[mode] = refs
        return references_by_mode[mode]

    ctx = AttackContext(
        candidates_x=cand_x,
        candidates_y=cand_y,
        target_logits=model.logits(cand_x),
        target_query=model.logits,
        population_x=data.population.x,
        population_y=data.population.y,
        n_classes=meta.n_classes,
        train_shadow=train_shadow,
        seed=seeds[0],
        references=references,
    )
    delta = spec.attacks.delta
    if delta is None:
        delta = meta.claims.get("delta", DEFAULT_DELTA)
    membership = {}
    for i, name in enumerate(spec.attacks.run):
        say(f"attack {name}")
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
        membership[name] = {"title": attack.title, "description": attack.description, **figures}
        lap(f"attack {name}")

    say("utility")
    utility = _utility(spec, model, data, seeds)
    lap("utility")
    say("fairness")
    p_test = softmax(model.logits(data.test.x))[:, 1]
    fairness = fairness_figures(data.test.y, p_test, data.test.groups)
    lap("fairness")

    result = {
        "run": {
            "name": spec.name,
            "seed": spec.seed,
            "spec_sha256": spec.sha256,
            "auditor_version": __version__,
            "libraries": library_versions(),
            "reference_models": {
                "k": spec.attacks.reference_models,
                "recipe": recipe,
                "modes": sorted({ATTACKS[a].reference_models for a in spec.attacks.run} - {None}),
                "device": device_for(spec.attacks.device).type,
            },
            "bootstrap": {
                "replicates": spec.attacks.bootstrap,
                "utility_replicates": spec.utility_bootstrap,
                "confidence": spec.attacks.confidence,
            },
        },
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
        "data": {
            "label": spec.data.label,
            "sensitive": list(spec.data.sensitive),
            "splits": {
                name: {"file_name": s.path.name, "sha256": s.sha256, "rows": s.rows}
                for name, s in data.splits().items()
            },
        },
        "privacy": {"membership": membership},
        "utility": utility,
        "fairness": fairness,
        "gates": [],
    }
    result["gates"] = [o.to_dict() for o in evaluate(spec.gates, result)]
    return AuditOutcome(seal(result), timings)


def _utility(
    spec: AuditSpec, model: LoadedModel, data: AuditData, seeds: list[int]
) -> dict[str, Any]:
    """Utility of the artifact and of the real-records model on the same test split."""
    settings = spec.attacks
    p = softmax(model.logits(data.test.x))[:, 1]
    artifact = utility_figures(
        data.test.y,
        p,
        rng=np.random.default_rng(seeds[2]),
        replicates=spec.utility_bootstrap,
        confidence=settings.confidence,
    )
    if spec.baseline is not None:
        base_model = load_model(spec.baseline)
        description = f"real-records model from {spec.baseline.name}"
        base_logits = base_model.logits
    else:
        meta = model.metadata
        hp = replace(
            PRESETS["default"],
            architecture=meta.architecture,
            architecture_params=meta.hyperparameters.architecture_params,
        )
        trained = run_recipe(
            "supervised", RecipeInput(data.members.x, data.members.y), hp, seeds[3]
        )
        base_logits = logits_fn(trained.model)
        description = "real-records model: supervised recipe (default preset) on the members"
    base_p = softmax(base_logits(data.test.x))[:, 1]
    baseline = utility_figures(
        data.test.y,
        base_p,
        rng=np.random.default_rng(seeds[2]),
        replicates=spec.utility_bootstrap,
        confidence=settings.confidence,
    )
    difference = {
        m: {"value": artifact[m]["value"] - baseline[m]["value"], "higher_is_better": better}
        for m, (_, better) in UTILITY_METRICS.items()
    }
    return {
        "n_test": data.test.rows,
        "artifact": artifact,
        "baseline": {"description": description, "metrics": baseline},
        "difference": difference,
    }
