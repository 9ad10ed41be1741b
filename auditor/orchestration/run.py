"""Run one audit: load -> attacks -> metrics -> result (one document) -> gates.

The only orchestration: each artifact kind (`model`, `dataset`, `weights`, any registered
one) contributes its sections through its `ArtifactKind.audit` (`auditor.artifacts.KINDS`);
the result document is assembled and sealed here, in one place.
"""

from __future__ import annotations

from typing import Any

from auditor.artifacts import KINDS
from auditor.config.spec import AuditSpec
from auditor.core.refs import resolve
from auditor.errors import fail
from auditor.orchestration.context import Audited, AuditOutcome, Run
from auditor.orchestration.dp_audit import dp_audit_section
from auditor.orchestration.inputs import check_inputs
from auditor.orchestration.model import load_target, recipe_parameters, user_training
from auditor.orchestration.progress import Reporter
from auditor.orchestration.sections import data_section, run_section
from auditor.result.document import seal
from auditor.result.gates import evaluate
from auditor.result.sections import Document


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
    return list(resolve(KINDS[spec.artifact.kind].stages)(spec))


def assemble(spec: AuditSpec, audited: Audited) -> Document:
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
    result = assemble(spec, resolve(KINDS[spec.artifact.kind].audit)(run))
    result["gates"] = [o.to_dict() for o in evaluate(spec.gates, result)]
    return AuditOutcome(seal(dict(result)), run.stages.timings)


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
