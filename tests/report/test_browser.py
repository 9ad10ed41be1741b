"""The demo report in headless Chromium: no console error, no network request, every figure
drawn, every number readable with JavaScript off, and a print layout that fits the page.

Needs the Debian packages chromium and chromium-driver (`.ci/run` installs them). Without
them the test fails and says so; set AUDITOR_SKIP_BROWSER=1 to skip it knowingly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditor.report import render_report
from auditor.report.browser import check_report
from auditor.report.formatting import fmt_interval

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    if shutil.which("chromium") and shutil.which("chromedriver"):
        return
    if os.environ.get("AUDITOR_SKIP_BROWSER") == "1":
        pytest.skip("AUDITOR_SKIP_BROWSER=1 and no chromium/chromedriver on PATH")
    pytest.fail(
        "chromium and chromedriver are not on PATH: apt-get install chromium chromium-driver "
        "(or set AUDITOR_SKIP_BROWSER=1 to skip the browser check)"
    )


@pytest.fixture(scope="module")
def overfit_report(
    demo_results: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(render_report(demo_results["overfit"]), encoding="utf-8")
    return path, demo_results["overfit"]


def _numbers(result: dict[str, Any]) -> list[str]:
    """Numbers the report must show as text: every attack's AUC and TPRs, the utility and
    the baselines' figures."""
    out = []
    for figures in result["privacy"]["membership"].values():
        out.append(fmt_interval(figures["auc"]))
        out += [fmt_interval(t) for t in figures["tpr_at_fpr"].values()]
    out.append(fmt_interval(result["utility"]["artifact"]["auroc"]))
    for baseline in ("real_records", "dp_sgd"):
        entry = result["baselines"][baseline]
        out += [fmt_interval(entry["membership"]["auc"]), fmt_interval(entry["utility"]["auroc"])]
    return out


def test_demo_report_in_chromium(overfit_report: tuple[Path, dict[str, Any]]) -> None:
    path, result = overfit_report
    shot = path.with_name("first-page.png")
    check = check_report(path, screenshot=shot)
    assert check.console_errors == []
    assert check.requests == []
    attacks = len(result["privacy"]["membership"])
    sensitive = len(result["data"]["sensitive"])
    # One overlaid ROC of every attack, each attack's own (collapsed), one risk-by-group
    # picture per sensitive attribute, one fairness figure per attribute.
    assert len(check.figures) == 1 + attacks + sensitive + len(result["fairness"])
    assert check.figures[0].figure_id.startswith("fig-roc-all-")
    assert [f.figure_id for f in check.figures if f.blank] == []
    assert all(f.width >= 600 and f.height >= 300 for f in check.figures)
    missing = [n for n in _numbers(result) if n not in check.text_without_js]
    assert missing == []
    assert "Summary for reviewers" in check.text_without_js
    assert check.fallback_notes == len(check.figures)
    # A4 print: at most 8 pages (each attack's details and the group tables stay closed).
    assert check.print_overflow_px == 0 and 3 <= check.print_pages <= 8, check.print_pages
    assert check.passed, check.problems
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_check_catches_errors_requests_and_blank_figures(
    overfit_report: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = overfit_report
    html = path.read_text(encoding="utf-8")
    figure_id = html.split('<div class="figure" id="', 1)[1].split('"', 1)[0]
    broken = html.replace(
        "</body>",
        f"<style>#{figure_id} {{ visibility: hidden; }}</style>"
        "<script>console.error('deliberate'); fetch('https://example.org/beacon');</script>"
        "</body>",
    )
    bad = path.with_name("broken.html")
    bad.write_text(broken, encoding="utf-8")
    check = check_report(bad)
    assert any("deliberate" in e for e in check.console_errors)
    assert "https://example.org/beacon" in check.requests
    assert [f.figure_id for f in check.figures if f.blank] == [figure_id]
    assert not check.passed


def test_an_image_models_report_shows_its_inversion_pictures(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Digits CNN (not patient data): MIFace's and the gradient reconstruction's one
    reconstruction per class drawn as pictures, without JavaScript, with no console error
    and no network request."""
    from auditor.config.spec import load_spec
    from auditor.demo.images import build_image_fixture
    from auditor.orchestration.run import run_audit

    folder = tmp_path_factory.mktemp("image-report")
    fixture = build_image_fixture(folder, name="cnn", attacks=("loss",))
    result = run_audit(load_spec(fixture.spec)).result
    path = folder / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    check = check_report(path)
    assert check.console_errors == [] and check.requests == []
    assert check.pictures == 20  # one per digit class and method
    assert "class 9" in check.text_without_js and "not patient data" in check.text_without_js
    assert check.passed, check.problems
