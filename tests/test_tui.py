"""The terminal annotator driven headless through its real key bindings (pipe input), with
the store checked after each session."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input import DummyInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from annotate.corpus import Corpus, load_corpus
from annotate.model import Codebook, Document, Metadata, Theme
from annotate.store import Store
from annotate.tui.app import build_app, screen_text
from annotate.tui.bindings import build_bindings
from annotate.tui.state import EditorState, Layout
from annotate.tui.views import Views

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

RIGHT, LEFT, DOWN, UP = "\x1b[C", "\x1b[D", "\x1b[B", "\x1b[A"
S_RIGHT, S_LEFT = "\x1b[1;2C", "\x1b[1;2D"
TAB, S_TAB, ENTER, ESC = "\t", "\x1b[Z", "\r", "\x1b"
C_S, C_Q, C_R, C_N, C_P, C_C, C_G = "\x13", "\x11", "\x12", "\x0e", "\x10", "\x03", "\x07"

CODEBOOK = Codebook(
    name="test",
    themes=(
        Theme("border", "Border security"),
        Theme("smuggling", "Smuggling"),
        Theme("cooperation", "International cooperation"),
    ),
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus([SEEDS])


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "annotations.sqlite"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    with Store.open(store_path) as s:
        yield s


def editor(corpus: Corpus, store: Store, doc: str = "002", reuse: bool = False) -> EditorState:
    index = [d.id for d in corpus.documents].index(doc)
    provider = None
    if reuse:
        from annotate.reuse import find_reuse

        provider = lambda d: find_reuse(corpus, doc=d).passages  # noqa: E731
    return EditorState(corpus.documents, store, CODEBOOK, "tester", reuse=provider,
                       start_doc=index)


def run(state: EditorState, keys: str) -> None:
    """Type `keys` into a real app, then Ctrl-Q (quits from any mode)."""
    with create_pipe_input() as inp:
        inp.send_text(keys + C_Q)
        app = build_app(state, input=inp, output=DummyOutput())
        app.run()


def sentence(doc: Document, n: int) -> tuple[int, int]:
    s = doc.sentences[n]
    return (s.start, s.end)


def test_number_key_themes_the_current_sentence(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1")
    [ann] = store.list()
    assert (ann.doc, ann.start, ann.end, ann.themes) == ("002", *sentence(st.doc, 0), ("border",))
    assert ann.quote.startswith("The Prime Minister") and ann.user == "tester"
    assert st.message == f"added Border security to p1.s1 ({ann.id})"


def test_toggling_updates_then_removes_the_same_span(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "12")
    [ann] = store.list()
    assert ann.themes == ("border", "smuggling")
    run(st, "1")
    [same] = store.list()
    assert same.id == ann.id and same.themes == ("smuggling",)
    run(st, "2")
    assert store.list() == []
    assert "removed" in st.message


def test_selection_extends_word_by_word(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    toks = st.doc.tokens
    run(st, "ll" "v" "lll" "3")
    [ann] = store.list()
    assert (ann.start, ann.end) == (toks[2].start, toks[5].end)
    assert ann.quote == "Minister and Home Secretary"
    assert ann.themes == ("cooperation",)
    # Shift+arrows start a selection without v, and extend backwards too.
    run(st, ESC + "g" + ")" + S_RIGHT + S_RIGHT + S_LEFT + S_RIGHT + S_RIGHT + "2")
    second = [a for a in store.list() if a.id != ann.id]
    assert [a.quote for a in second] == ["Discussions at Day 1"]


def test_select_sentence_matches_the_sentence_annotation(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1" + "V" + "2")
    [ann] = store.list()
    assert (ann.start, ann.end) == sentence(st.doc, 0)
    assert ann.themes == ("border", "smuggling")


def test_unknown_theme_key_is_a_message_not_a_change(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "7")
    assert store.list() == []
    assert st.error and "no theme on key 7" in st.message


def test_notes_new_and_edited(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, ")" + "n" + "Check the\rdate." + C_S)
    [ann] = store.list()
    assert (ann.start, ann.end) == sentence(st.doc, 1)
    assert ann.note == "Check the\ndate." and ann.themes == ()
    run(st, "n" + " Done." + ESC + ENTER)
    assert store.get(ann.id).note == "Check the\ndate. Done."
    run(st, "n" + "discarded" + C_C)
    assert store.get(ann.id).note == "Check the\ndate. Done."
    assert st.mode == "normal"
    # The side pane shows the note of the annotation under the cursor.
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    assert "date. Done." in screen_text(app, 100, 30)


def test_undo_and_redo_survive_reopening_the_store(corpus: Corpus, store_path: Path) -> None:
    with Store.open(store_path) as s:
        st = editor(corpus, s)
        run(st, "12")
        assert s.undo_depth("tester") == 2
    with Store.open(store_path) as s:
        st = editor(corpus, s)
        run(st, "u")
        [ann] = s.list()
        assert ann.themes == ("border",)
        run(st, "u")
        assert s.list() == []
        run(st, C_R)
        assert [a.themes for a in s.list()] == [("border",)]
        assert st.depths() == (1, 1)
    with Store.open(store_path) as s:
        st = editor(corpus, s)
        run(st, "U")
        assert [a.themes for a in s.list()] == [("border", "smuggling")]
        run(st, "uuu")
        assert s.list() == [] and st.message == "nothing to undo"


def test_delete_and_undo(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1d")
    assert store.list() == []
    run(st, "u")
    assert [a.themes for a in store.list()] == [("border",)]


def test_search_next_previous_and_theme_the_hit(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    text = st.doc.text.lower()
    hits = [i for i in range(len(text)) if text.startswith("oic", i)]
    assert len(hits) >= 3
    run(st, "/oic" + ENTER)
    assert st.search_hit == (hits[0], hits[0] + 3)
    assert st.offset() == hits[0] and "match 1 of" in st.message
    run(st, C_N + C_N)
    assert st.search_hit == (hits[2], hits[2] + 3)
    run(st, C_P)
    assert st.search_hit == (hits[1], hits[1] + 3)
    run(st, "1")
    [ann] = store.list()
    assert ann.start <= hits[1] < ann.end and "OIC" in ann.quote
    run(st, "/no such words here" + ENTER)
    assert st.error and st.message.startswith("not found")


def test_movement_by_sentence_paragraph_line(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    run(st, "))")
    assert st.offset() == doc.sentences[2].start
    run(st, "(")
    assert st.offset() == doc.sentences[1].start
    assert doc.sentences[1].start == doc.paragraphs[1].start
    run(st, "}")
    assert st.offset() == doc.paragraphs[2].start
    run(st, "{{")
    assert st.offset() == 0
    run(st, "G")
    assert st.cursor == len(doc.tokens) - 1
    run(st, "g" + "ww" + "b")
    assert st.cursor == 1
    run(st, "j")
    assert st.layout().line_of(st.offset()) == 1
    run(st, DOWN + UP + UP)
    assert st.layout().line_of(st.offset()) == 0


def test_next_and_previous_document_remember_the_position(
    corpus: Corpus, store: Store
) -> None:
    ids = [d.id for d in corpus.documents]
    st = editor(corpus, store, doc=ids[0])
    run(st, "))")
    pos = st.cursor
    run(st, "]")
    assert st.doc.id == ids[1] and st.cursor == 0
    run(st, "1")
    assert store.list()[0].doc == ids[1]
    run(st, "[")
    assert st.doc.id == ids[0] and st.cursor == pos
    run(st, "[")
    assert st.doc.id == ids[0] and "no previous document" in st.message


def test_accept_reject_and_jumps(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    s1 = store.add(doc, *sentence(doc, 1), themes=["border"], user="bot", status="suggested")
    s2 = store.add(doc, *sentence(doc, 3), themes=["smuggling"], user="bot",
                   status="suggested")
    mine = store.add(doc, *sentence(doc, 5), themes=["cooperation"], user="tester")
    run(st, "s")
    assert st.offset() == s1.start
    run(st, "a")
    assert store.get(s1.id).status == "accepted"
    assert st.offset() == s2.start  # moved on to the next suggestion
    run(st, "x")
    assert store.get(s2.id).status == "rejected"
    run(st, "g" + TAB + TAB + TAB)
    assert st.offset() == mine.start
    run(st, S_TAB)
    assert st.offset() == s2.start
    run(st, "S")
    assert "no previous suggestion" in st.message


def test_help_is_generated_from_docstrings(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    views = Views(st)
    bindings = build_bindings(st, views)
    docs = {e.doc for e in bindings.entries}
    assert ("Toggle that theme on the selection, else the annotation here, else the sentence."
            in docs)
    run(st, "?")
    assert st.mode == "help"
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    screen = screen_text(app, 80, 24)
    assert "Keys (generated from the key bindings)" in screen
    assert "Next sentence." in screen
    run(st, "jjj")  # scrolls, stays open
    assert st.mode == "help" and st.help_top == 3
    run(st, "\x1b[6~" + UP + "k")  # PgDn, then up twice
    assert st.help_top == 11
    run(st, "\x1b[5~" + "\x1b[5~")  # PgUp stops at the top
    assert st.help_top == 0
    run(st, "x")  # closes the help, rejects nothing
    assert st.mode == "normal" and store.list() == []


def test_every_binding_has_a_docstring_and_a_help_line(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    b = build_bindings(st, Views(st))
    for binding in b.kb.bindings:
        assert binding.handler.__doc__, binding.keys
    shown = {doc for _, doc in st.help_lines}
    assert {e.doc for e in b.entries} <= shown


def test_screen_at_80x24_shows_ids_marks_and_status(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1" + "))" + "v" + "l" + "2")
    st.top = 0
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    screen = screen_text(app, 80, 24)
    lines = screen.splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    assert lines[0].lstrip().startswith("p1.s1 1") and "│The Prime Minister" in lines[0]
    assert "1 ● Border security" not in screen  # cursor is not on the first annotation
    assert "2 ● Smuggling" in screen  # it is on the selection's annotation
    # The message (naming the theme and sentence) is long: the status bar wraps to 2 lines.
    assert lines[-2].startswith(" 002 5/5 p3.s1 sel 2w") and "2 ann" in lines[-2]
    assert "added Smuggling to the selection in p3.s1" in lines[-2] + lines[-1]
    # Resizing: narrow and wide screens draw without error.
    for w, h in ((40, 10), (200, 60), (80, 24)):
        assert "error" not in screen_text(app, w, h)


def test_reuse_jump_and_overlay(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store, reuse=True)
    spans = st.reuse_spans()
    assert spans, "seed 002 shares passages with other statements"
    run(st, "r")
    assert st.offset() == st.doc.tokens[st.token_at(spans[0][0])].start
    assert "shared with" in st.message
    run(st, ENTER)
    assert st.mode == "reuse" and st.reuse_view is not None
    there = st.reuse_view.there
    screen = screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), 100, 30)
    assert f"{there.doc} p" in screen and "Difference:" in screen and " │ " in screen
    diff = st.reuse_view.diff
    if any(op != 0 for op, _ in diff):
        assert "[-" in screen or "{+" in screen
    run(st, "j" + "\x1b[6~")
    assert st.mode == "reuse" and st.overlay_top == 11
    screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), 100, 30)
    assert st.overlay_top == 0  # clamped: the passage fits on the screen
    run(st, "q")
    assert st.mode == "normal" and st.reuse_view is None


def test_no_reuse_provider_is_a_message(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "r" + ENTER)
    assert "no shared passage" in st.message


# Everything but the keys that quit (q, Ctrl-C, Ctrl-Q); Ctrl-G leaves the note editor and
# the search line, so sessions keep moving between modes.
FUZZ_KEYS = [
    *"hjklwb(){}vVgGasxndurRSt?/<>]0123456789 Q.,:-=\\'\"",
    RIGHT, LEFT, DOWN, UP, S_RIGHT, S_LEFT, TAB, S_TAB, ENTER, ESC, C_S, C_R, C_N, C_P,
    "\x1b[5~", "\x1b[6~", "\x1b[H", "\x1b[F", "\x7f", "\x0c", "\x1a", "\x1b[1;2B", "[",
    *["\x07"] * 4,
]


@pytest.mark.parametrize("seed", range(4))
def test_random_keys_never_crash(corpus: Corpus, store: Store, seed: int) -> None:
    rng = random.Random(seed)
    st = editor(corpus, store, doc=corpus.documents[seed].id, reuse=True)
    doc = st.doc
    store.add(doc, *sentence(doc, 2), themes=["border"], user="bot", status="suggested")
    errors: list[str] = []
    say = st.say

    def record(message: str, error: bool = False) -> None:
        if message.startswith(("error:", "display error")):
            errors.append(message)
        say(message, error)

    st.say = record  # type: ignore[method-assign]
    keys = "".join(rng.choice(FUZZ_KEYS) for _ in range(300))
    run(st, keys)
    assert errors == []
    assert 0 <= st.cursor < st.n_tokens
    assert st.anchor is None or 0 <= st.anchor < st.n_tokens
    # The search and note buffers load their history in a background task, which needs the
    # running app; the drawing checked here is the document's.
    st.mode = "normal"
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    for w, h in ((80, 24), (30, 8)):
        assert "display error" not in screen_text(app, w, h)
    assert errors == []
    for ann in store.list():  # whatever was made is well formed
        assert st.docs[[d.id for d in st.docs].index(ann.doc)].text[ann.start:ann.end] \
            == ann.quote


def test_a_failing_store_becomes_a_message(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    store.add = broken  # type: ignore[method-assign, assignment]
    run(st, "1")
    assert st.error and "disk on fire" in st.message


def test_wrap_fragments_keeps_text_and_width() -> None:
    from annotate.tui.views import wrap_fragments

    frags: StyleAndTextTuples = [("a", "one two three "),
                                 ("b", "fourfivesixseveneight nine\nten")]
    lines = wrap_fragments(frags, 8, indent=2)
    texts = ["".join(f[1] for f in line) for line in lines]
    assert all(len(t) <= 8 for t in texts)
    assert texts == ["one two ", "  three ", "  fourfi", "  vesixs", "  evenei",
                     "  ght ", "  nine", "ten"]


@settings(max_examples=60, deadline=None)
@given(
    hs.text(alphabet=hs.sampled_from(list("ab cd.\n\nEF,  GHij\t")), min_size=1, max_size=400),
    hs.integers(min_value=8, max_value=40),
)
def test_layout_lines_are_slices_in_order_and_fit(text: str, width: int) -> None:
    doc = Document(path=Path("x.txt"), text=text, meta=Metadata(id="x"))
    lay = Layout(doc, width)
    prev_end = 0
    for line in lay.lines:
        assert prev_end <= line.start <= line.end <= len(text)
        assert line.end - line.start <= width
        prev_end = line.end
    for tok in doc.tokens:  # every word starts on a line, the one bisect finds for it
        ln = lay.lines[lay.line_of(tok.start)]
        assert not ln.blank and ln.start <= tok.start < ln.end


def test_mouse_click_moves_the_cursor(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    st.scroll_into_view(20)
    line = st.layout().lines[1]
    st.click(1, 3)
    assert st.offset() == st.doc.tokens[st.token_at(line.start + 3)].start
    st.click(500, 0)  # below the text: ignored
    assert st.layout().line_of(st.offset()) == 1


def edit_cli(*args: str) -> tuple[int, str]:
    import typer
    from typer.testing import CliRunner

    from annotate.commands import edit

    app = typer.Typer()
    app.command()(lambda: None)  # a second command keeps `edit` a subcommand
    edit.register(app)
    result = CliRunner().invoke(app, ["edit", *args])
    return result.exit_code, result.output


def test_edit_command_errors(tmp_path: Path) -> None:
    code, out = edit_cli("999", str(SEEDS))
    assert code == 1 and "Error: unknown document '999'" in out
    code, out = edit_cli("002", str(SEEDS), "--codebook", str(tmp_path / "none.toml"))
    assert code == 1 and "Error:" in out and "none.toml" in out
    code, out = edit_cli("002", str(SEEDS))
    assert code == 1 and "Error: annotate edit needs a terminal" in out
    code, out = edit_cli("--help")
    assert code == 0 and "--store" in out and "--codebook" in out and "--user" in out


def test_positions_are_remembered(corpus: Corpus, store: Store, tmp_path: Path) -> None:
    from annotate.commands.edit import load_positions, save_positions

    st = editor(corpus, store)
    run(st, ")))" + "[" + "))")
    place = tmp_path / "annotations.edit.json"
    save_positions(place, "tester", st.doc.id, st.remembered())
    save_positions(place, "other", "004", {"004": 10})
    last, positions = load_positions(place, "tester")
    assert last == "003" and st.doc.id == "003"
    assert positions == {"002": corpus.get("002").sentences[3].start,
                         "003": st.doc.sentences[2].start}
    again = EditorState(corpus.documents, store, CODEBOOK, "tester", positions=positions,
                        start_doc=[d.id for d in corpus.documents].index(last or ""))
    assert (again.doc.id, again.cursor) == (st.doc.id, st.cursor)
    run(again, "]")
    assert again.doc.id == "002" and again.offset() == positions["002"]
    assert load_positions(place, "other") == ("004", {"004": 10})
    place.write_text("{not json", encoding="utf-8")
    assert load_positions(place, "tester") == (None, {})
    assert load_positions(tmp_path / "missing.json", "tester") == (None, {})


def test_reuse_overlay_marks_the_differences(corpus: Corpus, store: Store) -> None:
    from annotate.model import Passage, Side

    doc = corpus.get("002")
    s = doc.sentences[1]
    other = s.text.replace("Day 1", "Day 2").replace("criminal", "illicit")
    p = Passage("r1", None, 0.9, 30, Side("001", 5, 5 + len(other), other),
                Side("002", s.start, s.end, s.text))
    st = EditorState(corpus.documents, store, CODEBOOK, "tester",
                     reuse=lambda d: [p] if d in ("001", "002") else [],
                     start_doc=[d.id for d in corpus.documents].index("002"))
    run(st, "r" + ENTER)
    assert st.mode == "reuse" and st.reuse_view is not None
    assert st.reuse_view.there.doc == "001"
    screen = screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), 100, 30)
    assert "Day [-1-]{+2+}" in screen and "[-criminal-]{+illicit+}" in screen
    # side by side, each with its sentence ids
    assert "002 p2.s1" in screen and "001 p1.s1" in screen and "30 words, 90% similar" in screen


def test_line_moves_cross_lines_without_words(store: Store) -> None:
    text = "Alpha beta gamma.\n\n* * *\n\nDelta epsilon.\n\nZeta eta theta iota kappa.\n"
    doc = Document(path=Path("t.txt"), text=text, meta=Metadata(id="t"))
    st = EditorState([doc], store, CODEBOOK, "tester")
    run(st, "G")
    assert doc.tokens[st.cursor].text == "kappa"
    run(st, "k")  # from the far right to the end of the shorter line above
    assert doc.tokens[st.cursor].text == "epsilon"
    run(st, "k")  # over the line without words
    assert doc.tokens[st.cursor].text == "gamma"
    run(st, "jj")
    assert doc.tokens[st.cursor].text == "kappa"  # the goal column was kept


def test_mouse_click_through_the_app(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    with create_pipe_input() as inp:
        app = build_app(st, input=inp, output=DummyOutput(), mouse=True)
        sent: list[bool] = []

        def after_first_draw(_: object) -> None:
            # A click means something only once the screen it lands on has been drawn.
            if not sent:
                sent.append(True)
                inp.send_text("\x1b[<0;20;3M\x1b[<0;20;3m" + C_Q)  # column 20, row 3

        app.after_render += after_first_draw
        app.run()
    gutter = st.label_width() + 5
    line = st.layout().lines[2]
    assert st.cursor == st.token_at(line.start + 19 - gutter)


def test_theme_line_picks_by_number_id_or_label(corpus: Corpus, store: Store) -> None:
    themes = tuple(Theme(f"th{i}", f"Label {i}") for i in range(1, 13))
    big = Codebook("big", (*themes, Theme("smuggling", "People smuggling")))
    st = EditorState(corpus.documents, store, big, "tester",
                     start_doc=[d.id for d in corpus.documents].index("002"))
    run(st, "t" + "12" + ENTER)
    [ann] = store.list()
    assert ann.themes == ("th12",)
    run(st, "t" + "people" + ENTER)  # a label prefix
    assert store.get(ann.id).themes == ("th12", "smuggling")
    run(st, "t" + "th1" + ENTER)  # an exact id wins over the prefix of th10, th11, th12
    assert store.get(ann.id).themes == ("th12", "smuggling", "th1")
    run(st, "t" + "label 1" + ENTER)  # exactly th1's label: toggles it off again
    assert store.get(ann.id).themes == ("th12", "smuggling")
    run(st, "t" + "th1" + ENTER)
    run(st, "t" + "label" + ENTER)
    assert st.error and "matches 12 themes: th1, th2, th3" in st.message
    run(st, "t" + "99" + ENTER)
    assert st.error and "no theme number 99" in st.message
    run(st, "t" + "nothing" + C_G)
    assert st.mode == "normal" and store.get(ann.id).themes == ("th12", "smuggling", "th1")
    screen = screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), 80, 24)
    assert "keys 1-0: the first" in screen and "t picks any" in screen  # wrapped
    assert "smuggling" in screen  # the 13th theme is in the legend too, without a key


def test_quit_keys_twice_in_a_row(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1" + "qq" + C_C)  # keys typed ahead after the first quit must not break it
    assert len(store.list()) == 1


def test_search_finds_a_phrase_across_a_line_break(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    at = st.doc.text.index("Western\nBalkans")
    run(st, "/western balkans" + ENTER)
    assert st.search_hit == (at, at + len("Western\nBalkans")) and not st.error
    quote = st.doc.text.index("UK's")
    run(st, "g/uk’s" + ENTER)  # a typographic apostrophe finds the plain one
    assert st.search_hit is not None and st.search_hit[0] == quote


def test_search_line_opens_empty_and_enter_repeats(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    text = st.doc.text.lower()
    hits = [i for i in range(len(text)) if text.startswith("oic", i)]
    run(st, "/oic" + ENTER)
    # Typing after / is a new search, not the old one with more letters on the end.
    run(st, "/summit" + ENTER)
    assert st.search_query == "summit" and not st.error
    run(st, "g/oic" + ENTER + "/" + ENTER)
    assert st.search_hit == (hits[1], hits[1] + 3)


def test_toggling_off_the_last_theme_keeps_a_note(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "1" + "n" + "Hours of thought." + C_S + "1")
    [ann] = store.list()
    assert ann.themes == () and ann.note == "Hours of thought."
    assert "kept for its note" in st.message
    run(st, "d")
    assert store.list() == []


def test_suggestion_mark_survives_three_themes(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    store.add(doc, *sentence(doc, 0), themes=["border", "smuggling", "cooperation"],
              user="other", status="suggested")
    st.reload()
    screen = screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), 80, 24)
    assert screen.splitlines()[0].lstrip().startswith("p1.s1 12?")


def test_status_bar_hints_follow_the_mode_and_show_redo(corpus: Corpus, store: Store) -> None:
    from annotate.tui.views import status_bar

    st = editor(corpus, store)

    def status() -> str:
        return "".join(text for _, text, *_ in status_bar(st)())

    st.begin_note()
    assert "Ctrl-S save" in status() and "q quit" not in status()  # q is a letter of the note
    st.cancel_note()
    run(st, "1u")
    st.clear_message()
    assert "undo 0 redo 1" in status() and "? help" in status()


def test_a_refused_note_keeps_the_editor_open(
    corpus: Corpus, store: Store, store_path: Path
) -> None:
    """The store refuses the note (here: it became read-only): the editor stays open with the
    text (Ctrl-C drops it), rather than losing it."""
    from annotate.errors import StoreError

    st = editor(corpus, store)
    run(st, "1")
    [ann] = store.list()
    st.begin_note()
    with Store.open(store_path, readonly=True) as ro:
        st.store = ro
        with pytest.raises(StoreError, match="read-only"):
            st.save_note("An hour of careful reading.")
    st.store = store
    assert st.mode == "note" and st.note_target == ann.id
    st.cancel_note()
    assert st.mode == "normal"


def test_a_note_on_an_annotation_removed_meanwhile_is_not_lost(
    corpus: Corpus, store: Store
) -> None:
    """Someone removed the annotation while its note was being written: the conflict view
    offers to keep the note on a new annotation of the same words."""
    st = editor(corpus, store)
    run(st, "1")
    [ann] = store.list()
    st.begin_note()
    store.remove(ann.id, user="someone else")
    st.save_note("An hour of careful reading.")
    assert st.mode == "conflict" and st.conflict is not None and st.conflict.removed
    assert [k for k, _ in st.conflict_choices()] == ["t", "m", "e"]
    st.resolve_conflict("mine")
    [new] = store.list()
    assert new.id != ann.id and (new.start, new.end) == (ann.start, ann.end)
    assert new.note == "An hour of careful reading." and new.themes == ann.themes
    assert st.mode == "normal" and "your note is on" in st.message


def test_a_long_message_pushes_the_counts_out_of_the_status_bar(
    corpus: Corpus, store: Store
) -> None:
    st = editor(corpus, store)
    app = build_app(st, input=DummyInput(), output=DummyOutput())  # 80 columns
    st.say("accepted bc23b86a, on to the next suggestion")
    status = screen_text(app, 80, 24).splitlines()[-1]
    assert status == " 002 5/5 p1.s1 │ 0 ann │ accepted bc23b86a, on to the next suggestion"
    st.say("short")
    app = build_app(st, input=DummyInput(), output=DummyOutput())
    assert screen_text(app, 80, 24).splitlines()[-1] == \
        " 002 5/5 p1.s1 1/733 │ 0 ann │ undo 0 │ short"


def test_orphans_are_not_shown_at_their_stale_offsets(corpus: Corpus, store: Store) -> None:
    """An annotation whose text changed and could not be found again keeps its old offsets,
    which now hold other words: the editor must not paint it there or theme it."""
    from dataclasses import replace

    doc = corpus.get("002")
    kept = store.add(doc, *sentence(doc, 0), themes=["border"], user="tester")
    lost = store.add(doc, *sentence(doc, 1), themes=["smuggling"], user="tester")
    changed = replace(doc, text=doc.text.replace(lost.quote, "Rewritten entirely."))
    report = store.reanchor(Corpus(name="c", documents=(changed,)), user="tester")
    assert report.orphaned == (lost.id,)
    st = EditorState([changed], store, CODEBOOK, "tester")
    assert [a.id for a in st.annotations().overlapping(0, len(changed.text))] == [kept.id]


def test_accept_prefers_the_suggestion_under_a_shorter_annotation(
    corpus: Corpus, store: Store
) -> None:
    """`s` lands on a sentence suggestion that starts with a short annotation of the
    editor's own: `a` accepts the suggestion, not "already accepted" for the short one."""
    st = editor(corpus, store)
    doc = st.doc
    mine = store.add(doc, doc.tokens[0].start, doc.tokens[2].end, themes=["border"],
                     user="tester")
    sugg = store.add(doc, *sentence(doc, 0), themes=["smuggling"], user="tester",
                     status="suggested")
    st.reload()
    run(st, "g" + "a")
    assert store.get(sugg.id).status == "accepted" and store.get(mine.id).status == "accepted"
    assert st.message.startswith("accepted Smuggling on p1.s1")
    run(st, "g" + "x")  # no suggestion left here: the shortest one, as before
    assert store.get(mine.id).status == "rejected"
