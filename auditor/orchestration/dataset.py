"""Audit of a dataset artifact (condensed set, stimuli, any released samples).

Attacked on its records directly (membership scores of every patient read from the
release, each with the members it exposes at a stated false-positive rate; linkage to the
nearest real patient against a hold-out baseline; anonymeter-style linkability and
inference risks) and through the models third
parties would train on it (the consumer recipe, several architectures), whose membership
leakage is judged like any model's: shadow and reference models re-run the release recipe
followed by the consumer's training.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from auditor.artifacts.datasets import LoadedDataset, load_dataset
from auditor.artifacts.query import logits_fn
from auditor.attacks import ATTACKS
from auditor.attacks.records.anonymity import inference_risk, linkability_risk, singling_out_risk
from auditor.attacks.records.linkage import linkage_figures
from auditor.attacks.records.release_membership import RELEASE_ATTACKS
from auditor.core.estimates import Estimate
from auditor.core.types import SHADOW_RELEASE_ATTACKS
from auditor.data.raw import RawTable
from auditor.data.tables import AuditData, load_audit_data
from auditor.metrics.exposure import EXPOSURE_FPR, exposed_records
from auditor.orchestration.baselines import baselines_section, real_records_model, utility_section
from auditor.orchestration.context import Audited, Run
from auditor.orchestration.reliability import attack_warnings
from auditor.orchestration.sections import fairness_section, membership_section, scored_figures
from auditor.orchestration.shadow_releases import shadow_release_membership
from auditor.training.recipes import (
    CONSUMER,
    RECIPES,
    CondenseParams,
    ExternalParams,
    Params,
    RecipeInput,
    StimuliParams,
    as_recipe,
    run_recipe,
    stored_params,
)
from auditor.training.recipes.external import WHY
from auditor.training.user_generator import UserGenerator

ANONYMITY_TARGETS = 500  # records attacked per set (members, control), as anonymeter's n_attacks


def records_sections(run: Run, released: LoadedDataset, data: AuditData) -> dict[str, Any]:
    """Linkage, inference, linkability and singling-out risks of the released records."""
    confidence = run.spec.attacks.confidence
    rng = np.random.default_rng(run.seeds.linkage)
    linkage = linkage_figures(
        released.x, data.members.x, data.non_members.x, rng=rng, confidence=confidence
    )
    n = min(ANONYMITY_TARGETS, data.members.rows, data.non_members.rows)
    chosen = rng.permutation(data.members.rows)[:n]  # positions in the members' table
    targets = data.members.x[chosen]
    control = data.non_members.x[rng.permutation(data.non_members.rows)[:n]]
    categorical = {f.name for f in released.encoding.categorical}
    inference = {}
    for secret in run.spec.data.sensitive:
        if secret in categorical:
            inference[secret] = inference_risk(
                released.x,
                targets,
                control,
                released.encoding,
                secret,
                rng=rng,
                confidence=confidence,
                positions=chosen,
            )
        else:
            note = f"{secret} is not a categorical feature of the release: not attacked"
            inference[secret] = {"risk": Estimate(None, None, None, False, note).to_dict()}
    return {
        "linkage": linkage,
        "inference": inference,
        "linkability": linkability_risk(
            released.x, targets, control, released.encoding, confidence=confidence, positions=chosen
        ),
        "singling_out": singling_out_risk(
            released.x, targets, control, released.encoding, confidence=confidence, positions=chosen
        ),
    }


def release_membership(
    run: Run, released: LoadedDataset, data: AuditData, delta: float, selection: int
) -> dict[str, Any]:
    """`privacy.membership` entries of the attacks on the released records themselves
    (`attacks.records.release_membership`), each with the members it exposes; `selection`:
    how many attacks the report compares them with (it reads the strongest)."""
    candidates = np.concatenate([data.members.x, data.non_members.x])
    is_member = np.r_[np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]
    out = {}
    for i, attack in enumerate(RELEASE_ATTACKS.values()):
        run.stages.say(f"attack {attack.name}")
        rng = np.random.default_rng([run.seeds.linkage, i])
        scores = attack.score(released.x, candidates, data.population.x, rng)
        entry = {
            "title": f"{attack.title} (on the released records)",
            "description": attack.description,
            **scored_figures(run, data, scores, delta, stream=1000 + i, selection=selection),
            "exposed": exposed_records(
                scores, is_member, fpr=EXPOSURE_FPR, confidence=run.spec.attacks.confidence
            ),
        }
        entry["warnings"] = attack_warnings(entry)
        out[attack.name] = entry
        run.stages.lap(f"attack {attack.name}")
    return out


def runnable_attacks(
    names: tuple[str, ...], recipe: str, generated: bool = False
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The attacks of `names` that can run on a release of `recipe`, and why each other
    one cannot: attacks that calibrate against reference or shadow runs need the release
    re-made, which an unknown generator (`external`) allows only through the user's own
    generator (`generated`)."""
    definition = RECIPES.get(recipe)
    if definition is None or definition.rerunnable or generated:
        return names, {}
    needs_runs = {n for n in names if ATTACKS[n].reference_models or ATTACKS[n].needs_shadow_models}
    why = f"not run: it calibrates against re-made releases, and {WHY}"
    return tuple(n for n in names if n not in needs_runs), dict.fromkeys(sorted(needs_runs), why)


