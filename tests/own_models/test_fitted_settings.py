"""An MLP trained by plain torch code and exported to ONNX, audited through `auditor init`
with nothing typed by hand: the architecture is read from the graph, the optimiser
settings are fitted on population records, and calibrated attacks come within reach of an
audit that was told the true settings. A model that never saw the members stays quiet."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from auditor.artifacts.formats.graph import architecture_of, onnx_layers, torch_layers
from auditor.cli import app
from auditor.config.spec import load_spec
from auditor.init import infer, write_setup
from auditor.orchestration.run import run_audit
from own_models.rhc import LABEL, features, write_splits
from own_models.torch_mlp import export_onnx, train_mlp

ATTACKS = ["loss", "lira_online"]
TRUE = {"epochs": 300, "lr": 1e-3, "batch_size": 64, "weight_decay": 0.0}


def test_the_graph_of_a_torch_mlp_reads_as_the_builtin_mlp(tmp_path: Path) -> None:
    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 5)))
    mlp = train_mlp(rows, pd.Series([0, 1] * 20), epochs=1)
    found = architecture_of(onnx_layers(export_onnx(mlp, 5, tmp_path / "m.onnx")))
    assert found.params == {"architecture": "mlp", "hidden": [128, 128]}, found
    assert "5 -> 128 -> 128 -> 2" in found.described
    with warnings.catch_warnings():  # TorchScript is deprecated for new models; still used
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(mlp)
    assert architecture_of(torch_layers(scripted)).params == found.params
    tanh = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    not_read = architecture_of(onnx_layers(export_onnx(tanh, 5, tmp_path / "t.onnx")))
    assert not_read.params is None and "Tanh" in not_read.described
    conv = torch.nn.Sequential(torch.nn.Unflatten(1, (1, 5)), torch.nn.Conv1d(1, 2, 3))
    conv_read = architecture_of(torch_layers(conv))
    assert conv_read.params is None and "Conv1d" in conv_read.described


@pytest.fixture(scope="module")
def rhc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path], list[str]]:
    root = tmp_path_factory.mktemp("fitted")
    splits = write_splits(root / "data", sizes=(500, 500, 1000))
    members = pd.read_csv(splits["members"])
    numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
    return root, splits, numeric


def _audit(folder: Path, splits: dict[str, Path], declared: dict[str, Any] | None) -> Any:
    inferred = infer(folder / "model.onnx", splits["members"], sensitive=["sex"])
    if declared is not None:  # the user typed the true settings in, as the issue did by hand
        inferred.metadata["recipe"] = {
            "name": "supervised",
            "supervised": {"architecture": "mlp", "hidden": [128, 128], **declared},
        }
    spec = folder / "audit.toml"
    write_setup(inferred, folder / "model.onnx", splits, spec, force=True, attacks=ATTACKS)
    spec.write_text(spec.read_text().replace("[attacks]", "[attacks]\nreference_models = 16"))
    return inferred, spec, run_audit(load_spec(spec)).result


def _tpr(document: dict[str, Any], attack: str) -> dict[str, float]:
    return dict(document["privacy"]["membership"][attack]["tpr_at_fpr"]["0.01"])


@pytest.mark.slow
def test_fitted_settings_leave_fidelity_quiet_and_lira_near_the_declared_run(
    rhc: tuple[Path, dict[str, Path], list[str]],
) -> None:
    root, splits, numeric = rhc
    members = pd.read_csv(splits["members"])
    model = train_mlp(members[numeric], members[LABEL], seed=0, **TRUE)
    runs = {}
    for case, declared in (("fitted", None), ("declared", TRUE)):
        folder = root / case
        folder.mkdir()
        export_onnx(model, len(numeric), folder / "model.onnx")
        runs[case] = _audit(folder, splits, declared)
    inferred, spec, fitted = runs["fitted"]
    read = {"architecture": "mlp", "hidden": [128, 128]}
    assert inferred.metadata["recipe"]["supervised"] == read
    assert inferred.metadata["recipe"]["fit"] == ["epochs", "lr", "weight_decay", "batch_size"]
    assert any("read from the onnx graph (MLP 32 -> 128 -> 128 -> 2" in n for n in inferred.notes)
    checked = CliRunner().invoke(app, ["validate", str(spec)], env={"COLUMNS": "200"})
    assert checked.exit_code == 0 and "fitted on population records" in checked.output

    training = fitted["artifact"]["training"]
    assert training["settings"] == "fitted" and "fitted (not declared)" in training["procedure"]
    assert training["fit"]["flagged"] is False
    assert len(training["tried"]) == 56 and training["chosen"] in [
        {k: v for k, v in t.items() if k != "distance"} for t in training["tried"]
    ]
    lira = fitted["privacy"]["membership"]["lira_online"]
    assert lira["reference_fidelity"]["flagged"] is False
    # judged on the non-members alone: the fit read the population, never them
    assert lira["reference_fidelity"]["records"] == 500, lira["reference_fidelity"]
    assert "non-members only" in lira["reference_fidelity"]["judged_on"]
    # The must-show of the issue: within a factor 1.5 of the run told the true settings,
    # and above what LOSS finds (lower end over its upper end).
    declared = runs["declared"][2]
    assert _tpr(fitted, "lira_online")["value"] >= _tpr(declared, "lira_online")["value"] / 1.5
    assert _tpr(fitted, "lira_online")["lower"] > _tpr(fitted, "loss")["upper"]


@pytest.mark.slow
def test_a_model_that_never_saw_the_members_stays_on_the_diagonal_with_fitted_settings(
    rhc: tuple[Path, dict[str, Path], list[str]],
) -> None:
    root, splits, numeric = rhc
    unseen = pd.read_csv(splits["test"]).iloc[:500]  # neither members, non-members nor population
    model = train_mlp(unseen[numeric], unseen[LABEL], seed=1, **TRUE)
    folder = root / "null"
    folder.mkdir()
    export_onnx(model, len(numeric), folder / "model.onnx")
    _, _, document = _audit(folder, splits, None)
    auc = document["privacy"]["membership"]["lira_online"]["auc"]
    assert auc["lower"] < 0.5 < auc["upper"], auc
    assert json.dumps(document["artifact"]["training"]["chosen"])


def test_metadata_that_asks_to_fit_what_cannot_be_fitted_is_bad_input(
    rhc: tuple[Path, dict[str, Path], list[str]],
) -> None:
    from auditor.artifacts.metadata import ArtifactMetadata
    from auditor.errors import AuditInputError
    from auditor.orchestration.inputs import check_inputs

    root, splits, numeric = rhc
    members = pd.read_csv(splits["members"]).iloc[:100]
    folder = root / "bad_fit"
    folder.mkdir()
    model = train_mlp(members[numeric], members[LABEL], epochs=1)
    export_onnx(model, len(numeric), folder / "model.onnx")
    inferred = infer(folder / "model.onnx", splits["members"], sensitive=["sex"])
    unknown = {**inferred.metadata, "recipe": {**inferred.metadata["recipe"], "fit": ["momentum"]}}
    with pytest.raises(AuditInputError) as caught:
        ArtifactMetadata.from_dict(unknown, "model.onnx.meta.json")
    assert caught.value.problems[0].field == "recipe.fit"
    inferred.metadata["architecture"] = "random_forest"
    inferred.metadata["recipe"]["supervised"] = {"architecture": "random_forest"}
    spec = folder / "audit.toml"
    write_setup(inferred, folder / "model.onnx", splits, spec, attacks=["loss"])
    with pytest.raises(AuditInputError) as caught:
        check_inputs(load_spec(spec))
    assert [p.field for p in caught.value.problems] == ["recipe.fit"]
