"""Image fixtures on scikit-learn's digits (real images, not patient data): splits written
as `.npz` tensor files, a built-in CNN trained by a recipe, and its audit spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.core.tensors import fit_tensor_encoding
from auditor.data.embedded import DIGITS_NOTE, load_digits_tensors
from auditor.training.recipes import RecipeInput, TrainParams, run_recipe

# Few members, so that a CNN can memorise them (digits are easy to generalise on: with 500
# members the same CNN leaks nothing LOSS can see); the rest (1,097) is the population.
SIZES = {"members": 200, "non_members": 200, "test": 300}
SPLITS = ("members", "non_members", "test", "population")
CHANNELS = [16, 32]
# The leaky CNN: long training on few images, no weight decay.
OVERFIT_CNN = TrainParams(
    architecture="cnn",
    epochs=100,
    batch_size=32,
    lr=1e-3,
    weight_decay=0.0,
    architecture_params={"input_shape": [1, 8, 8], "channels": CHANNELS},
)

SPEC = """\
# Image fixture: {note}.
name = "{name}"
seed = {seed}

[artifact]
path = "../artifacts/{name}.safetensors"

[data]
members = "../data/members.npz"
non_members = "../data/non_members.npz"
test = "../data/test.npz"
population = "../data/population.npz"
label = "digit"
description = "{note}"

[attacks]
run = [{attacks}]
bootstrap = {bootstrap}
reference_models = {reference_models}
confidence = {confidence}

[utility]
bootstrap = 100
dp_baseline = false
"""


@dataclass(frozen=True)
class ImageFixture:
    spec: Path
    data: Path


def write_digit_splits(folder: Path, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Split the digits at random (seed) and write one .npz per split (x, y, ids)."""
    x, y, ids = load_digits_tensors()
    order = np.random.default_rng(seed).permutation(len(x))
    bounds = np.cumsum([0, *SIZES.values(), len(x) - sum(SIZES.values())])
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, start, stop in zip(SPLITS, bounds[:-1], bounds[1:], strict=True):
        rows = np.sort(order[start:stop])
        out[name] = {"x": x[rows], "y": y[rows], "ids": ids[rows]}
        np.savez(folder / f"{name}.npz", **out[name])
    return out


def build_image_fixture(
    out: Path,
    *,
    name: str,
    params: TrainParams = OVERFIT_CNN,
    train_split: str = "members",
    seed: int = 7,
    attacks: tuple[str, ...] = ("loss", "lira_online"),
    bootstrap: int = 300,
    reference_models: int = 16,
    confidence: float = 0.95,
) -> ImageFixture:
    """Write data/<split>.npz, artifacts/<name>.safetensors (the CNN trained on
    `train_split`) and specs/<name>.toml under `out`."""
    splits = write_digit_splits(out / "data", seed)
    encoding = fit_tensor_encoding(splits["members"]["x"])
    private = splits[train_split]
    trained = run_recipe(
        "supervised",
        RecipeInput(encoding.encode(private["x"]), private["y"], n_classes=10),
        params,
        seed * 1000 + 900,
    )
    meta = ArtifactMetadata(
        architecture="cnn",
        n_features=encoding.n_features,
        n_classes=10,
        label="digit",
        encoding=ArtifactMetadata.empty_encoding(),
        recipe="supervised",
        recipe_params=params.to_dict(),
        seed=seed * 1000 + 900,
        tensor=encoding,
    )
    save_model(trained.model, meta, out / "artifacts" / f"{name}.safetensors")
    spec = out / "specs" / f"{name}.toml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(
        SPEC.format(
            note=DIGITS_NOTE,
            name=name,
            seed=seed,
            attacks=", ".join(f'"{a}"' for a in attacks),
            bootstrap=bootstrap,
            reference_models=reference_models,
            confidence=confidence,
        ),
        encoding="utf-8",
    )
    return ImageFixture(spec, out / "data")
