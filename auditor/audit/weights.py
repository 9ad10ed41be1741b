"""Audit of a weights artifact (merged "data vectors"), optionally released with the public
base model and the per-site vectors.

The merged weights are attacked as a model (every membership attack of the spec, with the
`merge` recipe for shadow and reference models) and, when the base is released, with the
base as a free reference (`base_reference`). With per-site vectors, each site's model
(base + its vector) is attacked on its own patients (per-site membership), and each member
is attributed to the site whose model fits it best (site attribution, against chance).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.artifacts.models import load_model
from auditor.artifacts.query import torch_logits
from auditor.attacks.membership.base_reference import loss_drop
from auditor.attacks.records.linkage import proportion
from auditor.audit.baselines import (
    baselines_section,
    model_utility,
    real_records_model,
    utility_section,
)
from auditor.audit.run import (
    DEFAULT_DELTA,
    AuditOutcome,
    Stages,
    attribute_section,
    data_section,
    fairness_section,
    finish,
    membership_section,
    run_section,
)
from auditor.config.spec import AuditSpec
from auditor.data.tables import AuditData, load_audit_data
from auditor.errors import fail
from auditor.metrics.membership import membership_figures
from auditor.training.recipes import Hyperparameters

SEPARATOR = "::"  # tensor names in a site-vectors file: "<site>::<parameter>"


def save_site_vectors(vectors: dict[str, dict[str, torch.Tensor]], path: Path) -> None:
    """Write per-site data vectors as one safetensors file."""
    from safetensors.torch import save_file

    tensors = {
        f"{site}{SEPARATOR}{name}": t.contiguous()
        for site, vec in vectors.items()
        for name, t in vec.items()
    }
    meta = {"auditor": json.dumps({"kind": "site_vectors", "sites": sorted(vectors)})}
    save_file(tensors, str(path), metadata=meta)


def load_site_vectors(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    """Inverse of `save_site_vectors`; AuditInputError when the file is not one."""
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise fail(
            str(path),
            "artifact.site_vectors",
            f"cannot be read ({exc})",
            "release the vectors as written by the merge recipe",
        ) from exc
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        site, sep, name = key.partition(SEPARATOR)
        if not sep:
            raise fail(
                str(path),
                key,
                "is not named '<site>::<parameter>'",
                "name each tensor by its site and parameter",
            )
        out.setdefault(site, {})[name] = tensor
    return out


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


def _sites_section(
    spec: AuditSpec, data: AuditData, base: nn.Module, vectors: dict, seeds: list[int]
) -> dict[str, Any]:
    """Per-site membership (site model vs base on the site's members and non-members) and
    site attribution of every member."""
    if data.members.sites is None:
        return {"note": "no [data] site column: per-site membership and attribution skipped"}
    where = str(spec.artifact.site_vectors)
    models = {s: torch_logits(_site_model(base, v, where)) for s, v in sorted(vectors.items())}
    base_fn = torch_logits(base)
    x, y, sites = data.members.x, data.members.y, data.members.sites
    base_members = base_fn(x)
    drops = np.stack([loss_drop(m(x), base_members, y) for m in models.values()])
    names = list(models)
    guessed = np.array(names)[drops.argmax(axis=0)]
    known = np.isin(sites, names)
    attribution = proportion(
        int((guessed[known] == sites[known]).sum()), int(known.sum()), spec.attacks.confidence
    )
    per_site = {}
    rng = np.random.default_rng(seeds[7])
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
            rng=np.random.default_rng([seeds[7], i]),
            replicates=spec.attacks.bootstrap,
            confidence=spec.attacks.confidence,
            delta=spec.attacks.delta or DEFAULT_DELTA,
        )
    return {
        "attribution": {
            "accuracy": attribution,
            "chance": 1.0 / len(names),
            "method": "site whose model lowers the record's loss most vs base",
        },
        "membership": per_site,
    }


def run_weights_audit(spec: AuditSpec, stages: Stages, seeds: list[int]) -> AuditOutcome:
    """Every stage of a weights artifact's audit."""
    stages.say("load")
    merged = load_model(spec.artifact.path, architecture=spec.artifact.architecture)
    meta = merged.metadata
    base = (
        load_model(spec.artifact.base, architecture=spec.artifact.architecture)
        if spec.artifact.base
        else None
    )
    data = load_audit_data(spec.data, meta.encoding)
    recipe = spec.scheme or meta.recipe
    stages.lap("load")
    membership = membership_section(
        spec,
        data,
        recipe=recipe,
        hp=Hyperparameters.from_dict(meta.recipe_params),
        target=merged.logits,
        n_classes=meta.n_classes,
        delta=spec.attacks.delta or DEFAULT_DELTA,
        seeds=seeds,
        stages=stages,
        base=base.logits if base else None,
    )
    privacy: dict[str, Any] = {"membership": membership}
    inference = attribute_section(
        spec, data, merged.logits, meta.encoding, meta.n_classes, seeds, stages
    )
    if inference:
        privacy["attribute_inference"] = inference
    real = real_records_model(spec, data, meta.architecture, {}, seeds)
    utility = utility_section(spec, data, merged.logits, real, seeds)
    stages.say("baselines")
    delta = spec.attacks.delta or DEFAULT_DELTA
    baselines = baselines_section(spec, data, real, utility, meta.n_classes, delta, seeds)
    stages.lap("baselines")
    if spec.artifact.site_vectors is not None:
        if base is None or base.module is None:
            raise fail(
                str(spec.artifact.site_vectors),
                "artifact.base",
                "site vectors are released but the base model is not",
                "set [artifact] base: the vectors are differences to it",
            )
        stages.say("sites")
        vectors = load_site_vectors(spec.artifact.site_vectors)
        sites = _sites_section(spec, data, base.module, vectors, seeds)
        privacy["sites"] = sites.get("membership", {})
        if "attribution" in sites:
            privacy["site_attribution"] = sites["attribution"]
        utility["sites"] = {
            # Single-site models beside the merged one; the real-records baseline is above.
            name: model_utility(
                spec,
                data,
                torch_logits(_site_model(base.module, vec, str(spec.artifact.site_vectors))),
                seeds,
            )
            for name, vec in sorted(vectors.items())
        }
        stages.lap("sites")
    fairness = fairness_section(spec, data, merged.logits, seeds, stages)
    result = {
        "run": run_section(spec, recipe),
        "artifact": {
            "kind": "weights",
            "format": merged.format,
            "file_name": merged.path.name,
            "sha256": merged.sha256,
            "scheme": recipe,
            "architecture": meta.architecture,
            "n_features": meta.n_features,
            "claims": dict(meta.claims),
            "released_with": [
                n
                for n, p in (
                    ("base", spec.artifact.base),
                    ("site vectors", spec.artifact.site_vectors),
                )
                if p
            ],
            "details": dict(meta.details),
        },
        "data": data_section(spec, data),
        "privacy": privacy,
        "utility": utility,
        "baselines": baselines,
        "fairness": fairness,
    }
    return finish(spec, result, stages)
