"""Output paths are checked before any work: a wrong --out or --junit exits 2 at once, with
the option and the fix, and writes nothing; a good one receives every file or none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_bad_input import flat
from typer.testing import Result

from auditor.core.outputs import MARKER, publish

UNWRITABLE = Path("/proc/auditor-no-such-folder/out")  # not creatable, even by root


@pytest.fixture
def no_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if an audit starts: output problems must be found before it."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the audit ran although an output path was bad")

    monkeypatch.setattr("auditor.orchestration.run.run_audit", refuse)


def _refused(result: Result, option: str, text: str) -> None:
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "Traceback" not in result.output
    assert f"[{option}]" in output and text in output and "Fix:" in output


@pytest.mark.usefixtures("no_audit")
@pytest.mark.parametrize(
    "args, option, text",
    [
        (lambda t: ["--out", t / "a-file.txt"], "--out", "is a file"),
        (lambda t: ["--out", UNWRITABLE], "--out", "is not writable"),
        (lambda t: ["--out", t / "fine", "--junit", UNWRITABLE / "g.xml"], "--junit", "writable"),
        (lambda t: ["--out", t / "fine", "--junit", t], "--junit", "is a folder"),
        (lambda t: ["--out", t / ("x" * 300)], "--out", "too long"),
    ],
    ids=[
        "out-is-a-file",
        "out-unwritable",
        "junit-unwritable",
        "junit-is-a-folder",
        "out-name-too-long",
    ],
)
def test_run_refuses_a_bad_output_path_before_the_audit(
    args: Callable[[Path], list[Any]],
    option: str,
    text: str,
    make_tree: Callable[..., Any],
    tmp_path: Path,
    cli: Callable[..., Result],
) -> None:
    tree = make_tree()
    (tmp_path / "a-file.txt").write_text("keep\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("run", tree.spec("supervised"), *args(tmp_path))
    _refused(result, option, text)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a-file.txt").read_text() == "keep\n"


def test_a_nul_byte_in_an_output_path_is_a_usage_error(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The command line refuses it itself (exit 2, a usage message), before any check."""
    result = cli("run", make_tree().spec("supervised"), "--out", str(tmp_path / "a") + "\x00b")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_spec_and_output_problems_are_reported_together(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    spec = tree.spec("supervised")
    spec.write_text(spec.read_text().replace("bootstrap = 200", "bootstrap = 7"))
    result = cli("run", spec, "--out", UNWRITABLE)
    _refused(result, "--out", "is not writable")
    assert "[attacks.bootstrap]" in flat(result.output)


@pytest.mark.parametrize("command", ["report", "compare"])
def test_report_and_compare_refuse_a_bad_output_before_writing(
    command: str, tmp_path: Path, cli: Callable[..., Result], demo_results: dict[str, Any]
) -> None:
    from auditor.result.document import dumps

    result_file = tmp_path / "result.json"
    result_file.write_text(dumps(demo_results["supervised"]))
    mine = tmp_path / "mine.html"  # a page the auditor did not write: kept without --force
    mine.write_text("<p>my notes</p>\n")
    for target, text in (
        (tmp_path, "is a folder"),
        (UNWRITABLE / "r.html", "is not writable"),
        (mine, "--force"),
    ):
        _refused(cli(command, result_file, "--out", target), "--out", text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.html", "result.json"]
    assert mine.read_text() == "<p>my notes</p>\n"
    assert cli(command, result_file, "--out", mine, "--force").exit_code == 0
    assert cli(command, result_file, "--out", mine).exit_code == 0  # now the auditor's page


def test_publish_stages_inside_the_folder_and_removes_a_stale_report(tmp_path: Path) -> None:
    """Staging in the destination itself keeps every rename on one filesystem (an --out
    that is a mount point used to fail with EXDEV), and --no-report leaves no old report."""
    folder = tmp_path / "mount-point"
    publish({"result.json": "{}\n", "report.html": "<html></html>\n"}, folder)
    publish({"result.json": '{"new": 1}\n', "timings.json": "{}\n"}, folder)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "result.json", "timings.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mount-point"]
