"""Every model format loads to the same logits; pickle only with the opt-in."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from auditor.artifacts.models import ArtifactMetadata, load_model, save_model
from auditor.core.encoding import CategoricalFeature, FeatureEncoding, NumericFeature
from auditor.errors import AuditInputError
from auditor.training.recipes import TrainParams
from auditor.training.recipes.supervised import init_model

ENCODING = FeatureEncoding(
    numeric=(NumericFeature("age", 60.0, 10.0), NumericFeature("sps", 25.0, 9.0)),
    categorical=(CategoricalFeature("sex", ("female", "male")),),
)
X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)


def _meta(architecture: str = "logistic", output: str = "logits") -> ArtifactMetadata:
    return ArtifactMetadata(
        architecture=architecture,
        n_features=4,
        n_classes=2,
        label="death",
        encoding=ENCODING,
        recipe_params=TrainParams(architecture=architecture).to_dict(),
        output=output,  # type: ignore[arg-type]
    )


@pytest.fixture
def module() -> torch.nn.Module:
    return init_model(TrainParams(architecture="logistic"), 4, 2, seed=1).eval()


def _expected(module: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        return module(torch.as_tensor(X)).double().numpy()


def _script(module: torch.nn.Module, path: Path) -> None:
    # TorchScript is deprecated for new models, but released artifacts still come in it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(path))


def _sidecar(path: Path, meta: ArtifactMetadata) -> None:
    path.with_name(path.name + ".meta.json").write_text(json.dumps(meta.to_dict()))


def test_safetensors_roundtrip_carries_metadata(tmp_path: Path, module: torch.nn.Module) -> None:
    path = tmp_path / "m.safetensors"
    save_model(module, _meta(), path)
    loaded = load_model(path)
    assert loaded.metadata.encoding == ENCODING
    np.testing.assert_allclose(loaded.logits(X), _expected(module), rtol=1e-6)


def test_torchscript(tmp_path: Path, module: torch.nn.Module) -> None:
    path = tmp_path / "m.pt"
    _script(module, path)
    _sidecar(path, _meta())
    with pytest.raises(AuditInputError, match="--allow-code"):  # its code would run
        load_model(path)
    loaded = load_model(path, allow_code=True)
    np.testing.assert_allclose(loaded.logits(X), _expected(module), rtol=1e-6)


def test_onnx(tmp_path: Path, module: torch.nn.Module) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = module.net[0].weight.detach().numpy().T.copy()
    bias = module.net[0].bias.detach().numpy().copy()
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "logistic",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        initializer=[numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    _sidecar(path, _meta())
    np.testing.assert_allclose(load_model(path).logits(X), _expected(module), rtol=1e-5)


def test_skops_random_forest(tmp_path: Path) -> None:
    hp = TrainParams(architecture="random_forest", architecture_params={"n_estimators": 5})
    forest = init_model(hp, 4, 2, seed=0).fit(X, np.arange(16) % 2)
    path = tmp_path / "m.skops"
    save_model(forest, _meta("random_forest", "probabilities"), path)
    logits = load_model(path).logits(X)
    np.testing.assert_allclose(np.exp(logits), forest.predict_proba(X), atol=1e-12)


def test_pickle_needs_opt_in(tmp_path: Path, module: torch.nn.Module) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(module))
    _sidecar(path, _meta())
    with pytest.raises(AuditInputError, match="--allow-code"):
        load_model(path)
    loaded = load_model(path, allow_code=True)
    np.testing.assert_allclose(loaded.logits(X), _expected(module), rtol=1e-6)


def test_weights_that_do_not_fit_the_architecture(tmp_path: Path, module: torch.nn.Module) -> None:
    path = tmp_path / "m.safetensors"
    save_model(module, _meta(), path)
    with pytest.raises(AuditInputError, match=r"architecture.*'mlp'"):
        load_model(path, architecture="mlp")


def test_missing_sidecar_is_explained(tmp_path: Path, module: torch.nn.Module) -> None:
    path = tmp_path / "m.pt"
    _script(module, path)
    with pytest.raises(AuditInputError, match=r"m\.pt\.meta\.json"):
        load_model(path, allow_code=True)
