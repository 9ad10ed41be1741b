"""Multi-class and multi-label models audited end to end on SUPPORT2's diagnoses: an
overfit model's members are found (by LOSS and by the calibrated attacks fitted on the
structure's own scores), a model that never saw the candidates keeps every interval on the
diagonal, and inputs that do not fit the structure exit 2 with file, field and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config.spec import load_spec
from auditor.demo.labels import build_label_fixture
from auditor.orchestration.run import run_audit

pytestmark = pytest.mark.slow

ATTACKS = ("loss", "entropy", "lira_offline", "rmia")
CONTROL_ATTACKS = ("loss", "confidence", "entropy")
# The controls' claim is about every interval at once: 2 structures x 3 attacks x (AUC and
# TPR at 2 FPRs) = 18 intervals, each at 1 - 0.05 / 18 (Bonferroni), so that the family
# holds with 95% confidence. At 95% each, one of 18 misses about half the time.
CONTROL_CONFIDENCE = round(1 - 0.05 / 18, 4)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], dict[str, Any]]:
    """Result of (structure, "overfit" | "control"), each built and audited once."""
    cache: dict[tuple[str, str], dict[str, Any]] = {}

    def get(structure: str, which: str) -> dict[str, Any]:
        if (structure, which) not in cache:
            overfit = which == "overfit"
            fixture = build_label_fixture(
                tmp_path_factory.mktemp(f"{structure}-{which}"),
                structure=structure,  # type: ignore[arg-type]
                name=which,
                preset="overfit_mlp",
                train_split="members" if overfit else "population",
                attacks=ATTACKS if overfit else CONTROL_ATTACKS,
                bootstrap=300,
                reference_models=8,
                confidence=0.95 if overfit else CONTROL_CONFIDENCE,
            )
            cache[structure, which] = run_audit(load_spec(fixture.spec)).result
        return cache[structure, which]

    return get


@pytest.mark.parametrize("structure", ["multiclass", "multilabel"])
def test_an_overfit_models_members_are_found(audited: Callable, structure: str) -> None:
    result = audited(structure, "overfit")
    assert result["data"]["structure"] == structure.replace("multi", "multi-")
    for attack in ATTACKS:
        auc = result["privacy"]["membership"][attack]["auc"]
        assert auc["lower"] > 0.55, (attack, auc)


@pytest.mark.parametrize("structure", ["multiclass", "multilabel"])
def test_a_model_that_never_saw_the_candidates_stays_on_the_diagonal(
    audited: Callable, structure: str
) -> None:
    result = audited(structure, "control")
    for attack in CONTROL_ATTACKS:
        figures = result["privacy"]["membership"][attack]
        assert figures["auc"]["lower"] <= 0.5 <= figures["auc"]["upper"], attack
        for fpr, tpr in figures["tpr_at_fpr"].items():
            if not tpr["resolvable"]:
                continue
            assert tpr["lower"] <= float(fpr) <= tpr["upper"], (attack, fpr, tpr)


def test_the_utility_and_fairness_of_each_structure_are_in_the_result(audited: Callable) -> None:
    multiclass = audited("multiclass", "control")
    assert {"accuracy", "auroc", "f1_macro"} <= set(multiclass["utility"]["artifact"])
    multilabel = audited("multilabel", "control")
    assert {"f1_micro", "f1_macro", "auroc", "recall_micro"} <= set(
        multilabel["utility"]["artifact"]
    )
    assert len(multilabel["utility"]["per_label_recall"]) == 11
    gap = multilabel["fairness"]["sex"]["recall_gap"]
    assert gap["lower"] <= gap["value"] <= gap["upper"]
    assert multilabel["privacy"]["inversion"]["note"]  # stated, not silently missing


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _set_first_cell(csv: Path, column: str, value: str) -> None:
    """Set `column` of the first record (plain text edit: the CSV stays byte-for-byte
    otherwise)."""
    lines = csv.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[lines[0].split(",").index(column)] = value
    lines[1] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_inputs_that_do_not_fit_the_structure_exit_2_with_file_field_and_fix(
    tmp_path: Path,
) -> None:
    fixture = build_label_fixture(
        tmp_path,
        structure="multilabel",
        name="coder",
        sizes={"members": 300, "non_members": 300, "test": 300},
    )
    runner = CliRunner(env={"COLUMNS": "250"})
    # ART's attacks take one class per record
    _edit(fixture.spec, 'run = ["loss"', 'run = ["art_blackbox", "loss"')
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2, out.output
    assert "attacks.run" in out.output and "single-label models only" in out.output
    _edit(fixture.spec, 'run = ["art_blackbox", "loss"', 'run = ["loss"')
    # a single outcome column for a multi-label model
    _edit(fixture.spec, "labels = [", 'label = "dx_chf"\n# labels = [')
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2 and "data.label" in out.output and "labels =" in out.output
    _edit(fixture.spec, 'label = "dx_chf"\n# labels = [', "labels = [")
    # a label that is not 0/1
    _set_first_cell(fixture.data / "members.csv", "dx_coma", "2")
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2, out.output
    assert "members.csv" in out.output and "dx_coma" in out.output and "0/1" in out.output


def test_a_class_index_outside_the_models_classes_exits_2(tmp_path: Path) -> None:
    fixture = build_label_fixture(
        tmp_path,
        structure="multiclass",
        name="groups",
        sizes={"members": 300, "non_members": 300, "test": 300},
    )
    _set_first_cell(fixture.data / "test.csv", "disease_group", "8")
    out = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2, out.output
    assert "test.csv" in out.output and "disease_group" in out.output
    assert "class index 0..7" in out.output
