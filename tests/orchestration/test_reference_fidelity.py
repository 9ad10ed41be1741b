"""Reference fidelity on real models (digits CNNs, not patient data): references trained
with the recipe the artifact states are flagged when the artifact was in fact trained
differently (ten times fewer epochs claimed, or a tenth of the learning rate), and the
warning reaches the result, the gate and the report's summary; with the true recipe the
check stays quiet (see test_images: the overfit CNN). ART's shadow-model attack carries the
references' verdict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from auditor.config.spec import load_spec
from auditor.demo.images import OVERFIT_CNN, build_image_fixture
from auditor.orchestration.run import run_audit
from auditor.report.summary import summary_context


@pytest.mark.slow
@pytest.mark.parametrize(
    "claimed",
    [replace(OVERFIT_CNN, epochs=10), replace(OVERFIT_CNN, lr=1e-4)],
    ids=["fewer epochs", "lower learning rate"],
)
def test_references_of_another_recipe_are_flagged(tmp_path: Path, claimed: object) -> None:
    fixture = build_image_fixture(
        tmp_path, name="mislabelled", attacks=("lira_online", "art_blackbox"), claimed=claimed
    )
    spec = fixture.spec
    spec.write_text(
        spec.read_text(encoding="utf-8")
        + '\n[gates]\n"privacy.lira_online.warnings" = { max = 0 }\n',
        encoding="utf-8",
    )
    result = run_audit(load_spec(spec)).result
    entry = result["privacy"]["membership"]["lira_online"]
    assert entry["reference_fidelity"]["flagged"], entry["reference_fidelity"]
    assert entry["reference_fidelity"]["p_value"] < entry["reference_fidelity"]["alpha"] == 0.05
    assert entry["warnings"]["value"] >= 1
    assert [g["passed"] for g in result["gates"]] == [False]
    # ART's shadow model is trained by the same (misstated) recipe: the references' verdict
    # stands for it.
    shadow = result["privacy"]["membership"]["art_blackbox"]
    assert shadow["reference_fidelity"]["flagged"] and shadow["warnings"]["value"] >= 1
    assert shadow["reference_fidelity"]["judged_by"] == "online references"
    assert any("reference models do not behave like" in s for s in summary_context(result))
