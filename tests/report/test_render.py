"""Tests for the HTML report renderer (reports package)."""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markupsafe
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from auditor.report import render_report, write_report
from auditor.report.figures import fairness_figure, roc_figure
from auditor.report.formatting import fmt_interval, fmt_num, fmt_signed
from auditor.report.render import SECTION_IDS

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
HOSTILE = SCRIPT + ATTR
NOTE = "not resolvable with 500 non-members (needs at least 1000)"
REPORTS_DIR = Path(__file__).resolve().parents[2] / "auditor" / "report"


def _estimate(value: float, lower: float, upper: float) -> dict[str, float]:
    return {"value": value, "lower": lower, "upper": upper}


def _attack(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "n_members": 2000,
        "n_non_members": 2000,
        "auc": _estimate(0.8123, 0.79, 0.8333),
        "advantage": _estimate(0.45, 0.42, 0.48),
        "tpr_at_fpr": {
            "0.01": {**_estimate(0.05, 0.03, 0.08), "resolvable": True, "note": None},
            "0.001": {
                "value": None,
                "lower": None,
                "upper": None,
                "resolvable": False,
                "note": NOTE,
            },
        },
        "epsilon_lower_bound": {
            "value": 1.2,
            "confidence": 0.95,
            "delta": 1e-05,
            "method": "Clopper-Pearson; threshold chosen on one half, bound on the other",
        },
        "roc": {
            "fpr": [0.0, 0.0, 0.0005, 0.01, 0.1, 1.0],
            "tpr": [0.0, 0.002, 0.01, 0.05, 0.4, 1.0],
        },
        "roc_band": {
            "fpr": [0.0005, 0.01, 1.0],
            "tpr": [0.01, 0.05, 1.0],
            "lower": [0.0, 0.03, 1.0],
            "upper": [0.0321, 0.08, 1.0],
            "confidence": 0.95,
            "method": "pointwise percentile bootstrap (stratified), not a simultaneous band",
        },
    }


def make_result() -> dict[str, Any]:
    """A result dict with the shape of the auditor's sample result document."""
    return {
        "schema": "auditor.result",
        "schema_version": 1,
        "run": {
            "name": "overfit demo",
            "seed": 7,
            "spec_sha256": "ab12",
            "auditor_version": "0.1.0",
            "libraries": {"torch": "2.13.0", "scikit-learn": "1.9.1", "numpy": "2.4.6"},
            "bootstrap": {"replicates": 1000, "confidence": 0.95},
        },
        "artifact": {
            "kind": "model",
            "format": "safetensors",
            "file_name": "overfit.safetensors",
            "sha256": "cd34",
            "scheme": "supervised",
            "architecture": "mlp",
            "n_features": 48,
            "claims": {"epsilon": 3.0, "delta": 1e-05},
        },
        "data": {
            "label": "death",
            "sensitive": ["sex", "age_band"],
            "splits": {
                "members": {"file_name": "members.csv", "sha256": "ef56", "rows": 2000},
                "non_members": {"file_name": "non_members.csv", "sha256": "0a1b", "rows": 2000},
                "test": {"file_name": "test.csv", "sha256": "2c3d", "rows": 2000},
            },
        },
        "privacy": {
            "membership": {
                "loss": _attack("LOSS: score = -cross-entropy of the true label"),
                "rmia": _attack("RMIA with reference models"),
            }
        },
        "baselines": {
            "attack": "loss",
            "real_records": {
                "description": "real-records model from supervised.safetensors",
                "membership": {"auc": _estimate(0.561, 0.543, 0.579)},
                "utility": {"auroc": _estimate(0.771, 0.749, 0.794)},
            },
            "dp_sgd": {
                "description": "DP-SGD baseline <b>",
                "claims": {"epsilon": 2.999},
                "membership": {"auc": _estimate(0.524, 0.507, 0.541)},
                "utility": {"auroc": _estimate(0.760, 0.738, 0.781)},
            },
        },
        "utility": {
            "n_test": 2000,
            "artifact": {
                "accuracy": _estimate(0.70, 0.68, 0.72),
                "auroc": _estimate(0.75, 0.73, 0.77),
                "brier": {"value": None, "lower": None, "upper": None},
            },
            "baseline": {
                "description": "real-records model trained on the members",
                "metrics": {"accuracy": _estimate(0.72, 0.70, 0.74)},
            },
        },
        "fairness": {
            "sex": {
                "groups": {
                    "female": {
                        "n": 900,
                        "recall": 0.8,
                        "auroc": 0.74,
                        "false_positive_rate": 0.4,
                        "recall_interval": {"lower": 0.75, "upper": 0.84, "method": "exact"},
                        "auroc_interval": {"lower": 0.71, "upper": 0.78, "method": "bootstrap"},
                    },
                    "male": {"n": 1100, "recall": 0.77, "auroc": 0.76, "false_positive_rate": 0.35},
                },
                "recall_gap": {"value": 0.03},
                "auroc_gap": {"value": 0.02},
                "equalized_odds_difference": {"value": 0.05},
            }
        },
        "gates": [
            {
                "metric": "privacy.loss.tpr_at_fpr_0.01",
                "op": "max",
                "threshold": 0.02,
                "bound": "value",
                "observed": 0.05,
                "passed": False,
                "message": "privacy.loss.tpr_at_fpr_0.01 = 0.05 exceeds max 0.02",
            },
            {
                "metric": "utility.auroc",
                "op": "min",
                "threshold": 0.7,
                "bound": "value",
                "observed": 0.75,
                "passed": True,
                "message": "utility.auroc = 0.75 meets min 0.7",
            },
        ],
    }


