"""The merge fixture: data vectors of four hospitals on the embedded Dialysis data.

The 67 centres are grouped into four hospitals of similar size; a base model is trained on
the population split (public records); each hospital fine-tunes it on its members; the
release is base + lambda * sum of the data vectors, with the base and the per-site vectors
released beside it (the worst case the scheme allows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.artifacts.weights import save_site_vectors
from auditor.core.encoding import fit_encoding
from auditor.data.embedded import (
    DIALYSIS_CATEGORICAL,
    DIALYSIS_NUMERIC,
    DIALYSIS_SIZES,
    ID,
    LABEL,
    hospitals_of,
    load_dialysis,
    split_patients,
    write_splits,
)
from auditor.demo.specs import split_paths, write_spec
from auditor.training.recipes import MergeParams, RecipeInput, TrainParams, run_recipe
from auditor.training.recipes.params import convert

HOSPITALS = 4
MERGE_REFERENCE_MODELS = 8  # reference runs re-train a base and four sites, in a loop


def build_merge_fixture(
    out: Path, *, seed: int, bootstrap: int, reference_models: int, attacks: tuple[str, ...]
) -> Path:
    """Write the Dialysis splits, the merge artifacts and the spec; returns the spec path."""
    frame = load_dialysis()
    mapping = hospitals_of(frame["center"], HOSPITALS)
    frame["hospital"] = frame["center"].map(mapping)
    splits = split_patients(frame, seed=seed, sizes=DIALYSIS_SIZES)
    write_splits(splits, out / "dialysis")
    encoding = fit_encoding(
        splits.population, numeric=list(DIALYSIS_NUMERIC), categorical=list(DIALYSIS_CATEGORICAL)
    )
    members, public = splits.members, splits.population
    hp = MergeParams()
    data = RecipeInput(
        encoding.encode(members),
        members[LABEL].to_numpy(),
        encoding.encode(public),
        public_y=public[LABEL].to_numpy(),
        sites=members["hospital"].to_numpy(),
    )
    trained = run_recipe("merge", data, hp, seed * 1000 + 99)

    def meta(recipe: str, details: dict) -> ArtifactMetadata:
        return ArtifactMetadata(
            architecture=hp.architecture,
            n_features=encoding.n_features,
            n_classes=2,
            label=LABEL,
            encoding=encoding,
            recipe=recipe,
            # the base is a supervised model: it carries the training parameters only
            recipe_params=(hp if recipe == "merge" else convert(hp, TrainParams)).to_dict(),
            seed=seed * 1000 + 99,
            details=details,
        )

    artifacts = out / "artifacts"
    details = {"lambda": trained.parts["lambda"], "sites": sorted(trained.parts["vectors"])}
    save_model(trained.model, meta("merge", details), artifacts / "merge.safetensors")
    save_model(
        trained.parts["base"],
        meta("supervised", {"role": "base"}),
        artifacts / "merge.base.safetensors",
    )
    save_site_vectors(trained.parts["vectors"], artifacts / "merge.sites.safetensors")
    spec_mapping: dict[str, Any] = {
        "name": "merge",
        "seed": seed,
        "artifact": {
            "kind": "weights",
            "path": "../artifacts/merge.safetensors",
            "base": "../artifacts/merge.base.safetensors",
            "site_vectors": "../artifacts/merge.sites.safetensors",
        },
        "data": {
            **split_paths("../dialysis"),
            "label": LABEL,
            "id": ID,
            "sensitive": ["age_band", "disease"],
            "site": "hospital",
        },
        "attacks": {
            "run": [*attacks, "base_reference"],
            "bootstrap": bootstrap,
            "reference_models": min(MERGE_REFERENCE_MODELS, reference_models),
        },
        "gates": {
            "privacy.base_reference.auc": {"max": 0.6},
            "privacy.site_attribution.accuracy": {"max": 0.35, "bound": "upper"},
            "utility.auroc": {"min": 0.6},
        },
    }
    comment = (
        "Demo audit of the merge fixture: base + lambda * sum of four hospitals' data vectors\n"
        "(Dialysis), released with the base model and the per-site vectors."
    )
    spec = write_spec(out / "specs" / "merge.toml", spec_mapping, comment)
    return spec
