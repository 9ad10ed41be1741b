"""Run one audit: load -> attacks -> metrics -> result (one document) -> gates.

The only orchestration: each artifact kind (`model`, `dataset`, `weights`) contributes its
sections through one function registered in KINDS; the result document is assembled and
sealed here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.attacks import ATTACKS
from auditor.config.spec import AuditSpec
from auditor.errors import fail
from auditor.orchestration.context import Audited, AuditOutcome, Run
from auditor.orchestration.dataset import audit_dataset
from auditor.orchestration.dp_audit import dp_audit_section, dp_audit_stage
from auditor.orchestration.inputs import check_inputs
from auditor.orchestration.model import audit_model, load_target, recipe_parameters, user_training
from auditor.orchestration.progress import Reporter
from auditor.orchestration.sections import data_section, run_section
from auditor.orchestration.weights import audit_weights
from auditor.result.document import seal
from auditor.result.gates import evaluate

KINDS: dict[str, Callable[[Run], Audited]] = {
    "model": audit_model,
    "dataset": audit_dataset,
    "weights": audit_weights,
}


def check_device(spec: AuditSpec) -> None:
    """AuditInputError when the spec asks for CUDA in this process and there is none (a Ray
    cluster's devices are checked by its executor)."""
    if spec.attacks.device == "cuda" and spec.executor.name == "in_process":
        import torch

        if not torch.cuda.is_available():
            raise fail(
                str(spec.path),
                "attacks.device",
                '"cuda", but this machine has no CUDA device',
                'use "auto" (CUDA when there is one) or "cpu"',
            )


def plan(spec: AuditSpec) -> list[str]:
    """The stages of this audit, in the order they report themselves (for progress)."""
    kind = spec.artifact.kind
    targets = [f"@{c}" for c in spec.consumers] if kind == "dataset" else [""]
    modes = sorted({ATTACKS[a].reference_models for a in spec.attacks.run} - {None})
    stages = ["load"] + (["linkage"] if kind == "dataset" else [])
    for target in targets:
        k = spec.attacks.reference_models
        stages += [f"{k} reference models ({mode}){target}" for mode in modes]
        stages += [f"attack {a}{target}" for a in spec.attacks.run]
        if kind == "dataset":
            stages.append(f"utility {target}")
    if kind != "dataset":
        stages += [f"attribute inference {s}" for s in spec.data.sensitive]
    if kind == "model":
        stages += [dp_audit_stage(spec.dp_audit.runs, c) for c in spec.dp_audit.canaries]
        stages.append("model inversion")
    if kind != "dataset":
        stages.append("utility")
    stages.append("baselines")
    if kind == "weights" and spec.artifact.site_vectors is not None:
        stages.append("sites")
    return [*stages, "fairness"]


def assemble(spec: AuditSpec, audited: Audited) -> dict[str, Any]:
    """The result document (unsealed, without gates) from one kind's sections."""
    return {
        "run": run_section(spec, audited.recipe),
        "artifact": audited.artifact,
        "data": data_section(spec, audited.data),
        "privacy": audited.privacy,
        "utility": audited.utility,
        "baselines": audited.baselines,
        "fairness": audited.fairness,
    }


def run_audit(
    spec: AuditSpec, *, allow_code: bool = False, progress: Reporter | None = None
) -> AuditOutcome:
    """Run every stage of the audit described by `spec` (already validated)."""
    check_device(spec)
    check_inputs(spec, allow_code=allow_code)  # the same check as `auditor validate`
    run = Run.start(spec, allow_code=allow_code, progress=progress)
    result = assemble(spec, KINDS[spec.artifact.kind](run))
    result["gates"] = [o.to_dict() for o in evaluate(spec.gates, result)]
    return AuditOutcome(seal(result), run.stages.timings)


def run_dp_audit(
    spec: AuditSpec, *, allow_code: bool = False, progress: Reporter | None = None
) -> dict[str, Any]:
    """The DP audit alone (`auditor dp-audit`): the model and data checked and loaded as
    for `run_audit`, then only the `privacy.dp_audit` section, with the artifact's name and
    hash beside it. AuditInputError when the spec has no canary kind or a model the
    game cannot re-run."""
    if spec.artifact.kind != "model" or not spec.dp_audit.canaries:
        raise fail(
            str(spec.path),
            "dp_audit.canaries",
            "names no canary kind" if spec.artifact.kind == "model" else "is for models",
            'add [dp_audit] canaries = ["gradient", "input"] to the spec of a DP-SGD model',
        )
    check_device(spec)
    check_inputs(spec, allow_code=allow_code)
    run = Run.start(spec, allow_code=allow_code, progress=progress)
    model, data = load_target(run)
    recipe = spec.scheme or model.metadata.recipe
    hp = user_training(run, data, recipe_parameters(model.metadata, recipe, str(model.path)))
    run.stages.lap("load")
    section = dp_audit_section(run, data, recipe, hp, model.metadata.claims)
    return {
        "artifact": {"file_name": model.path.name, "sha256": model.sha256, "scheme": recipe},
        "seed": spec.seed,
        "dp_audit": section,
    }
