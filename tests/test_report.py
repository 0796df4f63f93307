"""`annotate report`: the static site's structure (every local link and anchor resolves, nothing
external), its text fidelity, its figures against the core's, hostile input, and the folder
rules. The browser tests are in test_report_browser.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus
from annotate.palette import OKABE_ITO, palette, text_on, to_hex
from annotate.report.reading import layout_text
from annotate.store import Store
from annotate.themes import load_codebook, match_corpus
from annotate.themes_render import counts_by_theme
from tests.conftest import SEEDS

runner = CliRunner()


class Page(HTMLParser):
    """Ids, links and the text of `div#text` (without the page's own `.x` additions)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, bool, bool]] = []  # tag, in text, in an .x element
        self.classes: list[str] = []
        self.cells: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
        for key in ("href", "src", "xlink:href"):
            if key in a:
                self.links.append(a[key])
        cls = a.get("class", "").split()
        self.classes += cls
        if tag == "rect" and "cell" in cls:
            self.cells.append(a)
        in_text, in_x = self.stack[-1][1:] if self.stack else (False, False)
        if tag in ("br", "meta", "link", "input", "img"):
            return
        self.stack.append((tag, in_text or a.get("id") == "text", in_x or "x" in cls))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "meta", "link", "input", "img"):
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "meta", "link", "input", "img"):
            return
        assert self.stack and self.stack[-1][0] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][1] and not self.stack[-1][2]:
            self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def add_annotations(store: Path) -> None:
    with Store.open(store) as st:
        corpus = load_corpus([SEEDS])
        d = corpus.get("002")
        s = d.sentences[2]
        st.add(d, s.start, s.end, themes=("cooperation", "protection"),
               note="Allies <b>named</b>", user="alice")
        st.add(d, s.start + 10, s.end + 40, themes=("whole-of-route",),
               note="crosses a sentence", user="bob")
        st.add(corpus.get("003"), 0, 40, themes=("returns",), user="bob", status="suggested")


