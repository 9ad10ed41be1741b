"""The DP audit end to end through `auditor run` on SUPPORT2: a broken DP-SGD (claims
epsilon 1, adds a tenth of the noise) fails its gates with a bound above 1; a correct DP-SGD
at epsilon 1 keeps every bound below its claim; the same training without noise leaks far
more than epsilon 1; the report shows the section; a model of another recipe is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.demo.dp_audit import build_dp_audit_fixtures

RUNS, PER_RUN = 8, 500


@pytest.fixture(scope="module")
def dp_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_dp_audit_fixtures(
        tmp_path_factory.mktemp("dp-audit"),
        names=("dp_eps1", "dp_broken", "non_private"),
        runs=RUNS,
        per_run=PER_RUN,
        bootstrap=100,
    )


def _run(spec: Path, out: Path) -> tuple[int, dict]:
    runner = CliRunner(env={"COLUMNS": "200"})
    outcome = runner.invoke(app, ["run", str(spec), "--out", str(out)])
    assert outcome.exit_code in (0, 1), outcome.output
    return outcome.exit_code, json.loads((out / "result.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_broken_dp_sgd_is_refuted_and_a_correct_one_is_not(
    dp_specs: dict[str, Path], tmp_path: Path
) -> None:
    code, broken = _run(dp_specs["dp_broken"], tmp_path / "broken")
    audit = broken["privacy"]["dp_audit"]
    assert audit["claimed"]["epsilon"] == pytest.approx(1.0, abs=0.02)
    gradient = audit["kinds"]["gradient"]
    assert gradient["many_runs"]["value"] > 1.0 and gradient["one_run"]["value"] > 1.0
    # The trade-off estimators read the same game more tightly than Steinke's bound.
    assert gradient["fdp_one_run"]["value"] > gradient["one_run"]["value"]
    assert gradient["gdp_many_runs"]["value"] > 1.0 and gradient["gdp_many_runs"]["mu"] > 0
    assert audit["claim_refuted"] is True and "gradient" in audit["refuted_by"]
    assert audit["refuted_without_assumption"] is True
    assert code == 1  # its gates: every bound at most the claim
    failed = {g["metric"] for g in broken["gates"] if not g["passed"]}
    assert "privacy.dp_audit.gradient.many_runs" in failed
    html = (tmp_path / "broken" / "report.html").read_text(encoding="utf-8")
    assert 'id="dp-audit"' in html and "The claim is refuted" in html
    assert 'id="dp-audit-gradient"' in html

    code, correct = _run(dp_specs["dp_eps1"], tmp_path / "eps1")
    audit = correct["privacy"]["dp_audit"]
    assert code == 0 and audit["claim_refuted"] is False
    for kind in ("gradient", "input"):
        for method in ("one_run", "many_runs", "fdp_one_run", "gdp_many_runs"):
            assert audit["kinds"][kind][method]["value"] <= audit["claimed"]["epsilon"]
    assert "Gaussian" in audit["assumption"]
    assert audit["accounted_epsilon"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.slow
def test_the_same_training_without_noise_leaks_far_more_than_epsilon_one(
    dp_specs: dict[str, Path], tmp_path: Path
) -> None:
    _, result = _run(dp_specs["non_private"], tmp_path / "none")
    audit = result["privacy"]["dp_audit"]
    assert audit["claimed"]["epsilon"] is None and audit["claim_refuted"] is None
    assert audit["kinds"]["gradient"]["many_runs"]["value"] > 4.0
    assert audit["kinds"]["input"]["many_runs"]["value"] > 1.0
    # The DP audit alone, out-of-distribution canaries: no claim, so exit 0, and a bound
    # far above 1 in dp_audit.json.
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["dp-audit", str(dp_specs["non_private"]), "--out", str(tmp_path / "ood")]
    outcome = runner.invoke(app, [*args, "--canaries", "ood", "--runs", "8"])
    assert outcome.exit_code == 0, outcome.output
    assert "no DP claim" in outcome.output
    alone = json.loads((tmp_path / "ood" / "dp_audit.json").read_text(encoding="utf-8"))
    assert sorted(alone["dp_audit"]["kinds"]) == ["ood"]
    assert alone["dp_audit"]["kinds"]["ood"]["many_runs"]["value"] > 1.0


@pytest.mark.slow
def test_crafted_canaries_refute_the_broken_dp_sgd_from_its_final_models(
    dp_specs: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["dp-audit", str(dp_specs["dp_broken"]), "--out", str(tmp_path / "crafted")]
    outcome = runner.invoke(app, [*args, "--canaries", "crafted", "--runs", "8"])
    assert outcome.exit_code == 1, outcome.output  # a bound above the claim
    audit = json.loads((tmp_path / "crafted" / "dp_audit.json").read_text(encoding="utf-8"))
    crafted = audit["dp_audit"]["kinds"]["crafted"]
    assert crafted["canaries_per_run"] == 64  # one per hidden unit of the preset's MLP
    assert "last iterate" in crafted["threat_model"]
    assert audit["dp_audit"]["claim_refuted"] and audit["dp_audit"]["refuted_without_assumption"]


def test_the_dp_audit_command_refuses_a_spec_without_canaries_and_bad_options(
    dp_specs: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    spec = dp_specs["dp_eps1"]
    outcome = runner.invoke(app, ["dp-audit", str(spec), "--canaries", "gradient,bogus"])
    assert outcome.exit_code == 2 and "--canaries" in outcome.output, outcome.output
    assert "did you mean" in outcome.output or "use one of" in outcome.output
    outcome = runner.invoke(app, ["dp-audit", str(spec), "--runs", "0"])
    assert outcome.exit_code == 2 and "--runs" in outcome.output, outcome.output


def test_a_model_of_another_recipe_is_refused_before_training(
    dp_specs: dict[str, Path], tmp_path: Path
) -> None:
    spec = tmp_path / "supervised.toml"
    text = (
        dp_specs["dp_eps1"]
        .read_text(encoding="utf-8")
        .replace("../", f"{dp_specs['dp_eps1'].parent.parent}/")
    )
    spec.write_text(text + '\n[scheme]\nname = "supervised"\n', encoding="utf-8")
    outcome = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["run", str(spec), "--out", str(tmp_path / "o")]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "dp_audit.canaries" in outcome.output and "dp_sgd" in outcome.output