def release_params(released: LoadedDataset, recipe: str) -> Params:
    """The release recipe's own parameters (from the artifact, checked by the recipe), as
    the parameters of `recipe` (the spec's `[scheme] name` may differ)."""
    if released.recipe not in RECIPES and recipe in RECIPES:
        return RECIPES[recipe].params()  # the spec names the scheme; the file does not
    field = "settings" if released.legacy_params else "params"
    stored = stored_params(
        released.recipe,
        released.params,
        legacy=released.legacy_params,
        where=str(released.path),
        field=field,
    )
    return as_recipe(stored, recipe)


def consumer_params(
    release: Params, architecture: str
) -> CondenseParams | StimuliParams | ExternalParams:
    """The release recipe's parameters with a third party's training of `architecture` on
    the released samples (the consumer's own model: nothing from the artifact)."""
    if not isinstance(release, CondenseParams | StimuliParams | ExternalParams):
        raise TypeError(f"{type(release).__name__} are no dataset recipe's parameters")
    return replace(release, consumer=replace(CONSUMER, architecture=architecture))


def audit_dataset(run: Run) -> Audited:
    """Every stage of a dataset artifact's audit."""
    spec, stages = run.spec, run.stages
    stages.say("load")
    released = load_dataset(spec.artifact.path, label=spec.data.label, allow_code=run.allow_code)
    data = load_audit_data(spec.data, released.encoding)
    recipe = spec.scheme or released.recipe
    release = release_params(released, recipe)
    delta = run.delta(released.claims)
    stages.lap("load")
    stages.say("linkage")
    privacy: dict[str, Any] = {"membership": {}, **records_sections(run, released, data)}
    stages.lap("linkage")
    # every attack on the records and on every consumer model: the report reads the strongest
    shadows = len(SHADOW_RELEASE_ATTACKS) if spec.artifact.generate is not None else 0
    selection = len(RELEASE_ATTACKS) + shadows + len(spec.attacks.run) * len(spec.consumers)
    privacy["membership"].update(release_membership(run, released, data, delta, selection))
    generator = None
    if spec.artifact.generate is not None:
        # the audit's records, decoded exactly from their encoded rows for the generator
        frames = [pd.read_csv(p) for p in spec.data.paths().values()]
        generator = UserGenerator.resolve(
            spec.artifact.generate,
            (*released.encoding.columns, spec.data.label),
            str(spec.path),
            spec.artifact.train_timeout,
        ).with_records(RawTable.with_encoding(frames, released.encoding))
        shadow = shadow_release_membership(run, released, data, generator, delta, selection)
        privacy["membership"].update(shadow)
        if isinstance(release, ExternalParams):  # reference runs: the user's generator
            release = replace(release, generator=generator)
    consumers, consumer_utility, real = {}, {}, {}
    generated = isinstance(release, ExternalParams) and release.generator is not None
    attacks, not_run = runnable_attacks(spec.attacks.run, recipe, generated)
    if not_run:
        privacy["not_run"] = {f"{a}@{c}": why for a, why in not_run.items() for c in spec.consumers}
    for arch in spec.consumers:
        hp = consumer_params(release, arch)
        inputs = RecipeInput(released.x, released.y)
        trained = run_recipe("supervised", inputs, hp.consumer, run.seeds.consumers)
        consumers[arch] = logits_fn(trained.model)
        privacy["membership"].update(
            membership_section(
                run,
                data,
                recipe=recipe,
                hp=hp,
                target=consumers[arch],
                n_classes=2,
                delta=delta,
                suffix=f"@{arch}",
                attacks=attacks,
            )
        )
        stages.say(f"utility @{arch}")
        real[arch] = real_records_model(run, data, arch, {})
        consumer_utility[arch] = utility_section(run, data, consumers[arch], real[arch])
        stages.lap(f"utility @{arch}")
    first = spec.consumers[0]
    utility = {
        **consumer_utility[first],
        "consumers": {arch: u["artifact"] for arch, u in consumer_utility.items()},
    }
    stages.say("baselines")
    baselines = baselines_section(run, data, real[first], consumer_utility[first], 2, delta)
    stages.lap("baselines")
    fairness = fairness_section(run, data, consumers[first])
    artifact = {
        "kind": "dataset",
        "format": released.format,
        "file_name": released.path.name,
        "sha256": released.sha256,
        "scheme": recipe,
        "architecture": f"consumers: {', '.join(spec.consumers)} (utility: {first})",
        "n_features": released.encoding.n_features,
        "samples": len(released.x),
        "claims": dict(released.claims),
        **({"generator": generator.describe()} if generator is not None else {}),
    }
    return Audited(recipe, artifact, data, privacy, utility, baselines, fairness)
