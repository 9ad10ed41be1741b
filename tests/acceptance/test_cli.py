"""Acceptance tests of the `auditor` command line: run, gates -> exit code and JUnit, report
re-rendering, refusal of edited results, determinism, validate, and the console script."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from auditor.core.outputs import MARKER

OUTPUTS = ("result.json", "report.html", "timings.json")


def flat(text: str) -> str:
    """Output with line wrapping undone (runs of whitespace -> one space)."""
    return " ".join(text.split())


def replace_gates(spec: Path, gates: str) -> None:
    """Replace the whole [gates] table (the last table of the demo specs)."""
    text = spec.read_text(encoding="utf-8")
    head, sep, _ = text.partition("[gates]\n")
    assert sep, f"no [gates] table in {spec}"
    spec.write_text(head + sep + gates, encoding="utf-8")


def assert_clean_exit(result: Result, code: int) -> None:
    """`code` as the exit status, through SystemExit, with no traceback printed."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


@dataclass(frozen=True)
class Run:
    spec: Path
    out: Path
    junit: Path
    result: Result


@pytest.fixture(scope="module")
def overfit_run(copy_demo: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`auditor run` of the overfit fixture (loss attack only), once for this module."""
    from typer.testing import CliRunner

    from auditor.cli import app

    base = tmp_path_factory.mktemp("overfit-run")
    tree = copy_demo(base / "demo", overfit=True)
    spec, out, junit = tree.spec("overfit"), base / "out", base / "gates.xml"
    result = CliRunner(env={"COLUMNS": "250"}).invoke(
        app, ["run", str(spec), "--out", str(out), "--junit", str(junit)]
    )
    return Run(spec, out, junit, result)


@pytest.mark.slow
def test_failing_gate_exits_1_and_writes_outputs_and_junit(overfit_run: Run) -> None:
    assert_clean_exit(overfit_run.result, 1)
    for name in OUTPUTS:
        assert (overfit_run.out / name).is_file(), name
    # the outputs and the marker that lets a re-run replace them (core.outputs.MARKER)
    assert sorted(p.name for p in overfit_run.out.iterdir()) == sorted([*OUTPUTS, MARKER])
    # no staging folder left beside the output
    assert [p.name for p in overfit_run.out.parent.iterdir() if p.name.startswith(".")] == []

    document = json.loads((overfit_run.out / "result.json").read_text(encoding="utf-8"))
    gates = document["gates"]
    assert {g["metric"] for g in gates} == {
        "privacy.loss.auc",
        "privacy.loss.tpr_at_fpr_0.01",
        "utility.auroc",
        "fairness.recall_gap.sex",
    }
    auc_gate = next(g for g in gates if g["metric"] == "privacy.loss.auc")
    assert auc_gate["passed"] is False
    assert auc_gate["threshold"] == 0.6
    assert auc_gate["observed"] > 0.6
    timings = json.loads((overfit_run.out / "timings.json").read_text(encoding="utf-8"))
    assert {"load", "attack loss", "utility", "fairness"} <= timings.keys()
    assert all(isinstance(t, float | int) and t >= 0 for t in timings.values())
    html = (overfit_run.out / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")

    root = ET.parse(overfit_run.junit).getroot()
    cases = root.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == sorted(g["metric"] for g in gates)
    failures = root.findall(".//testcase/failure")
    assert len(failures) == sum(not g["passed"] for g in gates) >= 1
    messages = [f.get("message") or "" for f in failures]
    assert any("privacy.loss.auc" in m and "0.6" in m for m in messages), messages
    assert root.get("tests") == str(len(gates))
    assert root.get("failures") == str(len(failures))

    output = flat(overfit_run.result.output)
    assert "FAIL privacy.loss.auc" in output
    assert "exceeds max 0.6" in output


@pytest.mark.slow
def test_output_that_is_not_a_terminal_gets_one_line_per_stage(overfit_run: Run) -> None:
    """CI logs: progress bars would vanish, so each stage is a line with the elapsed time."""
    import re

    lines = re.findall(r"^\[ *(\d+\.\d) s\] (.+)$", overfit_run.result.output, re.MULTILINE)
    stages = [stage for _, stage in lines]
    assert stages[0] == "load" and stages[-1] == "done"
    assert {"attack loss", "utility", "baselines", "fairness"} <= set(stages)
    seconds = [float(t) for t, _ in lines]
    assert seconds == sorted(seconds)


@pytest.mark.slow
def test_reference_model_shards_are_reported(make_tree: Callable[..., Any], tmp_path: Path) -> None:
    from auditor.config.spec import load_spec
    from auditor.orchestration.progress import StageLog
    from auditor.orchestration.run import plan, run_audit

    tree = make_tree()
    spec = tree.spec("population")
    text = spec.read_text(encoding="utf-8").replace(
        'run = ["loss"]', 'run = ["loss", "lira_offline"]'
    )
    spec.write_text(text + "\n", encoding="utf-8")
    lines: list[str] = []
    parsed = load_spec(spec)
    parsed = dataclasses.replace(
        parsed, attacks=dataclasses.replace(parsed.attacks, reference_models=4)
    )
    run_audit(parsed, progress=StageLog(lines.append))
    assert any(line.endswith("4 reference models (offline)") for line in lines), lines
    assert any(line.endswith("reference models 4/4") for line in lines), lines
    # the progress bar's plan names every stage the audit reports, in its order; it may name
    # one the run skips (attribute inference on a column that is no categorical input, the
    # fit of training settings that the metadata states)
    stages = [line.split("] ", 1)[1] for line in lines if "]   reference models" not in line]
    planned = iter(plan(parsed))
    assert all(stage in planned for stage in stages), (stages, plan(parsed))
    skipped = [s for s in plan(parsed) if s not in stages]
    assert skipped == ["fit training settings", "attribute inference age_band"], skipped


def test_progress_bars_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal the progress is rich bars (a regression: the bar holder had lost its
    dataclass decorator, so the first bar raised TypeError)."""
    import io

    from rich.console import Console

    from auditor.cli import console

    screen = io.StringIO()
    monkeypatch.setattr(console, "err", Console(file=screen, force_terminal=True, width=100))
    with console.progress(["load", "attack loss"]) as bars:
        bars.stage("load")
        bars.shards(2, 4)
        bars.stage("attack loss")
    assert bars.started == ["load", "attack loss"] and bars.shard_task is None


@pytest.mark.slow
def test_all_gates_pass_exits_0(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    spec = tree.spec("population")
    replace_gates(
        spec,
        '"privacy.loss.auc" = { max = 0.95 }\n'
        '"utility.auroc" = { min = 0.5 }\n'
        '"fairness.recall_gap.sex" = { max = 0.9 }\n',
    )
    out, junit = tmp_path / "out", tmp_path / "gates.xml"
    result = cli("run", spec, "--out", out, "--junit", junit)
    assert_clean_exit(result, 0)
    document = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert len(document["gates"]) == 3
    assert all(g["passed"] for g in document["gates"])
    root = ET.parse(junit).getroot()
    assert len(root.findall(".//testcase")) == 3
    assert root.findall(".//failure") == []
    assert "FAIL" not in result.output


@pytest.mark.slow
def test_report_renders_from_the_json_alone(
    overfit_run: Run, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    # Only the result JSON, in a folder of its own: nothing else to render from.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy2(overfit_run.out / "result.json", alone / "result.json")
    target = tmp_path / "rerendered.html"
    result = cli("report", alone / "result.json", "--out", target)
    assert_clean_exit(result, 0)
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "overfit" in html
    assert "Run time" not in html  # no timings.json beside it: nothing to say about run time

    # Without --out the report lands beside the JSON; rendering is deterministic.
    result = cli("report", alone / "result.json")
    assert_clean_exit(result, 0)
    assert (alone / "report.html").read_bytes() == target.read_bytes()
    assert sorted(p.name for p in alone.iterdir()) == ["report.html", "result.json"]


@pytest.mark.slow
def test_report_html_equals_the_one_run_wrote(
    overfit_run: Run, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    target = tmp_path / "rerendered.html"
    result = cli("report", overfit_run.out / "result.json", "--out", target)
    assert_clean_exit(result, 0)
    assert target.read_bytes() == (overfit_run.out / "report.html").read_bytes()
    html = target.read_text(encoding="utf-8")
    method = html.split('<section id="method">', 1)[1]
    assert "<h3>Run time</h3>" in method and '<th scope="row">total</th>' in method


def test_malformed_timings_are_ignored_with_a_warning(
    overfit_run: Run, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    shutil.copy2(overfit_run.out / "result.json", tmp_path / "result.json")
    (tmp_path / "timings.json").write_text('{"load": "fast"}')
    result = cli("report", tmp_path / "result.json")
    assert_clean_exit(result, 0)
    assert "ignored" in result.output and "timings.json" in result.output
    assert "Run time" not in (tmp_path / "report.html").read_text(encoding="utf-8")


def _tamper_number(document: dict[str, Any]) -> None:
    auc = document["privacy"]["membership"]["loss"]["auc"]
    auc["value"] = round(auc["value"] - 0.3, 4)  # make the leaky model look safe


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(_tamper_number, "integrity", id="tampered-number"),
        pytest.param(lambda d: d.update(schema_version=0), "version", id="schema-version-0"),
    ],
)
def test_report_refuses_edited_results(
    overfit_run: Run,
    tmp_path: Path,
    cli: Callable[..., Result],
    edit: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    document = json.loads((overfit_run.out / "result.json").read_text(encoding="utf-8"))
    edit(document)
    edited = tmp_path / "result.json"
    edited.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    target = tmp_path / "report.html"
    result = cli("report", edited, "--out", target)
    assert_clean_exit(result, 2)
    output = flat(result.output)
    assert expected in output.lower(), output
    assert "result.json" in output
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


@pytest.mark.slow
def test_same_spec_twice_gives_identical_result_json(
    overfit_run: Run, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    again = tmp_path / "again"
    result = cli("run", overfit_run.spec, "--out", again)
    assert_clean_exit(result, 1)
    first = (overfit_run.out / "result.json").read_bytes()
    assert (again / "result.json").read_bytes() == first


def test_validate_good_spec_exits_0(
    demo_specs: dict[str, Path], cli: Callable[..., Result]
) -> None:
    spec = demo_specs["supervised"]
    result = cli("validate", spec)
    assert_clean_exit(result, 0)
    assert "valid" in result.output
    from auditor.demo import ATTACKS

    assert f"{len(ATTACKS)} attacks, 4 gates" in flat(result.output)


def test_validate_reports_bad_spec_with_exit_2(
    make_tree: Callable[..., Any], cli: Callable[..., Result]
) -> None:
    spec = make_tree().spec("supervised")
    spec.write_text(spec.read_text(encoding="utf-8") + "\n[extras]\nfoo = 1\n", encoding="utf-8")
    result = cli("validate", spec)
    assert_clean_exit(result, 2)
    output = flat(result.output)
    assert "supervised.toml" in output
    assert "[extras]" in output
    assert "Fix:" in output


def test_console_script_smoke(demo_specs: dict[str, Path]) -> None:
    script = Path(sys.executable).with_name("auditor")
    if not script.exists():
        found = shutil.which("auditor")
        assert found, "the `auditor` console script is not installed"
        script = Path(found)
    env = {**os.environ, "COLUMNS": "250"}
    proc = subprocess.run(
        [str(script), "validate", str(demo_specs["supervised"])],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout
    assert "Traceback" not in proc.stderr

    proc = subprocess.run(
        [str(script), "report", str(demo_specs["supervised"].parent / "nosuch.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "nosuch.json" in flat(proc.stderr)
    assert "Traceback" not in proc.stderr
