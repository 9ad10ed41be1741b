"""Spec validation reports every problem at once; gates are checked when the spec is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.config.spec import load_spec
from auditor.errors import AuditInputError


def _spec(tmp_path: Path, body: str) -> Path:
    for name in ("members", "non_members", "test", "population"):
        (tmp_path / f"{name}.csv").write_text("patient_id,death\n")
    (tmp_path / "m.safetensors").write_bytes(b"")
    path = tmp_path / "spec.toml"
    path.write_text(body)
    return path


GOOD = """
[artifact]
path = "m.safetensors"
[data]
members = "members.csv"
non_members = "non_members.csv"
test = "test.csv"
population = "population.csv"
label = "death"
sensitive = ["sex"]
[attacks]
run = ["loss"]
[gates]
"privacy.loss.tpr_at_fpr_0.001" = { max = 0.01, bound = "upper" }
fairness.recall_gap.sex = { max = 0.05 }
"""


def test_good_spec_parses_gates(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, GOOD))
    assert [g.metric for g in spec.gates] == [
        "fairness.recall_gap.sex",
        "privacy.loss.tpr_at_fpr_0.001",
    ]
    assert spec.gates[1].bound == "upper"
    assert spec.data.members == (tmp_path / "members.csv").resolve()


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    body = GOOD.replace('run = ["loss"]', 'run = ["loss", "nosuch"]')
    body = body.replace('"test.csv"', '"missing.csv"').replace("max = 0.05", "mx = 0.05")
    body += '"privacy.lira.auc" = { max = 0.6 }\n'
    with pytest.raises(AuditInputError) as info:
        load_spec(_spec(tmp_path, body))
    fields = {p.field for p in info.value.problems}
    assert {"attacks.run", "data.test", "gates.fairness.recall_gap.sex",
            "gates.privacy.lira.auc"} <= fields  # fmt: skip
    assert all(p.where.endswith("spec.toml") and p.fix for p in info.value.problems)


def test_online_attack_needs_two_reference_models(tmp_path: Path) -> None:
    body = GOOD.replace('run = ["loss"]', 'run = ["lira_online"]\nreference_models = 1')
    body = body.replace('"privacy.loss.', '"privacy.lira_online.')
    with pytest.raises(AuditInputError, match="at least 2"):
        load_spec(_spec(tmp_path, body))


def test_dp_baseline_is_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_spec(_spec(tmp_path, GOOD)).dp_epsilon == 3.0
    body = GOOD.replace("[attacks]", "[utility]\ndp_epsilon = 1\n[attacks]")
    assert load_spec(_spec(tmp_path, body)).dp_epsilon == 1.0
    body = GOOD.replace("[attacks]", "[utility]\ndp_baseline = false\n[attacks]")
    assert load_spec(_spec(tmp_path, body)).dp_epsilon is None
    body = GOOD.replace("[attacks]", '[utility]\ndp_baseline = "no"\ndp_epsilon = -1\n[attacks]')
    with pytest.raises(AuditInputError) as info:
        load_spec(_spec(tmp_path, body))
    assert {p.field for p in info.value.problems} == {"utility.dp_baseline", "utility.dp_epsilon"}


def test_scheme_names_come_from_the_recipe_registry(tmp_path: Path) -> None:
    body = GOOD.replace("[attacks]", '[scheme]\nname = "stimuli"\n[attacks]')
    body = body.replace("[artifact]", '[artifact]\nkind = "dataset"')
    body = body.replace("fairness.recall_gap.sex = { max = 0.05 }\n", "")
    body = body.replace('"privacy.loss.tpr', '"privacy.loss@mlp.tpr')
    assert load_spec(_spec(tmp_path, body)).scheme == "stimuli"
    with pytest.raises(AuditInputError, match="did you mean 'stimuli'"):
        load_spec(_spec(tmp_path, body.replace('"stimuli"', '"stimulus"')))


def test_validate_imports_no_torch(demo_specs: dict[str, Path]) -> None:
    """`auditor validate` checks the spec, the artifact (a safetensors MLP: its header and
    weight shapes) and the data as `run` would, without paying for torch."""
    import subprocess
    import sys

    spec = demo_specs["supervised"]
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from auditor.cli import app\n"
        f"result = CliRunner().invoke(app, ['validate', {str(spec)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_every_built_in_kind_names_functions_that_exist() -> None:
    """The kinds' functions are strings (the registry is torch-free): each must import."""
    from auditor.artifacts import KINDS
    from auditor.core.refs import resolve

    for kind in KINDS.values():
        for ref in (kind.audit, kind.read_inputs, kind.stages, kind.privacy_paths):
            assert callable(resolve(ref)), (kind.name, ref)


def test_every_built_in_recipe_names_functions_that_exist() -> None:
    from auditor.training.recipes import RECIPES

    for recipe in RECIPES.values():
        assert callable(recipe.trainer()), recipe.name
        assert recipe.ensemble is None or callable(recipe.ensemble_trainer()), recipe.name
        assert (recipe.release is None) == (recipe.releases != "dataset"), recipe.name
        if recipe.release is not None:
            assert callable(recipe.releaser()), recipe.name


def test_paths_outside_the_spec_folder_are_allowed(tmp_path: Path) -> None:
    """Data often lives elsewhere: absolute paths and paths above the spec's folder work."""
    data = tmp_path / "hospital" / "exports"
    data.mkdir(parents=True)
    body = GOOD
    for name in ("members", "non_members", "test", "population"):
        (data / f"{name}.csv").write_text("patient_id,death\n")
        body = body.replace(f'"{name}.csv"', json.dumps(str(data / f"{name}.csv")))
    specs = tmp_path / "audits" / "release-3"
    specs.mkdir(parents=True)
    (specs / "m.safetensors").write_bytes(b"")
    (specs / "spec.toml").write_text(body.replace('"m.safetensors"', '"m.safetensors"'))
    spec = load_spec(specs / "spec.toml")
    assert spec.data.members == data / "members.csv"
    relative = body.replace(json.dumps(str(data / "test.csv")), '"../../hospital/exports/test.csv"')
    (specs / "spec.toml").write_text(relative)
    assert load_spec(specs / "spec.toml").data.test == data / "test.csv"
