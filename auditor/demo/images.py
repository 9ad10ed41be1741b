"""Image fixtures on scikit-learn's digits (real images, not patient data): the leaky CNN's
fixture (`demo.tensors`) and merge_images, a CNN merged from four sites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.core.tensors import fit_tensor_encoding
from auditor.data.embedded import DIGITS_NOTE, load_digits_tensors
from auditor.demo.specs import split_paths, write_spec
from auditor.demo.tensors import TensorFixture, TensorSource, build_tensor_fixture, write_splits
from auditor.training.recipes import RecipeInput, TrainParams, run_recipe

# Few members, so that a CNN can memorise them (digits are easy to generalise on: with 500
# members the same CNN leaks nothing LOSS can see); the rest (1,097) is the population.
SIZES = {"members": 200, "non_members": 200, "test": 300}
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

DIGITS = TensorSource(
    load=load_digits_tensors,
    sizes=SIZES,
    label="digit",
    n_classes=10,
    note=DIGITS_NOTE,
    leaky=OVERFIT_CNN,
)


def write_digit_splits(folder: Path, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Split the digits at random (seed) and write one .npz per split (x, y, ids)."""
    return write_splits(DIGITS, folder, seed)


def build_image_fixture(out: Path, *, name: str, **options: Any) -> TensorFixture:
    """`demo.tensors.build_tensor_fixture` on the digits (the leaky CNN by default)."""
    return build_tensor_fixture(out, DIGITS, name=name, **options)


SITES = 4


def build_merge_images(
    out: Path,
    *,
    seed: int = 7,
    attacks: tuple[str, ...] = ("loss", "base_reference"),
    bootstrap: int = 300,
    reference_models: int = 4,
) -> Path:
    """Write the digits splits (with a records table naming each member's site), the
    merged CNN, its base and site vectors, and the spec; returns the spec path."""
    from auditor.artifacts.weights import save_site_vectors
    from auditor.training.recipes import MergeParams
    from auditor.training.recipes.params import convert

    splits = write_digit_splits(out / "data", seed)
    rng = np.random.default_rng(seed)
    sites = {
        name: (
            np.array([f"site_{i % SITES + 1}" for i in rng.permutation(len(arrays["ids"]))])
            if name == "members"
            else np.full(len(arrays["ids"]), "none")
        )
        for name, arrays in splits.items()
    }
    records = out / "data" / "records.csv"
    lines = ["record_id,site"] + [
        f"{int(i)},{s}"
        for name, arrays in splits.items()
        for i, s in zip(arrays["ids"], sites[name], strict=True)
    ]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    encoding = fit_tensor_encoding(splits["population"]["x"])
    hp = MergeParams(
        **{f: getattr(OVERFIT_CNN, f) for f in ("architecture", "batch_size", "weight_decay")},
        epochs=20,
        lr=1e-3,
        architecture_params=OVERFIT_CNN.architecture_params,
    )
    data = RecipeInput(
        encoding.encode(splits["members"]["x"]),
        splits["members"]["y"],
        encoding.encode(splits["population"]["x"]),
        n_classes=10,
        public_y=splits["population"]["y"],
        sites=sites["members"],
    )
    trained = run_recipe("merge", data, hp, seed * 1000 + 950)

    def meta(recipe: str, details: dict) -> ArtifactMetadata:
        return ArtifactMetadata(
            architecture="cnn",
            n_features=encoding.n_features,
            n_classes=10,
            label="digit",
            encoding=ArtifactMetadata.empty_encoding(),
            recipe=recipe,
            recipe_params=(hp if recipe == "merge" else convert(hp, TrainParams)).to_dict(),
            seed=seed * 1000 + 950,
            details=details,
            tensor=encoding,
        )

    artifacts = out / "artifacts"
    details = {"lambda": trained.parts["lambda"], "sites": sorted(trained.parts["vectors"])}
    save_model(trained.model, meta("merge", details), artifacts / "merge_images.safetensors")
    base_meta = meta("supervised", {"role": "base"})
    save_model(trained.parts["base"], base_meta, artifacts / "merge_images.base.safetensors")
    save_site_vectors(trained.parts["vectors"], artifacts / "merge_images.sites.safetensors")
    mapping = {
        "name": "merge_images",
        "seed": seed,
        "artifact": {
            "kind": "weights",
            "path": "../artifacts/merge_images.safetensors",
            "base": "../artifacts/merge_images.base.safetensors",
            "site_vectors": "../artifacts/merge_images.sites.safetensors",
        },
        "data": {
            **split_paths("../data", ".npz"),
            "records": "../data/records.csv",
            "label": "digit",
            "id": "record_id",
            "site": "site",
            "description": DIGITS_NOTE,
        },
        "attacks": {
            "run": list(attacks),
            "bootstrap": bootstrap,
            "reference_models": reference_models,
        },
        "utility": {"bootstrap": 100, "dp_baseline": False},
    }
    comment = (
        f"merge_images: {DIGITS_NOTE}. A CNN pre-trained on the population split, fine-tuned\n"
        "at four sites on their members, released as base + lambda * sum of the data vectors,\n"
        "with the base and the per-site vectors."
    )
    return write_spec(out / "specs" / "merge_images.toml", mapping, comment)
