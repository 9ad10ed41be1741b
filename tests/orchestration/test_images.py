"""Image models audited end to end on scikit-learn's digits (real images, not patient data):
tensor splits, the built-in CNN in the vectorised ensembles, members of an overfit CNN
found, a CNN that never saw the candidates on the diagonal, bad tensor files refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config.spec import load_spec
from auditor.core.tensors import fit_tensor_encoding
from auditor.data.embedded import load_digits_tensors
from auditor.demo.images import OVERFIT_CNN, build_image_fixture
from auditor.metrics.membership import read_roc
from auditor.orchestration import sections
from auditor.orchestration.run import run_audit
from auditor.training.ensembles import device_for, fit_ensemble, half_subsets, init_ensemble
from auditor.training.recipes import RecipeInput, TrainParams
from auditor.training.recipes.supervised import train as supervised

# Stated tolerance for "equal" (max |logit difference|): vmap's batched convolutions may
# round differently from the single model's.
TOLERANCE = 1e-4
CONTROL_ATTACKS = ("loss", "confidence", "entropy")
# 3 attacks x (AUC and TPR at 2 FPRs): each interval at 1 - 0.05 / 9 (Bonferroni).
CONTROL_CONFIDENCE = round(1 - 0.05 / 9, 4)


def test_reference_cnns_in_the_ensemble_equal_the_same_cnn_trained_alone() -> None:
    x, y, _ = load_digits_tensors()
    enc = fit_tensor_encoding(x[:400])
    rows = enc.encode(x[:400])
    hp = TrainParams(
        architecture="cnn",
        epochs=2,
        batch_size=32,
        architecture_params={"input_shape": [1, 8, 8], "channels": [8, 16]},
    )
    seeds = [31, 32]
    subsets = half_subsets(len(rows), 2, np.random.default_rng(0))
    ens = init_ensemble(hp, rows.shape[1], 10, seeds, device_for("cpu"))
    fit_ensemble(ens, rows, y[:400], subsets, hp, [s + 1 for s in seeds])
    together = ens.logits(rows)
    for k in range(2):
        data = RecipeInput(rows[subsets[k]], y[:400][subsets[k]], n_classes=10)
        alone = supervised(data, hp, seeds[k]).model
        with torch.no_grad():
            expected = alone(torch.tensor(rows)).double().numpy()
        assert np.abs(together[k] - expected).max() <= TOLERANCE


def _paired_tpr_gain(
    better: np.ndarray, worse: np.ndarray, is_member: np.ndarray, *, replicates: int, seed: int
) -> np.ndarray:
    """Bootstrap replicates of TPR(better) - TPR(worse) at 1% FPR, both attacks read on the
    same stratified resample of the candidates (a paired comparison)."""
    rng = np.random.default_rng(seed)
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    gains = np.empty(replicates)
    for r in range(replicates):
        rows = np.r_[rng.choice(members, len(members)), rng.choice(others, len(others))]
        gains[r] = (
            read_roc(better[rows], is_member[rows]).tpr_at[0.01]
            - read_roc(worse[rows], is_member[rows]).tpr_at[0.01]
        )
    return gains


@pytest.mark.slow
def test_an_overfit_cnns_members_are_found_and_an_unseen_cnn_stays_on_the_diagonal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores: list[np.ndarray] = []  # in the spec's attack order, then who is a member
    real_figures = sections.membership_figures

    def spy(attack_scores: np.ndarray, is_member: np.ndarray, **kwargs: Any) -> Any:
        scores[len(scores) :] = [attack_scores, is_member]
        return real_figures(attack_scores, is_member, **kwargs)

    monkeypatch.setattr(sections, "membership_figures", spy)
    overfit = build_image_fixture(
        tmp_path / "overfit", name="overfit", attacks=("loss", "lira_online"), reference_models=32
    )
    result = run_audit(load_spec(overfit.spec)).result
    assert result["data"]["description"].startswith("scikit-learn's handwritten digits")
    auc = result["privacy"]["membership"]["loss"]["auc"]
    assert auc["lower"] > 0.55, auc
    inversion = result["privacy"]["inversion"]
    for method in ("miface", "gradient"):  # both reconstructions ran on the image model
        assert sorted(inversion[method]["pictures"]["by_class"]) == [str(c) for c in range(10)]
        assert inversion[method]["pictures"]["shape"] == [1, 8, 8]
    # Reference CNNs trained on as many images as the target: LiRA online finds more members
    # than LOSS at 1% FPR, the lower end of a one-sided 95% paired bootstrap above 0.
    fidelity = result["privacy"]["membership"]["lira_online"]["reference_fidelity"]
    assert fidelity["flagged"] is False, fidelity  # references of the artifact's own recipe
    assert result["privacy"]["membership"]["lira_online"]["warnings"]["value"] == 0
    gains = _paired_tpr_gain(scores[2], scores[0], scores[3], replicates=400, seed=3)
    assert np.quantile(gains, 0.05) > 0, np.quantile(gains, [0.05, 0.5])
    monkeypatch.undo()

    control = build_image_fixture(
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
    assert unseen["utility"]["artifact"]["accuracy"]["value"] > 0.9  # a working CNN


def test_bad_tensor_files_exit_2_with_file_field_and_fix(tmp_path: Path) -> None:
    fixture = build_image_fixture(
        tmp_path,
        name="cnn",
        params=replace(OVERFIT_CNN, epochs=1),
    )
    runner = CliRunner(env={"COLUMNS": "250"})
    assert runner.invoke(app, ["validate", str(fixture.spec)]).exit_code == 0
    test = fixture.data / "test.npz"
    arrays = dict(np.load(test))
    np.savez(test, **{**arrays, "x": arrays["x"][:, :, :7, :]})  # 7x8 images
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2, out.output
    assert "test.npz" in out.output and "x" in out.output and "(1, 7, 8)" in out.output
    assert "channels first" in out.output
    test.write_bytes(b"not a zip archive")
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2 and "is not an .npz archive" in out.output, out.output
    np.savez(test, **{**arrays, "y": arrays["y"] + 10})  # class 10 and up: no such output
    out = runner.invoke(app, ["validate", str(fixture.spec)])
    assert out.exit_code == 2 and "class index 0..9" in out.output, out.output


@pytest.mark.slow
def test_merge_images_attributes_members_to_their_site_beyond_chance(tmp_path: Path) -> None:
    """A CNN pre-trained on the population, fine-tuned at four sites, merged and released
    with its base and site vectors: the vectors give each member's site away."""
    from auditor.demo.images import SITES, build_merge_images

    result = run_audit(load_spec(build_merge_images(tmp_path))).result
    attribution = result["privacy"]["site_attribution"]
    assert attribution["chance"] == pytest.approx(1 / SITES)
    assert attribution["accuracy"]["lower"] > attribution["chance"], attribution
    assert sorted(result["privacy"]["sites"]) == [f"site_{i + 1}" for i in range(SITES)]
    assert sorted(result["utility"]["sites"]) == sorted(result["privacy"]["sites"])
    assert result["utility"]["artifact"]["accuracy"]["value"] > 0.9
    assert result["artifact"]["released_with"] == ["base", "site vectors"]


@pytest.mark.parametrize("name", ["garbage.safetensors", "one-array.npz"])
def test_an_unreadable_tensor_file_is_a_problem_not_a_crash(tmp_path: Path, name: str) -> None:
    from auditor.data.tensors import _read

    path = tmp_path / name
    if name.endswith(".npz"):  # a plain .npy array under an .npz name
        np.save(tmp_path / "array.npy", np.zeros(3))
        path.write_bytes((tmp_path / "array.npy").read_bytes())
    else:
        path.write_bytes(b"garbage")
    problems: list = []
    assert _read(path, problems) is None
    assert len(problems) == 1 and problems[0].field == "file" and "is not" in problems[0].message


def test_cnn_widths_from_an_artifacts_metadata_are_bounded_before_allocation() -> None:
    from auditor.artifacts.architectures import build_model

    with pytest.raises(ValueError, match="cnn channels"):
        build_model(
            "cnn",
            n_features=64,
            n_classes=10,
            params={"input_shape": [1, 8, 8], "channels": [10**9]},
        )
