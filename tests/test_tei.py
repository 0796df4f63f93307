"""TEI P5 export of the seeds: valid against tei_all, pointers that resolve to exactly the text
they quote, document text kept as it is, the other formats, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate import __version__
from annotate.cli import app
from annotate.corpus import Corpus, load_corpus
from annotate.exchange.collation import collation_tree
from annotate.exchange.csv_export import CSV_COLUMNS, csv_text
from annotate.exchange.data import ExportData
from annotate.exchange.pointers import sha256
from annotate.exchange.tei_export import tei_bytes
from annotate.exchange.tei_import import read_tei
from annotate.exchange.webanno import read_webanno, webanno_json
from annotate.files import write_atomic
from annotate.markup import etree, parse_xml
from annotate.model import (
    Annotation,
    Change,
    Cluster,
    Codebook,
    Document,
    Evidence,
    Passage,
    Side,
    Theme,
    ThemeHit,
)
from tests.conftest import DATA, SEEDS, check_golden
from tests.test_tei_schema import (
    XML_ID,
    assert_valid,
    check_pointers,
    element_texts,
    select,
    tei,
)

WHEN = "2026-01-02T03:04:05Z"
runner = CliRunner()


def _ann(doc: Document, ann_id: str, start: int, end: int, **kw: Any) -> Annotation:
    return Annotation(
        id=ann_id, doc=doc.id, start=start, end=end, quote=doc.text[start:end],
        prefix=doc.text[max(0, start - 32):start], suffix=doc.text[end:end + 32],
        created="2026-01-01T10:00:00.000Z", modified=kw.pop("modified", "2026-01-01T10:00:00.000Z"),
        **kw,
    )


@lru_cache(maxsize=1)
def seed_corpus() -> Corpus:
    return load_corpus([SEEDS])


def seed_annotations(corpus: Corpus) -> tuple[tuple[Annotation, ...], tuple[Change, ...]]:
    """Annotations of every shape the export handles: a whole sentence, part of one, across
    sentences, across paragraphs, from the very start, an orphan, a theme outside the codebook."""
    d2, d4, d0 = corpus.get("002"), corpus.get("004"), corpus.get("000")
    s = d2.sentences[2]
    p = next(p for p in d2.paragraphs if len(p.sentences) > 1)
    anns = (
        _ann(d2, "a1b2c3d4", s.start, s.end, themes=("whole-of-route",),
             note='Allies & "partners" <listed>', user="alice"),
        _ann(d2, "b2", s.start + 4, s.start + 30, user="bob", status="suggested"),
        _ann(d2, "c3", p.sentences[0].start + 5, p.sentences[1].end - 3, user="alice",
             themes=("returns", "local-only"), modified="2026-01-01T11:00:00.000Z"),
        _ann(d4, "d4", d4.paragraphs[1].start + 3, d4.paragraphs[3].end - 2, user="bob",
             status="rejected"),
        _ann(d0, "e5", 0, 25, user="alice", note="multi\nline\r\nnote"),
        Annotation("f6", "000", 40, 60, "text that changed", "", "", (), "", "bob",
                   "accepted", "2026-01-01T10:00:00.000Z", "2026-01-01T10:00:00.000Z", True),
    )
    history = tuple(
        Change(i, a.id, a.user, a.created, "add", json.dumps({"quote": a.quote[:20]}))
        for i, a in enumerate(anns, 1)
    ) + (Change(7, "c3", "alice", "2026-01-01T11:00:00.000Z", "update", '{"themes": 2}'),
         Change(8, "gone", "bob", "2026-01-01T12:00:00.000Z", "remove", ""))
    return anns, history


@lru_cache(maxsize=1)
def seed_data() -> ExportData:
    from annotate.reuse import find_reuse
    from annotate.themes import load_codebook, match_corpus

    corpus = seed_corpus()
    codebook = load_codebook(SEEDS / "themes.toml")
    result = find_reuse(corpus)
    anns, history = seed_annotations(corpus)
    return ExportData(corpus, anns, history, codebook, match_corpus(codebook, corpus),
                      result.passages, result.clusters, when=WHEN)


@lru_cache(maxsize=1)
def seed_export() -> bytes:
    return tei_bytes(seed_data())


def seed_root() -> Any:
    return parse_xml(seed_export(), "seeds.xml")


# --- validity and structure ------------------------------------------------------------------


def test_seed_export_is_valid_tei_all() -> None:
    data = seed_data()
    assert data.annotations and data.hits and data.passages, "the export must carry everything"
    assert_valid(seed_root())


def test_collation_is_valid_tei_all() -> None:
    c = seed_corpus()
    assert_valid(collation_tree(c.get("003"), c.get("002")))


def test_every_pointer_resolves_and_selects_what_it_quotes() -> None:
    root = seed_root()
    assert check_pointers(root) > 100
    texts = element_texts(root)
    data = seed_data()
    by_id = {a.id: a for a in data.annotations}
    spans = root.findall(f".//{tei('spanGrp')}[@type='annotation']/{tei('span')}")
    assert len(spans) == len(data.annotations)
    for span in spans:
        a = by_id[span.get("n")]
        ptr = span.get("from") or span.get("target")
        selected = select(ptr, texts)
        doc = data.corpus.get(a.doc)
        assert selected == doc.text[a.start:a.end]
        if not a.orphaned:
            assert selected == a.quote
    passages = {p.id: p for p in data.passages}
    links = root.findall(f".//{tei('linkGrp')}[@type='alignment']/{tei('link')}")
    assert len(links) == len(passages)
    for link in links:
        p = passages[link.get("n")]
        pa, pb = link.get("target").split()
        assert (select(pa, texts), select(pb, texts)) == (p.a.text, p.b.text)
        assert float(link.get("cert")) == pytest.approx(p.similarity, abs=1e-4)
    hits = [h for hs in data.hits.values() for h in hs]
    hit_spans = root.findall(f".//{tei('spanGrp')}[@type='themeHit']/{tei('span')}")
    assert len(hit_spans) == len(hits)
    docs = {d.id: d for d in data.corpus.documents}
    for el, h in zip(hit_spans, sorted(hits, key=lambda h: (
            [d.id for d in data.corpus.documents].index(h.doc), h.start)), strict=True):
        assert select(el.get("from") or el.get("target"), texts) == docs[h.doc].text[h.start:h.end]


def test_document_text_is_kept_exactly() -> None:
    root = seed_root()
    texts = element_texts(root)
    for d in seed_corpus().documents:
        xid = f"d{d.id}"
        assert texts[f"{xid}.div"] == d.text
        for s in d.sentences:
            assert texts[f"d{s.id}"] == s.text
        for p in d.paragraphs:
            assert texts[f"d{p.id}"] == p.text
        el = root.find(f"{tei('TEI')}[@n='{d.id}']")
        assert el is not None and el.get(XML_ID) == xid
        assert el.findtext(f".//{tei('idno')}[@type='sha256']") == sha256(d.text)
    # Hard line breaks inside a sentence are kept, not normalised.
    assert "\n" in texts["d002.p1.s1"]


def test_corpus_header_and_document_headers() -> None:
    root = seed_root()
    children = [etree.QName(c).localname for c in root]
    assert children[:2] == ["teiHeader", "standOff"] and set(children[2:]) == {"TEI"}
    header = root[0]
    users = {p.get(XML_ID): p.text for p in header.iter(tei("persName"))}
    assert users == {"user.alice": "alice", "user.bob": "bob"}
    app_el = header.find(f".//{tei('application')}")
    assert app_el.get("ident") == "annotate" and app_el.get("version") == __version__
    themes = header.find(f".//{tei('taxonomy')}[@{{http://www.w3.org/XML/1998/namespace}}id"
                         "='themes']")
    codebook = seed_data().codebook
    assert codebook is not None
    ids = {c.get("n") for c in themes.iter(tei("category"))}
    assert set(codebook.ids) | {"local-only"} == ids
    for th in codebook.themes:
        if th.parent:  # the hierarchy is nesting
            cat = themes.find(f".//{tei('category')}[@n='{th.id}']")
            assert cat.getparent().get("n") == th.parent
    changes = header.findall(f"{tei('revisionDesc')}/{tei('change')}")
    assert [c.get("type") for c in changes] == ["add"] * 6 + ["update", "remove"]
    assert changes[-1].get("target") is None and changes[-1].get("n") == "gone"
    d4 = root.find(f"{tei('TEI')}[@n='004']")
    date = d4.find(f".//{tei('sourceDesc')}//{tei('date')}")
    assert (date.get("notBefore"), date.get("notAfter")) == ("2007-04", "2007-06")
    assert [p.text for p in d4.iterfind(f".//{tei('person')}/{tei('persName')}")] == [
        "John Reid", "Liam Byrne", "Lord Triesman"]
    assert d4.findtext(f".//{tei('bibl')}/{tei('publisher')}") == "Home Office"
    d1 = root.find(f"{tei('TEI')}[@n='001']")
    assert d1.find(f".//{tei('sourceDesc')}//{tei('date')}").get("when") == "2023-06"
    span = root.find(f".//{tei('span')}[@n='a1b2c3d4']")
    assert span.get("from") == "#d002.p3.s1" or span.get("from", "").startswith("#d002.")
    assert span.get("cert") == "high" and span.get("resp") == "#user.alice"
    assert span.findtext(f"{tei('note')}[@type='comment']") == 'Allies & "partners" <listed>'
    comment = root.find(f".//{tei('listAnnotation')}/{tei('annotation')}")
    assert comment.get("target") == "#ann.a1b2c3d4" and comment.get("motivation") == "commenting"


def _normalised(data: bytes) -> str:
    text = data.decode("utf-8")
    text = text.replace(f'version="{__version__}"', 'version="VERSION"')
    return text.replace(f"annotate {__version__}", "annotate VERSION")


def golden_data() -> ExportData:
    """The seeds with fixed annotations, codebook, hits and passages: the golden file pins
    this module's output, not the theme matcher's or the reuse finder's of the day."""
    corpus = seed_corpus()
    anns, history = seed_annotations(corpus)
    codebook = Codebook("Golden codebook", (
        Theme("returns", "Returns", "Sending back people with no right to stay."),
        Theme("removal", "Removal", "Enforced returns.", parent="returns"),
        Theme("whole-of-route", "Whole of route", "Source, transit and destination."),
    ))
    d4, d2, d1, d3 = (corpus.get(i) for i in ("004", "002", "001", "003"))
    s4, s2 = d4.sentences[5], d2.sentences[4]
    hits = {"004": (ThemeHit("004", s4.start, s4.end, s4.id, ("returns", "removal"), (
        Evidence("returns", "return*", s4.start, s4.start + 6, s4.text[:6]),)),),
        "002": (ThemeHit("002", s2.start, s2.end, s2.id, ("whole-of-route",), ()),)}
    def side(d: Document, n: int = 24) -> Side:
        start = d.text.index("no right to be in the UK")
        return Side(d.id, start, start + n, d.text[start:start + n])

    passages = (Passage("r1", "c1", 1.0, 6, side(d4), side(d1)),
                Passage("r2", "c1", 0.9, 5, side(d4, 20), side(d3, 20)))
    clusters = (Cluster("c1", ("r1", "r2"), ("004", "001", "003"), "004"),)
    return ExportData(corpus, anns, history, codebook, hits, passages, clusters, when=WHEN)


