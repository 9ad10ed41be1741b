"""LightGBM's own text model (booster.save_model): no code runs on load. It reads raw
columns, so its metadata lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.artifacts.formats import LoadOptions, ModelColumns, Queryable
from auditor.artifacts.formats.columns import columns_by_width
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import table_logits
from auditor.errors import fail


def read(path: Path) -> Any:
    """A LightGBM Booster from its text format."""
    try:
        import lightgbm
    except ImportError as exc:
        raise fail(
            str(path), "artifact.path", "is a LightGBM model", 'pip install "auditor[lightgbm]"'
        ) from exc

    with path.open("rb") as handle:
        if not handle.read(5).startswith(b"tree"):
            raise fail(
                str(path),
                "artifact.path",
                "is not a LightGBM text model (it does not start with 'tree')",
                "save the model with booster.save_model('model.txt')",
            )
    return lightgbm.Booster(model_file=str(path))


def check(path: Path, options: LoadOptions) -> None:
    read(path)


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    if not meta.raw_columns:
        raise fail(
            str(path),
            "raw_columns",
            "a LightGBM model reads raw columns: its metadata must list them",
            "write the metadata with auditor init",
        )
    return Queryable(table=table_logits(read(path), meta.raw_columns))


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    """Its stored feature names where they are the data's columns, else its width."""
    booster = read(path)
    names = booster.feature_name()
    per_round = booster.num_model_per_iteration()
    n_out = 2 if per_round == 1 else per_round
    if all(n in features for n in names):
        return ModelColumns(names, "probabilities", "LightGBM Booster", "its feature names", n_out)
    by_width = columns_by_width(path, len(names), numeric)
    return ModelColumns(by_width, "probabilities", "LightGBM Booster", "width", n_out)


def save(model: Any, folder: Path, numeric_width: int) -> Path | None:
    """A LightGBM model (or its scikit-learn wrapper) as `model.txt`."""
    if not type(model).__module__.startswith("lightgbm."):
        return None
    booster = getattr(model, "booster_", model)
    booster.save_model(str(folder / "model.txt"))
    return folder / "model.txt"
