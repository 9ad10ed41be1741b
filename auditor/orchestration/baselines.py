"""The two models every artifact is set beside, trained on the same private records.

- The real-records model: what the hospital would have had without any sharing scheme (the
  supervised recipe, default preset, the artifact's architecture). Utility is compared with it.
- The DP baseline: the same records through DP-SGD (Opacus) at a stated epsilon, the
  accepted way to share a model with a guarantee. A scheme that claims privacy should leak
  no more than it, at no worse utility.

Both are attacked by the same LOSS attack and judged by the same yardstick as the artifact,
so the report's first page can put the three side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from auditor.artifacts.models import load_model
from auditor.artifacts.query import logits_fn
from auditor.core.scores import true_class_log_prob
from auditor.core.types import LogitsFn
from auditor.data.tables import AuditData
from auditor.metrics.membership import membership_figures
from auditor.metrics.utility import metric_table, per_label_recall, structured_utility_figures
from auditor.orchestration.context import DEFAULT_DELTA, Run
from auditor.training.recipes import PRESETS, RecipeInput, run_recipe
from auditor.training.recipes.user import UserTraining

# What the baselines keep of the membership figures: the headline numbers, not the curves.
_MEMBERSHIP_KEYS = (
    *("n_members", "n_non_members", "auc", "advantage", "tpr_at_fpr"),
    "epsilon_lower_bound",
)


@dataclass(frozen=True)
class Baseline:
    """A model trained on the private records, and how it was made (for the report)."""

    logits: LogitsFn
    description: str


def real_records_model(
    run: Run,
    data: AuditData,
    architecture: str,
    architecture_params: dict[str, Any],
    user: UserTraining | None = None,
) -> Baseline:
    """The spec's `[utility] baseline` model if given, else the supervised recipe (default
    preset, the artifact's architecture, or the user's training function) on the members."""
    spec = run.spec
    if spec.baseline is not None:
        model = load_model(
            spec.baseline,
            allow_code=run.allow_code,
            trusted_functions=spec.artifact.trusted_functions,
        )
        return Baseline(model.logits, f"real-records model from {spec.baseline.name}")
    hp = replace(
        PRESETS["default"],
        architecture=architecture,
        architecture_params=architecture_params,
        user=user,
    )
    members = RecipeInput(data.members.x, data.members.y, n_classes=data.n_outputs)
    how = f"your training function {user.name}" if user else f"default preset, {architecture}"
    return Baseline(
        logits_fn(run_recipe("supervised", members, hp, run.seeds.baseline_model).model),
        f"real-records model: supervised recipe ({how}) on the members",
    )


def model_utility(run: Run, data: AuditData, target: LogitsFn) -> dict[str, Any]:
    """Every utility metric of one model on the test split, with bootstrap intervals."""
    return structured_utility_figures(
        data.test.y,
        target(data.test.x),
        rng=np.random.default_rng(run.seeds.utility),
        replicates=run.spec.utility_bootstrap,
        confidence=run.spec.attacks.confidence,
    )


def utility_section(
    run: Run, data: AuditData, target: LogitsFn, baseline: Baseline
) -> dict[str, Any]:
    """Utility of the artifact's model and of the real-records model on the same test split."""
    artifact = model_utility(run, data, target)
    base = model_utility(run, data, baseline.logits)
    table = metric_table(data.multilabel, data.n_outputs)
    difference = {
        m: {"value": artifact[m]["value"] - base[m]["value"], "higher_is_better": better}
        for m, (_, better) in table.items()
    }
    section = {
        "n_test": data.test.rows,
        "artifact": artifact,
        "baseline": {"description": baseline.description, "metrics": base},
        "difference": difference,
    }
    if data.multilabel:
        section["per_label_recall"] = per_label_recall(
            data.test.y, target(data.test.x), data.label_names, run.spec.attacks.confidence
        )
    return section


def _loss_membership(
    run: Run, data: AuditData, model: LogitsFn, delta: float, stream: int
) -> dict[str, Any]:
    """The LOSS attack's headline membership figures against `model`."""
    cand_x = np.concatenate([data.members.x, data.non_members.x])
    cand_y = np.concatenate([data.members.y, data.non_members.y])
    is_member = np.r_[np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]
    figures = membership_figures(
        true_class_log_prob(model(cand_x), cand_y),
        is_member,
        rng=np.random.default_rng([run.seeds.membership_figures, 1000 + stream]),
        replicates=run.spec.attacks.bootstrap,
        confidence=run.spec.attacks.confidence,
        delta=delta,
    )
    return {key: figures[key] for key in _MEMBERSHIP_KEYS}


def baselines_section(
    run: Run,
    data: AuditData,
    real: Baseline,
    utility: dict[str, Any],
    n_classes: int,
    delta: float,
) -> dict[str, Any]:
    """LOSS membership figures and utility of the real-records model (its utility taken from
    `utility`, the artifact's utility section) and of the DP baseline."""
    section: dict[str, Any] = {
        "attack": "loss",
        "real_records": {
            "description": real.description,
            "membership": _loss_membership(run, data, real.logits, delta, 0),
            "utility": utility["baseline"]["metrics"],
        },
    }
    spec = run.spec
    if spec.dp_epsilon is None:
        return section
    # The DP baseline needs a positive delta to be trained to; a bound's delta of 0 is not one.
    target_delta = delta if delta > 0 else DEFAULT_DELTA
    hp = replace(PRESETS["dp"], target_epsilon=spec.dp_epsilon, target_delta=target_delta)
    members = RecipeInput(data.members.x, data.members.y, n_classes=n_classes)
    trained = run_recipe("dp_sgd", members, hp, run.seeds.dp_baseline)
    dp = logits_fn(trained.model)
    section["dp_sgd"] = {
        "description": (
            f"DP-SGD baseline: MLP ({', '.join(map(str, hp.hidden))}) on the members with "
            f"Opacus, target epsilon {spec.dp_epsilon:g}, delta {target_delta:g}"
        ),
        "claims": dict(trained.claims),
        "membership": _loss_membership(run, data, dp, delta, 1),
        "utility": model_utility(run, data, dp),
    }
    return section
