"""An artifact kind added from this module alone (docs/ARCHITECTURE.md, "An artifact
kind"): a prediction service's log, one confidence score per patient it was asked about.
The spec accepts the kind and gates on its figures, `check_inputs` runs its input check,
`run_audit` its audit, and the report renders the result, without any module of
`auditor/` naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from auditor.artifacts import KINDS, ArtifactKind, MetricScope, register_kind
from auditor.config.spec import AuditSpec, parse_spec
from auditor.core.encoding import FeatureEncoding, NumericFeature
from auditor.core.hashing import sha256_file
from auditor.data.tables import load_audit_data
from auditor.errors import AuditInputError, Problem
from auditor.metrics.membership import membership_figures
from auditor.orchestration.context import Audited, Run
from auditor.orchestration.inputs import check_inputs
from auditor.orchestration.run import plan, run_audit
from auditor.report.render import render_report

ENCODING = FeatureEncoding((NumericFeature("age", 60.0, 12.0),), ())
SPLITS = {"members": 200, "non_members": 200, "test": 100, "population": 100}


def read_inputs(spec: AuditSpec, allow_code: bool, problems: list[Problem]) -> Any:
    try:
        log = pd.read_csv(spec.artifact.path)
    except (OSError, ValueError):
        problems.append(Problem(str(spec.artifact.path), "artifact.path", "is not a CSV", "fix"))
        return None
    if list(log.columns) != ["patient_id", "score"]:
        message = "must have the columns patient_id, score"
        problems.append(Problem(str(spec.artifact.path), "artifact.path", message, "fix"))
        return None
    return ENCODING, 2


def stages(spec: AuditSpec) -> list[str]:
    return ["load", "attack log_score"]


def privacy_paths(scope: MetricScope) -> dict[str, tuple[str, ...]]:
    base = ("privacy", "membership", "log_score")
    return {"privacy.log_score.auc": (*base, "auc")}


def audit(run: Run) -> Audited:
    spec = run.spec
    data = load_audit_data(spec.data, ENCODING, 2)
    run.stages.lap("load")
    log = pd.read_csv(spec.artifact.path).set_index("patient_id")["score"]
    asked = [spec.data.tables[name][spec.data.id] for name in ("members", "non_members")]
    # a patient the service was never asked about scores below everyone in the log
    scores = np.concatenate([log.reindex(ids).fillna(log.min() - 1).to_numpy() for ids in asked])
    is_member = np.r_[np.ones(len(asked[0]), bool), np.zeros(len(asked[1]), bool)]
    figures = membership_figures(
        scores,
        is_member,
        rng=np.random.default_rng(run.seeds.membership_figures),
        replicates=spec.attacks.bootstrap,
        confidence=spec.attacks.confidence,
        delta=run.delta({}),
    )
    run.stages.lap("attack log_score")
    artifact = {
        "kind": "prediction_log",
        "file_name": spec.artifact.path.name,
        "sha256": sha256_file(spec.artifact.path),
    }
    privacy = {"membership": {"log_score": figures}}
    return Audited("external", artifact, data, privacy, {}, {}, {})


TOY = ArtifactKind(
    "prediction_log",
    "a prediction service's log of confidence scores",
    audit=audit,
    read_inputs=read_inputs,
    stages=stages,
    privacy_paths=privacy_paths,
)


@pytest.fixture
def toy() -> Iterator[ArtifactKind]:
    register_kind(TOY)
    yield TOY
    del KINDS[TOY.name]


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(4)
    out = {}
    for i, (name, n) in enumerate(SPLITS.items()):
        age = rng.normal(60, 12, n).round(1)
        death = (rng.random(n) < 0.3).astype(int)
        out[name] = pd.DataFrame(
            {"patient_id": np.arange(n) + 1000 * i, "age": age, "death": death}
        )
    return out


def _spec(tmp_path: Path, frames: dict[str, pd.DataFrame], log: pd.DataFrame) -> AuditSpec:
    log.to_csv(tmp_path / "log.csv", index=False)
    mapping = {
        "seed": 2,
        "artifact": {"kind": "prediction_log", "path": "log.csv"},
        "data": {**{s: s for s in SPLITS}, "label": "death", "id": "patient_id"},
        "attacks": {"run": ["loss"], "bootstrap": 200},
        "gates": {"privacy.log_score.auc": {"max": 0.6, "bound": "lower"}},
    }
    return parse_spec(mapping, tmp_path, tables=frames)


def _log(frames: dict[str, pd.DataFrame], member_shift: float) -> pd.DataFrame:
    """The service was asked about every member and non-member; it is `member_shift` more
    confident on the records its model was trained on."""
    rng = np.random.default_rng(9)
    ids = pd.concat([frames["members"]["patient_id"], frames["non_members"]["patient_id"]])
    shift = np.r_[np.full(SPLITS["members"], member_shift), np.zeros(SPLITS["non_members"])]
    return pd.DataFrame({"patient_id": ids, "score": rng.normal(0.6, 0.1, len(ids)) + shift})


def test_a_leaking_log_is_found_and_its_gate_fails(toy: ArtifactKind, tmp_path: Path) -> None:
    frames = _frames()
    spec = _spec(tmp_path, frames, _log(frames, member_shift=0.1))
    check_inputs(spec)
    assert plan(spec) == ["load", "attack log_score"]
    result = run_audit(spec).result
    auc = result["privacy"]["membership"]["log_score"]["auc"]
    assert auc["lower"] > 0.6, auc  # a shift of one standard deviation: AUC ~0.76
    (gate,) = result["gates"]
    assert gate["metric"] == "privacy.log_score.auc" and not gate["passed"], gate
    page = render_report(result, {})
    assert "prediction_log" in page


def test_a_log_that_never_saw_the_members_passes(toy: ArtifactKind, tmp_path: Path) -> None:
    frames = _frames()
    result = run_audit(_spec(tmp_path, frames, _log(frames, member_shift=0.0))).result
    auc = result["privacy"]["membership"]["log_score"]["auc"]
    assert auc["lower"] < 0.5 < auc["upper"], auc
    assert result["gates"][0]["passed"]


def test_the_kind_is_checked_like_a_built_in_one(toy: ArtifactKind, tmp_path: Path) -> None:
    frames = _frames()
    spec = _spec(tmp_path, frames, pd.DataFrame({"patient": [1], "score": [0.5]}))
    with pytest.raises(AuditInputError, match="patient_id, score"):
        check_inputs(spec)
    mapping = {
        "artifact": {"kind": "prediction_log", "path": "log.csv", "train": "a.b:c"},
        "data": {**{s: s for s in SPLITS}, "label": "death"},
        "gates": {"privacy.log_score.tpr": {"max": 0.1}},
    }
    with pytest.raises(AuditInputError) as raised:
        parse_spec(mapping, tmp_path, tables=frames)
    text = str(raised.value)
    assert 'is for model artifacts (kind = "model")' in text  # train is a model's field
    assert "[gates.privacy.log_score.tpr]" in text and "privacy.log_score.auc" in text
