"""Fixtures for the label structures beyond one binary outcome, on SUPPORT2's diagnoses:
a multi-class model of the disease group and a multi-label model of each patient's set of
diagnoses (the coding analogue), built by the recipes and audited like the binary ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.core.encoding import fit_encoding
from auditor.data.embedded import (
    DIAGNOSES,
    DIAGNOSIS_CATEGORICAL,
    DISEASE_GROUP,
    DISEASE_GROUPS,
    ID,
    NUMERIC,
    load_support2_diagnoses,
    split_patients,
    write_splits,
)
from auditor.demo.specs import split_paths, write_spec
from auditor.training.recipes import PRESETS, RecipeInput, run_recipe

Structure = Literal["multiclass", "multilabel"]


@dataclass(frozen=True)
class LabelFixture:
    """Where one built fixture lies: its spec, and the data folder it reads."""

    spec: Path
    data: Path


def label_columns(structure: Structure) -> tuple[str, ...]:
    """The label column(s) of a structure."""
    return DIAGNOSES if structure == "multilabel" else (DISEASE_GROUP,)


def build_label_fixture(
    out: Path,
    *,
    structure: Structure,
    name: str,
    recipe: str = "supervised",
    preset: str = "default",
    train_split: str = "members",
    seed: int = 7,
    sizes: dict[str, int] | None = None,
    attacks: tuple[str, ...] = ("loss", "confidence", "entropy"),
    bootstrap: int = 200,
    reference_models: int = 8,
    dp_baseline: bool = False,
    confidence: float = 0.95,
    utility_bootstrap: int = 50,
    params: Any = None,
) -> LabelFixture:
    """Split SUPPORT2's diagnoses by patient (seed), train `recipe` with `preset` (or the
    given `params`) on `train_split`, and write data/, artifacts/<name>.safetensors and
    specs/<name>.toml."""
    splits = split_patients(load_support2_diagnoses(), seed=seed, sizes=sizes)
    write_splits(splits, out / "data")
    encoding = fit_encoding(
        splits.members, numeric=list(NUMERIC), categorical=list(DIAGNOSIS_CATEGORICAL)
    )
    columns = label_columns(structure)
    private = getattr(splits, train_split)
    y = (private[list(columns)] if structure == "multilabel" else private[columns[0]]).to_numpy()
    n_outputs = len(DIAGNOSES) if structure == "multilabel" else len(DISEASE_GROUPS)
    hp = PRESETS[preset] if params is None else params
    data = RecipeInput(
        encoding.encode(private),
        y,
        public_x=encoding.encode(splits.population),
        n_classes=n_outputs,
    )
    fixture_seed = seed * 1000 + 500
    trained = run_recipe(recipe, data, hp, fixture_seed)
    meta = ArtifactMetadata(
        architecture=hp.architecture,
        n_features=encoding.n_features,
        n_classes=n_outputs,
        label="" if structure == "multilabel" else DISEASE_GROUP,
        labels=columns if structure == "multilabel" else (),
        encoding=encoding,
        recipe=recipe,
        recipe_params=hp.to_dict(),
        seed=fixture_seed,
        claims=trained.claims,
    )
    save_model(trained.model, meta, out / "artifacts" / f"{name}.safetensors")
    labels: dict[str, Any] = (
        {"labels": list(columns)} if structure == "multilabel" else {"label": DISEASE_GROUP}
    )
    mapping = {
        "name": name,
        "seed": seed,
        "artifact": {"path": f"../artifacts/{name}.safetensors"},
        "data": {
            **split_paths("../data"),
            **labels,
            "id": ID,
            "sensitive": ["sex", "race", "age_band"],
        },
        "attacks": {
            "run": list(attacks),
            "bootstrap": bootstrap,
            "reference_models": reference_models,
            "confidence": confidence,
            "group_bootstrap": utility_bootstrap,
        },
        "utility": {"bootstrap": utility_bootstrap, "dp_baseline": dp_baseline},
    }
    comment = (
        f"{structure} fixture on SUPPORT2's diagnoses: {recipe}, preset {preset}, "
        f"trained on {train_split}."
    )
    spec = write_spec(out / "specs" / f"{name}.toml", mapping, comment)
    return LabelFixture(spec, out / "data")
