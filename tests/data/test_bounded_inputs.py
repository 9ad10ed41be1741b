"""Tensor and image inputs are checked before they are read: a manifest row that names no
file, a FIFO (it would block) or a 3 GiB file, and an .npz whose headers declare more than
the limit (10^12 records, or 2 GiB from a 9 MB file) each exit 2 from `validate` with the
file, the field and the row, in a process whose peak memory stays under 1 GiB."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.demo.images import OVERFIT_CNN, build_image_fixture

# The child reports its own peak RSS: VmHWM of its address space, in KiB. (getrusage's
# ru_maxrss would not do: Linux carries the forking parent's peak across exec, so a child of
# a large test worker would report the worker's size.)
CHILD = """
import re, sys
from auditor.cli import app
try:
    app(["validate", sys.argv[1]])
except SystemExit as exit:
    status = open("/proc/self/status").read()
    print("PEAK_RSS_KIB", re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
    sys.exit(exit.code)
"""
LIMIT_KIB = 1 << 20  # 1 GiB


@pytest.fixture(scope="module")
def image_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits CNN fixture (LOSS only), its splits as .npz; returns the spec."""
    folder = tmp_path_factory.mktemp("bounded")
    fixture = build_image_fixture(
        folder, name="cnn", params=replace(OVERFIT_CNN, epochs=1), attacks=("loss",)
    )
    return fixture.spec


def _validate(spec: Path, members: str, name: str) -> tuple[int, str, int]:
    """(exit code, flattened stderr+stdout, peak RSS KiB) of `validate` on a copy of the spec
    whose members split is `members`."""
    text = spec.read_text(encoding="utf-8")
    text = text.replace('\nmembers = "../data/members.npz"', f'\nmembers = "../data/{members}"')
    edited = spec.with_name(f"{name}.toml")
    edited.write_text(text, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "250"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(edited)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    output = " ".join((done.stdout + done.stderr).split())
    peak = re.search(r"PEAK_RSS_KIB (\d+)", output)
    assert peak, output
    return done.returncode, output, int(peak.group(1))


def test_manifest_rows_that_are_no_regular_image_file(image_fixture: Path) -> None:
    data = image_fixture.parent.parent / "data"
    arrays = np.load(data / "members.npz")
    (data / "img").mkdir()
    rows = []
    for i, (label, record) in enumerate(zip(arrays["y"], arrays["ids"], strict=True)):
        rows.append({"path": f"img/{i}.png", "digit": int(label), "patient_id": f"D{record}"})
    from PIL import Image

    for i, image in enumerate(arrays["x"]):
        pixels = np.round(image[0] * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(data / "img" / f"{i}.png")
    os.mkfifo(data / "img" / "pipe")
    with (data / "img" / "sparse.png").open("wb") as handle:  # 3 GiB, almost none on disk
        handle.truncate(3 << 30)
    rows[0]["path"] = ""
    rows[1]["path"] = "img/pipe"
    rows[2]["path"] = "img/sparse.png"
    pd.DataFrame(rows).to_csv(data / "manifest.csv", index=False)
    code, output, peak = _validate(image_fixture, "manifest.csv", "manifest")
    assert code == 2, output
    assert "manifest.csv: [path] row 2 has no image path" in output
    assert "manifest.csv: [path] row 3 names something that is not a regular file" in output
    assert "manifest.csv: [path] row 4 names a file over 64 MiB" in output
    assert "Traceback" not in output and "sparse.png" not in output
    assert peak < LIMIT_KIB, f"peak RSS {peak} KiB"


def _npz_declaring(path: Path, shape: tuple[int, ...], chunks: int) -> None:
    """An .npz whose x.npy declares `shape` (float32) and holds `chunks` x 64 MiB of zeros,
    deflated (64 MiB of zeros is about 65 KB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("x.npy", "w", force_zip64=True) as handle:
            header = {"descr": "<f4", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(handle, header)
            block = bytes(64 << 20)
            for _ in range(chunks):
                handle.write(block)
        for name, array in (("y", np.zeros(10, np.int64)), ("ids", np.arange(10))):
            with z.open(f"{name}.npy", "w") as handle:
                np.lib.format.write_array(handle, array)


@pytest.mark.parametrize(
    ("name", "shape", "chunks", "declared"),
    [
        ("expanding", (2**23, 1, 8, 8), 32, "2,048 MiB"),  # 2 GiB of real zeros, ~9 MB file
        ("huge-header", (10**12, 1, 8, 8), 0, "244,140,625 MiB"),
    ],
)
def test_npz_declaring_more_than_the_limit(
    image_fixture: Path, name: str, shape: tuple[int, ...], chunks: int, declared: str
) -> None:
    data = image_fixture.parent.parent / "data"
    _npz_declaring(data / f"{name}.npz", shape, chunks)
    assert (data / f"{name}.npz").stat().st_size < 20 << 20
    code, output, peak = _validate(image_fixture, f"{name}.npz", name)
    assert code == 2, output
    assert f"{name}.npz: [file] declares arrays of {declared}, over the 512 MiB limit" in output
    assert "max_tensor_mib" in output and "Traceback" not in output
    assert peak < LIMIT_KIB, f"peak RSS {peak} KiB"


def test_complex_records_are_refused(image_fixture: Path) -> None:
    """Their imaginary part would be dropped without a word."""
    data = image_fixture.parent.parent / "data"
    arrays = dict(np.load(data / "members.npz"))
    arrays["x"] = arrays["x"].astype(np.complex64)
    np.savez(data / "complex.npz", **arrays)
    code, output, _ = _validate(image_fixture, "complex.npz", "complex")
    assert code == 2, output
    assert "complex.npz: [x] is not all finite real numbers" in output
