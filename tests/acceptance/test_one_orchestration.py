"""One orchestration for every artifact kind: the decisions that the three audit copies
used to make differently (delta, --allow-code, recipe parameters) are made once."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_bad_input import Unpickled, append, edit_safetensors_metadata, flat, replace_in
from typer.testing import Result

from auditor.config.spec import load_spec
from auditor.orchestration.run import run_audit


def _bounds(result: dict[str, Any]) -> Iterator[float]:
    """The delta of every epsilon bound in a result."""
    for figures in result["privacy"]["membership"].values():
        yield figures["epsilon_lower_bound"]["delta"]
    for figures in result["privacy"].get("sites", {}).values():
        yield figures["epsilon_lower_bound"]["delta"]


def _claim_delta(delta: float) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["claims"] = {**meta.get("claims", {}), "delta": delta}

    return change


def _quick(spec: Path) -> None:
    """No DP baseline: these tests read the attacks' figures only."""
    if "[utility]" in spec.read_text():
        replace_in(spec, "[utility]", "[utility]\ndp_baseline = false")
    else:
        replace_in(spec, "[attacks]", "[utility]\ndp_baseline = false\n\n[attacks]")


@pytest.mark.slow
def test_weights_artifact_uses_its_claimed_delta_and_a_stated_zero_stays_zero(
    make_tree: Callable[..., Any],
) -> None:
    tree = make_tree(attacks=["loss", "base_reference"])
    spec = tree.spec("merge")
    edit_safetensors_metadata(tree.artifact("merge.safetensors"), _claim_delta(1e-3))
    _quick(spec)
    result = run_audit(load_spec(spec)).result
    assert set(_bounds(result)) == {1e-3}
    assert len(list(_bounds(result))) > 2  # the merged model's attacks and every site

    replace_in(spec, "[attacks]", "[attacks]\ndelta = 0.0")
    result = run_audit(load_spec(spec)).result
    assert set(_bounds(result)) == {0.0}


@pytest.mark.slow
def test_dataset_artifact_uses_its_claimed_delta(make_tree: Callable[..., Any]) -> None:
    tree = make_tree()
    spec = tree.spec("condense")
    from safetensors.numpy import load_file, save_file

    path = tree.artifact("condense.safetensors")
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        header = dict(handle.metadata())
    meta = json.loads(header["auditor"])
    meta["claims"] = {"delta": 1e-3}
    save_file(load_file(str(path)), str(path), metadata={"auditor": json.dumps(meta)})
    _quick(spec)
    append(spec, '\n[consumer]\narchitectures = ["mlp"]\n')
    result = run_audit(load_spec(spec)).result
    assert set(_bounds(result)) == {1e-3}
    assert result["artifact"]["claims"] == {"delta": 1e-3}


def _pickled_model_in_place_of(tree: Any, spec: Path, artifact: str) -> Path:
    """The spec's artifact replaced by a pickle that leaves a marker when unpickled."""
    marker = tree.root / "unpickled"
    with tree.artifact("released.pkl").open("wb") as handle:
        pickle.dump(Unpickled(str(marker)), handle)
    from safetensors import safe_open

    source = tree.artifact(artifact)
    if source.suffix == ".safetensors":
        with safe_open(str(source), framework="pt") as handle:
            text = handle.metadata()["auditor"]
        tree.artifact("released.pkl.meta.json").write_text(text)
    replace_in(spec, f'path = "../artifacts/{artifact}"', 'path = "../artifacts/released.pkl"')
    return marker


@pytest.mark.parametrize(
    "fixture, artifact",
    [("merge", "merge.safetensors"), ("condense", "condense.safetensors")],
    ids=["weights", "dataset"],
)
def test_allow_code_reaches_every_artifact_kind(
    fixture: str,
    artifact: str,
    make_tree: Callable[..., Any],
    tmp_path: Path,
    cli: Callable[..., Result],
) -> None:
    tree = make_tree(attacks=["loss", "base_reference"] if fixture == "merge" else ["loss"])
    spec = tree.spec(fixture)
    marker = _pickled_model_in_place_of(tree, spec, artifact)

    refused = cli("run", spec, "--out", tmp_path / "out")
    assert refused.exit_code == 2, flat(refused.output)
    assert "--allow-code" in flat(refused.output)
    assert not marker.exists()

    cli("run", spec, "--out", tmp_path / "out", "--allow-code")
    assert marker.is_dir(), "--allow-code did not reach the loader"


def test_a_typo_in_the_recipe_parameters_is_named(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()

    def typo(meta: dict[str, Any]) -> None:
        params = meta["recipe"]["supervised"]
        params["epochz"] = params.pop("epochs")

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), typo)
    result = cli("run", tree.spec("supervised"), "--out", tmp_path / "out")
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "[recipe.supervised.epochz]" in output
    assert "did you mean 'epochs'" in output
    assert not (tmp_path / "out").exists()


def test_a_typo_in_old_style_hyperparameters_is_named(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """Metadata written before per-recipe parameters (one set under "hyperparameters") is
    still read, and still checked."""
    tree = make_tree()

    def legacy(meta: dict[str, Any]) -> None:
        params = meta["recipe"].pop("supervised")
        meta["recipe"]["hyperparameters"] = {**params, "hiden": [64], "merge_lambda": None}

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), legacy)
    result = cli("run", tree.spec("supervised"), "--out", tmp_path / "out")
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "[recipe.hyperparameters.hiden]" in output and "did you mean 'hidden'" in output
    # another recipe's field: ignored, not refused
    assert "[recipe.hyperparameters.merge_lambda]" not in output
