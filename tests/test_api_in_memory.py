"""`auditor.audit(...)` with DataFrames writes no patient record anywhere: the spec is a
mapping in memory and each split is read and hashed as its CSV would be, so the result
equals the same audit run on those CSV files."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import auditor
from auditor.config.spec import load_spec, parse_spec
from auditor.config.writer import spec_toml

WRITES = ("w", "a", "x", "+")
_recording: list[list[str]] = []


def _record_writes(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: every file opened for writing while a recording is on."""
    if _recording and event == "open" and isinstance(args[0], str | Path):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if any(c in mode for c in WRITES) or flags & 0o3:  # O_WRONLY | O_RDWR
            _recording[-1].append(str(args[0]))


sys.addaudithook(_record_writes)  # hooks cannot be removed: it records only when asked


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    out = {}
    for i, split in enumerate(("members", "non_members", "test", "population")):
        n = 80
        age = rng.normal(60, 12, n).round(1)
        sex = rng.choice(["female", "male"], n)
        death = (age + rng.normal(0, 12, n) > 62).astype(int)
        out[split] = pd.DataFrame(
            {"patient_id": np.arange(n) + 1000 * i, "age": age, "sex": sex, "death": death}
        )
    return out


def _model(members: pd.DataFrame) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer([("age", "passthrough", ["age"]), ("sex", OneHotEncoder(), ["sex"])])
    forest = RandomForestClassifier(20, random_state=0)
    return Pipeline([("prep", prep), ("forest", forest)]).fit(
        members[["age", "sex"]], members["death"]
    )


OPTIONS: dict[str, Any] = {
    "label": "death",
    "id": "patient_id",
    "sensitive": ["sex"],
    "attacks": ["loss"],
    "bootstrap": 50,
    "progress": False,
}


def test_dataframes_are_audited_without_writing_a_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = _frames()
    model = _model(frames["members"])
    # the temporary folder the API uses, private to this test (the machine's /tmp is shared
    # with the other test worker, which creates folders there at any time)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    _recording.append([])
    try:
        result = auditor.audit(model, **frames, **OPTIONS)
    finally:
        written = _recording.pop()
    # no file left, and the API's private folder gone (torch may create its own empty cache
    # folder, torchinductor_<user>, in the temporary folder on first use: no file in it)
    assert [p for p in temp.rglob("*") if not p.is_dir()] == [], "a file was left behind"
    assert [p.name for p in temp.iterdir() if p.name.startswith("auditor-")] == []
    assert not [w for w in written if w.endswith(".csv")], written
    # written: the model, its metadata and the folder's marker in the API's private folder
    # (removed), and writability probes of folders (an unnamed file that deletes itself)
    private = [Path(w) for w in written if Path(w).parent.name.startswith("auditor-")]
    assert {p.name for p in private} == {".release-auditor", "model.skops", "model.skops.meta.json"}
    assert all(Path(w).is_dir() for w in written if Path(w) not in private), written
    assert result.document["data"]["splits"]["members"]["file_name"] == "members.csv"

    # the same audit from CSV files written by to_csv(index=False): the same figures
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    paths = {name: tmp_path / f"{name}.csv" for name in frames}
    from_files = auditor.audit(model, **paths, **OPTIONS)
    for section in ("privacy", "utility", "fairness", "baselines"):
        assert result.document[section] == from_files.document[section], section
    for split in frames:
        a, b = (r.document["data"]["splits"][split] for r in (result, from_files))
        assert a == b, split  # name, rows and the CSV's SHA-256


def test_a_spec_mapping_reads_as_its_toml_file(tmp_path: Path) -> None:
    """parse_spec(mapping) and load_spec(the writer's file) give the same spec."""
    for name in ("members", "non_members", "test", "population"):
        (tmp_path / f"{name}.csv").write_text("patient_id,age,death\n1,2,0\n")
    (tmp_path / "m.skops").write_bytes(b"")
    mapping = {
        "seed": 3,
        "artifact": {"kind": "model", "path": "m.skops", "trusted_functions": ["numpy.log1p"]},
        "data": {
            **{s: f"{s}.csv" for s in ("members", "non_members", "test", "population")},
            "label": "death",
            "sensitive": [],
        },
        "attacks": {"run": ["loss"], "bootstrap": 60, "confidence": 0.9},
        "gates": {"privacy.loss.auc": {"max": 0.6, "bound": "upper"}},
    }
    (tmp_path / "audit.toml").write_text(spec_toml(mapping), encoding="utf-8")
    assert parse_spec(mapping, tmp_path) == load_spec(tmp_path / "audit.toml")


def test_a_value_no_spec_can_hold_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(auditor.AuditInputError, match="finite numbers"):
        parse_spec({"attacks": {"confidence": float("inf")}}, tmp_path)