def test_golden_export_of_seeds() -> None:
    raw = tei_bytes(golden_data())
    root = parse_xml(raw, "golden.xml")
    assert_valid(root)
    check_pointers(root)
    check_golden(DATA / "tei" / "seeds.xml", _normalised(raw))


def test_characters_xml_cannot_carry_are_g_elements_one_for_one(tmp_path: Path) -> None:
    f = tmp_path / "ctl.txt"
    f.write_text("Bell \x07 here. Form\x0cfeed too.\n", encoding="utf-8")
    corpus = load_corpus([f])
    d = corpus.documents[0]
    a = _ann(d, "z1", 10, 20, user="u")
    raw = tei_bytes(ExportData(corpus, (a,), when=WHEN))
    root = parse_xml(raw, "ctl.xml")
    assert_valid(root)
    texts = element_texts(root)
    # A TEI reader sees one visible stand-in per character, so offsets hold...
    assert texts["dctl.div"] == d.text.replace("\x07", "\u2407").replace("\x0c", "\u240c")
    assert b'<g type="char" n="U+0007">\xe2\x90\x87</g>' in raw
    span = root.find(f".//{tei('span')}")
    assert select(span.get("target") or span.get("from"), texts) == texts["dctl.div"][10:20]
    # ...and the import gets the characters back.
    back = read_tei(raw, "ctl.xml")
    assert back.documents["ctl"].text == d.text and back.annotations[0].quote == d.text[10:20]


