"""Store → export → import into an empty store gives back the same annotations, themes and
history; a second import adds nothing; conflicts are reported, never overwritten."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus
from annotate.exchange.data import ExportData
from annotate.exchange.importing import import_into
from annotate.exchange.tei_export import tei_bytes
from annotate.exchange.tei_import import read_tei
from annotate.exchange.webanno import read_webanno, webanno_json
from annotate.model import Annotation, Change
from annotate.store import Store
from tests.conftest import SEEDS

CORPUS = load_corpus([SEEDS])
DOCS = [d.id for d in CORPUS.documents]
THEMES = ["whole-of-route", "returns", "not-in-codebook", "x y"]
USERS = ["alice", "bob", "zoë o'neil"]
runner = CliRunner()

note_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t\r"),
    max_size=40,
)


@st.composite
def actions(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """A session of annotating: adds, then edits and removals of what was added."""
    n = draw(st.integers(1, 8))
    out: list[tuple[Any, ...]] = []
    for _ in range(n):
        doc = draw(st.sampled_from(DOCS))
        size = len(CORPUS.get(doc).text)
        start = draw(st.integers(0, size - 1))
        end = draw(st.integers(start + 1, min(size, start + 400)))
        out.append(("add", doc, start, end, draw(st.lists(st.sampled_from(THEMES), max_size=3,
                                                         unique=True)),
                    draw(note_text), draw(st.sampled_from(USERS)),
                    draw(st.sampled_from(["accepted", "suggested", "rejected"]))))
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, n - 1))
        kind = draw(st.sampled_from(["note", "status", "themes", "remove"]))
        value = {"note": note_text, "status": st.sampled_from(["accepted", "rejected"]),
                 "themes": st.lists(st.sampled_from(THEMES), max_size=2, unique=True),
                 "remove": st.none()}[kind]
        out.append((kind, i, draw(value), draw(st.sampled_from(USERS))))
    return out


def play(store: Store, session: list[tuple[Any, ...]]) -> None:
    ids: list[str] = []
    removed: set[str] = set()
    for act in session:
        if act[0] == "add":
            _, doc, start, end, themes, note, user, status = act
            ids.append(store.add(CORPUS.get(doc), start, end, themes=themes, note=note,
                                 user=user, status=status).id)
            continue
        kind, i, value, user = act
        ann = ids[i]
        if ann in removed:
            continue
        if kind == "note":
            store.set_note(ann, value, user=user)
        elif kind == "status":
            store.set_status(ann, value, user=user)
        elif kind == "themes":
            store.set_themes(ann, value, user=user)
        else:
            store.remove(ann, user=user)
            removed.add(ann)


def history_of(store: Store, anns: list[Annotation]) -> list[tuple[str, ...]]:
    """The history of the live annotations, as what it says (row ids differ by store)."""
    live = {a.id for a in anns}
    return sorted((c.annotation, c.user, c.when, c.action, c.detail)
                  for c in store.history() if c.annotation in live)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(session=actions(), fmt=st.sampled_from(["tei", "webanno"]))
def test_store_export_import_round_trip(session: list[tuple[Any, ...]], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp) / "a.sqlite") as src:
            play(src, session)
            anns = src.list()
            data = ExportData(CORPUS, tuple(anns), tuple(src.history()))
            expected_history = history_of(src, anns)
        if fmt == "tei":
            imported = read_tei(tei_bytes(data), "x.xml")
        else:
            imported = read_webanno(json.dumps(webanno_json(data)).encode(), "x.jsonld")
        with Store.open(Path(tmp) / "b.sqlite") as dst:
            report = import_into(dst, imported, CORPUS)
            assert report.conflicts == ()
            assert sorted(report.added) == sorted(a.id for a in anns)
            assert dst.list() == anns  # ids, offsets, quotes, themes, notes, users, times
            assert history_of(dst, anns) == expected_history
            again = import_into(dst, imported, CORPUS)
            assert (again.added, again.conflicts) == ((), ())
            assert sorted(again.unchanged) == sorted(a.id for a in anns)
            assert len(dst.list()) == len(anns) and history_of(dst, anns) == expected_history


def _export(tmp: Path, store: Path, corpus: Path = SEEDS) -> Path:
    out = tmp / "e.xml"
    r = runner.invoke(app, ["export", str(corpus), "--out", str(out), "--store", str(store),
                            "--no-reuse", "--force"])
    assert r.exit_code == 0, r.output
    return out


def test_cli_import_twice_and_conflicts(tmp_path: Path) -> None:
    src = tmp_path / "src.sqlite"
    for args in (["--sentence", "002.p3.s1", "--note", "first"], ["--span", "5:50"]):
        r = runner.invoke(app, ["add", "002", *args, "--store", str(src), str(SEEDS)])
        assert r.exit_code == 0, r.output
    out = _export(tmp_path, src)
    dst = tmp_path / "dst.sqlite"
    r = runner.invoke(app, ["import", str(out), str(SEEDS), "--store", str(dst)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().endswith("2 added, 0 unchanged, 0 conflicts")
    r = runner.invoke(app, ["import", str(out), str(SEEDS), "--store", str(dst)])
    assert r.exit_code == 0 and r.output.strip().endswith("0 added, 2 unchanged, 0 conflicts")
    with Store.open(dst) as st_:
        assert len(st_.list()) == 2
        first = next(a for a in st_.list() if a.note == "first")
        st_.set_note(first.id, "changed here", user="carol")
    r = runner.invoke(app, ["import", str(out), str(SEEDS), "--store", str(dst), "--json"])
    assert r.exit_code == 1
    summary = json.loads(r.output)
    assert (summary["added"], summary["unchanged"]) == (0, 1)
    assert summary["conflicts"] == [
        f"annotation {first.id} already exists with a different note, modified; not imported"]
    with Store.open(dst) as st_:
        assert st_.get(first.id).note == "changed here", "a conflict never overwrites"


def test_import_reports_a_document_whose_text_changed(tmp_path: Path) -> None:
    src = tmp_path / "src.sqlite"
    runner.invoke(app, ["add", "002", "--span", "5:50", "--store", str(src), str(SEEDS)])
    runner.invoke(app, ["add", "004", "--span", "5:50", "--store", str(src), str(SEEDS)])
    out = _export(tmp_path, src)
    changed = tmp_path / "corpus"
    shutil.copytree(SEEDS, changed)
    f = next(changed.glob("002_*.txt"))
    f.write_text("Edited. " + f.read_text(encoding="utf-8"), encoding="utf-8")
    r = runner.invoke(app, ["import", str(out), str(changed), "--store",
                            str(tmp_path / "dst.sqlite")])
    assert r.exit_code == 1
    assert "1 added, 0 unchanged, 2 conflicts" in r.output
    assert "Conflict: document 002: its text differs from the exported one" in r.output


def test_webanno_from_another_tool_gets_a_stable_id(tmp_path: Path) -> None:
    d = CORPUS.get("001")
    item = {"@context": "http://www.w3.org/ns/anno.jsonld", "id": "https://example.org/anno/7",
            "type": "Annotation", "motivation": "commenting",
            "body": {"type": "TextualBody", "value": "see this", "purpose": "commenting"},
            "target": {"source": "urn:annotate:document:001", "selector": [
                {"type": "TextPositionSelector", "start": 10, "end": 30},
                {"type": "TextQuoteSelector", "exact": d.text[10:30]}]}}
    f = tmp_path / "one.jsonld"
    f.write_text(json.dumps(item))
    store = tmp_path / "s.sqlite"
    r = runner.invoke(app, ["import", str(f), str(SEEDS), "--store", str(store)])
    assert r.exit_code == 0 and "1 added" in r.output, r.output
    r = runner.invoke(app, ["import", str(f), str(SEEDS), "--store", str(store)])
    assert "0 added, 1 unchanged" in r.output
    with Store.open(store) as st_:
        (a,) = st_.list()
    assert (a.doc, a.start, a.end, a.quote, a.note) == ("001", 10, 30, d.text[10:30], "see this")


def test_history_survives_in_tei() -> None:
    a = Annotation("q1", "002", 0, 3, CORPUS.get("002").text[:3], user="u")
    hist = (Change(3, "q1", "u", "2026-01-01T00:00:00.000Z", "add", '{"a": "<&>"}'),)
    back = read_tei(tei_bytes(ExportData(CORPUS, (a,), hist)), "x.xml")
    assert back.history == hist and back.annotations == (a,)


def test_webanno_from_another_tool_is_placed_by_its_quote(tmp_path: Path) -> None:
    d = CORPUS.get("001")
    quote = d.text[200:260]
    good = {"id": "urn:x:1", "type": "Annotation", "motivation": "tagging",
            "body": [{"type": "TextualBody", "value": "returns", "purpose": "tagging"}],
            "target": {"source": f"https://example.org/texts/{d.path.name}",
                       "selector": {"type": "TextQuoteSelector", "exact": quote}}}
    moved = {"id": "urn:x:2", "type": "Annotation",
             "target": {"source": "001", "selector": [
                 {"type": "TextQuoteSelector", "exact": quote},
                 {"type": "TextPositionSelector", "start": 190, "end": 250}]}}
    broken = {"id": "urn:x:3", "type": "Annotation", "target": {"source": "001"}}
    lost = {"id": "urn:x:4", "type": "Annotation", "target": {
        "source": "nowhere", "selector": {"type": "TextQuoteSelector", "exact": "x"}}}
    f = tmp_path / "other.json"
    f.write_text(json.dumps([good, moved, broken, lost]))
    store = tmp_path / "s.sqlite"
    r = runner.invoke(app, ["import", str(f), str(SEEDS), "--store", str(store), "--json"])
    assert r.exit_code == 1
    summary = json.loads(r.output)
    assert summary["added"] == 2
    assert summary["conflicts"] == [
        f"{f}: annotation 3: not understood (neither a TextPositionSelector nor a "
        "TextQuoteSelector)",
        f"annotation {_foreign_id('urn:x:4')}: document 'nowhere' is not in the corpus; "
        "not imported (give the corpus it belongs to, or --allow-unknown-docs to import its "
        "annotations anyway)"]
    assert summary["warnings"] == [
        f"annotation {_foreign_id('urn:x:2')}: its quote was found at 200-260, not 190-250"]
    with Store.open(store) as st_:
        anns = st_.list()
    assert [(a.doc, a.start, a.end, a.quote) for a in anns] == [("001", 200, 260, quote)] * 2
    assert anns[0].themes == ("returns",) or anns[1].themes == ("returns",)


def _foreign_id(iri: str) -> str:
    import hashlib

    return "w" + hashlib.sha256(iri.encode()).hexdigest()[:11]


def test_webanno_quote_with_other_line_breaks_is_found(tmp_path: Path) -> None:
    # A tool showing the text as HTML quotes a hard-wrapped phrase on one line; the quote is
    # still found, with the document's own line break in the stored quote.
    d = CORPUS.get("002")
    start = d.text.index("Western\nBalkans")
    item = {"id": "https://hyp.is/abc", "type": "Annotation",
            "target": {"source": f"file:///home/bob/{d.path.name}", "selector": [
                {"type": "TextQuoteSelector", "exact": "Western  Balkans"}]}}
    f = tmp_path / "hyp.json"
    f.write_text(json.dumps([item]))
    store = tmp_path / "s.sqlite"
    r = runner.invoke(app, ["import", str(f), str(SEEDS), "--store", str(store)])
    assert r.exit_code == 0, r.output
    with Store.open(store) as st_:
        (a,) = st_.list()
    assert (a.doc, a.start, a.end, a.quote) == ("002", start, start + 15, "Western\nBalkans")