def hostile_result() -> dict[str, Any]:
    """The result with script/attribute-breaking strings in names, file names and messages."""
    result = make_result()
    membership = result["privacy"]["membership"]
    membership[HOSTILE] = membership.pop("rmia")
    result["artifact"]["file_name"] = HOSTILE
    result["data"]["splits"]["test"]["file_name"] = HOSTILE
    result["fairness"]["sex"]["groups"][HOSTILE] = result["fairness"]["sex"]["groups"].pop("male")
    result["gates"][0]["message"] = HOSTILE
    return result


class _AttributeCollector(HTMLParser):
    """Collect (tag, attribute, value) of every start tag; script bodies are not parsed as HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def _attributes(document: str) -> list[tuple[str, str, str]]:
    parser = _AttributeCollector()
    parser.feed(document)
    parser.close()
    return parser.attributes


def _figures(document: str) -> dict[str, dict[str, Any]]:
    """Map figure div id -> figure dict parsed back from its data-figure attribute."""
    found = re.findall(r'<div class="figure" id="([^"]+)" data-figure="([^"]*)"></div>', document)
    return {div_id: json.loads(html.unescape(raw)) for div_id, raw in found}


def _section(document: str, section_id: str) -> str:
    start = document.index(f'<section id="{section_id}">')
    return document[start : document.index("</section>", start)]


@pytest.fixture(scope="module")
def report() -> str:
    return render_report(make_result())


def test_sections_present_in_order(report: str) -> None:
    assert re.findall(r'<section id="([^"]+)"', report) == list(SECTION_IDS)
    assert SECTION_IDS == (
        "summary",
        "verdict",
        "artifact",
        "membership",
        "utility",
        "fairness",
        "method",
        "glossary",
    )


def test_plotly_js_inlined_exactly_once(report: str) -> None:
    bundle = get_plotlyjs()
    assert report.count(bundle[:60]) == 1
    assert report.count(bundle) == 1
    assert "cdn.plot.ly/plotly" not in report.replace(bundle, "")


def test_no_remote_urls_in_src_or_href(report: str) -> None:
    for tag, name, value in _attributes(report):
        if name in {"src", "href"}:
            assert not value.strip().lower().startswith(("http://", "https://", "//")), tag
    assert not [a for a in _attributes(report) if a[0] in {"link", "img", "iframe"}]
    assert not [a for a in _attributes(report) if a[0] == "script" and a[1] == "src"]
    # Outside the library bundle the document holds no URL at all.
    rest = report.replace(get_plotlyjs(), "")
    assert "http://" not in rest
    assert "https://" not in rest


def test_unresolvable_tpr_shows_note_never_zero(report: str) -> None:
    membership = re.sub(r'data-figure="[^"]*"', "", _section(report, "membership"))
    # The band tables hold real zeros; each attack's own table and the overview do not.
    membership = re.sub(r'<details class="band">.*?</details>', "", membership, flags=re.S)
    cells = re.findall(r"TPR at 0\.1% FPR</th><td[^>]*>(.*?)</td>", membership)
    assert cells == [str(markupsafe.escape(NOTE))] * 2
    overview = membership.split('<div class="overlaid">', 1)[1].split("</table>", 1)[0]
    assert overview.count(str(markupsafe.escape(NOTE))) == 2  # one per attack
    assert "0.000" not in membership
    assert (
        re.findall(r"TPR at 1% FPR</th><td[^>]*>(.*?)</td>", membership)
        == ["0.050 [0.030, 0.080]"] * 2
    )


def test_unresolvable_without_note_is_not_zero() -> None:
    result = make_result()
    entry = result["privacy"]["membership"]["loss"]["tpr_at_fpr"]["0.001"]
    entry["note"] = None
    cell = re.search(r"TPR at 0\.1% FPR</th><td[^>]*>(.*?)</td>", render_report(result))
    assert cell is not None
    assert cell.group(1) == "not resolvable with this many non-members"


def test_numbers_formatted_consistently(report: str) -> None:
    assert "0.812 [0.790, 0.833]" in report
    assert "1.200 (95% confidence, δ = 1e-05)" in report
    utility = _section(report, "utility")
    assert re.search(r"Brier score</td><td class=\"num\">n/a</td>", utility)
    assert "-0.020" in utility
    assert fmt_interval({"value": 0.8123, "lower": 0.79, "upper": 0.8333}) == (
        "0.812 [0.790, 0.833]"
    )
    assert fmt_interval({"value": None, "note": "too few"}) == "too few"
    assert fmt_num(None) == "n/a"
    assert fmt_num(1e-05) == "1e-05"
    assert fmt_num(0.0) == "0.000"
    assert fmt_signed(None) == "n/a"
    assert fmt_signed(0.02) == "+0.020"


def test_hostile_strings_are_escaped() -> None:
    document = render_report(hostile_result())
    body = document.replace(get_plotlyjs(), "")
    for raw in (SCRIPT, ATTR, HOSTILE, "<img", "onerror=alert(1)>"):
        assert raw not in body
    # Escaped text is present in the artifact card, split table, gate message and headings.
    escaped = str(markupsafe.escape(HOSTILE))
    assert document.count(escaped) >= 5
    for section_id in ("verdict", "artifact", "membership", "fairness"):
        assert escaped in _section(document, section_id)
    # Figure JSON is attribute-escaped, and the names inside are entity-encoded for plotly.js.
    raw_attrs = re.findall(r'data-figure="([^"]*)"', document)
    assert len(raw_attrs) == 4  # the overlaid ROC, the attack's own, two fairness figures
    for raw in raw_attrs:
        assert "<" not in raw and ">" not in raw and "'" not in raw
    names: list[str] = []
    for figure in _figures(document).values():
        text = json.dumps(figure)
        assert SCRIPT not in text and "<img" not in text
        for trace in figure["data"]:
            names.append(trace["name"])
            names.extend(x for x in trace["x"] if isinstance(x, str))
    plotly_safe = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert names.count(plotly_safe) == 4  # both ROC traces' names + two fairness bars


def test_render_is_deterministic(report: str) -> None:
    result = make_result()
    assert render_report(result) == render_report(copy.deepcopy(result)) == report
    ids = re.findall(r'<div class="figure" id="([^"]+)"', report)
    assert ids == [
        "fig-roc-all-artifact-0",
        "fig-membership-loss-0",
        "fig-membership-rmia-1",
        "fig-fairness-sex-0",
    ]


def test_roc_figure_log_axes_without_zero_points(report: str) -> None:
    figure = _figures(report)["fig-membership-loss-0"]
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["type"] == "log"
    upper, lower, curve, diagonal = figure["data"]
    assert upper["y"] == [0.0321, 0.08, 1.0] and lower["fill"] == "tonexty"
    assert lower["y"] == [0.0005, 0.03, 1.0]  # a lower end of 0 is drawn at the axis floor
    assert curve["x"] == [0.0005, 0.01, 0.1, 1.0]
    assert curve["y"] == [0.01, 0.05, 0.4, 1.0]
    for trace in figure["data"]:
        assert all(v > 0 for v in trace["x"] + trace["y"])
    assert diagonal["line"]["dash"] == "dash"
    assert diagonal["x"] == diagonal["y"]


def test_roc_band_is_a_table_too(report: str) -> None:
    band = report.split("interval band as a table", 1)[1].split("</table>", 1)[0]
    assert '<td class="num">0.0005</td>' in band and "0.010 [0.000, 0.032]" in band


def test_roc_figure_function() -> None:
    figure = roc_figure("loss", [0.0, 0.2, 0.0, 1.0], [0.3, 0.0, 0.0, 1.0])
    assert figure["data"][0]["x"] == [1.0] and figure["data"][0]["y"] == [1.0]
    assert roc_figure("empty", [0.0], [0.0])["layout"]["annotations"]
    go.Figure(figure)  # plotly's own validator accepts the spec
    with pytest.raises(ValueError, match="FPR values"):
        roc_figure("bad", [0.1, 1.0], [1.0])


def test_fairness_figure_is_grouped_bars(report: str) -> None:
    figure = _figures(report)["fig-fairness-sex-0"]
    assert figure["layout"]["barmode"] == "group"
    assert [t["name"] for t in figure["data"]] == ["Recall", "AUROC"]
    assert figure["data"][0]["x"] == ["female", "male"]
    assert figure["data"][0]["y"] == [0.8, 0.77]
    # error bars from the groups' intervals; a group without one (male) gets none
    assert figure["data"][0]["error_y"]["array"] == pytest.approx([0.04, 0])
    assert figure["data"][0]["error_y"]["arrayminus"] == pytest.approx([0.05, 0])
    assert "0.800 [0.750, 0.840]" in _section(report, "fairness")
    assert "0.740 [0.710, 0.780]" in _section(report, "fairness")
    direct = fairness_figure("sex", {"a": {"recall": None, "auroc": 0.5}})
    go.Figure(direct)
    assert direct["data"][0]["y"] == [None]
    assert direct["data"][1]["y"] == [0.5]


def test_missing_baseline_empty_gates_and_no_claims_render() -> None:
    result = make_result()
    del result["utility"]["baseline"]
    result["gates"] = []
    del result["artifact"]["claims"]
    document = render_report(result)
    assert "No gates declared" in _section(document, "verdict")
    assert "Baseline" not in _section(document, "utility")
    assert "none declared" in _section(document, "artifact")
    result["artifact"]["claims"] = {}
    result["fairness"] = {}
    result["privacy"]["membership"] = {}
    document = render_report(result)
    assert "none declared" in _section(document, "artifact")
    assert re.findall(r'<section id="([^"]+)"', document) == list(SECTION_IDS)


def test_verdict_table(report: str) -> None:
    verdict = _section(report, "verdict")
    assert "Overall: FAIL" in verdict
    assert "≤ 0.020 (max)" in verdict and "≥ 0.700 (min)" in verdict
    assert "[0.730, 0.770]" in verdict  # interval looked up from the utility estimate


def test_offline_print_friendly_and_small(report: str) -> None:
    assert "@media print" in report
    assert "break-inside: avoid" in report
    assert len(report.encode("utf-8")) < 6_000_000


def test_only_one_unescaped_value_in_sources() -> None:
    sources = [*REPORTS_DIR.glob("*.py"), *REPORTS_DIR.glob("templates/*.j2")]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    assert text.count("Markup(") == 1
    assert "|safe" not in text.replace(" ", "")
    assert "autoescape=True" in text


def test_write_report_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    write_report(make_result(), target)
    write_report(make_result(), target)
    assert target.read_text(encoding="utf-8") == render_report(make_result())
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_rejects_non_dict() -> None:
    with pytest.raises(TypeError):
        render_report([])  # type: ignore[arg-type]


def test_summary_sets_the_artifact_beside_both_baselines(report: str) -> None:
    summary = _section(report, "summary")
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>', summary)
    assert rows == [
        ("The shared artifact", "0.812 [0.790, 0.833]"),
        ("Model trained on the real records", "0.561 [0.543, 0.579]"),
        ("DP-SGD model on the real records (epsilon 2.999)", "0.524 [0.507, 0.541]"),
    ]
    assert "0.760 [0.738, 0.781]" in summary and "DP-SGD baseline &lt;b&gt;." in summary
    del_baselines = {k: v for k, v in make_result().items() if k != "baselines"}
    assert "Beside the real-records model" not in render_report(del_baselines)


def test_method_gives_reference_models_and_run_time_when_timings_are_given() -> None:
    result = make_result()
    result["run"]["reference_models"] = {
        "k": 64,
        "recipe": "supervised",
        "modes": ["offline", "online"],
        "device": "cpu",
    }
    method = _section(render_report(result, {"load": 1.25, "attack lira_online": 10.0}), "method")
    assert "64 per mode (offline, online), re-running the supervised recipe, trained on cpu" in (
        method
    )
    rows = re.findall(r'<th scope="row">(.*?)</th><td class="num">(.*?)</td>', method)
    assert rows == [("attack lira_online", "10.0 s"), ("load", "1.2 s"), ("total", "11.2 s")]
    assert "Run time" not in _section(render_report(make_result()), "method")


def test_one_overlaid_roc_per_target_model_with_every_attack(report: str) -> None:
    figure = _figures(report)["fig-roc-all-artifact-0"]
    curves = [t for t in figure["data"] if t.get("showlegend", True) and "legendgroup" in t]
    assert [t["name"] for t in curves] == ["loss", "rmia"]
    assert figure["layout"]["xaxis"]["type"] == figure["layout"]["yaxis"]["type"] == "log"
    for curve in curves:  # a legend click hides the curve and its band together
        band = [t for t in figure["data"] if t.get("legendgroup") == curve["legendgroup"]]
        assert len(band) == 3 and sum(t.get("showlegend", True) for t in band) == 1
    # A dataset's attacks run on each consumer model: one overlaid figure per consumer.
    result = make_result()
    membership = result["privacy"]["membership"]
    result["privacy"]["membership"] = {
        f"{attack}@{consumer}": entry
        for attack, entry in membership.items()
        for consumer in ("mlp", "random_forest")
    }
    ids = re.findall(r'<div class="figure" id="(fig-roc-all-[^"]+)"', render_report(result))
    assert ids == ["fig-roc-all-mlp-0", "fig-roc-all-random-forest-1"]
