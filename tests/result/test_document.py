"""The result document: canonical, sealed, and refused when edited or of another version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.errors import ResultSchemaError
from auditor.result.document import dumps, load_result


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "result.json"
    path.write_text(dumps(document))
    return path


def test_roundtrip(tmp_path: Path) -> None:
    doc = {"run": {"seed": 1}, "privacy": {"membership": {}}, "gates": []}
    loaded = load_result(_write(tmp_path, doc))
    assert loaded["run"] == {"seed": 1}
    assert dumps(loaded) == dumps(doc)


def test_tampered_result_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"utility": {"auroc": 0.71}})
    path.write_text(path.read_text().replace("0.71", "0.91"))
    with pytest.raises(ResultSchemaError, match="integrity"):
        load_result(path)


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"gates": []})
    document = json.loads(path.read_text())
    document["schema_version"] = 0
    path.write_text(json.dumps(document))
    with pytest.raises(ResultSchemaError, match="schema version 0"):
        load_result(path)


def test_not_a_result(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(ResultSchemaError, match="not an auditor result"):
        load_result(path)
