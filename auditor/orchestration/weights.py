"""Audit of a weights artifact (merged "data vectors"), optionally released with the public
base model and the per-site vectors.

The merged weights are audited as a model (`auditor.orchestration.model`: every membership attack
with the `merge` recipe for shadow and reference models, and with the base as a free
reference, `base_reference`). With per-site vectors, each site's model (base + its vector)
is attacked on its own patients (per-site membership), and each member is attributed to the
site whose model fits it best (site attribution, against chance).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.artifacts.models import load_model
from auditor.artifacts.query import torch_logits
from auditor.artifacts.weights import load_site_vectors
from auditor.attacks.membership.base_reference import loss_drop
from auditor.core.estimates import proportion
from auditor.data.tables import AuditData
from auditor.errors import fail
from auditor.metrics.membership import membership_figures
from auditor.orchestration.baselines import model_utility
from auditor.orchestration.context import Audited, Run
from auditor.orchestration.model import (
    artifact_section,
    load_target,
    privacy_sections,
    recipe_parameters,
    utility_and_baselines,
)
from auditor.orchestration.sections import fairness_section


def _site_model(base: nn.Module, vector: dict[str, torch.Tensor], where: str) -> nn.Module:
    model = copy.deepcopy(base)
    state = model.state_dict()
    if set(vector) != set(state):
        raise fail(
            where,
            "artifact.site_vectors",
            "vectors do not match the base's parameters",
            "release vectors computed against this base model",
        )
    model.load_state_dict({k: v + vector[k] for k, v in state.items()})
    return model.eval()


def _attribution(
    run: Run, data: AuditData, base_members: np.ndarray, models: dict[str, Any]
) -> dict[str, Any]:
    """Each member attributed to the site whose model lowers its loss most vs the base."""
    x, y, sites = data.members.x, data.members.y, data.members.sites
    if sites is None:
        raise ValueError("site attribution needs each member's site (the spec's data.site)")
    drops = np.stack([loss_drop(m(x), base_members, y) for m in models.values()])
    names = list(models)
    guessed = np.array(names)[drops.argmax(axis=0)]
    known = np.isin(sites, names)
    hits = int((guessed[known] == sites[known]).sum())
    return {
        "accuracy": proportion(hits, int(known.sum()), run.spec.attacks.confidence),
        "chance": 1.0 / len(names),
        "method": "site whose model lowers the record's loss most vs base",
    }


def sites_section(
    run: Run, data: AuditData, base: nn.Module, vectors: dict[str, Any], delta: float
) -> dict[str, Any]:
    """Per-site membership (site model vs base on the site's members and non-members) and
    site attribution of every member."""
    if data.members.sites is None:
        return {"note": "no [data] site column: per-site membership and attribution skipped"}
    spec = run.spec
    where = str(spec.artifact.site_vectors)
    models = {s: torch_logits(_site_model(base, v, where)) for s, v in sorted(vectors.items())}
    base_fn = torch_logits(base)
    x, y, sites = data.members.x, data.members.y, data.members.sites
    base_members = base_fn(x)
    per_site = {}
    rng = np.random.default_rng(run.seeds.sites)
    base_non = base_fn(data.non_members.x)
    for i, (site, model) in enumerate(models.items()):
        rows = sites == site
        if not rows.any():
            continue
        n = min(int(rows.sum()), data.non_members.rows)
        others = rng.permutation(data.non_members.rows)[:n]
        scores = np.concatenate(
            [
                loss_drop(model(x[rows]), base_members[rows], y[rows]),
                loss_drop(
                    model(data.non_members.x[others]), base_non[others], data.non_members.y[others]
                ),
            ]
        )
        is_member = np.r_[np.ones(int(rows.sum()), bool), np.zeros(n, bool)]
        per_site[site] = membership_figures(
            scores,
            is_member,
            rng=np.random.default_rng([run.seeds.sites, i]),
            replicates=spec.attacks.bootstrap,
            confidence=spec.attacks.confidence,
            delta=delta,
        )
    return {"attribution": _attribution(run, data, base_members, models), "membership": per_site}


def audit_weights(run: Run) -> Audited:
    """Every stage of a weights artifact's audit."""
    spec = run.spec
    merged, data = load_target(run)
    meta = merged.metadata
    base = None
    if spec.artifact.base is not None:
        base = load_model(
            spec.artifact.base,
            architecture=run.architecture,
            allow_code=run.allow_code,
            trusted_functions=spec.artifact.trusted_functions,
        )
    recipe = spec.scheme or meta.recipe
    hp = recipe_parameters(meta, recipe, str(merged.path))
    run.stages.lap("load")
    privacy = privacy_sections(
        run, merged, data, recipe, hp, base=base.logits if base is not None else None
    )
    utility, baselines = utility_and_baselines(run, merged, data, hp)
    if spec.artifact.site_vectors is not None:
        if base is None or base.module is None:
            raise fail(
                str(spec.artifact.site_vectors),
                "artifact.base",
                "site vectors are released but the base model is not",
                "set [artifact] base: the vectors are differences to it",
            )
        run.stages.say("sites")
        vectors = load_site_vectors(spec.artifact.site_vectors)
        sites = sites_section(run, data, base.module, vectors, run.delta(meta.claims))
        privacy["sites"] = sites.get("membership", {})
        if "attribution" in sites:
            privacy["site_attribution"] = sites["attribution"]
        where = str(spec.artifact.site_vectors)
        utility["sites"] = {
            # Single-site models beside the merged one; the real-records baseline is above.
            name: model_utility(run, data, torch_logits(_site_model(base.module, vec, where)))
            for name, vec in sorted(vectors.items())
        }
        run.stages.lap("sites")
    fairness = fairness_section(run, data, merged.logits)
    artifact = artifact_section(run, merged, recipe)
    released = (("base", spec.artifact.base), ("site vectors", spec.artifact.site_vectors))
    artifact["released_with"] = [name for name, path in released if path]
    artifact["details"] = dict(meta.details)
    return Audited(recipe, artifact, data, privacy, utility, baselines, fairness)
