"""Audit of a dataset artifact (condensed set, stimuli, any released samples).

Attacked on its records directly (linkage to the nearest real patient against a hold-out
baseline; anonymeter-style linkability and inference risks) and through the models third
parties would train on it (the consumer recipe, several architectures), whose membership
leakage is judged like any model's: shadow and reference models re-run the release recipe
followed by the consumer's training.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from auditor.artifacts.datasets import load_dataset
from auditor.artifacts.query import logits_fn
from auditor.attacks.records.anonymity import inference_risk, linkability_risk, singling_out_risk
from auditor.attacks.records.linkage import linkage_figures
from auditor.audit.baselines import baselines_section, real_records_model, utility_section
from auditor.audit.run import (
    DEFAULT_DELTA,
    AuditOutcome,
    Stages,
    data_section,
    fairness_section,
    finish,
    membership_section,
    run_section,
)
from auditor.config.spec import AuditSpec
from auditor.data.tables import load_audit_data
from auditor.training.recipes import PRESETS, Hyperparameters, RecipeInput, run_recipe

ANONYMITY_TARGETS = 500  # records attacked per set (members, control), as anonymeter's n_attacks


def run_dataset_audit(spec: AuditSpec, stages: Stages, seeds: list[int]) -> AuditOutcome:
    """Every stage of a dataset artifact's audit."""
    stages.say("load")
    released = load_dataset(spec.artifact.path, label=spec.data.label)
    data = load_audit_data(spec.data, released.encoding)
    recipe = spec.scheme or released.recipe
    stages.lap("load")

    stages.say("linkage")
    rng = np.random.default_rng(seeds[5])
    linkage = linkage_figures(
        released.x, data.members.x, data.non_members.x, rng=rng, confidence=spec.attacks.confidence
    )
    n = min(ANONYMITY_TARGETS, data.members.rows, data.non_members.rows)
    targets = data.members.x[rng.permutation(data.members.rows)[:n]]
    control = data.non_members.x[rng.permutation(data.non_members.rows)[:n]]
    categorical = {f.name for f in released.encoding.categorical}
    inference = {}
    for secret in spec.data.sensitive:
        if secret in categorical:
            inference[secret] = inference_risk(
                released.x,
                targets,
                control,
                released.encoding,
                secret,
                rng=rng,
                confidence=spec.attacks.confidence,
            )
        else:
            note = f"{secret} is not a categorical feature of the release: not attacked"
            empty = {"value": None, "lower": None, "upper": None, "resolvable": False, "note": note}
            inference[secret] = {"risk": empty}
    linkability = linkability_risk(
        released.x, targets, control, released.encoding, confidence=spec.attacks.confidence
    )
    singling_out = singling_out_risk(
        released.x, targets, control, released.encoding, confidence=spec.attacks.confidence
    )
    stages.lap("linkage")

    membership: dict[str, Any] = {}
    consumers, consumer_utility, real = {}, {}, {}
    for arch in spec.consumers:
        # The release recipe's own settings (from the artifact), the consumer's training.
        consumer = PRESETS["consumer"]
        hp = replace(
            Hyperparameters.from_dict(released.settings),
            architecture=arch,
            epochs=consumer.epochs,
            batch_size=consumer.batch_size,
            lr=consumer.lr,
            weight_decay=consumer.weight_decay,
            hidden=consumer.hidden,
            architecture_params={},  # the consumer's own model: nothing from the artifact
        )
        model = run_recipe("supervised", RecipeInput(released.x, released.y), hp, seeds[6]).model
        consumers[arch] = logits_fn(model)
        membership.update(
            membership_section(
                spec,
                data,
                recipe=recipe,
                hp=hp,
                target=consumers[arch],
                n_classes=2,
                delta=spec.attacks.delta or DEFAULT_DELTA,
                seeds=seeds,
                stages=stages,
                suffix=f"@{arch}",
            )
        )
        stages.say(f"utility @{arch}")
        real[arch] = real_records_model(spec, data, arch, {}, seeds)
        consumer_utility[arch] = utility_section(spec, data, consumers[arch], real[arch], seeds)
        stages.lap(f"utility @{arch}")

    first = spec.consumers[0]
    utility = {
        **consumer_utility[first],
        "consumers": {arch: u["artifact"] for arch, u in consumer_utility.items()},
    }
    stages.say("baselines")
    delta = spec.attacks.delta or DEFAULT_DELTA
    baselines = baselines_section(spec, data, real[first], consumer_utility[first], 2, delta, seeds)
    stages.lap("baselines")
    fairness = fairness_section(spec, data, consumers[first], seeds, stages)
    result = {
        "run": run_section(spec, recipe),
        "artifact": {
            "kind": "dataset",
            "format": released.format,
            "file_name": released.path.name,
            "sha256": released.sha256,
            "scheme": recipe,
            "architecture": f"consumers: {', '.join(spec.consumers)} (utility: {first})",
            "n_features": released.encoding.n_features,
            "samples": len(released.x),
            "claims": {},
        },
        "data": data_section(spec, data),
        "privacy": {
            "membership": membership,
            "linkage": linkage,
            "inference": inference,
            "linkability": linkability,
            "singling_out": singling_out,
        },
        "utility": utility,
        "baselines": baselines,
        "fairness": fairness,
    }
    return finish(spec, result, stages)
