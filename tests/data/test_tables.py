"""The audit data loader accepts any printable column name and refuses control characters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.core.encoding import fit_encoding
from auditor.data.tables import SPLIT_NAMES, DataSpec, load_audit_data
from auditor.errors import AuditInputError

ODD = "income_> $50k & more"


def _write_splits(folder: Path, column: str) -> DataSpec:
    rng = np.random.default_rng(0)
    paths = {}
    for i, name in enumerate(SPLIT_NAMES):
        frame = pd.DataFrame(
            {
                "patient_id": np.arange(40) + 100 * i,
                "age": rng.normal(60, 10, 40).round(1),
                column: rng.integers(0, 2, 40),
                "<b>sex</b>": rng.choice(["f", "m"], 40),
                "death": np.tile([0, 1], 20),
            }
        )
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return DataSpec(**paths, label="death", id="patient_id", sensitive=("<b>sex</b>",))


def test_a_column_named_with_symbols_is_read_and_encoded(tmp_path: Path) -> None:
    spec = _write_splits(tmp_path, ODD)
    frame = pd.read_csv(spec.members)
    encoding = fit_encoding(frame, numeric=["age", ODD], categorical=["<b>sex</b>"])
    data = load_audit_data(spec, encoding)
    assert data.members.x.shape == (40, 4)
    np.testing.assert_allclose(
        data.members.x[:, 1], (frame[ODD] - frame[ODD].mean()) / frame[ODD].std(ddof=0), rtol=1e-5
    )
    assert set(data.members.groups["<b>sex</b>"]) == {"f", "m"}


@pytest.mark.parametrize("name", ["age\x1b[2J", "line\nbreak", " "])
def test_control_characters_and_empty_names_are_refused(tmp_path: Path, name: str) -> None:
    spec = _write_splits(tmp_path, name)
    encoding = fit_encoding(pd.read_csv(spec.members), numeric=["age"], categorical=[])
    with pytest.raises(AuditInputError) as caught:
        load_audit_data(spec, encoding)
    messages = [str(p) for p in caught.value.problems]
    assert any("header column 3 has an empty name or control characters" in m for m in messages)
    assert not any(name.strip() and name in m for m in messages)
