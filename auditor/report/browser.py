"""Open a rendered report in headless Chromium and record what a reader's browser sees.

Used by the browser test and to make the README's screenshot, so that the picture in the
README is the page the test checked. Needs the Debian packages ``chromium`` and
``chromium-driver`` and the Python packages ``selenium`` and ``pillow`` (the ``test`` extra);
none of them is imported until a check runs.

Usage: ``python -m auditor.report.browser REPORT.html [--screenshot FIRST_PAGE.png]`` prints
what the browser saw and exits 1 if the report fails a check.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WINDOW = (1200, 1500)  # CSS pixels: the first page of the screenshot
BLANK_LIMIT = 0.01  # a figure area with fewer non-white pixels than this share is blank
RENDER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class FigureArea:
    """One figure's box on the page and how much of it is drawn (non-white pixels)."""

    figure_id: str
    width: int
    height: int
    ink: float  # share of pixels that are not (near) white

    @property
    def blank(self) -> bool:
        return self.width == 0 or self.height == 0 or self.ink < BLANK_LIMIT


@dataclass(frozen=True)
class BrowserCheck:
    """What headless Chromium saw when it opened a report, with and without JavaScript."""

    console_errors: list[str]
    requests: list[str]  # every URL the page asked for, the report itself excluded
    figures: list[FigureArea]
    text_without_js: str
    fallback_notes: int  # figure placeholders showing their no-JavaScript note
    print_pages: int
    print_overflow_px: int  # how far the printed layout runs past the page width
    render_s: float  # from navigation to every figure drawn
    problems: list[str] = field(default_factory=list)
    pictures: int = 0  # inversion pictures drawn without JavaScript (SVG with pixels, sized)

    @property
    def passed(self) -> bool:
        return not self.problems


def chromium_paths() -> tuple[str, str]:
    """The Chromium and chromedriver executables; RuntimeError saying how to install them."""
    browser = os.environ.get("AUDITOR_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("AUDITOR_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver:
        raise RuntimeError(
            "headless Chromium is needed for the browser check: install the Debian packages "
            "(apt-get install chromium chromium-driver) or set AUDITOR_CHROMIUM and "
            "AUDITOR_CHROMEDRIVER to the executables"
        )
    return browser, driver


@contextmanager
def chromium(*, javascript: bool = True) -> Iterator[Any]:
    """A headless Chromium WebDriver that logs the console and the network, and cannot
    reach any host (every name resolves to nothing), so a request shows up but goes nowhere."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _ink(png: bytes) -> float:
    """Share of a screenshot's pixels that are not near-white."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    total = sum(histogram)
    return sum(histogram[:240]) / total if total else 0.0


def _requests(driver: Any, page_url: str) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url != page_url:
                urls.append(url)
    return urls


def _wait_for_figures(driver: Any, count: int) -> None:
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    script = (
        "return document.querySelectorAll('.figure .main-svg').length > 0 ? "
        "document.querySelectorAll('.figure.js-plotly-plot').length : 0"
    )
    while time.monotonic() < deadline:
        if driver.execute_script(script) >= count:
            return
        time.sleep(0.1)


def _figure_areas(driver: Any) -> list[FigureArea]:
    from selenium.webdriver.common.by import By

    # Figures inside closed details (each attack's own) are opened first, so that every
    # figure is measured; plotly redraws them at their container's width on resize.
    driver.execute_script(
        "document.querySelectorAll('details').forEach(d => { d.open = true; });"
        "window.dispatchEvent(new Event('resize'));"
    )
    time.sleep(0.5)
    areas = []
    for element in driver.find_elements(By.CSS_SELECTOR, "div.figure"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        size = element.size
        ink = _ink(element.screenshot_as_png) if size["width"] and size["height"] else 0.0
        areas.append(
            FigureArea(
                element.get_attribute("id") or "", int(size["width"]), int(size["height"]), ink
            )
        )
    return areas


def _print_layout(driver: Any) -> tuple[int, int]:
    """Pages of the printed PDF (A4) and how far the print layout overflows the page."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    overflow = int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    pdf = base64.b64decode(driver.print_page(options))
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"), max(overflow, 0)


def check_report(path: Path, screenshot: Path | None = None) -> BrowserCheck:
    """Open `path` with JavaScript on (console, network, figures, print layout) and off
    (text); write the first page's screenshot to `screenshot` if given."""
    url = path.resolve().as_uri()
    with chromium(javascript=True) as driver:
        start = time.perf_counter()
        driver.get(url)
        count = int(driver.execute_script("return document.querySelectorAll('div.figure').length"))
        _wait_for_figures(driver, count)
        render_s = time.perf_counter() - start
        if screenshot is not None:
            driver.execute_script("window.scrollTo(0, 0);")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(driver.get_screenshot_as_png())
        pages, overflow = _print_layout(driver)  # as a reader prints it: details closed
        figures = _figure_areas(driver)
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        requests = _requests(driver, url)
    with chromium(javascript=False) as driver:
        driver.get(url)
        from selenium.webdriver.common.by import By

        text = driver.find_element(By.TAG_NAME, "body").text
        notes = int(
            driver.execute_script(
                "return [...document.querySelectorAll('div.figure')]"
                ".filter(d => d.childElementCount === 0).length"
            )
        )
        pictures = int(
            driver.execute_script(
                "return [...document.querySelectorAll('figure.inversion-picture svg')]"
                ".filter(s => s.getBoundingClientRect().width > 0"
                " && s.querySelectorAll('rect').length > 0).length"
            )
        )
    problems = [f"console error: {e}" for e in errors]
    problems += [f"network request: {u}" for u in requests]
    problems += [f"figure {f.figure_id} is blank ({f.ink:.1%} drawn)" for f in figures if f.blank]
    if len(figures) != count:
        problems.append(f"{count} figures on the page, {len(figures)} measured")
    if notes != count:
        problems.append(f"without JavaScript {notes} of {count} figures show the fallback note")
    if overflow > 0:
        problems.append(f"printed layout runs {overflow}px past the page width")
    return BrowserCheck(
        errors, requests, figures, text, notes, pages, overflow, render_s, problems, pictures
    )


def main(argv: list[str] | None = None) -> int:
    """Check one report and print what the browser saw."""
    parser = argparse.ArgumentParser(prog="python -m auditor.report.browser", description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args(argv)
    check = check_report(args.report, args.screenshot)
    size = args.report.stat().st_size
    print(f"report: {args.report} ({size / 1e6:.2f} MB)")
    print(f"figures drawn in {check.render_s:.2f} s: {len(check.figures)}")
    for figure in check.figures:
        print(f"  {figure.figure_id}: {figure.width}x{figure.height}px, {figure.ink:.1%} drawn")
    print(f"console errors: {len(check.console_errors)}; network requests: {len(check.requests)}")
    print(
        f"without JavaScript: {len(check.text_without_js)} characters of text, "
        f"{check.fallback_notes} figure placeholders with their note"
    )
    print(f"printed (A4): {check.print_pages} pages, overflow {check.print_overflow_px}px")
    for problem in check.problems:
        print(f"PROBLEM: {problem}")
    return 0 if check.passed else 1


if __name__ == "__main__":
    sys.exit(main())
