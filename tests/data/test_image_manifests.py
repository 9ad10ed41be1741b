"""Image manifests (a CSV of image paths with ids and labels): digits written as PNG files
load into the same audit as their tensor files; a corrupt image, a path outside the
manifest's folder and an image of the wrong size each exit 2 with file, column and row."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config.spec import load_spec
from auditor.data.splits import SPLIT_NAMES as SPLITS
from auditor.demo.images import OVERFIT_CNN, build_image_fixture
from auditor.orchestration.run import run_audit


def _write_manifests(data: Path) -> None:
    """Each split's .npz as PNG files under data/images/ and a manifest data/<split>.csv."""
    (data / "images").mkdir(exist_ok=True)
    for split in SPLITS:
        arrays = np.load(data / f"{split}.npz")
        rows = []
        for image, label, record in zip(arrays["x"], arrays["y"], arrays["ids"], strict=True):
            name = f"images/{split}-{int(record)}.png"
            pixels = np.round(image[0] * 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(data / name)
            rows.append({"path": name, "digit": int(label), "patient_id": f"D{int(record)}"})
        pd.DataFrame(rows).to_csv(data / f"{split}.csv", index=False)


@pytest.fixture
def manifest_spec(tmp_path: Path) -> Path:
    # LOSS only: the test compares LOSS between the two forms; no reference models to train.
    fixture = build_image_fixture(
        tmp_path, name="cnn", params=replace(OVERFIT_CNN, epochs=2), attacks=("loss",)
    )
    _write_manifests(fixture.data)
    text = fixture.spec.read_text(encoding="utf-8").replace(".npz", ".csv")
    fixture.spec.write_text(text, encoding="utf-8")
    return fixture.spec


def test_a_manifest_of_png_files_is_audited_like_its_tensor_file(manifest_spec: Path) -> None:
    result = run_audit(load_spec(manifest_spec)).result
    assert result["data"]["splits"]["members"]["rows"] == 200
    assert result["data"]["splits"]["members"]["file_name"] == "members.csv"
    npz = manifest_spec.read_text(encoding="utf-8").replace(".csv", ".npz")
    manifest_spec.write_text(npz, encoding="utf-8")
    tensors = run_audit(load_spec(manifest_spec)).result
    # the same images (PNG quantises 17 grey levels to 256: the same pixels to 1/510)
    a, b = (r["privacy"]["membership"]["loss"]["auc"]["value"] for r in (result, tensors))
    assert a == pytest.approx(b, abs=0.01)


def _rewrite(data: Path, split: str, row: int, path: str) -> None:
    frame = pd.read_csv(data / f"{split}.csv")
    frame.loc[row, "path"] = path
    frame.to_csv(data / f"{split}.csv", index=False)


def test_bad_images_exit_2_with_file_column_and_row(manifest_spec: Path) -> None:
    data = manifest_spec.parent.parent / "data"
    runner = CliRunner(env={"COLUMNS": "250"})
    assert runner.invoke(app, ["validate", str(manifest_spec)]).exit_code == 0
    (data / "images" / "broken.png").write_bytes(b"\x89PNG not really")
    _rewrite(data, "members", 0, "images/broken.png")
    first = pd.read_csv(data / "test.csv")["path"][0]  # a good image, copied outside
    (data.parent / "outside.png").write_bytes((data / first).read_bytes())
    _rewrite(data, "members", 1, "../outside.png")
    Image.new("L", (9, 8)).save(data / "images" / "wide.png")
    _rewrite(data, "test", 4, "images/wide.png")
    out = runner.invoke(app, ["validate", str(manifest_spec)])
    assert out.exit_code == 2, out.output
    assert "members.csv: [path] row 2 names an image that is not a readable image" in out.output
    assert "members.csv: [path] row 3 points outside the manifest's folder" in out.output
    assert "test.csv: [path] row 6 names an image that is 9x8 pixels, not 8x8" in out.output
    assert "outside.png" not in out.output and "broken.png" not in out.output  # never quoted


def test_a_changed_image_changes_the_splits_hash_though_the_manifest_is_the_same(
    manifest_spec: Path,
) -> None:
    from auditor.core.tensors import fit_tensor_encoding
    from auditor.data.tensors import load_tensor_data

    spec = load_spec(manifest_spec)
    data = manifest_spec.parent.parent / "data"
    encoding = fit_tensor_encoding(np.load(data / "members.npz")["x"])
    before = load_tensor_data(spec.data, encoding, 10)
    first = data / pd.read_csv(data / "test.csv")["path"][0]
    pixels = np.asarray(Image.open(first)).copy()
    pixels[0, 0] = 255 - pixels[0, 0]
    Image.fromarray(pixels, mode="L").save(first)
    after = load_tensor_data(spec.data, encoding, 10)
    assert after.test.sha256 != before.test.sha256
    assert after.members.sha256 == before.members.sha256
