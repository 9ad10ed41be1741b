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
    assert [t["y"] for t in spec["data"]] == [[0.004], [0.02]]
    assert [t["x"] for t in spec["data"]] == [[0.74], [0.76]]
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


def _frontiers(page: str) -> list[dict]:
    return [json.loads(html.unescape(m)) for m in re.findall(r'data-figure="([^"]+)"', page)]


def test_the_frontier_has_a_log_tpr_axis_and_draws_every_artifact() -> None:
    results = [_result(f"r{i}", 0.70 + i / 100, {"loss": t}) for i, t in enumerate(
        [0.53, 0.004, 0.001, 0.02, 0.0, 0.0015]
    )]  # fmt: skip
    for r in results:
        r["privacy"]["membership"]["loss"]["n_non_members"] = 2000
    [figure] = _frontiers(render_comparison(results))
    assert figure["layout"]["yaxis"]["type"] == "log"
    names = [t["name"] for t in figure["data"]]
    assert names == [f"r{i}" for i in range(6)]  # each artifact its own trace: no text labels
    assert all(t["mode"] == "markers" and "text" not in t for t in figure["data"])
    # A TPR of 0 sits on the marked floor, 1 / non-members, as an open circle.
    floor = figure["layout"]["shapes"][0]["y0"]
    assert (
        floor == 1 / 2000 and "1 / 2000 non-members" in figure["layout"]["annotations"][0]["text"]
    )
    zero = figure["data"][4]
    assert zero["y"] == [floor] and zero["marker"]["symbol"] == "circle-open"


def test_results_on_different_data_get_their_own_frontier() -> None:
    a, b = _result("support2", 0.74, {"loss": 0.01}), _result("dialysis", 0.66, {"loss": 0.02})
    a["data"] = {"splits": {"members": {"sha256": "aa"}, "test": {"sha256": "ab"}}}
    b["data"] = {"splits": {"members": {"sha256": "ba"}, "test": {"sha256": "bb"}}}
    page = render_comparison([a, b])
    figures = _frontiers(page)
    assert [[t["name"] for t in f["data"]] for f in figures] == [["support2"], ["dialysis"]]
    assert "not comparable" in page
