"""Dataset artifacts: linkage finds copied member records and nothing in population
records; a dataset that does not fit the schema is refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from auditor.artifacts.datasets import load_dataset, save_dataset

pytestmark = pytest.mark.slow


def _variant(demo_specs: dict[str, Path], tmp_path: Path, rows: str) -> Path:
    """A copy of the demo tree whose condense artifact is replaced by 300 real records of
    split `rows` (members: a leaky release; population: one that holds no member)."""
    root = tmp_path / "demo"
    shutil.copytree(demo_specs["condense"].parent.parent, root)
    artifact = root / "artifacts" / "condense.safetensors"
    encoding = load_dataset(artifact, label="death").encoding
    frame = pd.read_csv(root / "data" / f"{rows}.csv").iloc[:300]
    save_dataset(
        encoding.encode(frame),
        frame["death"].to_numpy(),
        encoding=encoding,
        recipe="condense",
        params={"per_class": 10},
        seed=0,
        path=artifact,
    )
    spec = root / "specs" / "condense.toml"
    text = re.sub(r"(?m)^run = .*$", 'run = ["loss"]', spec.read_text())
    spec.write_text(text + '\n[consumer]\narchitectures = ["mlp"]\n')
    return spec


def _audit(spec: Path) -> dict[str, Any]:
    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit

    return run_audit(load_spec(spec)).result


def test_copy_of_member_records_is_flagged(demo_specs: dict[str, Path], tmp_path: Path) -> None:
    linkage = _audit(_variant(demo_specs, tmp_path, "members"))["privacy"]["linkage"]
    dcr = linkage["dcr_linkage"]
    assert dcr["value"] == 1.0 and dcr["lower"] > linkage["baseline"]
    assert linkage["median_dcr_member"] == 0.0
    assert linkage["null_band"][1] < dcr["value"] and linkage["p_value"] < 0.01


def test_population_records_are_not_linked(demo_specs: dict[str, Path], tmp_path: Path) -> None:
    linkage = _audit(_variant(demo_specs, tmp_path, "population"))["privacy"]["linkage"]
    dcr = linkage["dcr_linkage"]
    assert dcr["lower"] <= 0.5 <= dcr["upper"]
    assert linkage["null_band"][0] <= dcr["value"] <= linkage["null_band"][1]
    assert linkage["p_value"] > 0.05


def test_condensed_fixture_is_audited_end_to_end(demo_results: dict[str, Any]) -> None:
    result = demo_results["condense"]
    assert result["artifact"]["kind"] == "dataset" and result["artifact"]["samples"] == 20
    assert {"loss@mlp", "rmia@random_forest"} <= set(result["privacy"]["membership"])
    assert set(result["utility"]["consumers"]) == {"mlp", "random_forest"}
    assert result["utility"]["consumers"]["mlp"]["auroc"]["value"] > 0.6


def test_dataset_with_a_missing_column_exits_2(demo_specs: dict[str, Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    spec = _variant(demo_specs, tmp_path, "population")
    root = spec.parent.parent
    artifact = root / "artifacts" / "condense.safetensors"
    encoding = load_dataset(artifact, label="death").encoding
    frame = pd.read_csv(root / "data" / "population.csv").iloc[:50].drop(columns=["meanbp"])
    frame.to_csv(root / "artifacts" / "released.csv", index=False)
    sidecar = root / "artifacts" / "released.csv.meta.json"
    sidecar.write_text(json.dumps({"encoding": encoding.to_dict()}))
    spec.write_text(spec.read_text().replace("condense.safetensors", "released.csv"))
    args = ["run", str(spec), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert "released.csv" in result.output and "meanbp" in result.output
    assert not (tmp_path / "out").exists()


def _released_table(
    demo_specs: dict[str, Path], tmp_path: Path, rows: str, *, numeric: bool
) -> Path:
    """A copy of the demo tree releasing 300 records of split `rows` as a CSV table with
    only the numeric (or only the categorical) SUPPORT2 columns and the label."""
    from auditor.core.encoding import fit_encoding
    from auditor.data.embedded import CATEGORICAL, NUMERIC

    spec = _variant(demo_specs, tmp_path, rows)
    root = spec.parent.parent
    columns = list(NUMERIC if numeric else CATEGORICAL)
    frame = pd.read_csv(root / "data" / f"{rows}.csv").iloc[:300][[*columns, "death"]]
    population = pd.read_csv(root / "data" / "population.csv")
    encoding = fit_encoding(
        population,
        numeric=columns if numeric else [],
        categorical=[] if numeric else columns,
    )
    frame.to_csv(root / "artifacts" / "released.csv", index=False)
    meta = {"encoding": encoding.to_dict(), "recipe": "condense", "params": {"per_class": 10}}
    (root / "artifacts" / "released.csv.meta.json").write_text(json.dumps(meta))
    text = spec.read_text().replace("condense.safetensors", "released.csv")
    # the demo's real-records model reads every SUPPORT2 column: the auditor trains its own
    spec.write_text(re.sub(r"(?m)^baseline = .*$", "", text))
    return spec


def test_numeric_only_copy_of_members_is_flagged_in_every_dataset_attack(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    privacy = _audit(_released_table(demo_specs, tmp_path, "members", numeric=True))["privacy"]
    dcr = privacy["linkage"]["dcr_linkage"]
    assert dcr["value"] == 1.0 and dcr["lower"] > privacy["linkage"]["baseline"]
    linkability = privacy["linkability"]
    assert linkability["split"] == "first half of the features to the rest"
    # a released copy links to itself; about 300 of the 2,000 members are released
    assert linkability["risk"]["lower"] > 0.0
    assert privacy["singling_out"]["predicates"] > 0
    assert "loss@mlp" in privacy["membership"]
    # sex is not a feature of this release: stated, not attacked
    assert privacy["inference"]["sex"]["risk"]["resolvable"] is False


def test_numeric_only_population_records_are_not_linked(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    privacy = _audit(_released_table(demo_specs, tmp_path, "population", numeric=True))["privacy"]
    dcr, linkage = privacy["linkage"]["dcr_linkage"], privacy["linkage"]
    assert dcr["lower"] <= 0.5 <= dcr["upper"]
    assert linkage["null_band"][0] <= dcr["value"] <= linkage["null_band"][1]
    risk = privacy["linkability"]["risk"]
    assert risk["lower"] <= 0.0 <= risk["upper"]


def test_categorical_only_release_is_audited_in_every_dataset_attack(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    privacy = _audit(_released_table(demo_specs, tmp_path, "members", numeric=False))["privacy"]
    assert privacy["linkability"]["risk"]["resolvable"] is True
    assert privacy["inference"]["sex"]["risk"]["resolvable"] is True
    assert {"linkage", "singling_out"} <= set(privacy) and "loss@mlp" in privacy["membership"]
