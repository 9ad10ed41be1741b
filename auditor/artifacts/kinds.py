"""The artifact kinds: one `ArtifactKind` per kind of release, carrying what an audit of it
does. Adding a kind is one `register_kind(ArtifactKind(...))` call in its own module
(docs/ARCHITECTURE.md has a worked example; tests/extensions/test_toy_kind.py runs one).

The registry sits low in the layers because the spec parser reads it (`[artifact] kind`,
the gates a kind offers); the functions of the built-in kinds live in the layers above and
are named as `"package.module:function"` strings, imported when an audit runs
(`core.refs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.core.refs import Ref, resolve

Path = tuple[str, ...]


@dataclass(frozen=True)
class MetricScope:
    """What decides the metric names of an audit: its attacks, sensitive columns, the
    consumer models a dataset is attacked through, and the DP audit's canary kinds."""

    attacks: tuple[str, ...]
    sensitive: tuple[str, ...]
    consumers: tuple[str, ...] = ()
    canaries: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArtifactKind:
    """A kind of artifact and its behaviour.

    - `audit(run) -> Audited`: its sections of the result (`orchestration.context`);
    - `read_inputs(spec, allow_code, problems) -> (features, n_classes) | None`: what
      `auditor validate` checks before anything runs (problems appended, not raised);
    - `stages(spec) -> list[str]`: its stages in the order they report themselves;
    - `privacy_paths(scope) -> {metric name: path}`: the privacy figures a gate may name
      (utility, fairness and the DP audit's are added for every kind, `result.schema`);
    - `fields`: the spec fields only this kind reads (set for another kind: bad input);
    - `attribute_inference`: whether its audit infers the sensitive columns from the
      artifact (their encoding is then checked before the run).
    """

    name: str
    description: str
    audit: Ref
    read_inputs: Ref
    stages: Ref
    privacy_paths: Ref
    fields: tuple[str, ...] = ()
    attribute_inference: bool = False


KINDS: dict[str, ArtifactKind] = {}


def register_kind(kind: ArtifactKind) -> ArtifactKind:
    """Add an artifact kind (the spec's `[artifact] kind`, its gates and `auditor run`
    follow from it); ValueError for a taken name."""
    if not kind.name.isidentifier():
        raise ValueError(f"artifact kind {kind.name!r}: its name must be a Python identifier")
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"artifact kind {kind.name!r}: its name is taken")
    KINDS[kind.name] = kind
    return kind


def kind_paths(kind: str, scope: MetricScope) -> dict[str, Path]:
    """The privacy metric names of an audit of `kind` (empty for an unknown kind)."""
    return dict(resolve(KINDS[kind].privacy_paths)(scope)) if kind in KINDS else {}


_ORCH = "auditor.orchestration"
_SCHEMA = "auditor.result.schema"
for _kind in (
    ArtifactKind(
        "model",
        "a trained classifier (student model, DP model, any model)",
        audit=f"{_ORCH}.model:audit_model",
        read_inputs=f"{_ORCH}.inputs:read_model_inputs",
        stages=f"{_ORCH}.stages:model_stages",
        privacy_paths=f"{_SCHEMA}:model_paths",
        fields=("artifact.train", "dp_audit.canaries"),
        attribute_inference=True,
    ),
    ArtifactKind(
        "dataset",
        "released records (condensed set, stimuli, any released samples)",
        audit=f"{_ORCH}.dataset:audit_dataset",
        read_inputs=f"{_ORCH}.inputs:read_dataset_inputs",
        stages=f"{_ORCH}.stages:dataset_stages",
        privacy_paths=f"{_SCHEMA}:dataset_paths",
        fields=("artifact.generate",),
    ),
    ArtifactKind(
        "weights",
        "merged weights, optionally with the base model and per-site data vectors",
        audit=f"{_ORCH}.weights:audit_weights",
        read_inputs=f"{_ORCH}.inputs:read_model_inputs",
        stages=f"{_ORCH}.stages:weights_stages",
        privacy_paths=f"{_SCHEMA}:weights_paths",
        fields=("artifact.base", "artifact.site_vectors"),
        attribute_inference=True,
    ),
):
    register_kind(_kind)
