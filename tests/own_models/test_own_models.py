"""Models the auditor did not build, on another real ICU data set (RHC): each taken from a
model file to a report by `auditor init` + `auditor run` with no hand-edited file, and again
through the Python API, with the same figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import auditor
from auditor.cli import app
from auditor.training.procedures import EXACT
from own_models.rhc import ID, LABEL, ODD, features, write_splits
from own_models.training import gradient_boosting

pytestmark = pytest.mark.slow
SENSITIVE = f"sex,{ODD}"


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_splits(tmp_path_factory.mktemp("rhc") / "data", sizes=(600, 600, 600))


def _frames(splits: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(path) for name, path in splits.items()}


def _skops(members: pd.DataFrame, folder: Path) -> Path:
    import skops.io

    model = gradient_boosting(members[features(members)], members[LABEL], seed=0)
    skops.io.dump(model, folder / "model.skops")
    return folder / "model.skops"


def _lightgbm(members: pd.DataFrame, folder: Path) -> Path:
    import lightgbm

    numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
    model = lightgbm.LGBMClassifier(n_estimators=60, random_state=0, verbose=-1)
    model.fit(members[numeric].to_numpy(), members[LABEL])
    model.booster_.save_model(str(folder / "model.txt"))
    return folder / "model.txt"


def _xgboost(members: pd.DataFrame, folder: Path) -> Path:
    import xgboost

    numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
    model = xgboost.XGBClassifier(n_estimators=60, max_depth=4, random_state=0, n_jobs=1)
    model.fit(members[numeric], members[LABEL])  # a DataFrame: the file stores the names
    model.save_model(str(folder / "model.ubj"))
    return folder / "model.ubj"


def _onnx(members: pd.DataFrame, folder: Path) -> Path:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = features(members)
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(members[c])]
    categorical = [c for c in columns if c not in numeric]
    table = members[columns].astype({c: np.float32 for c in numeric})
    prep = ColumnTransformer(
        [
            ("n", StandardScaler(), numeric),
            ("c", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    model = Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))])
    model.fit(table, members[LABEL])
    types = [
        (c, FloatTensorType([None, 1]) if c in numeric else StringTensorType([None, 1]))
        for c in columns
    ]
    onnx = to_onnx(model, initial_types=types, options={id(model): {"zipmap": False}})
    (folder / "model.onnx").write_bytes(onnx.SerializeToString())
    return folder / "model.onnx"


def _torchscript(members: pd.DataFrame, folder: Path) -> Path:
    import torch

    numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
    x = torch.tensor(members[numeric].to_numpy(np.float32))
    y = torch.tensor(members[LABEL].to_numpy())

    class Net(torch.nn.Module):  # the hospital's own: standardises inside
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", x.mean(0))
            self.register_buffer("std", x.std(0) + 1e-6)
            self.body = torch.nn.Sequential(
                torch.nn.Linear(len(numeric), 32), torch.nn.ReLU(), torch.nn.Linear(32, 2)
            )

        def forward(self, rows: torch.Tensor) -> torch.Tensor:
            return self.body((rows.float() - self.mean) / self.std)

    torch.manual_seed(0)
    net = Net()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(100):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    import warnings

    with warnings.catch_warnings():  # TorchScript is deprecated for new models; still used
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(net.eval()).save(str(folder / "model.pt"))
    return folder / "model.pt"


BUILDERS: dict[str, Callable[[pd.DataFrame, Path], Path]] = {
    "skops pipeline": _skops,
    "lightgbm": _lightgbm,
    "xgboost": _xgboost,
    "onnx pipeline": _onnx,
    "torchscript": _torchscript,
}


def _cli(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_own_model_from_file_to_report_by_init_and_run_and_by_the_api(
    kind: str, splits: dict[str, Path], tmp_path: Path
) -> None:
    frames = _frames(splits)
    model = BUILDERS[kind](frames["members"], tmp_path)
    spec = tmp_path / "audit.toml"
    paths = [f"--{name.replace('_', '-')}={path}" for name, path in splits.items()]
    # TorchScript runs the file's own code: read only with the user's consent
    code = ["--allow-code"] if kind == "torchscript" else []
    made = _cli(
        "init", model, *paths, "--spec", spec, "--sensitive", SENSITIVE, "--attacks", "loss", *code
    )
    assert made.exit_code == 0, made.output
    if kind in ("skops pipeline", "lightgbm", "xgboost"):  # the file carries its procedure
        assert "training procedure: read from the" in made.output, made.output
        assert ("learning_rate is not stored" in made.output) == (kind == "xgboost")
        assert "which procedure trained the model" not in made.output
    elif kind == "torchscript":  # its layers show an MLP: the settings are fitted
        assert "read from the torchscript graph (MLP 32 -> 32 -> 2" in made.output, made.output
        assert "confirm: the training settings the audit fits" in made.output
    else:
        assert "confirm: which procedure trained the model" in made.output
    assert _cli("init", model, *paths, "--spec", spec, *code).exit_code == 2  # no overwrite
    checked = _cli("validate", spec, *code)
    assert checked.exit_code == 0 and "reference models: " in checked.output, checked.output
    out = tmp_path / "out"
    ran = _cli("run", spec, "--out", out, *code)
    assert ran.exit_code in (0, 1), ran.output
    document = json.loads((out / "result.json").read_text(encoding="utf-8"))
    loss = document["privacy"]["membership"]["loss"]
    assert 0.5 <= loss["auc"]["value"] <= 1.0
    assert document["utility"]["artifact"]["auroc"]["lower"] > 0.55  # a working model
    procedure = document["artifact"]["training"]["procedure"]
    assert procedure.endswith("fitted (not declared)") == (kind == "torchscript")
    fitted = document["artifact"]["training"].get("settings") == "fitted"
    assert fitted == (kind in ("torchscript", "xgboost")), document["artifact"]["training"]
    carried = kind in ("skops pipeline", "lightgbm")  # the formats that carry a procedure
    assert procedure.endswith("(exact)") == carried, document["artifact"]
    assert (procedure == EXACT) == (kind == "skops pipeline")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "income_&gt; $50k &amp; more" in html and ODD not in html

    source = model  # the model file: the API takes paths as well as fitted objects
    api = auditor.audit(
        source,
        **frames,
        label=LABEL,
        id=ID,
        sensitive=SENSITIVE.split(","),
        attacks=["loss"],
        progress=False,
        allow_code=bool(code),
    )
    assert api.document["privacy"]["membership"]["loss"]["auc"] == loss["auc"]
    assert api.document["utility"]["artifact"] == document["utility"]["artifact"]
    assert api.passed and api.gates == []
    assert "<table>" in api._repr_html_() and json.loads(api.to_json())["run"]
    assert "Membership risk: " in api._repr_html_()  # the report's release verdict
    assert api.write_report(tmp_path / "api.html").read_text(encoding="utf-8").startswith("<!")


def test_a_fitted_pipeline_object_and_dataframes_go_straight_to_the_api(
    splits: dict[str, Path],
) -> None:
    frames = _frames(splits)
    members = frames["members"]
    model = gradient_boosting(members[features(members)], members[LABEL], seed=0)
    result = auditor.audit(
        model,
        **frames,
        label=LABEL,
        sensitive=["sex"],
        attacks=["loss"],
        progress=False,
        gates={"privacy.loss.auc": {"max": 0.6}},
    )
    assert result.document["artifact"]["format"] == "skops"
    assert not result.passed and result.gates[0]["metric"] == "privacy.loss.auc"


def _membership(result: Any, attack: str) -> dict[str, Any]:
    return result.document["privacy"]["membership"][attack]


def test_own_training_code_calibrates_lira_and_an_unseen_model_stays_on_the_diagonal(
    splits: dict[str, Path],
) -> None:
    frames = _frames(splits)
    options = dict(
        label=LABEL,
        sensitive=["sex"],
        attacks=["loss", "lira_offline"],
        train="own_models.training:gradient_boosting",
        reference_models=16,
        bootstrap=300,
        progress=False,
    )
    members = frames["members"]
    leaky = gradient_boosting(members[features(members)], members[LABEL], seed=0)
    result = auditor.audit(leaky, **frames, **options)
    assert result.document["artifact"]["training"]["train"] == options["train"]
    lira = _membership(result, "lira_offline")["tpr_at_fpr"]["0.01"]
    loss = _membership(result, "loss")["tpr_at_fpr"]["0.01"]
    assert lira["lower"] > loss["upper"], (lira, loss)

    population = frames["population"]
    unseen = gradient_boosting(population[features(population)], population[LABEL], seed=0)
    control = auditor.audit(unseen, **frames, **options)
    for attack in ("loss", "lira_offline"):
        figures = _membership(control, attack)
        assert figures["auc"]["lower"] <= 0.5 <= figures["auc"]["upper"], attack
        for fpr, tpr in figures["tpr_at_fpr"].items():
            if not tpr["resolvable"]:  # 600 non-members cannot resolve 0.1% FPR: stated
                assert tpr["value"] is None and tpr["note"], (attack, fpr, tpr)
                continue
            assert tpr["lower"] <= float(fpr) <= tpr["upper"], (attack, fpr, tpr)


@pytest.mark.slow
def test_a_dp_claim_on_a_model_of_the_users_own_code_is_put_to_the_canary_game(
    splits: dict[str, Path], tmp_path: Path
) -> None:
    """A hospital's gradient-boosted model whose metadata claims epsilon 1: the DP audit runs
    the hospital's own training function with out-of-distribution canaries (black box) and
    refutes the claim; gradient canaries, which need the auditor's DP-SGD, are refused."""
    frames = _frames(splits)
    model = _skops(frames["members"], tmp_path)
    spec = tmp_path / "audit.toml"
    paths = [f"--{name.replace('_', '-')}={path}" for name, path in splits.items()]
    train = "own_models.training:gradient_boosting"
    made = _cli("init", model, *paths, "--spec", spec, "--sensitive", "sex", "--train", train)
    assert made.exit_code == 0, made.output
    sidecar = Path(f"{model}.meta.json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    meta["claims"] = {"epsilon": 1.0, "delta": 1e-5}  # what the hospital says of it
    sidecar.write_text(json.dumps(meta), encoding="utf-8")
    spec.write_text(
        spec.read_text(encoding="utf-8") + '\n[dp_audit]\ncanaries = ["ood"]\nruns = 6\n'
        "per_run = 200\n",
        encoding="utf-8",
    )
    out = tmp_path / "dp"
    ran = _cli("dp-audit", spec, "--out", out)
    assert ran.exit_code == 1, ran.output  # refuted
    audit = json.loads((out / "dp_audit.json").read_text(encoding="utf-8"))["dp_audit"]
    assert audit["claimed"]["epsilon"] == 1.0 and audit["accounted_epsilon"] is None
    assert audit["kinds"]["ood"]["many_runs"]["value"] > 1.0 and audit["claim_refuted"]
    refused = _cli("dp-audit", spec, "--canaries", "gradient")
    assert refused.exit_code == 2 and "dp_audit.canaries" in refused.output, refused.output
