"""Security regressions: an artifact never chooses code for the auditor to run, and no
message quotes the data it was fed."""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_bad_input import (
    edit_safetensors_metadata,
    flat,
    point_artifact_at,
    read_rows,
    safetensors_metadata_text,
    write_rows,
)
from typer.testing import Result

PROBE = """
from pathlib import Path
Path({marker!r}).write_text("imported")


def build(n_features, n_classes, **params):
    from auditor.artifacts.architectures import MLP
    return MLP(n_features, n_classes, (64,))
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module `auditor_probe` that leaves a marker file when imported; returns
    the marker's path."""
    folder = tmp_path / "site"
    folder.mkdir()
    marker = tmp_path / "probe-imported"
    (folder / "auditor_probe.py").write_text(PROBE.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(folder))
    return marker


def _architecture(value: str) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["architecture"] = value

    return change


def _hyperparameter_architecture(value: str) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["recipe"][meta["recipe"]["name"]]["architecture"] = value

    return change


@pytest.mark.parametrize(
    "change, field",
    [
        (_architecture, "[architecture]"),
        (_hyperparameter_architecture, "[recipe.supervised.architecture]"),
    ],
    ids=["architecture", "hyperparameters.architecture"],
)
def test_safetensors_metadata_cannot_name_code_to_run(
    change: Callable[[str], Callable[[dict[str, Any]], None]],
    field: str,
    probe: Path,
    make_tree: Callable[..., Any],
    tmp_path: Path,
    cli: Callable[..., Result],
) -> None:
    tree = make_tree()
    artifact = tree.artifact("supervised.safetensors")
    edit_safetensors_metadata(artifact, change("auditor_probe:build"))
    out = tmp_path / "out"

    result = cli("run", tree.spec("supervised"), "--out", out)

    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "Traceback" not in result.output
    assert not probe.exists(), "the artifact's metadata made the auditor import a module"
    assert "supervised.safetensors" in output and field in output
    assert "[artifact] architecture" in output  # the fix: the user names it in the spec
    assert not out.exists()


def test_metadata_cannot_call_a_library_function_on_a_file(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The probe's case: `logging:basicConfig` with a filename truncated that file."""
    tree = make_tree()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")

    def change(meta: dict[str, Any]) -> None:
        meta["architecture"] = "logging:basicConfig"
        meta["recipe"]["supervised"]["architecture"] = "logging:basicConfig"
        meta["recipe"]["supervised"]["architecture_params"] = {
            "filename": str(victim),
            "filemode": "w",
        }

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)
    result = cli("run", tree.spec("supervised"), "--out", tmp_path / "out")
    assert result.exit_code == 2, flat(result.output)
    assert victim.read_text() == "precious\n"


def _torchscript_with_sidecar(tree: Any, architecture: str) -> None:
    meta = json.loads(safetensors_metadata_text(tree))
    meta["architecture"] = architecture
    from auditor.artifacts.architectures import MLP

    module = MLP(int(meta["n_features"]), 2, (64,)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(tree.artifact("model.pt")))
    tree.artifact("model.pt.meta.json").write_text(json.dumps(meta))


