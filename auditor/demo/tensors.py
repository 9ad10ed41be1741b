"""Fixtures on tensor records (images (C, H, W), series (C, L)) from a data set that ships
with a package: splits written as `.npz` tensor files, a built-in CNN trained by a recipe,
and its audit spec. `demo.images` (digits) and `demo.series` (GunPoint) name the sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.core.tensors import fit_tensor_encoding
from auditor.data.splits import SPLIT_NAMES
from auditor.demo.specs import split_paths, write_spec
from auditor.training.recipes import RecipeInput, TrainParams, run_recipe


@dataclass(frozen=True)
class TensorSource:
    """A data set of tensor records: its loader ((x (n, *shape), y, ids)), the split sizes
    (members, non-members, test; the population is the rest), its label's name and classes,
    the note the report states about it, and the leaky model's training settings."""

    load: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]
    sizes: Mapping[str, int]
    label: str
    n_classes: int
    note: str
    leaky: TrainParams


@dataclass(frozen=True)
class TensorFixture:
    spec: Path
    data: Path


def write_splits(source: TensorSource, folder: Path, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Split `source` at random (seed) and write one .npz per split (x, y, ids)."""
    x, y, ids = source.load()
    order = np.random.default_rng(seed).permutation(len(x))
    sizes = [source.sizes[name] for name in SPLIT_NAMES[:3]]
    bounds = np.cumsum([0, *sizes, len(x) - sum(sizes)])
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, start, stop in zip(SPLIT_NAMES, bounds[:-1], bounds[1:], strict=True):
        rows = np.sort(order[start:stop])
        out[name] = {"x": x[rows], "y": y[rows], "ids": ids[rows]}
        np.savez(folder / f"{name}.npz", x=x[rows], y=y[rows], ids=ids[rows])
    return out


def build_tensor_fixture(
    out: Path,
    source: TensorSource,
    *,
    name: str,
    params: TrainParams | None = None,
    train_split: str = "members",
    seed: int = 7,
    attacks: tuple[str, ...] = ("loss", "lira_online"),
    bootstrap: int = 300,
    reference_models: int = 16,
    confidence: float = 0.95,
    claimed: TrainParams | None = None,
) -> TensorFixture:
    """Write data/<split>.npz, artifacts/<name>.safetensors (the CNN trained on
    `train_split` with `params`, default the source's leaky settings) and specs/<name>.toml
    under `out`. `claimed`: the settings its metadata states, when they should differ from
    those it was trained with (a mislabelled artifact)."""
    params = params or source.leaky
    splits = write_splits(source, out / "data", seed)
    encoding = fit_tensor_encoding(splits["members"]["x"])
    private = splits[train_split]
    trained = run_recipe(
        "supervised",
        RecipeInput(encoding.encode(private["x"]), private["y"], n_classes=source.n_classes),
        params,
        seed * 1000 + 900,
    )
    meta = ArtifactMetadata(
        architecture="cnn",
        n_features=encoding.n_features,
        n_classes=source.n_classes,
        label=source.label,
        encoding=ArtifactMetadata.empty_encoding(),
        recipe="supervised",
        recipe_params=(claimed or params).to_dict(),
        seed=seed * 1000 + 900,
        tensor=encoding,
    )
    save_model(trained.model, meta, out / "artifacts" / f"{name}.safetensors")
    mapping = {
        "name": name,
        "seed": seed,
        "artifact": {"path": f"../artifacts/{name}.safetensors"},
        "data": {
            **split_paths("../data", ".npz"),
            "label": source.label,
            "description": source.note,
        },
        "attacks": {
            "run": list(attacks),
            "bootstrap": bootstrap,
            "reference_models": reference_models,
            "confidence": confidence,
        },
        "utility": {"bootstrap": 100, "dp_baseline": False},
    }
    spec = write_spec(out / "specs" / f"{name}.toml", mapping, f"Tensor fixture: {source.note}.")
    return TensorFixture(spec, out / "data")
