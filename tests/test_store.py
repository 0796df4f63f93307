"""The annotation store: location, CRUD, history, undo/redo, migrations, import, re-anchoring."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from annotate.corpus import Corpus
from annotate.errors import StoreError
from annotate.model import Annotation, Change, Document, Metadata
from annotate.store import (
    MIGRATIONS,
    Store,
    default_store_path,
    default_user,
    locate,
    migration_name,
)

TEXT = (
    "The Prime Minister gathered leaders in London today. They agreed to tackle organised "
    "immigration crime together. The summit will meet again next year in Paris."
)


def make_doc(text: str = TEXT, doc_id: str = "d1") -> Document:
    return Document(path=Path(f"{doc_id}.txt"), text=text, meta=Metadata(id=doc_id))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "s.sqlite")
    yield s  # type: ignore[misc]
    s.close()


def span_of(text: str, quote: str) -> tuple[int, int]:
    i = text.index(quote)
    return i, i + len(quote)


# --- location ---------------------------------------------------------------------------


def test_default_store_path_env_and_fallback(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    assert default_store_path() == tmp_path / "store" / "annotations.sqlite"
    monkeypatch.delenv("ANNOTATE_STORE")
    assert default_store_path() == Path(".annotate") / "annotations.sqlite"


def test_open_without_path_uses_env(tmp_path: Path) -> None:
    with Store.open() as s:
        assert s.path == tmp_path / "store" / "annotations.sqlite"
    assert (tmp_path / "store" / "annotations.sqlite").is_file()


def test_default_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_user() == "tester"
    monkeypatch.delenv("ANNOTATE_USER")
    assert default_user()  # the system user, or "anonymous"


def test_wal_and_full_sync(store: Store) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite at all, just some text" * 100)
    with pytest.raises(StoreError, match="not a usable annotation store"):
        Store.open(bad)


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE customers (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not a usable annotation store .*other tables"):
        Store.open(other)
    db = sqlite3.connect(other)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"customers"}
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()


def test_sqlite_failure_after_opening_is_a_store_error(store: Store) -> None:
    """A store that cannot be written any more (read-only file, full disk) is reported as
    StoreError (one `Error:` line in the CLI, a status message in the editor)."""
    doc = make_doc()
    a = store.add(doc, 0, 3, user="u")
    store._db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="the store failed .*readonly"):
        store.add(doc, 4, 9, user="u")
    with pytest.raises(StoreError, match="the store failed"):
        store.set_note(a.id, "x", user="u")
    assert [x.id for x in store.list()] == [a.id]  # reading still works


def test_directory_as_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


# --- annotations ------------------------------------------------------------------------


def test_add_keeps_quote_and_context(store: Store) -> None:
    doc = make_doc()
    start, end = span_of(TEXT, "organised immigration crime")
    a = store.add(doc, start, end, themes=["oic", "oic", "summit"], note="n", user="ann")
    assert a.quote == "organised immigration crime"
    assert a.prefix == TEXT[start - 32 : start] and a.suffix == TEXT[end : end + 32]
    assert a.themes == ("oic", "summit")
    assert len(a.id) == 8 and int(a.id, 16) >= 0
    assert a.created == a.modified and a.created.endswith("Z")
    assert store.get(a.id) == a
    assert store.list() == [a]


def test_add_out_of_range_and_bad_status(store: Store) -> None:
    doc = make_doc()
    for start, end in ((-1, 3), (5, 5), (6, 2), (0, len(TEXT) + 1)):
        with pytest.raises(StoreError, match=r"out of range for document d1"):
            store.add(doc, start, end, user="u")
    with pytest.raises(StoreError, match="unknown status 'maybe'"):
        store.add(doc, 0, 3, user="u", status="maybe")
    assert store.list() == []


def test_unique_ids(store: Store) -> None:
    doc = make_doc()
    ids = {store.add(doc, i % 100, i % 100 + 1, user="u").id for i in range(200)}
    assert len(ids) == 200


def test_list_order_and_filters(store: Store) -> None:
    d1, d2 = make_doc(), make_doc(doc_id="d0")
    a = store.add(d1, 50, 60, themes=["x"], user="ann")
    b = store.add(d1, 10, 20, themes=["y"], user="bob", status="suggested")
    c = store.add(d2, 30, 40, themes=["x", "y"], user="ann")
    assert [x.id for x in store.list()] == [c.id, b.id, a.id]
    assert [x.id for x in store.list(doc="d1")] == [b.id, a.id]
    assert [x.id for x in store.list(theme="x")] == [c.id, a.id]
    assert [x.id for x in store.list(user="bob")] == [b.id]
    assert [x.id for x in store.list(status="suggested")] == [b.id]
    assert [x.id for x in store.list(theme="y", user="ann")] == [c.id]
    assert store.list(orphaned=True) == []


def test_updates_and_get_errors(store: Store) -> None:
    a = store.add(make_doc(), 0, 3, user="u")
    assert store.set_themes(a.id, ["b", "a"], user="u").themes == ("b", "a")
    assert store.set_note(a.id, "line 1\nline 2", user="u").note == "line 1\nline 2"
    assert store.set_status(a.id, "rejected", user="u").status == "rejected"
    with pytest.raises(StoreError, match="unknown status"):
        store.set_status(a.id, "gone", user="u")
    with pytest.raises(StoreError, match="^unknown annotation id 'nope'$"):
        store.get("nope")
    with pytest.raises(StoreError, match="^unknown annotation id 'nope'$"):
        store.set_note("nope", "x", user="u")
    removed = store.remove(a.id, user="u")
    assert removed.id == a.id and store.list() == []
    with pytest.raises(StoreError, match=f"annotation {a.id} was removed"):
        store.get(a.id)
    with pytest.raises(StoreError, match="was removed"):
        store.set_note(a.id, "again", user="u")
    assert store.get(a.id, include_removed=True).note == "line 1\nline 2"
    assert [x.id for x in store.list(include_removed=True)] == [a.id]


def test_history_records_every_change(store: Store) -> None:
    a = store.add(make_doc(), 0, 3, themes=["t"], user="ann")
    store.set_note(a.id, "hello", user="bob")
    store.set_note(a.id, "hello", user="bob")  # no change, no entry
    store.set_status(a.id, "rejected", user="bob")
    store.remove(a.id, user="ann")
    store.undo("ann")
    h = store.history(a.id)
    assert [(c.action, c.user) for c in h] == [
        ("add", "ann"), ("note", "bob"), ("reject", "bob"), ("remove", "ann"), ("undo", "ann"),
    ]
    assert json.loads(h[0].detail) == {"doc": "d1", "start": 0, "end": 3, "quote": "The",
                                       "themes": ["t"], "note": "", "status": "accepted"}
    assert json.loads(h[1].detail) == {"note": ["", "hello"]}
    assert json.loads(h[4].detail) == {"removed": [True, False]}
    assert all(isinstance(c, Change) for c in h) and [c.id for c in h] == sorted(c.id for c in h)
    other = store.add(make_doc(), 4, 9, user="u")
    assert [c.annotation for c in store.history()] == [a.id] * 5 + [other.id]
    assert store.history("unknown") == []


# --- undo / redo ------------------------------------------------------------------------


def test_undo_redo_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    doc = make_doc()
    with Store.open(path) as s:
        a = s.add(doc, 0, 3, user="ann")
        s.set_themes(a.id, ["x"], user="ann")
        s.set_note(a.id, "n", user="ann")
        assert s.undo_depth("ann") == 3 and s.redo_depth("ann") == 0
    with Store.open(path) as s:
        assert s.undo("ann") == f"undid note on {a.id}"
        assert s.undo("ann") == f"undid themes of {a.id}"
        assert s.get(a.id).themes == () and s.get(a.id).note == ""
    with Store.open(path) as s:
        assert (s.undo_depth("ann"), s.redo_depth("ann")) == (1, 2)
        assert s.redo("ann") == f"redid themes of {a.id}"
        assert s.get(a.id).themes == ("x",)
        assert s.undo("ann") == f"undid themes of {a.id}"
        assert s.undo("ann") == f"undid add {a.id}"
        assert s.list() == [] and s.undo("ann") is None
        assert s.redo("ann") == f"redid add {a.id}"
        assert s.get(a.id).quote == "The"


def test_new_action_clears_redo(store: Store) -> None:
    a = store.add(make_doc(), 0, 3, user="ann")
    store.set_note(a.id, "one", user="ann")
    store.undo("ann")
    assert store.redo_depth("ann") == 1
    store.set_note(a.id, "two", user="ann")
    assert store.redo_depth("ann") == 0 and store.redo("ann") is None
    assert store.get(a.id).note == "two"


def test_undo_is_per_user_and_field_level(store: Store) -> None:
    a = store.add(make_doc(), 0, 3, user="ann")
    store.set_note(a.id, "ann's note", user="ann")
    store.set_themes(a.id, ["bob-theme"], user="bob")
    assert store.undo("ann") == f"undid note on {a.id}"
    # Ann's undo left Bob's later theme change alone, and Bob's own stack is untouched.
    got = store.get(a.id)
    assert got.note == "" and got.themes == ("bob-theme",)
    assert store.undo_depth("bob") == 1 and store.undo("carol") is None
    store.undo("bob")
    assert store.get(a.id).themes == ()


def test_undo_remove_restores(store: Store) -> None:
    a = store.add(make_doc(), 0, 3, themes=["t"], note="keep", user="u")
    store.remove(a.id, user="u")
    assert store.list() == []
    assert store.undo("u") == f"undid remove {a.id}"
    restored = store.get(a.id)
    assert (restored.themes, restored.note) == (("t",), "keep")


# --- migrations -------------------------------------------------------------------------


def test_old_schema_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT)")
    MIGRATIONS[0](db)
    db.execute("INSERT INTO migrations VALUES (?, '2024-01-01T00:00:00Z')",
               (migration_name(MIGRATIONS[0]),))
    db.execute(
        "INSERT INTO annotations (id, doc, start, \"end\", quote, user, created, modified) "
        "VALUES ('0ld00001', 'd1', 0, 3, 'The', 'old', '2024-01-01T00:00:00Z', "
        "'2024-01-01T00:00:00Z')"
    )
    db.execute("INSERT INTO annotation_themes VALUES ('0ld00001', 't', 0)")
    db.commit()
    db.close()
    with Store.open(path) as s:
        assert s.migrations() == [migration_name(m) for m in MIGRATIONS]
        old = s.get("0ld00001")
        assert (old.quote, old.themes, old.orphaned, old.user) == ("The", ("t",), False, "old")
        s.set_note("0ld00001", "upgraded", user="u")
        assert s.undo("u") == "undid note on 0ld00001"
    with Store.open(path) as s:  # a second open applies nothing twice
        assert len(s.migrations()) == len(MIGRATIONS)


# --- import -----------------------------------------------------------------------------


def test_import_annotation(store: Store) -> None:
    ann = Annotation(id="abcd0123", doc="d1", start=0, end=3, quote="The", themes=("t",),
                     note="imported", user="ed", status="suggested",
                     created="2024-01-01T00:00:00.000Z", modified="2024-01-02T00:00:00.000Z")
    hist = [Change(0, "abcd0123", "ed", "2024-01-01T00:00:00.000Z", "add", "{}"),
            Change(0, "abcd0123", "ed", "2024-01-02T00:00:00.000Z", "note", "{}")]
    assert store.import_annotation(ann, hist) is True
    assert store.get("abcd0123") == ann
    assert [(c.action, c.when) for c in store.history("abcd0123")] == [
        ("add", "2024-01-01T00:00:00.000Z"), ("note", "2024-01-02T00:00:00.000Z")]
    assert store.import_annotation(ann, hist) is False
    assert len(store.history("abcd0123")) == 2
    with pytest.raises(StoreError, match="already exists with a different note"):
        store.import_annotation(Annotation(**{**ann.__dict__, "note": "other"}))
    assert store.undo_depth("ed") == 0  # an import is not an undoable action
    fresh = Annotation(id="abcd0124", doc="d1", start=4, end=9, quote="Prime", user="ed",
                       created="2024-01-01T00:00:00.000Z", modified="2024-01-01T00:00:00.000Z")
    assert store.import_annotation(fresh) is True
    assert [c.action for c in store.history("abcd0124")] == ["import"]
    store.remove("abcd0124", user="u")
    with pytest.raises(StoreError, match="was removed; not imported"):
        store.import_annotation(fresh)


# --- re-anchoring -----------------------------------------------------------------------


def corpus_of(*docs: Document) -> Corpus:
    return Corpus(documents=docs)


def test_reanchor_after_text_edited_around_quote(store: Store) -> None:
    start, end = span_of(TEXT, "organised immigration crime")
    a = store.add(make_doc(), start, end, themes=["oic"], user="u")
    untouched = store.add(make_doc(), 0, 3, user="u")
    edited = TEXT.replace("They agreed", "After a long day of talks, the leaders all agreed")
    report = store.reanchor(corpus_of(make_doc(edited)))
    assert report.checked == 2 and report.orphaned == ()
    assert [m.id for m in report.moved] == [a.id]
    got = store.get(a.id)
    assert edited[got.start : got.end] == "organised immigration crime"
    assert got.start == start + len(edited) - len(TEXT) and got.themes == ("oic",)
    assert got.prefix == edited[got.start - 32 : got.start]
    assert store.get(untouched.id).start == 0
    assert [c.action for c in store.history(a.id)] == ["add", "reanchor"]
    detail = json.loads(store.history(a.id)[-1].detail)
    assert detail["start"] == [start, got.start]
    # Nothing changed since: a second run moves nothing.
    assert store.reanchor(corpus_of(make_doc(edited))).moved == ()


def test_reanchor_uses_context_to_pick_among_repeats(store: Store) -> None:
    text = "alpha beta gamma. delta beta epsilon. zeta beta eta."
    s2 = text.index("beta", text.index("delta"))
    a = store.add(make_doc(text), s2, s2 + 4, user="u")
    edited = "INSERTED " * 3 + text.replace("alpha", "ALPHA ALPHA")
    store.reanchor(corpus_of(make_doc(edited)))
    got = store.get(a.id)
    assert edited[got.start - 6 : got.end] == "delta beta"


def test_reanchor_fuzzy_when_quote_itself_edited(store: Store) -> None:
    quote = "They agreed to tackle organised immigration crime together."
    start, end = span_of(TEXT, quote)
    a = store.add(make_doc(), start, end, user="u")
    edited = TEXT.replace("They agreed to tackle", "They agreed to fight")
    report = store.reanchor(corpus_of(make_doc(edited)))
    assert [(m.id, m.exact) for m in report.moved] == [(a.id, False)]
    got = store.get(a.id)
    assert got.quote.startswith("They agreed to fight organised")
    assert got.quote.endswith("crime together.") and not got.orphaned


def test_reanchor_orphans_and_restores(store: Store) -> None:
    start, end = span_of(TEXT, "organised immigration crime")
    a = store.add(make_doc(), start, end, themes=["oic"], note="keep me", user="u")
    destroyed = TEXT.replace("They agreed to tackle organised immigration crime together. ", "")
    report = store.reanchor(corpus_of(make_doc(destroyed)))
    assert report.orphaned == (a.id,) and report.moved == ()
    got = store.get(a.id)
    assert got.orphaned and got.note == "keep me" and (got.start, got.end) == (start, end)
    assert [x.id for x in store.list()] == [a.id]  # still listed
    assert [x.id for x in store.list(orphaned=True)] == [a.id]
    again = store.reanchor(corpus_of(make_doc(destroyed)))
    assert again.orphaned == () and again.still_orphaned == (a.id,)
    back = store.reanchor(corpus_of(make_doc()))
    assert back.restored == (a.id,) and not store.get(a.id).orphaned
    assert [c.action for c in store.history(a.id)] == ["add", "orphan", "reanchor"]


def test_reanchor_reports_unknown_documents(store: Store) -> None:
    a = store.add(make_doc(doc_id="gone"), 0, 3, user="u")
    report = store.reanchor(corpus_of(make_doc()))
    assert report.unknown_documents == (a.id,) and not store.get(a.id).orphaned


def test_locate() -> None:
    a = Annotation(id="x", doc="d", start=40, end=43, quote="The", prefix="", suffix="")
    assert locate("The cat. The dog.", a) == (9, 12, True)  # the nearer of two
    assert locate("Nothing of the kind here at all.", a) is None
    assert locate("anything", Annotation(id="y", doc="d", start=0, end=0, quote="")) is None


def test_import_many_in_one_transaction(store: Store) -> None:
    anns = [Annotation(id=f"bulk{i:04d}", doc="d1", start=0, end=3, quote="The", user="ed",
                       created="2024-01-01T00:00:00.000Z", modified="2024-01-01T00:00:00.000Z")
            for i in range(3)]
    items = [(a, ()) for a in anns]
    assert store.import_annotations(items) == [True, True, True]
    clash = Annotation(**{**anns[1].__dict__, "note": "changed"})
    outcome = store.import_annotations([(anns[0], ()), (clash, ())])
    assert outcome[0] is False
    assert isinstance(outcome[1], str) and "already exists with a different note" in outcome[1]
    assert [a.id for a in store.list(doc="d1") if a.id.startswith("bulk")] == [
        a.id for a in anns]
    twice = Annotation(id="bulk9999", doc="d1", start=4, end=9, quote="Prime", themes=("t",),
                       user="ed", created="2024-01-01T00:00:00.000Z",
                       modified="2024-01-01T00:00:00.000Z")
    assert store.import_annotations([(twice, ()), (twice, ())]) == [True, False]
    assert store.get("bulk9999") == twice
    assert [c.action for c in store.history("bulk9999")] == ["import"]
