"""Signed results: a result edited after signing is refused by report, compare and verify
(even with its integrity hash recomputed); an unsigned result is shown as unsigned."""

from __future__ import annotations

import copy
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from auditor.cli import app
from auditor.result.document import dumps, seal
from auditor.result.signing import sign


@pytest.fixture
def cli() -> Callable[..., Result]:
    runner = CliRunner(env={"COLUMNS": "250"})
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def keys(tmp_path: Path, cli: Callable[..., Result]) -> tuple[Path, Path]:
    private = tmp_path / "signer.pem"
    done = cli("keygen", "--out", private)
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    return private, tmp_path / "signer.pub.pem"


@pytest.fixture
def result(demo_results: dict[str, Any]) -> dict[str, Any]:
    return demo_results["supervised"]


def test_a_signed_result_verifies_and_shows_its_signer(
    keys: tuple[Path, Path], result: dict[str, Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    private, public = keys
    path = tmp_path / "result.json"
    path.write_text(dumps(sign(result, private)))
    verified = cli("verify", path, "--key", public)
    assert verified.exit_code == 0, verified.output
    fingerprint = json.loads(path.read_text())["signature"]["fingerprint"]
    assert fingerprint in verified.output
    assert cli("report", path, "--out", tmp_path / "r.html").exit_code == 0
    assert f"key {fingerprint}" in (tmp_path / "r.html").read_text()
    assert cli("compare", path, "--out", tmp_path / "c.html").exit_code == 0
    assert fingerprint in (tmp_path / "c.html").read_text()


def test_an_edit_after_signing_is_refused_everywhere(
    keys: tuple[Path, Path], result: dict[str, Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    private, public = keys
    signed = copy.deepcopy(sign(result, private))  # the session's result stays as it was
    signed["privacy"]["membership"]["loss"]["auc"]["value"] = 0.5  # the edit...
    path = tmp_path / "result.json"
    path.write_text(dumps(seal(signed)))  # ...with the public integrity hash recomputed
    for args in (
        ("report", path, "--out", tmp_path / "r.html"),
        ("compare", path, "--out", tmp_path / "c.html"),
        ("verify", path, "--key", public),
    ):
        refused = cli(*args)
        assert refused.exit_code == 2, refused.output
        assert "[signature] does not verify" in " ".join(refused.output.split())
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "c.html").exists()


def test_unsigned_and_foreign_results_are_not_verified(
    keys: tuple[Path, Path],
    result: dict[str, Any],
    tmp_path: Path,
    cli: Callable[..., Result],
) -> None:
    _, public = keys
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(dumps(result))
    refused = cli("verify", unsigned, "--key", public)
    assert refused.exit_code == 1 and "not signed" in refused.output
    assert cli("report", unsigned, "--out", tmp_path / "r.html").exit_code == 0
    assert "unsigned" in (tmp_path / "r.html").read_text()

    other = tmp_path / "other.pem"
    assert cli("keygen", "--out", other).exit_code == 0
    foreign = tmp_path / "foreign.json"
    foreign.write_text(dumps(sign(result, other)))
    refused = cli("verify", foreign, "--key", public)
    assert refused.exit_code == 1 and "signed by key" in refused.output


def test_run_refuses_an_unreadable_key_before_the_audit(
    tmp_path: Path, cli: Callable[..., Result], demo_specs: dict[str, Path]
) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key\n")
    refused = cli("run", demo_specs["supervised"], "--out", tmp_path / "out", "--sign", key)
    assert refused.exit_code == 2
    assert "[--sign] is not a readable private key" in " ".join(refused.output.split())
    assert not (tmp_path / "out").exists()
