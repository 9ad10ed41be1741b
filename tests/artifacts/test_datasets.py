"""Dataset artifacts load from safetensors, CSV and Parquet to the same encoded samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.artifacts.datasets import load_dataset, save_dataset
from auditor.core.encoding import CategoricalFeature, FeatureEncoding, NumericFeature
from auditor.errors import AuditInputError

ENCODING = FeatureEncoding(
    numeric=(NumericFeature("age", 60.0, 10.0),),
    categorical=(CategoricalFeature("sex", ("female", "male")),),
)
FRAME = pd.DataFrame(
    {"age": [50.0, 70.0, 64.0], "sex": ["male", "female", "male"], "death": [1, 0, 1]}
)


def _sidecar(path: Path) -> None:
    path.with_name(path.name + ".meta.json").write_text(
        json.dumps({"encoding": ENCODING.to_dict(), "recipe": "stimuli"})
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_load_to_the_encoded_samples(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"released{suffix}"
    FRAME.to_csv(path, index=False) if suffix == ".csv" else FRAME.to_parquet(path)
    _sidecar(path)
    loaded = load_dataset(path, label="death")
    np.testing.assert_allclose(loaded.x, ENCODING.encode(FRAME))
    assert loaded.y.tolist() == [1, 0, 1] and loaded.recipe == "stimuli"


def test_safetensors_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "released.safetensors"
    x = ENCODING.encode(FRAME)
    save_dataset(
        x,
        FRAME["death"].to_numpy(),
        encoding=ENCODING,
        recipe="condense",
        params={"per_class": 1},
        seed=3,
        path=path,
    )
    loaded = load_dataset(path, label="death")
    np.testing.assert_array_equal(loaded.x, x)
    assert loaded.params == {"per_class": 1} and not loaded.legacy_params


def test_width_that_does_not_fit_the_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "released.safetensors"
    save_dataset(
        np.zeros((3, 5), np.float32),
        np.array([0, 1, 0]),
        encoding=ENCODING,
        recipe="condense",
        params={},
        seed=0,
        path=path,
    )
    with pytest.raises(AuditInputError, match=r"\[x\] has shape \(3, 5\)"):
        load_dataset(path, label="death")


def test_non_numeric_feature_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "released.csv"
    FRAME.assign(age=["old", "young", "old"]).to_csv(path, index=False)
    _sidecar(path)
    with pytest.raises(AuditInputError, match=r"\[age\] is not numeric"):
        load_dataset(path, label="death")


def test_a_pickled_table_loads_only_with_consent(tmp_path: Path) -> None:
    path = tmp_path / "released.pkl"
    FRAME.to_pickle(path)
    _sidecar(path)
    with pytest.raises(AuditInputError, match="--allow-code"):
        load_dataset(path, label="death")
    loaded = load_dataset(path, label="death", allow_code=True)
    np.testing.assert_allclose(loaded.x, ENCODING.encode(FRAME))


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"settings": 5}, "settings"),
        ({"params": [1]}, "params"),
        ({"claims": {"delta": "x"}}, "claims"),
        ({"setings": {}}, "setings"),
    ],
    ids=["settings-not-an-object", "params-not-an-object", "claim-not-a-number", "unknown-key"],
)
def test_a_malformed_dataset_sidecar_names_its_field(
    tmp_path: Path, extra: dict, field: str
) -> None:
    path = tmp_path / "released.csv"
    FRAME.to_csv(path, index=False)
    meta = {"encoding": ENCODING.to_dict(), "recipe": "stimuli", **extra}
    path.with_name("released.csv.meta.json").write_text(json.dumps(meta))
    with pytest.raises(AuditInputError) as caught:
        load_dataset(path, label="death")
    assert [p.field for p in caught.value.problems] == [field]
