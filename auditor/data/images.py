"""Image manifests: a split given as a CSV with one row per record, a `path` column naming
its image file (relative to the manifest's folder, never outside it), the id, label and
sensitive columns. Images are read with Pillow and checked: readable, the model's size,
grey ("L") for one channel or "RGB" for three. Pixel values are scaled to [0, 1], the raw
scale the metadata's per-channel mean and std apply to.

Messages name the manifest, the column and the row, never a path or a value (a file name
can carry a patient's name). The split's SHA-256 covers the manifest and every image's bytes
in the manifest's order, so a changed image changes the result's data hash.
"""

from __future__ import annotations

import hashlib
import io
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.data.splits import DataSpec, csv_failure
from auditor.errors import Problem

PATH_COLUMN = "path"
MODES = {1: "L", 3: "RGB"}
MAX_PROBLEMS_PER_FILE = 5  # the first few bad rows, then a count
MAX_IMAGE_BYTES = 64 << 20  # one image file; a record's image is far smaller


def _image(content: bytes, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    """The image file's `content` as (C, H, W) in [0, 1], or why it cannot be used."""
    from PIL import Image, UnidentifiedImageError

    channels, height, width = shape
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.size != (width, height):  # before decoding: a huge image stays undecoded
                return None, f"is {image.size[0]}x{image.size[1]} pixels, not {width}x{height}"
            image.load()
            if image.mode != MODES.get(channels):
                return None, f"has mode {image.mode}, not {MODES.get(channels, '?')}"
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None, "is not a readable image"
    return (pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)), None


def _not_an_image_file(target: Path) -> str | None:
    """Why `target` is not read at all: not a regular file (a FIFO would block, a device
    never end) or larger than any image a model of this size takes."""
    try:
        info = target.stat()
    except (OSError, ValueError):
        return "names an image that cannot be read"
    if not stat.S_ISREG(info.st_mode):
        return "names something that is not a regular file"
    if info.st_size > MAX_IMAGE_BYTES:
        return f"names a file over {MAX_IMAGE_BYTES >> 20} MiB"
    return None


def read_manifest(
    path: Path, spec: DataSpec, shape: tuple[int, ...], problems: list[Problem]
) -> dict[str, Any] | None:
    """x (n, C, H, W), y, ids and the sensitive columns of one manifest; None (with the
    problems added) when anything is wrong."""
    where = str(path)
    if len(shape) != 3 or shape[0] not in MODES:
        fix = "give tensor files (.npz) for this model"
        problems.append(Problem(where, "file", "image manifests need a (1 or 3, H, W) model", fix))
        return None
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        fix = "write it as comma-separated UTF-8 with a header row"
        problems.append(Problem(where, "csv", csv_failure(exc), fix))
        return None
    site = [spec.site] if spec.site else []
    needed = [PATH_COLUMN, spec.id, *spec.label_columns, *spec.sensitive, *site]
    absent = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if absent:
        fix = "add the column (path: each image file, relative to the manifest's folder)"
        problems += [Problem(where, c, "column is missing", fix) for c in absent]
        return None
    folder = path.parent.resolve()
    images, bad = [], []
    digest = hashlib.sha256(path.read_bytes())
    for row, name in enumerate(frame[PATH_COLUMN], start=2):
        if not isinstance(name, str) or not name.strip():
            bad.append((row, "has no image path", "name each record's image file"))
            continue
        target = (folder / name).resolve()
        if not target.is_relative_to(folder):
            bad.append((row, "points outside the manifest's folder", "keep images beside it"))
            continue
        why = _not_an_image_file(target)
        if why is not None:
            bad.append((row, why, "name a regular image file"))
            continue
        try:
            content = target.read_bytes()
        except OSError:
            bad.append((row, "names an image that cannot be read", "give a readable file"))
            continue
        digest.update(len(content).to_bytes(8, "big") + content)
        image, why = _image(content, shape)
        if why is not None:
            bad.append((row, f"names an image that {why}", "give the model's image format"))
            continue
        images.append(image)
    for row, why, fix in bad[:MAX_PROBLEMS_PER_FILE]:
        problems.append(Problem(where, PATH_COLUMN, f"row {row} {why}", fix))
    if len(bad) > MAX_PROBLEMS_PER_FILE:
        more = len(bad) - MAX_PROBLEMS_PER_FILE
        problems.append(Problem(where, PATH_COLUMN, f"and {more} more rows", "fix them too"))
    if bad:
        return None
    labels = frame[list(spec.labels)] if spec.multilabel else frame[spec.label]
    return {  # labels and ids are checked with the arrays, as for any tensor split
        "x": np.stack([image for image in images if image is not None]),  # none is, here
        "y": labels.to_numpy(),
        "ids": frame[spec.id].astype(str).to_numpy(),
        "groups": {s: frame[s].astype(str).to_numpy() for s in (*spec.sensitive, *site)},
        "sha256": digest.hexdigest(),
    }