@pytest.fixture(scope="module")
def seeds_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    store = base / "store.sqlite"
    add_annotations(store)
    out = base / "site"
    result = runner.invoke(app, ["report", str(SEEDS), "--out", str(out), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "for 5 statements, 3 annotations, " in result.stdout
    return out


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def check_links(seeds_report: Path) -> int:
    """Every local link resolves inside the folder, with its anchor; none is external."""
    pages = {p.resolve(): parse(p) for p in html_pages(seeds_report)}
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{path.name}: external {link}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path.name}: broken link {link}"
            assert seeds_report.resolve() in target.parents, f"{link} leaves the folder"
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids
                assert unquote(parts.fragment) in ids, f"{path.name}: no #{parts.fragment}"
            checked += 1
    return checked


def test_every_local_link_and_anchor_resolves_and_nothing_is_external(seeds_report: Path
                                                                       ) -> None:
    assert len(html_pages(seeds_report)) > 10
    assert check_links(seeds_report) > 500
    css = (seeds_report / "assets" / "report.css").read_text(encoding="utf-8")
    js = (seeds_report / "assets" / "report.js").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    assert not re.search(r"https?:|fetch\(|XMLHttpRequest|import\(", js)


def test_reading_view_text_is_the_file_text(seeds_report: Path) -> None:
    corpus = load_corpus([SEEDS])
    for d in corpus:
        page = parse(seeds_report / "docs" / f"{d.id}.html")
        assert "".join(page.text) == layout_text(d.text)
        for s in d.sentences:
            assert s.id in page.ids
        for p in d.paragraphs:
            assert p.id in page.ids


def test_heatmap_counts_are_the_theme_matrix(seeds_report: Path) -> None:
    corpus = load_corpus([SEEDS])
    cb = load_codebook(SEEDS / "themes.toml")
    hits = match_corpus(cb, corpus)
    docs = sorted(corpus.documents, key=lambda d: d.meta.sort_key)
    expected = counts_by_theme(cb, docs, hits)
    page = parse(seeds_report / "index.html")
    assert len(page.cells) == len(cb.themes) * len(docs)
    for cell in page.cells:
        assert int(cell["data-count"]) == expected[cell["data-theme"]][int(cell["data-col"])]
    # A cell's page lists exactly the sentences it counts.
    busy = max(page.cells, key=lambda c: int(c["data-count"]))
    theme_key = next(f"t{i}" for i, t in enumerate(cb.themes) if t.id == busy["data-theme"])
    cell_page = (seeds_report / "cells" / f"{theme_key}-c{busy['data-col']}.html")
    text = cell_page.read_text(encoding="utf-8")
    assert text.count('<li class="cell-hit">') == int(busy["data-count"])


def test_annotations_shared_passages_and_colours_are_shown(seeds_report: Path) -> None:
    page = (seeds_report / "docs" / "002.html").read_text(encoding="utf-8")
    # Two annotations overlap: the overlap carries both, with stacked underlines.
    assert re.search(r'data-a="0 1" tabindex="0" style="box-shadow:0 3px 0 #[0-9A-F]{6},'
                     r"0 6px 0 #[0-9A-F]{6}", page)
    assert "Allies &lt;b&gt;named&lt;/b&gt;" in page and "<b>named" not in page
    cb = load_codebook(SEEDS / "themes.toml")
    assert palette(cb).hex("cooperation") in page
    # Both sides of a shared passage link to each other through the passages page.
    passages = (seeds_report / "reuse" / "passages-1.html").read_text(encoding="utf-8")
    from annotate.reuse import find_reuse

    shared = len(find_reuse(load_corpus([SEEDS])).passages)
    assert shared > 0 and passages.count('<section class="passage"') == shared
    assert "<del>" in passages or "<ins>" in passages
    clusters = (seeds_report / "reuse" / "clusters-1.html").read_text(encoding="utf-8")
    assert "earliest source" in clusters


def test_hostile_document_is_escaped_and_controls_made_visible(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    evil = ("Intro <script>alert('x')</script> &amp; \x1b]52;c;aGk=\x07 bell.\n\n"
            "Second \u202eparagraph\u202c with </div></span> tags.\n")
    (corpus / "evil.txt").write_text(evil, encoding="utf-8")
    (corpus / "plain.txt").write_text("A plain statement. Nothing to see.\n", encoding="utf-8")
    (corpus / "corpus.toml").write_text(
        '[[document]]\nfile = "evil.txt"\ntitle = "<img src=x onerror=alert(1)>"\n'
        'speakers = ["</td><script>s</script>"]\n', encoding="utf-8")
    store = tmp_path / "s.sqlite"
    with Store.open(store) as st:
        st.add(load_corpus([corpus]).get("evil"), 0, 5, user="<u>mallory</u>",
               note="</script><script>alert(2)</script>", themes=("<x>",))
    out = tmp_path / "site"
    codebook = tmp_path / "themes.toml"
    codebook.write_text(
        '[meta]\nname = "<b>cb</b>"\n\n[[theme]]\nid = "intro"\n'
        'label = "<script>alert(3)</script>"\npatterns = ["intro"]\ncolor = "#FF0000"\n',
        encoding="utf-8")
    result = runner.invoke(app, ["report", str(corpus), "--out", str(out), "--store", str(store),
                                 "--codebook", str(codebook), "--no-reuse"])
    assert result.exit_code == 0, result.output
    for page in html_pages(out):
        html = page.read_text(encoding="utf-8")
        assert "<script>" not in html.replace('<script src="', "")
        assert "<img" not in html and "<u>" not in html and "</td><script" not in html
        assert "\x1b" not in html and "\x07" not in html and "\u202e" not in html
        parse(page)  # balanced: the text's tags did not become elements
    assert "&lt;script&gt;alert(3)" in (out / "index.html").read_text(encoding="utf-8")
    doc = (out / "docs" / "evil.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;amp;" in doc
    assert "␛]52;c;aGk=␇" in doc
    page = parse(out / "docs" / "evil.html")
    assert "".join(page.text) == layout_text(evil)


def test_folder_rules(tmp_path: Path) -> None:
    out = tmp_path / "site"
    args = ["report", str(SEEDS), "--out", str(out), "--no-reuse"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert again.stderr.strip() == f"Error: {out} exists; use --force to replace the report"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert not list(tmp_path.glob(".site*"))  # no temporary folder left behind
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious", encoding="utf-8")
    refused = runner.invoke(app, ["report", str(SEEDS), "--out", str(mine), "--force",
                                  "--no-reuse"])
    assert refused.exit_code == 1
    assert "not written by `annotate report`" in refused.stderr
    assert (mine / "thesis.txt").read_text(encoding="utf-8") == "precious"
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    bad = runner.invoke(app, ["report", str(SEEDS), "--out", str(a_file), "--no-reuse"])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: ")
    missing = runner.invoke(app, ["report", str(SEEDS), "--out", str(out), "--force",
                                  "--store", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"Error: {tmp_path / 'none.sqlite'}: no such annotation store"


def test_palette() -> None:
    assert to_hex("#1f77b4") == "#1F77B4"
    assert to_hex("cyan") == "#56B4E9"
    assert to_hex("dark_orange3") == "#D75F00"
    with pytest.raises(ValueError, match="unknown colour"):
        to_hex("no-such-colour")
    cb = load_codebook(SEEDS / "themes.toml")
    pal = palette(cb, extra=["not-in-codebook"])
    assert len(set(pal.colors.values())) == len(pal.colors)  # every theme its own colour
    assert pal.hex("not-in-codebook") in OKABE_ITO
    assert pal.hex("unknown") == "#777777"
    assert text_on("#000000") == "#FFFFFF" and text_on("#F0E442") == "#000000"
    no_colours = palette(None, extra=["a", "b", "c"])
    assert [no_colours.hex(t) for t in "abc"] == list(OKABE_ITO[:3])


def test_a_large_corpus_is_paginated_and_the_overview_holds_no_texts(tmp_path: Path) -> None:
    corpus = tmp_path / "big"
    corpus.mkdir()
    rows = []
    for i in range(250):
        name = f"{i:03d}.txt"
        (corpus / name).write_text(
            f"Statement {i} on the return of migrants to their home country.\n\n"
            f"Unique closing words number {i} here.\n", encoding="utf-8")
        date = f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}"
        rows.append(f'[[document]]\nfile = "{name}"\ndate = "{date}"\n')
    (corpus / "corpus.toml").write_text("\n".join(rows), encoding="utf-8")
    out = tmp_path / "site"
    result = runner.invoke(app, ["report", str(corpus), "--out", str(out), "--no-reuse",
                                 "--codebook", str(SEEDS / "themes.toml")])
    assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Unique closing words" not in index
    assert (out / "statements-3.html").is_file() and not (out / "statements-4.html").exists()
    assert len(list((out / "docs").glob("*.html"))) == 250
    cells = parse(out / "index.html").cells
    columns = {c["data-col"] for c in cells}
    assert 1 < len(columns) <= 60
    assert len(cells) == len(columns) * 9
    returns = sum(int(c["data-count"]) for c in cells if c["data-theme"] == "returns")
    assert returns == 250
    assert check_links(out) > 250


def test_columns_group_by_date_or_in_runs() -> None:
    from annotate.corpus import Corpus
    from annotate.model import Document, Metadata
    from annotate.report import ReportData

    def docs(n: int, dated: bool) -> Corpus:
        return Corpus(tuple(
            Document(Path(f"{i:03d}.txt"), "Text.", Metadata(
                id=f"{i:03d}", date=f"1916-01-{1 + i % 3:02d}" if dated else None))
            for i in range(n)))

    by_date = ReportData(docs(130, dated=True)).columns
    assert [c.label for c in by_date] == ["1916-01-01", "1916-01-02", "1916-01-03"]
    runs = ReportData(docs(130, dated=False)).columns
    assert len(runs) == 44 and runs[0].label == "#1–3" and runs[-1].label == "#130"
    for cols in (by_date, runs):
        assert sorted(d.id for c in cols for d in c.docs) == [f"{i:03d}" for i in range(130)]
    assert len(ReportData(docs(7, dated=False)).columns) == 7


def test_reading_markup_golden() -> None:
    """The markup of a small statement with overlapping annotations, a codebook hit and a
    shared passage (tests/data/report/reading.html; UPDATE_GOLDEN=1 rewrites it)."""
    from annotate.corpus import Corpus
    from annotate.model import (
        Annotation,
        Codebook,
        Document,
        Evidence,
        Metadata,
        Passage,
        Side,
        Theme,
        ThemeHit,
    )
    from annotate.report import ReportData
    from annotate.report.reading import read
    from tests.conftest import DATA, check_golden

    text = "Returns rose <fast>. Smugglers\x1b adapt!\r\n\r\nA new paragraph, shared.\n"
    a = Document(Path("a.txt"), text, Metadata(id="a", date="2020"))
    b = Document(Path("b.txt"), "Before. A new paragraph, shared.\n", Metadata(id="b",
                                                                           date="2021"))
    cb = Codebook("c", (Theme("returns", "Returns", color="red"), Theme("smug", "Smugglers")))
    s1 = a.sentences[0]
    hit = ThemeHit("a", s1.start, s1.end, s1.id, ("returns",),
                   (Evidence("returns", "return", 0, 7, "Returns"),))
    anns = (Annotation("x1", "a", 0, 30, text[0:30], themes=("returns", "smug"), user="ann",
                       note="<i>n</i>"),
            Annotation("x2", "a", 21, 40, text[21:40], themes=("smug",), user="bob",
                       status="suggested"))
    start = text.index("A new")
    passage = Passage("r1", None, 1.0, 4, Side("a", start, start + 23, text[start:start + 23]),
                      Side("b", 8, 31, "A new paragraph, shared"))
    data = ReportData(Corpus((a, b)), anns, cb, {"a": (hit,)}, (passage,))
    html = str(read(a, data, lambda pid: f"../reuse/passages-1.html#{pid}").html)
    check_golden(DATA / "report" / "reading.html", html + "\n")


@given(st.text(alphabet="ab \n.,xé\U0001f600", max_size=60),
       st.text(alphabet="ab \n.,xé\U0001f600", max_size=60))
def test_word_char_diff_rebuilds_both_sides(a: str, b: str) -> None:
    from annotate.diff import DELETE, EQUAL, INSERT, word_char_diff

    diff = word_char_diff(a, b)
    assert "".join(t for op, t in diff if op in (EQUAL, DELETE)) == a
    assert "".join(t for op, t in diff if op in (EQUAL, INSERT)) == b
    assert all(t for _, t in diff)


def test_word_char_diff_marks_characters_inside_words() -> None:
    from annotate.diff import DELETE, EQUAL, INSERT, word_char_diff

    diff = word_char_diff("the quick brown fox", "the quiet brown f0x")
    assert (EQUAL, "the qui") in diff and (DELETE, "ck") in diff and (INSERT, "et") in diff
