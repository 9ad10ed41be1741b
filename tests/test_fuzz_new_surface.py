"""Property tests of the newer surface: `init`'s inference on arbitrary tables, the Python
API's arguments, and a dataset artifact's sidecar. Each gives its result or the tool's own
input error, never another exception (FUZZ_EXAMPLES as in tests/test_fuzz.py)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ, META_KEYS, documents, scalars

import auditor
from auditor.artifacts.datasets import load_dataset
from auditor.errors import AuditInputError
from auditor.init import infer

COLUMNS = ["patient_id", "death", "age", "sex", "age.1", "", "label", "id", "race"]


@pytest.fixture(scope="module")
def skops_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import skops.io
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(size=30)})
    model = LogisticRegression().fit(frame, np.arange(30) % 2)
    path = tmp_path_factory.mktemp("fuzz") / "m.skops"
    skops.io.dump(model, str(path))
    return path


cells = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
)


@FUZZ
@given(
    columns=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=6),
    rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=12),
)
def test_init_infers_or_gives_an_input_error(
    skops_model: Path, columns: list[str], rows: list[list[Any]]
) -> None:
    frame = pd.DataFrame([r[: len(columns)] for r in rows], columns=range(len(columns)))
    with tempfile.TemporaryDirectory() as folder:
        members = Path(folder) / "members.csv"
        header = ",".join(json.dumps(c) if c else "" for c in columns)
        body = frame.to_csv(index=False, header=False) if len(frame) else ""
        members.write_text(header + "\n" + body, encoding="utf-8")
        try:
            inferred = infer(skops_model, members, sensitive=None)
        except AuditInputError:
            return
        assert inferred.label in columns and inferred.metadata["raw_columns"] == ["age"]


values = st.one_of(
    scalars(),
    st.lists(scalars(), max_size=3),
    st.dictionaries(st.text(max_size=5), scalars(), max_size=3),
    st.dictionaries(
        st.sampled_from(["privacy.loss.auc", "x"]),
        st.dictionaries(st.sampled_from(["max", "min", "bound", "y"]), scalars(), max_size=3),
        max_size=2,
    ),
)
ARGUMENTS = [
    "members", "non_members", "test", "population", "label", "id", "sensitive", "attacks",
    "train", "seed", "bootstrap", "reference_models", "gates", "trusted_functions",
]  # fmt: skip


@FUZZ
@given(name=st.sampled_from(ARGUMENTS), value=values)
def test_api_arguments_give_an_input_error_never_another(name: str, value: Any) -> None:
    """The model named does not exist, so every call ends in an input error: the
    argument's own, or the missing model's once the argument is of a valid type."""
    frame = pd.DataFrame({"patient_id": range(12), "age": range(12), "death": [0, 1] * 6})
    arguments: dict[str, Any] = dict.fromkeys(("members", "non_members", "test"), frame)
    arguments |= {"population": frame, "progress": False, name: value}
    with pytest.raises(AuditInputError):
        auditor.audit(Path("no-such-model.skops"), **arguments)


@FUZZ
@given(document=documents(META_KEYS))
def test_dataset_sidecar_gives_a_dataset_or_an_input_error(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "released.csv"
        pd.DataFrame({"age": [1.0, 2.0], "death": [0, 1]}).to_csv(path, index=False)
        sidecar = path.with_name(path.name + ".meta.json")
        sidecar.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
        try:
            loaded = load_dataset(path, label="death")
        except AuditInputError:
            return
        assert loaded.x.shape[0] == 2
