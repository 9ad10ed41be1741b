"""The comparison report: one frontier point per result; refuses bad results."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app
from auditor.report.compare import render_comparison
from auditor.result.document import dumps


def _est(v: float) -> dict:
    return {"value": v, "lower": v - 0.01, "upper": v + 0.01, "resolvable": True, "note": None}


def _result(name: str, auroc: float, tprs: dict[str, float | None]) -> dict:
    membership = {}
    for attack, tpr in tprs.items():
        entry = (
            _est(tpr)
            if tpr is not None
            else {"value": None, "lower": None, "upper": None, "resolvable": False, "note": "n/r"}
        )
        membership[attack] = {"tpr_at_fpr": {"0.001": entry}}
    return {
        "run": {"name": name, "bootstrap": {"confidence": 0.95}},
        "artifact": {"kind": "model", "file_name": f"{name}.safetensors", "scheme": "x"},
        "privacy": {"membership": membership},
        "utility": {"artifact": {"auroc": _est(auroc)}},
        "data": {},
        "fairness": {},
        "gates": [],
    }


def test_frontier_takes_the_strongest_attack() -> None:
    page = render_comparison(
        [
            _result("<b>dp</b>", 0.74, {"loss": 0.001, "lira": 0.004}),
            _result("overfit", 0.76, {"loss": 0.02, "rmia": None}),
        ]
    )
    spec = json.loads(html.unescape(re.search(r'data-figure="([^"]+)"', page).group(1)))
    assert spec["data"][0]["y"] == [0.004, 0.02]
    assert spec["data"][0]["x"] == [0.74, 0.76]
    assert "<b>dp</b>" not in page and "&lt;b&gt;dp&lt;/b&gt;" in page


def test_compare_command_refuses_a_tampered_result(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.json", tmp_path / "b.json"
    good.write_text(dumps(_result("a", 0.7, {"loss": 0.01})))
    bad.write_text(dumps(_result("b", 0.7, {"loss": 0.01})).replace('"name": "b"', '"name": "c"'))
    out = tmp_path / "c.html"
    ok = CliRunner().invoke(app, ["compare", str(good), str(good), "--out", str(out)])
    assert ok.exit_code == 0 and out.exists()
    refused = CliRunner().invoke(
        app, ["compare", str(good), str(bad), "--out", str(tmp_path / "d.html")]
    )
    assert refused.exit_code == 2 and "integrity" in refused.output
    assert not (tmp_path / "d.html").exists()