def test_text_between_paragraphs_that_is_not_xml_whitespace_stays_valid(tmp_path: Path) -> None:
    # Real speeches separate paragraphs with a line holding a no-break space: a div may not
    # hold that text directly, so it goes in an `ab`; the div's text is still the document's.
    f = tmp_path / "nbsp.txt"
    f.write_text("\u00a0\nFirst paragraph here.\n\u00a0\nSecond paragraph there.\n\u00a0\n",
                 encoding="utf-8")
    corpus = load_corpus([f])
    d = corpus.documents[0]
    a = _ann(d, "z1", 3, 40, user="u")
    data = tei_bytes(ExportData(corpus, (a,), when=WHEN))
    root = parse_xml(data, "nbsp.xml")
    assert_valid(root)
    check_pointers(root)
    texts = element_texts(root)
    assert texts["dnbsp.div"] == d.text
    span = root.find(f".//{tei('span')}")
    assert select(span.get("target") or span.get("from"), texts) == d.text[3:40]
    back = read_tei(data, "nbsp.xml")
    assert back.documents["nbsp"].text == d.text and back.annotations == (a,)


def test_history_of_an_annotation_left_out_points_nowhere(tmp_path: Path) -> None:
    # An annotation of a document not in the exported corpus is left out; its history is
    # still written, but without a target pointing at the missing span.
    f = tmp_path / "one.txt"
    f.write_text("Just one short statement here.\n", encoding="utf-8")
    corpus = load_corpus([f])
    d = corpus.documents[0]
    kept = _ann(d, "k1", 0, 4, user="u")
    gone = Annotation("g1", "elsewhere", 0, 4, "Just", user="u")
    hist = (Change(1, "g1", "u", WHEN, "add", "{}"), Change(2, "k1", "u", WHEN, "add", "{}"))
    root = parse_xml(tei_bytes(ExportData(corpus, (kept, gone), hist, when=WHEN)), "x.xml")
    assert_valid(root)
    check_pointers(root)
    changes = root.findall(f".//{tei('change')}")
    assert [(c.get("n"), c.get("target")) for c in changes] == [("g1", None), ("k1", "#ann.k1")]


