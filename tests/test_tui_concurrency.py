"""Two annotators, headless: the editor notices others' changes without a keypress, never
overwrites them unseen (the conflict view: keep theirs, keep mine, merge), keeps an unsaved
note as a draft through SIGHUP, and shows text from files and users with controls visible."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prompt_toolkit.input import DummyInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from annotate.corpus import Corpus
from annotate.store import Store
from annotate.tui.app import POLL_S, build_app, screen_text
from annotate.tui.state import EditorState
from tests.test_tui import C_Q, C_S, CODEBOOK, corpus, editor, run, sentence, store_path

__all__ = ["corpus", "store_path"]  # fixtures, used by name


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    with Store.open(store_path) as s:
        yield s


@pytest.fixture
def bob(store_path: Path) -> Iterator[Store]:
    """Another annotator: another connection to the same file, as another process has."""
    with Store.open(store_path) as s:
        yield s


def annotated(st: EditorState, store: Store, note: str = "alice's first reading") -> str:
    ann = store.add(st.doc, *sentence(st.doc, 0), themes=["border"], note=note, user="tester")
    st.reload()
    st.annotations()  # drawn: what the editor shows is this version
    return ann.id


# --- live refresh ---------------------------------------------------------------------------


def test_poll_takes_in_others_changes(corpus: Corpus, store: Store, bob: Store) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store)
    assert st.poll() is False  # nothing by others yet (own changes do not count)
    bob.set_note(ann, "bob's reading", user="bob")
    assert st.poll() is True
    assert st.message == f"bob changed the note of {ann} in p1.s1"
    assert st.current_annotation() is not None
    assert st.current_annotation().note == "bob's reading"  # type: ignore[union-attr]
    assert st.poll() is False
    bob.set_themes(ann, ["border", "smuggling"], user="bob")
    bob.set_status(ann, "rejected", user="carol")
    assert st.poll()
    assert st.message == (f"carol rejected {ann} in p1.s1 (and 1 more changes by bob, carol)")
    added = bob.add(st.doc, *sentence(st.doc, 1), themes=["smuggling"], user="bob")
    assert st.poll() and st.message == f"bob added {added.id} (Smuggling) in p2.s1"
    bob.remove(added.id, user="bob")
    assert st.poll() and st.message.startswith(f"bob removed {added.id}")
    assert [a.id for a in st.annotations().items] == [ann]


def test_the_running_editor_redraws_others_changes_without_a_key(
    corpus: Corpus, store: Store, bob: Store
) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store)
    assert POLL_S <= 0.5  # "within a second" of the change

    async def session() -> str:
        with create_pipe_input() as inp:
            app = build_app(st, input=inp, output=DummyOutput())
            task = asyncio.ensure_future(app.run_async())
            await asyncio.sleep(0.2)
            bob.set_note(ann, "bob rewrote this", user="bob")
            for _ in range(100):  # no key is sent: only the poll can notice
                await asyncio.sleep(0.05)
                if "bob changed" in st.message:
                    break
            screen = screen_text(app, 100, 24)
            inp.send_text(C_Q)
            await task
            return screen

    screen = asyncio.run(session())
    assert f"bob changed the note of {ann}" in screen
    assert "bob rewrote this" in screen


# --- conflicts ----------------------------------------------------------------------------------


def test_a_theme_toggle_on_a_changed_annotation_asks(
    corpus: Corpus, store: Store, bob: Store
) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store)
    bob.set_note(ann, "bob was here", user="bob")  # not yet seen by the editor
    run(st, "2")  # add Smuggling to what the editor shows (version 1)
    assert st.mode == "conflict" and st.conflict is not None
    assert store.get(ann).themes == ("border",) and store.get(ann).note == "bob was here"
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    screen = screen_text(app, 100, 30)
    assert "Theirs (bob, version 2):" in screen and "Yours:" in screen
    assert "themes: Border security, Smuggling" in screen
    assert "t  keep theirs" in screen and "m  keep mine" in screen
    assert "e  merge" not in screen  # only notes merge
    run(st, "m")
    got = store.get(ann)
    assert got.themes == ("border", "smuggling") and got.note == "bob was here"
    assert st.mode == "normal" and "kept yours" in st.message


def test_keep_theirs_writes_nothing(corpus: Corpus, store: Store, bob: Store) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store)
    bob.set_status(ann, "rejected", user="bob")
    run(st, "d")  # delete what was shown
    assert st.mode == "conflict"
    run(st, "t")
    got = store.get(ann)
    assert got.status == "rejected" and got.version == 2
    assert st.current_annotation() is not None and st.mode == "normal"
    assert st.message == f"kept bob's version of {ann}"


def test_a_note_written_over_anothers_change_can_be_merged(
    corpus: Corpus, store: Store, bob: Store
) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store, note="first")
    st.begin_note()
    bob.set_note(ann, "bob's view", user="bob")
    assert st.poll() and "while you write" in st.message
    st.save_note("my view")
    assert st.mode == "conflict" and store.get(ann).note == "bob's view"
    run(st, "e")  # merge: into the note editor with both texts
    assert st.mode == "normal"  # run() ends with Ctrl-Q, which saves the note
    assert store.get(ann).note == "bob's view\n\nmy view"
    assert store.get(ann).version == 3
    assert [c.user for c in store.history(ann)] == ["tester", "bob", "tester"]


# --- drafts -----------------------------------------------------------------------------------


def test_a_draft_is_saved_as_a_draft_and_restored(
    corpus: Corpus, store: Store, store_path: Path
) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store, note="saved note")
    st.begin_note()
    st.note_edited("saved note, and half a thought", 16)
    assert st.save_draft() is False  # debounced: typing has not paused yet
    assert st.save_draft(force=True) is True
    assert store.get(ann).note == "saved note"  # never the note itself
    [d] = store.drafts("tester")
    assert (d.annotation, d.text, d.cursor, d.base_version) == (
        ann, "saved note, and half a thought", 16, 1)
    # Reopened (another process, later): the draft comes back, cursor and all.
    with Store.open(store_path) as again:
        st2 = EditorState(corpus.documents, again, CODEBOOK, "tester", start_doc=0)
        assert st2.restore_draft()
        assert st2.doc.id == "002" and st2.mode == "note" and st2.note_target == ann
        assert st2.message.startswith(f"restored your unsaved note on {ann}")
        app = build_app(st2, input=DummyInput(), output=DummyOutput())
        assert app.layout.current_window is not None
        views_note = app.layout.current_buffer
        assert views_note is not None and views_note.text == "saved note, and half a thought"
        assert views_note.cursor_position == 16
        run(st2, "!" + C_S)
        assert again.get(ann).note == "saved note, and !half a thought"
        assert again.drafts("tester") == []


def test_sighup_keeps_the_draft(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    annotated(st, store)

    async def session() -> None:
        with create_pipe_input() as inp:
            app = build_app(st, input=inp, output=DummyOutput(), signals=True)
            task = asyncio.ensure_future(app.run_async())
            await asyncio.sleep(0.1)
            inp.send_text("n" + " and an unsaved afterthought")
            for _ in range(100):
                await asyncio.sleep(0.02)
                if st.note_draft.endswith("afterthought"):
                    break
            os.kill(os.getpid(), signal.SIGHUP)  # the terminal is closed
            await asyncio.wait_for(task, 5)

    asyncio.run(session())
    [d] = store.drafts("tester")
    assert d.text == "alice's first reading and an unsaved afterthought"
    assert store.list()[0].note == "alice's first reading"


def test_a_new_note_draft_on_a_sentence(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    st.begin_note()
    st.note_edited("a new thought", 5)
    st.save_draft(force=True)
    [d] = store.drafts("tester")
    assert d.annotation is None and (d.doc, d.start, d.end) == ("002", *sentence(st.doc, 0))
    st.cancel_note()  # Ctrl-C discards the draft too
    assert store.drafts("tester") == [] and store.list() == []


# --- what reaches the terminal ----------------------------------------------------------------


def test_control_characters_are_shown_visibly_with_offsets_kept(
    corpus: Corpus, store: Store, bob: Store
) -> None:
    doc = corpus.get("002")
    hostile = replace(doc, text="Beware\x1b]52;c;ZXZpbA==\x07 the clipboard.\x1b[2J " + doc.text)
    st = EditorState([hostile], store, CODEBOOK, "tester")
    ann = store.add(hostile, 0, 6, themes=["border"], note="note\x1b[31m red", user="ev\x9bil")
    st.reload()
    bob.set_note(ann.id, "x\x1b]0;title\x07", user="b\x1bob")
    st.poll()
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    screen = screen_text(app, 100, 24)
    assert "\x1b" not in screen and "\x07" not in screen and "\x9b" not in screen
    assert "Beware␛]52;c;ZXZpbA==␇ the clipboard.␛[2J" in screen  # one for one: offsets hold
    assert "b␛ob changed the note" in screen
    assert "x␛]0;title␇" in screen and "by ev␦il" in screen


def test_a_restored_draft_whose_annotation_was_removed_becomes_a_new_one(
    corpus: Corpus, store: Store, store_path: Path
) -> None:
    st = editor(corpus, store)
    ann = annotated(st, store, note="old")
    st.begin_note()
    st.note_edited("old, and more", 13)
    st.save_draft(force=True)
    store.remove(ann, user="bob")
    with Store.open(store_path) as again:
        st2 = EditorState(corpus.documents, again, CODEBOOK, "tester", start_doc=4)
        assert st2.restore_draft() and st2.note_target == sentence(st2.doc, 0)
        st2.save_note("old, and more")
        [new] = again.list()
        assert new.note == "old, and more" and new.id != ann
        assert again.drafts("tester") == []  # not offered again
