"""A hospital's own training code, as a user would write it: named in specs as
`own_models.training:gradient_boosting` (the tests folder is on sys.path under pytest)."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def gradient_boosting(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> Pipeline:
    """Scaled numbers and one-hot categories into fully grown gradient-boosted trees (no
    early stopping: it memorises its records, as an untuned clinical model can)."""
    numeric = [c for c in records.columns if pd.api.types.is_numeric_dtype(records[c])]
    categorical = [c for c in records.columns if c not in numeric]
    prep = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    boosted = HistGradientBoostingClassifier(
        max_iter=120, max_leaf_nodes=63, min_samples_leaf=1, early_stopping=False, random_state=seed
    )
    return Pipeline([("prep", prep), ("boosted", boosted)]).fit(records, labels)
