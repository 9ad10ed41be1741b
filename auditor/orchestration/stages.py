"""The stages of each built-in artifact kind, in the order its audit reports them (the
`stages` of its `ArtifactKind`; `run.plan` reads them for the progress display). A plan is
made from the spec alone, so it may name a stage the run then skips (attribute inference on
a sensitive column that is not a categorical model input), never one it does not name."""

from __future__ import annotations

from auditor.attacks import ATTACKS
from auditor.config.spec import AuditSpec
from auditor.core.types import RELEASE_ATTACKS, SHADOW_RELEASE_ATTACKS
from auditor.orchestration.dp_audit import dp_audit_stage


def membership_stages(spec: AuditSpec, target: str = "") -> list[str]:
    """Each attack on one target model (`@consumer` for a dataset's consumers), and its
    reference models where the first attack that needs them asks for them."""
    stages: list[str] = []
    for attack in spec.attacks.run:
        stages.append(f"attack {attack}{target}")
        mode = ATTACKS[attack].reference_models
        trained = f"{spec.attacks.reference_models} reference models ({mode}){target}"
        if mode is not None and trained not in stages:
            stages.append(trained)
    return stages


def model_stages(spec: AuditSpec) -> list[str]:
    """A model: its training settings where they are fitted, membership, attribute
    inference, the DP audit, inversion, utility."""
    stages = ["load", "fit training settings", *membership_stages(spec)]
    stages += [f"attribute inference {s}" for s in spec.data.sensitive]
    stages += [dp_audit_stage(spec.dp_audit.runs, c) for c in spec.dp_audit.canaries]
    return [*stages, "model inversion", "utility", "baselines", "fairness"]


def weights_stages(spec: AuditSpec) -> list[str]:
    """Merged weights: as a model without the DP audit and inversion, then the sites."""
    stages = ["load", *membership_stages(spec)]
    stages += [f"attribute inference {s}" for s in spec.data.sensitive]
    stages += ["utility", "baselines"]
    if spec.artifact.site_vectors is not None:
        stages.append("sites")
    return [*stages, "fairness"]


def dataset_stages(spec: AuditSpec) -> list[str]:
    """Released records: linkage and the attacks on the records themselves, then
    membership and utility through each consumer."""
    stages = ["load", "linkage", *(f"attack {a}" for a in RELEASE_ATTACKS)]
    if spec.artifact.generate is not None:
        stages += ["shadow releases", *(f"attack {a}" for a in SHADOW_RELEASE_ATTACKS)]
    for consumer in spec.consumers:
        stages += [*membership_stages(spec, f"@{consumer}"), f"utility @{consumer}"]
    return [*stages, "baselines", "fairness"]