def test_sidecar_metadata_cannot_name_code_to_run(
    probe: Path, make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    _torchscript_with_sidecar(tree, "auditor_probe:build")
    point_artifact_at(tree.spec("supervised"), "../artifacts/model.pt")

    # with --allow-code: the file's own code may run, but its metadata still names none
    result = cli("run", tree.spec("supervised"), "--out", tmp_path / "out", "--allow-code")

    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "model.pt" in output and '[artifact] architecture = "package.module:function"' in output
    assert not probe.exists()


def test_the_user_may_name_an_architecture_in_the_spec(probe: Path, tmp_path: Path) -> None:
    """The same function, named by the user (spec or command line), is imported and used."""
    from auditor.artifacts.models import ArtifactMetadata, load_model, save_model
    from auditor.core.encoding import FeatureEncoding, NumericFeature
    from auditor.training.recipes import TrainParams
    from auditor.training.recipes.supervised import init_model

    encoding = FeatureEncoding((NumericFeature("a", 0.0, 1.0), NumericFeature("b", 0.0, 1.0)), ())
    hp = TrainParams(architecture="mlp")
    module = init_model(hp, 2, 2, seed=0)
    meta = ArtifactMetadata("mlp", 2, 2, "y", encoding, recipe_params=hp.to_dict())
    path = tmp_path / "m.safetensors"
    save_model(module, meta, path)

    def change(raw: dict[str, Any]) -> None:
        raw["architecture"] = "auditor_probe:build"

    edit_safetensors_metadata(path, change)
    loaded = load_model(path, architecture="auditor_probe:build")
    assert probe.exists()
    assert loaded.metadata.architecture == "auditor_probe:build"
    assert loaded.metadata.recipe_params["architecture"] == "auditor_probe:build"
    x = np.zeros((3, 2), np.float32)
    assert loaded.logits(x).shape == (3, 2)


# --- messages never quote the data -------------------------------------------------------


def cell_values(rows: list[list[str]]) -> set[str]:
    """Cell values distinctive enough to be recognised in a message: 3+ characters, and not
    a plain lower-case word (levels such as "missing" or "male" cannot be told apart from
    the message's own words; ids, numbers and values like ">$50k" can)."""
    return {
        cell
        for row in rows
        for cell in row
        if len(cell.strip()) >= 3 and not re.fullmatch(r"[a-z ]+", cell)
    }


def assert_quotes_none(output: str, values: set[str], tmp_path: Path) -> None:
    text = output.replace(str(tmp_path), "<tmp>")
    quoted = sorted(v for v in values if v in text)
    assert not quoted, f"the message quotes fed values {quoted[:5]}: {text}"


def test_a_members_file_without_header_is_not_quoted(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    path = tree.data("members")
    header, rows = read_rows(path)
    write_rows(path, header, rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")  # header row dropped
    fed = [line.split(",") for line in lines[1:]]

    result = cli("run", tree.spec("supervised"), "--out", tmp_path / "out")

    assert result.exit_code == 2, flat(result.output)
    assert "members.csv" in result.output
    assert_quotes_none(result.output, cell_values(fed), tmp_path)


def test_a_data_path_at_an_unrelated_file_is_not_quoted(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    unrelated = tree.root / "data" / "notes.csv"
    secret = [["Jane Roe", "1961-02-03", "HIV positive"], ["John Doe", "1970-05-06", "hepatitis"]]
    unrelated.write_text("\n".join(",".join(r) for r in secret) + "\n", encoding="utf-8")
    spec = tree.spec("supervised")
    spec.write_text(spec.read_text().replace("../data/test.csv", "../data/notes.csv"))

    result = cli("run", spec, "--out", tmp_path / "out")

    assert result.exit_code == 2, flat(result.output)
    assert "notes.csv" in result.output
    assert_quotes_none(result.output, cell_values(secret), tmp_path)


def test_a_dataset_artifact_table_is_not_quoted_when_unreadable(tmp_path: Path) -> None:
    from auditor.artifacts.datasets import load_dataset
    from auditor.errors import AuditInputError

    path = tmp_path / "released.csv"
    path.write_text('a,b\n"Jane Roe,1\n1,2,3,"HIV positive\n', encoding="utf-8")
    encoding = {"numeric": [{"name": "a", "mean": 0, "std": 1}], "categorical": []}
    path.with_name("released.csv.meta.json").write_text(json.dumps({"encoding": encoding}))
    with pytest.raises(AuditInputError) as caught:
        load_dataset(path, label="b")
    assert_quotes_none(str(caught.value), {"Jane Roe", "HIV positive"}, tmp_path)


def test_console_shows_markup_in_a_spec_name_as_written() -> None:
    """Rich markup in a spec's name (`[/bold]`) crashed the verdict table after the outputs
    had been written."""
    from rich.console import Console

    from auditor.cli.console import verdict_table as _verdict_table

    estimate = {"value": 0.5, "lower": 0.4, "upper": 0.6}
    figures = {
        "auc": estimate,
        "tpr_at_fpr": {"0.01": estimate, "0.001": {"value": None}},
        "epsilon_lower_bound": {"value": 0.0},
    }
    result = {"gates": [], "privacy": {"membership": {"loss": figures}}}
    console = Console(file=io.StringIO(), width=200)
    console.print(_verdict_table({"audit [/bold] [red]x": result}))
    assert "audit [/bold] [red]x" in console.file.getvalue()
