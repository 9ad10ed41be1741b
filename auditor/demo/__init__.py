"""The demo: fixtures built by the recipes on the embedded SUPPORT2 data, audited end to end.

`build_fixtures` writes the patient-level splits (CSV), one artifact per fixture
(safetensors with metadata) and one audit spec per fixture; the tests use the same
fixtures. The splits hold real (public, de-identified) SUPPORT2 records: they stay in the
output folder and never go into a result or a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.artifacts.datasets import save_dataset
from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.core.encoding import FeatureEncoding, fit_encoding
from auditor.data.embedded import (
    CATEGORICAL,
    ID,
    LABEL,
    NUMERIC,
    Splits,
    load_support2,
    split_patients,
    write_splits,
)
from auditor.demo.specs import split_paths, write_spec
from auditor.training.recipes import PRESETS, RecipeInput, release_dataset, run_recipe


@dataclass(frozen=True)
class Fixture:
    """One demo artifact: which recipe on which records with which preset."""

    name: str
    recipe: str
    preset: str
    train_split: str  # the private records it is built from
    summary: str


FIXTURES = (
    Fixture(
        "supervised",
        "supervised",
        "default",
        "members",
        "real-records model: the baseline every scheme is set beside",
    ),
    Fixture(
        "overfit",
        "supervised",
        "overfit",
        "members",
        "fully grown random forest on the members (the leaky fixture)",
    ),
    Fixture(
        "overfit_mlp",
        "supervised",
        "overfit_mlp",
        "members",
        "overfit MLP on the members (leaks to calibrated attacks)",
    ),
    Fixture(
        "mimic",
        "mimic",
        "default",
        "members",
        "mimic learning: student trained on population records labelled by a teacher",
    ),
    Fixture("dp_sgd", "dp_sgd", "dp", "members", "DP-SGD (Opacus) at epsilon <= 3, delta 1e-5"),
    Fixture(
        "condense",
        "condense",
        "consumer",
        "members",
        "condensed set: 10 learned samples per class (distribution matching) from the members",
    ),
    Fixture(
        "stimuli",
        "stimuli",
        "stimuli",
        "members",
        "synthetic stimuli: 100 inputs per class exciting a network trained on the members",
    ),
    Fixture(
        "stimuli_inhibited",
        "stimuli",
        "stimuli_inhibited",
        "members",
        "synthetic stimuli with identity inhibition (weight 5)",
    ),
    Fixture(
        "population",
        "supervised",
        "default",
        "population",
        "control: trained on population records only, never saw members",
    ),
)

ATTACKS = (
    *("loss", "confidence", "entropy", "art_blackbox", "label_only_gap"),
    *("lira_online", "lira_offline", "rmia"),
)
# Random-forest reference models train one after another (scikit-learn), not as a
# vectorised ensemble: the demo gives that fixture fewer.
FOREST_REFERENCE_MODELS = 8
# Dataset reference runs re-run the release recipe (condense, stimuli) in a loop: fewer too.
DATASET_REFERENCE_MODELS = 8


def support2_splits(out: Path, seed: int) -> tuple[Splits, FeatureEncoding]:
    """SUPPORT2 split by patient with `seed`, written to `out`/data, and the encoding fitted
    on the members (every demo fixture on SUPPORT2 starts here)."""
    splits = split_patients(load_support2(), seed=seed)
    write_splits(splits, out / "data")
    encoding = fit_encoding(splits.members, numeric=list(NUMERIC), categorical=list(CATEGORICAL))
    return splits, encoding


def build_fixtures(
    out: Path,
    *,
    seed: int = 7,
    bootstrap: int = 1000,
    reference_models: int = 64,
    names: tuple[str, ...] | None = None,
) -> dict[str, Path]:
    """Materialise data, artifacts and specs under `out`; returns spec paths by fixture."""
    splits, encoding = support2_splits(out, seed)
    encoded = {n: encoding.encode(f) for n, f in splits.as_dict().items()}
    labels = {n: f[LABEL].to_numpy() for n, f in splits.as_dict().items()}
    specs = {}
    for i, fixture in enumerate(FIXTURES):
        if names is not None and fixture.name not in names and fixture.name != "supervised":
            continue
        hp = PRESETS[fixture.preset]
        private = fixture.train_split
        fixture_seed = seed * 1000 + i
        if fixture.recipe in ("condense", "stimuli"):
            private_data = RecipeInput(encoded[private], labels[private])
            x_syn, y_syn = release_dataset(fixture.recipe, private_data, hp, fixture_seed)
            save_dataset(
                x_syn,
                y_syn,
                encoding=encoding,
                recipe=fixture.recipe,
                params=hp.to_dict(),
                seed=fixture_seed,
                path=out / "artifacts" / f"{fixture.name}.safetensors",
            )
            specs[fixture.name] = _write_spec(
                out,
                fixture,
                seed,
                bootstrap,
                ".safetensors",
                min(DATASET_REFERENCE_MODELS, reference_models),
                kind="dataset",
            )
            continue
        data = RecipeInput(encoded[private], labels[private], public_x=encoded["population"])
        trained = run_recipe(fixture.recipe, data, hp, fixture_seed)
        meta = ArtifactMetadata(
            architecture=hp.architecture,
            n_features=encoding.n_features,
            n_classes=2,
            label=LABEL,
            encoding=encoding,
            recipe=fixture.recipe,
            recipe_params=hp.to_dict(),
            seed=fixture_seed,
            claims=trained.claims,
            output="probabilities" if hp.architecture == "random_forest" else "logits",
        )
        suffix = ".skops" if hp.architecture == "random_forest" else ".safetensors"
        save_model(trained.model, meta, out / "artifacts" / f"{fixture.name}{suffix}")
        k = FOREST_REFERENCE_MODELS if hp.architecture == "random_forest" else reference_models
        specs[fixture.name] = _write_spec(
            out, fixture, seed, bootstrap, suffix, min(k, reference_models), kind="model"
        )
    if names is None or "merge" in names:
        from auditor.demo.merge import build_merge_fixture

        specs["merge"] = build_merge_fixture(
            out, seed=seed, bootstrap=bootstrap, reference_models=reference_models, attacks=ATTACKS
        )
    return specs


def _write_spec(
    out: Path, fixture: Fixture, seed: int, bootstrap: int, suffix: str, k: int, *, kind: str
) -> Path:
    target = "loss@mlp" if kind == "dataset" else "loss"
    gates: dict[str, dict[str, Any]] = {
        f"privacy.{target}.auc": {"max": 0.6},
        f"privacy.{target}.tpr_at_fpr_0.01": {"max": 0.03, "bound": "upper"},
        "utility.auroc": {"min": 0.7},
        "fairness.recall_gap.sex": {"max": 0.05},
    }
    if kind == "dataset":
        gates["privacy.linkage.dcr_linkage"] = {"max": 0.6, "bound": "upper"}
    mapping = {
        "name": fixture.name,
        "seed": seed,
        "artifact": {"kind": kind, "path": f"../artifacts/{fixture.name}{suffix}"},
        "data": {
            **split_paths("../data"),
            "label": LABEL,
            "id": ID,
            "sensitive": ["sex", "race", "age_band"],
        },
        "attacks": {"run": list(ATTACKS), "bootstrap": bootstrap, "reference_models": k},
        "utility": {"baseline": "../artifacts/supervised.safetensors"},
        "gates": gates,
    }
    comment = f"Demo audit of the {fixture.name} fixture: {fixture.summary}."
    return write_spec(out / "specs" / f"{fixture.name}.toml", mapping, comment)
