"""The pytest plugin: one test item per gate, failing with value, interval and threshold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from auditor.result.document import dumps

pytest_plugins = ["pytester"]

GATES = [
    {
        "metric": "privacy.loss.auc",
        "op": "max",
        "threshold": 0.6,
        "bound": "value",
        "observed": 0.85,
        "interval": [0.84, 0.86],
        "passed": False,
        "message": "privacy.loss.auc = 0.85 (CI 0.84-0.86) exceeds max 0.6",
    },
    {
        "metric": "utility.auroc",
        "op": "min",
        "threshold": 0.7,
        "bound": "value",
        "observed": 0.76,
        "interval": [0.74, 0.79],
        "passed": True,
        "message": "utility.auroc = 0.76 (CI 0.74-0.79) meets min 0.7",
    },
]


@pytest.fixture
def result_file(pytester: pytest.Pytester) -> Path:
    path = pytester.path / "result.json"
    sections = {k: {} for k in ("artifact", "data", "utility", "fairness")}
    document = {"run": {"name": "x"}, "privacy": {"membership": {}}, **sections, "gates": GATES}
    path.write_text(dumps(document))
    return path


def test_gates_become_items(pytester: pytest.Pytester, result_file: Path) -> None:
    junit = pytester.path / "gates.xml"
    run = pytester.runpytest("--audit-result", str(result_file), f"--junitxml={junit}")
    run.assert_outcomes(passed=1, failed=1)
    run.stdout.fnmatch_lines(
        ["*gate failed: privacy.loss.auc = 0.85 (CI 0.84-0.86) exceeds max 0.6*"]
    )
    cases = ET.parse(junit).getroot().iter("testcase")
    assert {c.get("name") for c in cases} == {"privacy.loss.auc", "utility.auroc"}


def test_tampered_result_is_a_usage_error(pytester: pytest.Pytester, result_file: Path) -> None:
    result_file.write_text(result_file.read_text().replace("0.85", "0.55"))
    run = pytester.runpytest("--audit-result", str(result_file))
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*integrity*"])


@pytest.mark.slow
def test_audit_option_runs_the_spec(pytester: pytest.Pytester, demo_specs: dict) -> None:
    import re
    import shutil

    root = pytester.path / "demo"
    shutil.copytree(Path(demo_specs["overfit"]).parent.parent, root)
    spec = root / "specs" / "overfit.toml"
    spec.write_text(re.sub(r"(?m)^run = .*$", 'run = ["loss"]', spec.read_text()))
    run = pytester.runpytest("--audit", str(spec))
    run.assert_outcomes(passed=2, failed=2)  # the overfit forest fails both LOSS gates
    run.stdout.fnmatch_lines(["*gate failed: privacy.loss.auc = 0.8*exceeds max 0.6*"])
