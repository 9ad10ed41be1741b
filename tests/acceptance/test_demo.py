"""`auditor demo` as a new user runs it: the quick tour (a leaky model, a DP model, a
condensed dataset, merged weights) audited end to end, a line per stage as it goes, each
fixture's result and report, and the comparison page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.demo.tour import QUICK


@pytest.mark.slow
def test_the_quick_demo_audits_one_artifact_of_each_kind(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    runner = CliRunner(env={"COLUMNS": "200"})
    outcome = runner.invoke(app, ["demo", "--out", str(out), "--bootstrap", "50"])
    assert outcome.exit_code == 0, outcome.output
    for i, name in enumerate(QUICK, start=1):
        assert f"audit {i}/{len(QUICK)}: {name}" in outcome.stderr  # stage lines as it goes
        result = json.loads((out / name / "result.json").read_text(encoding="utf-8"))
        assert (out / name / "report.html").stat().st_size > 0
        assert result["artifact"]["kind"] == {"condense": "dataset", "merge": "weights"}.get(
            name, "model"
        )
    assert (out / "comparison.html").stat().st_size > 0
    assert not (out / "supervised" / "result.json").exists()  # built as the baseline only
    # The leaky forest is found; the DP model is not.
    overfit = json.loads((out / "overfit" / "result.json").read_text(encoding="utf-8"))
    dp = json.loads((out / "dp_sgd" / "result.json").read_text(encoding="utf-8"))
    assert overfit["privacy"]["membership"]["lira_online"]["auc"]["lower"] > 0.9
    assert dp["privacy"]["membership"]["loss"]["auc"]["upper"] < 0.6
