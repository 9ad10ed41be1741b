"""The white-box DP audit of a hospital's own Opacus training loop (`[artifact] train`):
gradient canaries go into the user's DPOptimizer as it runs. The correct loop is not
contradicted; each integration bug that changes the noise the claim needs is refuted, the
tenth-noise loop in 2 runs (the black-box game needed 16); a loader of fixed shuffled
batches, which the canaries cannot see, is not; a model Opacus refuses and code that is
not Opacus are bad input with a clear message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.init import infer, write_setup
from own_models import opacus_training
from own_models.rhc import LABEL, features, write_splits
from own_models.torch_mlp import export_onnx

pytestmark = pytest.mark.slow
RUNS, PER_RUN = 8, 1000


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A DP MLP by the hospital's correct loop, as ONNX, and its audit's files."""
    root = tmp_path_factory.mktemp("opacus")
    splits = write_splits(root / "data", sizes=(500, 500, 1000))
    members = pd.read_csv(splits["members"])
    numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
    model = opacus_training.dp_mlp(members[numeric], members[LABEL], seed=0)
    path = export_onnx(model, len(numeric), root / "model.onnx")
    inferred = infer(path, splits["members"], sensitive=["sex"])
    inferred.metadata["claims"] = {"epsilon": opacus_training.EPSILON, "delta": 1e-5}
    write_setup(inferred, path, splits, root / "audit.toml", attacks=["loss"])
    return root, splits


def _dp_audit(
    setup: tuple[Path, dict[str, Path]], train: str, runs: int = RUNS, kinds: str = '["gradient"]'
) -> tuple[int, dict[str, Any], str]:
    root, _ = setup
    spec = root / f"{train}.toml"
    text = (root / "audit.toml").read_text(encoding="utf-8")
    text = text.replace("[artifact]", f'[artifact]\ntrain = "own_models.opacus_training:{train}"')
    text += f"\n[dp_audit]\ncanaries = {kinds}\nruns = {runs}\nper_run = {PER_RUN}\n"
    spec.write_text(text, encoding="utf-8")
    out = root / f"out-{train}-{runs}-{kinds.strip('[]').replace(chr(34), '')}"
    ran = CliRunner().invoke(
        app, ["dp-audit", str(spec), "--out", str(out)], env={"COLUMNS": "200"}
    )
    if ran.exit_code == 2:
        return 2, {}, ran.output
    return ran.exit_code, json.loads((out / "dp_audit.json").read_text())["dp_audit"], ran.output


def test_the_correct_opacus_loop_is_not_contradicted(setup: tuple[Path, dict[str, Path]]) -> None:
    code, audit, output = _dp_audit(setup, "dp_mlp")
    assert code == 0 and audit["claim_refuted"] is False, output
    gradient = audit["kinds"]["gradient"]
    for method in ("one_run", "many_runs", "fdp_one_run", "gdp_many_runs"):
        assert gradient[method]["value"] <= opacus_training.EPSILON, (method, gradient[method])
    assert gradient["family"] == "gaussian"  # Opacus steps were seen: DP-SGD
    assert audit["accounted_epsilon"] == pytest.approx(opacus_training.EPSILON, abs=0.05)


@pytest.mark.parametrize(
    ("train", "runs"),
    [("tenth_noise", 2), ("noise_for_fewer_epochs", RUNS), ("noise_for_smaller_rate", RUNS)],
)
def test_each_noise_bug_of_an_opacus_loop_is_refuted(
    setup: tuple[Path, dict[str, Path]], train: str, runs: int
) -> None:
    code, audit, output = _dp_audit(setup, train, runs)
    assert code == 1 and audit["claim_refuted"] is True, output
    assert audit["refuted_by"] == ["gradient"]
    gradient = audit["kinds"]["gradient"]
    assert max(gradient[m]["value"] or 0 for m in ("fdp_one_run", "gdp_many_runs")) > 1.0


def test_fixed_shuffled_batches_are_invisible_to_gradient_canaries(
    setup: tuple[Path, dict[str, Path]],
) -> None:
    """The canaries are sampled by the audit at the accountant's rate, whatever the loader
    does: a loader that is not Poisson is not seen (stated in `training.opacus_canaries`)."""
    code, audit, output = _dp_audit(setup, "shuffled_batches")
    assert code == 0 and audit["claim_refuted"] is False, output


def test_a_model_opacus_refuses_and_code_without_opacus_are_bad_input(
    setup: tuple[Path, dict[str, Path]],
) -> None:
    code, _, output = _dp_audit(setup, "batch_norm", runs=2)
    assert code == 2 and "artifact.train" in output and "raised" in output, output
    assert "UnsupportedModuleError" in output and "per_run" not in output, output
    root, _ = setup
    spec = root / "not_opacus.toml"
    text = (root / "audit.toml").read_text(encoding="utf-8")
    text = text.replace("[artifact]", '[artifact]\ntrain = "own_models.torch_mlp:train_mlp"')
    spec.write_text(text + '\n[dp_audit]\ncanaries = ["gradient"]\nruns = 2\nper_run = 10\n')
    ran = CliRunner().invoke(app, ["dp-audit", str(spec)], env={"COLUMNS": "200"})
    assert ran.exit_code == 2 and "Opacus DPOptimizer" in ran.output, ran.output


def test_crafted_canaries_are_refused_for_code_that_builds_its_own_model(
    setup: tuple[Path, dict[str, Path]],
) -> None:
    root, _ = setup
    spec = root / "crafted.toml"
    text = (root / "audit.toml").read_text(encoding="utf-8")
    text = text.replace("[artifact]", '[artifact]\ntrain = "own_models.opacus_training:dp_mlp"')
    spec.write_text(text + '\n[dp_audit]\ncanaries = ["crafted"]\nruns = 2\nper_run = 10\n')
    ran = CliRunner().invoke(app, ["dp-audit", str(spec)], env={"COLUMNS": "200"})
    assert ran.exit_code == 2 and "dp_audit.canaries" in ran.output, ran.output
    assert "builds its own model" in ran.output, ran.output


def test_per_batch_clipping_is_refused_white_box_and_read_without_the_gaussian_shape(
    setup: tuple[Path, dict[str, Path]],
) -> None:
    """Clipping the batch instead of each record, by hand around Opacus's accountant: no
    DPOptimizer, so gradient canaries are refused with their message; the black-box game
    runs, and reads the bounds without DP-SGD's Gaussian shape (none was seen). Measured:
    not refuted by 1,000 ood canaries in 8 or 16 runs (f-DP one run 0.23 and 0.34 of a
    claim of 1): this bug leaks through records with large gradients, which these
    canaries' do not reach in this model (said in the README)."""
    code, _, output = _dp_audit(setup, "per_batch_clipping", runs=2)
    assert code == 2 and "Opacus DPOptimizer" in output, output
    code, audit, output = _dp_audit(setup, "per_batch_clipping", runs=4, kinds='["ood"]')
    assert code in (0, 1), output
    ood = audit["kinds"]["ood"]
    assert (
        ood["fdp_one_run"]["family"] == "approximate_dp" and ood["gdp_many_runs"]["value"] is None
    )