def test_orphan_past_the_end_of_its_text_keeps_its_offsets(tmp_path: Path) -> None:
    # An orphan (its text shortened since) cannot be pointed at where it was; the record
    # keeps its offsets, so reading the export back gives the same annotation.
    f = tmp_path / "o.txt"
    f.write_text("First paragraph is here.\n", encoding="utf-8")
    corpus = load_corpus([f])
    orphan = Annotation("o1", "o", 74, 96, "the quote we will lose", prefix="holds ",
                        user="u", orphaned=True)
    data = tei_bytes(ExportData(corpus, (orphan,), when=WHEN))
    root = parse_xml(data, "o.xml")
    assert_valid(root)
    check_pointers(root)
    assert read_tei(data, "o.xml").annotations == (orphan,)


# --- the other formats -----------------------------------------------------------------------


def test_webanno_has_both_selectors_and_reads_back() -> None:
    data = seed_data()
    doc = webanno_json(data)
    items = doc["first"]["items"]
    assert doc["type"] == "AnnotationCollection" and len(items) == len(data.annotations)
    first = items[0]
    assert first["motivation"] == "classifying"
    kinds = [s["type"] for s in first["target"]["selector"]]
    assert kinds == ["TextQuoteSelector", "TextPositionSelector"]
    q = first["target"]["selector"][0]
    assert q["exact"] == data.annotations[0].quote and q["prefix"] == data.annotations[0].prefix
    back = read_webanno(json.dumps(doc).encode(), "x.jsonld")
    assert back.annotations == data.annotations
    assert [(c.annotation, c.user, c.when, c.action, c.detail) for c in back.history] == [
        (c.annotation, c.user, c.when, c.action, c.detail) for c in data.history]


