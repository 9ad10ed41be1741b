"""Released tables made by code other than the auditor's, from RHC (not the demo's data):
a near-copy of a fifth of the members, and a table of population records that never saw a
member. Raw columns, as another generator would write them (no id, no sidecar)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from own_models.rhc import ID, LABEL


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric feature columns (not the id or the label)."""
    return [
        c for c in frame.columns if c not in (ID, LABEL) and pd.api.types.is_numeric_dtype(frame[c])
    ]


def near_copy(members: pd.DataFrame, *, share: float, noise: float, seed: int) -> pd.DataFrame:
    """`share` of the members, each numeric column moved by `noise` standard deviations of
    Gaussian noise (categories kept): a leaky release."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(members), round(share * len(members)), replace=False)
    out = members.iloc[rows].drop(columns=[ID]).reset_index(drop=True)
    for column in numeric_columns(members):
        sd = float(members[column].std()) or 1.0
        out[column] = out[column].astype(float) + rng.normal(0.0, noise * sd, len(out))
    return out


def population_release(population: pd.DataFrame, *, n: int, seed: int) -> pd.DataFrame:
    """`n` population records as they are: a release that never saw a member."""
    rows = np.random.default_rng(seed).choice(len(population), n, replace=False)
    return population.iloc[rows].drop(columns=[ID]).reset_index(drop=True)
