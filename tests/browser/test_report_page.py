"""docs/report.html in a real browser (headless Chromium through Playwright): it loads
without console errors, never scrolls sideways on a 390 px wide screen, every in-page link
lands on an element, the filters hide what they should, and without script the page shows
everything and no filter. Screenshots at 390 and 1400 px go to reports/screenshots/.

The browser is the system's Chromium (Playwright's own download is not used): the path in
the environment variable ``CHROMIUM``, else the first of :data:`NAMES` on the PATH.
``nox -s browser`` installs it when missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE = ROOT / "docs" / "report.html"
SHOTS = ROOT / "reports" / "screenshots"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NARROW, WIDE = 390, 1400


def chromium_path() -> str:
    """The Chromium to drive; fails (never skips) when there is none."""
    path = os.environ.get("CHROMIUM") or next(
        (p for p in (shutil.which(n) for n in NAMES) if p), None)
    if not path:
        pytest.fail("no Chromium: install it (Debian: apt-get install chromium) or set "
                    "CHROMIUM to its path; nox -s browser installs it itself")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(),
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser: Browser, width: int, script: bool = True) -> tuple[Page, list[str]]:
    """The report at ``width`` px, and the list its console errors and uncaught
    exceptions are appended to."""
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=script)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(PAGE.as_uri())
    page.wait_for_load_state("load")
    others = [u for u in requests if u != PAGE.as_uri()]
    assert not others, f"the page asked for {others}"
    return page, errors


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_no_console_errors_and_screenshots(browser, width):
    page, errors = open_page(browser, width)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report-{width}-top.png"))
    page.locator("#summary-matrix").evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(SHOTS / f"report-{width}-matrix.png"))
    entry = page.locator("section.entry").first
    entry.locator("details").first.evaluate("d => d.open = true")
    entry.evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(SHOTS / f"report-{width}-entry.png"))
    assert errors == []


def test_no_sideways_scrolling_at_390_px(browser):
    page, _ = open_page(browser, NARROW)
    # with every reproducer open too
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(f"""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > {NARROW} + 1
                     && !e.closest('.scroll, pre'))
        .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)""")
    assert width <= NARROW, f"the page is {width} px wide; too wide: {wide}"


def test_every_in_page_link_lands_on_an_element(browser):
    page, _ = open_page(browser, WIDE)
    targets: list[str] = page.evaluate("""[...document.querySelectorAll('a')]
        .map(a => a.getAttribute('href')).filter(h => h && h.startsWith('#'))""")
    assert len(targets) > 50  # contents, matrix cells, heat map, cross-links
    ids = set(page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)"))
    missing = sorted({t[1:] for t in targets} - ids)
    assert not missing, missing


def _visible(page: Page, selector: str) -> list[dict[str, Any]]:
    """Elements matching ``selector`` with their facets and whether they are rendered."""
    return page.evaluate(f"""[...document.querySelectorAll({selector!r})].map(e => ({{
        framework: e.dataset.framework, op: e.dataset.op, kind: e.dataset.kind,
        shown: e.getClientRects().length > 0}}))""")


def test_choosing_a_framework_hides_the_others(browser):
    page, errors = open_page(browser, WIDE)
    assert page.locator("#filters").is_visible()
    options = page.eval_on_selector_all("select[name=framework] option",
                                        "os => os.map(o => o.value)")
    assert {"torch", "tensorflow", "keras", "mxnet"} <= set(options)
    before = _visible(page, "section.entry")
    assert all(e["shown"] for e in before)
    page.select_option("select[name=framework]", "mxnet")
    entries = _visible(page, "section.entry")
    mine = [e for e in entries if "mxnet" in e["framework"].split()]
    assert mine and all(e["shown"] for e in mine)
    others = [e for e in entries if "mxnet" not in e["framework"].split()]
    assert others and not any(e["shown"] for e in others)
    # the matrix's columns and the suite sections of other frameworks go too
    cells = _visible(page, "th[data-framework], td[data-framework], tr[data-framework]")
    assert any(c["shown"] for c in cells if c["framework"] == "mxnet")
    assert not any(c["shown"] for c in cells if c["framework"] != "mxnet")
    # so do the heat map's columns of other frameworks
    heat = _visible(page, "svg [data-framework]")
    assert any(c["shown"] for c in heat if c["framework"] == "mxnet")
    assert not any(c["shown"] for c in heat if c["framework"] != "mxnet")
    suites = _visible(page, "section.suite")
    # MXNet's suite sections (the default and each variant) stay, every other one goes
    assert {s["framework"] for s in suites if s["shown"]} == {"mxnet"}
    assert all(s["shown"] for s in suites if s["framework"] == "mxnet")
    status = page.locator("#filter-status").inner_text()
    assert status.startswith(f"{len(mine)} of {len(entries)}")
    # a second facet narrows further; "show all" brings everything back
    page.select_option("select[name=op]", "conv")
    narrowed = [e for e in _visible(page, "section.entry") if e["shown"]]
    assert all(e["op"] == "conv" and "mxnet" in e["framework"].split() for e in narrowed)
    assert len(narrowed) < len(mine)
    page.click("#filters button[type=reset]")
    page.wait_for_function("document.getElementById('filter-status').textContent"
                           f".startsWith('{len(entries)} of')")
    assert all(e["shown"] for e in _visible(page, "section.entry"))
    assert errors == []


def test_kind_and_pass_filters(browser):
    page, _ = open_page(browser, WIDE)
    page.select_option("select[name=kind]", "convention")
    entries = _visible(page, "section.entry")
    assert all(e["shown"] == (e["kind"] == "convention") for e in entries)
    passes = page.eval_on_selector_all("select[name=pass] option", "os => os.map(o => o.value)")
    assert "forward" in passes


def test_without_script_everything_shows_and_no_filter(browser):
    page, errors = open_page(browser, NARROW, script=False)
    assert not page.locator("#filters").is_visible()
    assert all(e["shown"] for e in _visible(page, "section.entry"))
    assert page.locator("nav a").count() > 10
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= NARROW
    assert errors == []
