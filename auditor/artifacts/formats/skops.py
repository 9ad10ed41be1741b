"""scikit-learn estimators and Pipelines in skops files, trusted class by class (functions
only when the spec names them: `auditor.artifacts.skops_trust`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from auditor.artifacts.formats import LoadOptions, ModelColumns, Queryable
from auditor.artifacts.formats.columns import columns_by_width
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import sklearn_logits, table_logits


def read(path: Path, trusted_functions: tuple[str, ...] = ()) -> Any:
    """A scikit-learn estimator from skops: scikit-learn's estimators (skops's default
    list), the helper classes of `skops_trust`, and the functions the user named; no
    module prefix is trusted (`auditor.artifacts.skops_trust`)."""
    import skops.io

    from auditor.artifacts.skops_trust import check_functions, trusted_types

    untrusted = skops.io.get_untrusted_types(file=str(path))
    trusted = trusted_types(path, untrusted, trusted_functions)
    estimator = skops.io.load(str(path), trusted=trusted)
    check_functions(path, estimator, trusted_functions)
    return estimator


def check(path: Path, options: LoadOptions) -> None:
    read(path, options.trusted_functions)


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    estimator = read(path, options.trusted_functions)
    if meta.raw_columns:
        return Queryable(table=table_logits(estimator, meta.raw_columns))
    return Queryable(logits=sklearn_logits(estimator))


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    """`feature_names_in_` where the estimator was fitted on a DataFrame, else its width."""
    model = read(path, options.trusted_functions)
    kind = type(model).__name__
    if hasattr(model, "steps"):
        kind = f"{kind} ending in {type(model.steps[-1][1]).__name__}"
    classes = getattr(model, "classes_", None)
    n_out = len(classes) if classes is not None and np.ndim(classes) == 1 else None
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return ModelColumns(
            [str(n) for n in names], "probabilities", kind, "its feature_names_in_", n_out
        )
    width = getattr(model, "n_features_in_", None)
    by_width = columns_by_width(path, width, numeric)
    return ModelColumns(by_width, "probabilities", kind, "its input width", n_out)


def save(model: Any, folder: Path, numeric_width: int) -> Path | None:
    """A fitted scikit-learn object as `model.skops` (None for any other object)."""
    if not type(model).__module__.startswith("sklearn."):
        return None
    import skops.io

    skops.io.dump(model, folder / "model.skops")
    return folder / "model.skops"
