"""Another real ICU data set for models the auditor did not build: RHC (Connors et al.,
JAMA 1996, 5,735 critically ill adults, from SurvSet), split by patient into the audit's
four CSV files with the columns a hospital would have (raw categories, `$`, `>` and `&`
in names and levels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LABEL, ID = "death", "patient_id"
SENSITIVE = ["sex", "race"]
# Not model inputs: the outcome's timing, the SUPPORT prognosis, a DNR order set in view
# of the outcome, and two mostly-missing columns.
DROPPED = ["time", "num_surv2md1", "fac_dnr1", "num_adld3p", "num_urin1"]
ODD = "income_> $50k & more"  # a one-hot column as a hospital's own export names it


def rhc_frame() -> pd.DataFrame:
    import warnings

    from SurvSet.data import SurvLoader

    with warnings.catch_warnings():  # SurvSet's bundled files use numpy.core (deprecated)
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = SurvLoader().load_dataset("rhc")["df"].drop(columns=DROPPED)
    frame = frame.rename(columns={"pid": ID, "event": LABEL})
    frame.columns = [c.removeprefix("num_").removeprefix("fac_") for c in frame.columns]
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    frame[ODD] = (frame["income"] == "> $50k").astype(int)
    return frame


def write_splits(
    folder: Path, *, sizes: tuple[int, int, int] = (1000, 1000, 1000)
) -> dict[str, Path]:
    """members, non_members, test (sizes) and population (the rest) as CSV in `folder`."""
    frame = rhc_frame()
    order = np.random.default_rng(11).permutation(len(frame))
    cuts = np.cumsum(sizes)
    parts = np.split(order, cuts)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in zip(("members", "non_members", "test", "population"), parts, strict=True):
        paths[name] = folder / f"{name}.csv"
        frame.iloc[rows].to_csv(paths[name], index=False)
    return paths


def features(frame: pd.DataFrame) -> list[str]:
    """The model inputs: every column but the id and the label."""
    return [c for c in frame.columns if c not in (ID, LABEL)]