def test_csv_has_a_row_per_annotation() -> None:
    data = seed_data()
    rows = list(csv.DictReader(io.StringIO(csv_text(data))))
    assert len(rows) == len(data.annotations)
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, a in zip(rows, data.annotations, strict=True):
        assert (row["id"], row["quote"], row["note"], row["themes"]) == (
            a.id, a.quote, a.note, ";".join(a.themes))


def test_tei_reads_back_losslessly() -> None:
    data = seed_data()
    back = read_tei(seed_export(), "seeds.xml")
    assert back.annotations == data.annotations
    assert back.history == data.history
    assert {d: i.sha256 for d, i in back.documents.items()} == {
        d.id: sha256(d.text) for d in data.corpus.documents}


def _witness_texts(root: Any) -> dict[str, str]:
    """Each witness's text read back from the parallel segmentation."""
    ab = root.find(f".//{tei('ab')}")
    wits = [w.get(XML_ID) for w in root.iter(tei("witness"))]
    out = {}
    for wit in wits:
        parts = [ab.text or ""]
        for app_el in ab.findall(tei("app")):
            rdg = app_el.find(f"{tei('rdg')}[@wit='#{wit}']")
            assert rdg is not None, "every witness has a reading in every app"
            parts += [rdg.text or "", app_el.tail or ""]
        out[wit] = " ".join("".join(parts).split())
    return out


def test_collation_readings_rebuild_each_witness() -> None:
    from annotate.reuse import find_reuse

    c = seed_corpus()
    a, b = c.get("003"), c.get("002")
    passages = find_reuse(Corpus((a, b)), min_bits=0).passages  # chance rule off: a short pair
    assert passages
    root = collation_tree(a, b, passages)
    assert len(root.findall(f".//{tei('app')}")) > 1, "aligned on the shared passage"
    assert _witness_texts(root) == {"d003": " ".join(a.text.split()),
                                    "d002": " ".join(b.text.split())}


