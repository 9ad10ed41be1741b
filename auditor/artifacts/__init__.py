"""Artifacts: what a hospital releases, loaded safely. Never imports training code."""

from auditor.artifacts.kinds import KINDS, ArtifactKind, MetricScope, register_kind

__all__ = ["KINDS", "ArtifactKind", "MetricScope", "register_kind"]
