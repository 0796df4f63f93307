"""The report in a real browser: Debian's chromium driven by Playwright's Python API, pages
opened from file:// URLs at a fixed viewport, every request routed so that anything other
than a local file is blocked and recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus
from tests.conftest import SEEDS
from tests.test_report import add_annotations

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does it)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    store = base / "store.sqlite"
    add_annotations(store)
    out = base / "site"
    result = CliRunner().invoke(app, ["report", str(SEEDS), "--out", str(out),
                                      "--store", str(store)])
    assert result.exit_code == 0, result.output
    return out


class Browser:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.requested: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requested.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.resolve().as_uri())


@pytest.fixture(scope="module")
def browser(site: Path) -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": 1280, "height": 900})
        br = Browser(page)
        yield br
        b.close()
    assert br.errors == [], br.errors
    assert br.blocked == [], br.blocked


def test_overview_heatmap_and_titles(site: Path, browser: Browser) -> None:
    page = browser.page
    browser.open(site / "index.html")
    corpus = load_corpus([SEEDS])
    table = page.locator("table.corpus")
    for d in corpus:
        assert table.get_by_text(d.meta.title or d.id, exact=True).is_visible()
    cells = page.locator("svg.heatmap rect.cell")
    themes = page.locator("table.themes tbody tr").count()
    assert themes == 9
    assert cells.count() == themes * len(corpus)
    # Keyboard: the first heatmap link takes focus and shows it.
    link = page.locator("svg.heatmap a").first
    link.focus()
    assert page.evaluate("document.activeElement.tagName.toLowerCase()") == "a"
    # Clicking a cell shows the sentences behind it.
    cell = page.locator("svg.heatmap a rect.cell").nth(3)
    count = int(cell.get_attribute("data-count") or "0")
    assert count > 0
    cell.click()
    page.wait_for_load_state()
    assert "/cells/" in page.url
    assert page.locator("li.cell-hit").count() == count
    assert page.locator("li.cell-hit").first.is_visible()
    assert browser.requested and all(u.startswith("file://") for u in browser.requested)


def test_every_statement_page_shows_its_title(site: Path, browser: Browser) -> None:
    page = browser.page
    for d in load_corpus([SEEDS]):
        browser.open(site / "docs" / f"{d.id}.html")
        title = page.locator("h1.doc-title")
        assert title.is_visible()
        assert title.inner_text() == (d.meta.title or d.path.name)
        # The page's text is the file's text (the page's additions excluded).
        shown = page.evaluate("""() => {
            const t = document.getElementById('text').cloneNode(true);
            t.querySelectorAll('.x').forEach(e => e.remove());
            return t.textContent; }""")
        assert shown == d.text.replace("\r\n", "\n")


def test_reuse_link_lands_on_the_highlighted_passage(site: Path, browser: Browser) -> None:
    page = browser.page
    browser.open(site / "reuse" / "passages-1.html")
    section = page.locator("section.passage").first
    pid = section.get_attribute("id")
    section.locator(".side h3 a").nth(1).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"#{pid}")
    current = page.locator(".m.rp.current")
    assert current.count() >= 1
    assert current.first.is_visible()
    assert current.first.evaluate("e => e.getBoundingClientRect().top") < 900
    # And back: the passage link in the text leads to the side-by-side view.
    page.locator(f"a.pl#{pid}").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"passages-1.html#{pid}")
    assert page.locator(f"section.passage#{pid}").is_visible()


def test_tooltip_on_focus_and_filters(site: Path, browser: Browser) -> None:
    page = browser.page
    browser.open(site / "docs" / "002.html")
    page.keyboard.press("Tab")  # the skip link
    run = page.locator(".m.an").first
    run.focus()
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert "alice" in tip.inner_text() and "Allies <b>named</b>" in tip.inner_text()
    page.keyboard.press("Escape")
    assert not tip.is_visible()
    page.locator('.m.an[data-a="1"]', has_text=re.compile(r"\w\w")).first.hover()  # bob's
    assert tip.is_visible() and "bob" in tip.inner_text()
    page.mouse.move(1, 1)
    assert not tip.is_visible()
    # Hide alice's annotations: the run she alone annotated loses its underline and tab stop.
    alone = page.locator('.m.an[data-a="0"]').first
    assert alone.evaluate("e => getComputedStyle(e).boxShadow") != "none"
    page.locator('input[data-filter="user"][value="u0"]').uncheck()
    assert alone.evaluate("e => getComputedStyle(e).boxShadow") == "none"
    assert alone.get_attribute("tabindex") is None
    assert not page.locator("#ann-0").is_visible()
    page.locator('input[data-filter="user"][value="u0"]').check()
    assert alone.get_attribute("tabindex") == "0"