def test_collation_omission_is_an_empty_rdg(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("The quick brown fox jumps over the dog.\n")
    (tmp_path / "b.txt").write_text("The quick fox jumps over the lazy dog.\n")
    c = load_corpus([tmp_path])
    root = collation_tree(c.get("a"), c.get("b"))
    apps = root.findall(f".//{tei('app')}")
    readings = [[(r.get("wit"), r.text) for r in app_el] for app_el in apps]
    assert readings == [[("#da", "brown"), ("#db", None)], [("#da", None), ("#db", "lazy")]]
    assert _witness_texts(root) == {"da": "The quick brown fox jumps over the dog.",
                                    "db": "The quick fox jumps over the lazy dog."}


# --- the CLI ---------------------------------------------------------------------------------


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_cli_export_writes_valid_tei_and_refuses_to_overwrite(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    r = _run("add", "002", "--sentence", "002.p3.s1", "--note", "n1", "--store", str(store),
             str(SEEDS))
    assert r.exit_code == 0, r.output
    out = tmp_path / "out" / "seeds.xml"
    r = _run("export", str(SEEDS), "--out", str(out), "--store", str(store))
    assert r.exit_code == 0, r.output
    assert re.search(r"Wrote .*seeds\.xml: 5 documents, 1 annotation, \d+ theme hits", r.output)
    root = parse_xml(out.read_bytes(), str(out))
    assert_valid(root)
    check_pointers(root)
    before = out.read_bytes()
    r = _run("export", str(SEEDS), "--out", str(out), "--store", str(store))
    assert r.exit_code == 1
    assert "exists; use --force to overwrite it" in r.output
    assert out.read_bytes() == before
    r = _run("export", str(SEEDS), "--out", str(out), "--store", str(store), "--force",
             "--no-reuse")
    assert r.exit_code == 0, r.output
    assert "0 shared passages" in r.output
    assert not list(out.parent.glob(".*.tmp")), "no temporary file is left behind"


def test_cli_other_formats(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    _run("add", "004", "--span", "10:40", "--store", str(store), str(SEEDS))
    for fmt, name in (("webanno", "x.jsonld"), ("csv", "x.csv")):
        out = tmp_path / name
        r = _run("export", str(SEEDS), "--format", fmt, "--out", str(out), "--store",
                 str(store), "--no-reuse")
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "x.jsonld").read_text())["total"] == 1
    out = tmp_path / "c.xml"
    r = _run("export", str(SEEDS), "--format", "collation", "--docs", "004,000", "--out",
             str(out))
    assert r.exit_code == 0, r.output
    assert "collation of 004 and 000" in r.output
    r = _run("export", str(SEEDS), "--format", "collation", "--out", str(tmp_path / "d.xml"))
    assert r.exit_code == 2 and "Error: a collation needs two documents\n" in r.output
    assert "--docs A,B" in r.output
    r = _run("export", str(SEEDS), "--format", "pdf")
    assert r.exit_code == 2 and "Error: invalid value for '--format': 'pdf'\n" in r.output


def test_write_atomic_keeps_an_existing_file(tmp_path: Path) -> None:
    f = tmp_path / "x.xml"
    f.write_text("old")
    from annotate.errors import ExportError

    with pytest.raises(ExportError, match="exists; use --force"):
        write_atomic(f, b"new")
    assert f.read_text() == "old"
    write_atomic(f, b"new", force=True)
    assert f.read_text() == "new"
    # A directory is reported as one, with or without --force (not "exists; use --force").
    for extra in ([], ["--force"]):
        r = _run("export", str(SEEDS), "--out", str(tmp_path), "--no-reuse", *extra)
        assert r.exit_code == 1 and r.output == f"Error: {tmp_path} is a directory\n", r.output
    with pytest.raises(ExportError, match="is a directory"):
        write_atomic(tmp_path, b"new")


def test_awkward_ids_stay_unique_and_round_trip(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("First sentence here. Second one there.\n")
    (tmp_path / "a.div.txt").write_text("Another text. With words.\n")
    corpus = load_corpus([tmp_path])
    a, b = corpus.get("a"), corpus.get("a.div")
    anns = (_ann(a, "x", 0, 5, note="n", user="u u", themes=("a b", "a.b")),
            _ann(a, "x.comment", 6, 14, user="u.u", themes=("a_b",)),
            _ann(b, "verbatim", 0, 7, user="u"))
    passages = (Passage("verbatim", None, 1.0, 1, Side("a", 0, 5, a.text[:5]),
                        Side("a.div", 0, 7, b.text[:7])),)
    raw = tei_bytes(ExportData(corpus, anns, passages=passages, when=WHEN))
    root = parse_xml(raw, "odd.xml")  # lxml itself refuses a duplicate xml:id
    assert_valid(root)
    check_pointers(root)
    back = read_tei(raw, "odd.xml")
    assert back.annotations == anns
