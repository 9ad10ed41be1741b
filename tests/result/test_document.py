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


MINIMAL = {
    "run": {"seed": 1},
    "artifact": {},
    "data": {},
    "privacy": {"membership": {}},
    "utility": {},
    "fairness": {},
    "gates": [],
}


def test_roundtrip(tmp_path: Path) -> None:
    doc = MINIMAL
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
    with pytest.raises(ResultSchemaError, match=r"\[schema_version\] is version 0"):
        load_result(path)


def test_not_a_result(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(ResultSchemaError, match="not an auditor result"):
        load_result(path)


@pytest.mark.parametrize(
    "text, field",
    [
        ("NaN", "result"),
        ('{"a": NaN}', "result"),
        ("[" * 100_000 + "]" * 100_000, "result"),
    ],
    ids=["nan", "nan-inside", "deep-nesting"],
)
def test_unreadable_json_is_refused_with_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(text)
    with pytest.raises(ResultSchemaError) as caught:
        load_result(path)
    assert caught.value.problems[0].field == field


def test_a_resealed_broken_structure_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {**MINIMAL, "privacy": {"membership": {"loss": 3}}, "gates": [1]})
    with pytest.raises(ResultSchemaError) as caught:
        load_result(path)
    assert {p.field for p in caught.value.problems} == {"privacy.membership", "gates[0]"}


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "result.json"
    os.mkfifo(fifo)
    with pytest.raises(ResultSchemaError, match="not a regular file"):
        load_result(fifo)
