"""The editor features of issue 14, driven headless through the real key bindings: the
annotation list and go-to, overlapping annotations, colours from the codebook's palette, the
gutter, NO_COLOR, search highlights, the fuzzy theme picker, shared passages side by side,
suggestions from inside, mouse, wide terminals and the per-annotator view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.data_structures import Point
from prompt_toolkit.input import DummyInput
from prompt_toolkit.mouse_events import MouseButton, MouseEvent, MouseEventType
from prompt_toolkit.output import DummyOutput

from annotate.corpus import Corpus, load_corpus
from annotate.model import Codebook, Theme
from annotate.palette import palette
from annotate.store import Store
from annotate.tui.app import build_app, screen_text
from annotate.tui.picker import rank
from annotate.tui.state import EditorState
from annotate.tui.views import render_lines, style
from tests.test_tui import C_G, CODEBOOK, ENTER, ESC, SEEDS, TAB, editor, run, sentence

HIER = Codebook(
    name="hier",
    themes=(
        Theme("whole_of_route", "Whole-of-route approach", color="red"),
        Theme("upstream", "Upstream action against smugglers", parent="whole_of_route",
              color="#00ff00"),
        Theme("returns", "Returns and removals of people with no right to stay"),
    ),
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus([SEEDS])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "annotations.sqlite") as s:
        yield s


def screen(st: EditorState, w: int = 100, h: int = 30) -> str:
    return screen_text(build_app(st, input=DummyInput(), output=DummyOutput()), w, h)


def pane(text: str) -> str:
    """The side pane's text, its wrapped lines joined."""
    return " ".join(" ".join(ln.split("│")[-1].split()) for ln in text.splitlines()[:-1])


# --- 1. the list panel and go-to -------------------------------------------------------------


def test_list_panel_filters_and_jumps(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    a = store.add(doc, *sentence(doc, 2), themes=["border"], user="tester")
    b = store.add(doc, *sentence(doc, 5), themes=["smuggling"], user="bob",
                  status="suggested")
    c = store.add(doc, *sentence(doc, 9), themes=["border", "cooperation"], user="bob")
    st.reload()
    run(st, "L")
    assert st.mode == "list" and len(st.list_items()) == 3
    text = screen(st)
    assert "3 of 3" in text and "Smuggling · bob" in text
    run(st, "t")  # theme filter: the first theme present (border)
    assert [x.id for x in st.list_items()] == [a.id, c.id]
    run(st, "t" + "t")  # smuggling, then cooperation
    assert [x.id for x in st.list_items()] == [c.id]
    run(st, "\x7f" + "s" + "s")  # clear, then status: accepted, then suggested
    assert [x.id for x in st.list_items()] == [b.id]
    run(st, "\x7f" + "u" + "u")  # annotator: bob, then tester
    assert [x.id for x in st.list_items()] == [a.id]
    run(st, "\x7f" + "jj" + ENTER)
    assert st.mode == "normal" and st.offset() == doc.tokens[st.token_at(c.start)].start
    assert st.current_annotation() == store.get(c.id)
    assert "Border security, International cooperation on p" in st.message


def test_goto_sentence_and_annotation_ids(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    s = doc.sentences[20]
    sid = s.id.split(".", 1)[1]
    run(st, ":" + sid + ENTER)
    assert st.offset() == s.start and sid in st.message
    ann = store.add(corpus.get("001"), *sentence(corpus.get("001"), 3), themes=["border"],
                    user="tester")
    run(st, ":" + ann.id[:5] + ENTER)  # the start of an id, in another document
    assert st.doc.id == "001" and st.offset() == ann.start
    run(st, ":" + "p999.s9" + ENTER)
    assert st.error and "no sentence or annotation" in st.message
    run(st, ":" + "002.p3.s1" + ENTER)  # a full sentence id opens its document
    assert st.doc.id == "002" and st.current_sentence_id() == "p3.s1"
    run(st, "g" + "p7.s1" + ENTER)  # g then a sentence id
    assert st.current_sentence_id() == "p7.s1"
    run(st, "g" + "w")  # g alone still goes to the start
    assert st.cursor == 1


# --- 2. overlaps -----------------------------------------------------------------------------


def test_overlapping_annotations_are_all_shown_and_cycled(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    s0 = sentence(doc, 0)
    short = store.add(doc, doc.tokens[0].start, doc.tokens[3].end, themes=["border"],
                      user="tester")
    whole = store.add(doc, *s0, themes=["smuggling"], user="bob")
    st.reload()
    text = pane(screen(st))
    assert "2 annotations here (c cycles)" in text
    assert "Border security · accepted · tester" in text and "Smuggling · accepted · bob" in text
    assert st.current_annotation() == store.get(short.id)  # the shortest first
    run(st, "c")
    assert st.current_annotation() == store.get(whole.id) and "2 of 2 here" in st.message
    # A number key acts on the annotation the pane shows: no new annotation.
    run(st, "3")
    assert len(store.list()) == 2
    assert store.get(whole.id).themes == ("smuggling", "cooperation")
    assert store.get(short.id).themes == ("border",)
    run(st, "c" + "3")  # back to the short one
    assert store.get(short.id).themes == ("border", "cooperation")


def test_theme_key_on_a_covered_passage_edits_it(corpus: Corpus, store: Store) -> None:
    """A passage annotation over two sentences: a key inside it edits it."""
    st = editor(corpus, store)
    doc = st.doc
    span = (doc.sentences[1].start, doc.sentences[2].end)
    ann = store.add(doc, *span, themes=["border"], user="tester")
    st.reload()
    run(st, "))" + "2")  # the cursor in the second sentence of the passage
    assert len(store.list()) == 1 and store.get(ann.id).themes == ("border", "smuggling")
    assert st.message.startswith("added Smuggling to p")
    run(st, "V" + "3")  # a selection still makes its own
    assert len(store.list()) == 2


# --- 3. colours and the legend ---------------------------------------------------------------


def test_editor_uses_the_codebook_palette_and_shows_the_hierarchy(
    corpus: Corpus, store: Store
) -> None:
    st = EditorState(corpus.documents, store, HIER, "tester", start_doc=4)
    pal = palette(HIER)
    rules = dict(style(st).style_rules)
    assert rules["theme0"] == f"fg:{pal.hex('whole_of_route').lower()}"
    assert rules["theme1"] == "fg:#00ff00"
    text = screen(st, 80, 24)
    lines = text.splitlines()
    legend = [ln.split("│")[-1] for ln in lines]
    i = next(k for k, ln in enumerate(legend) if "1 ○ Whole-of-route" in ln)
    j = next(k for k, ln in enumerate(legend) if "2 ○ Upstream" in ln)
    # the child indented under its parent; labels wrapped, not cut
    assert j > i and legend[j].startswith("  2 ○ Upstream")
    pane = " ".join(ln.strip() for ln in legend)
    assert "Upstream action against smugglers" in pane.replace("  ", " ")
    assert "…" not in pane


def test_themes_render_uses_the_same_palette() -> None:
    from rich.console import Console

    from annotate.themes_render import codebook_view

    console = Console(record=True, color_system="truecolor", width=100)
    console.print(codebook_view(HIER))
    out = console.export_text(styles=True)
    r, g, b = (int(palette(HIER).hex("whole_of_route")[i : i + 2], 16) for i in (1, 3, 5))
    assert f"38;2;{r};{g};{b}m" in out


# --- 4. gutter -------------------------------------------------------------------------------


def test_gutter_shows_every_theme_and_keeps_sentences_apart(
    corpus: Corpus, store: Store
) -> None:
    st = editor(corpus, store)
    doc = st.doc
    four = Codebook("four", tuple(Theme(f"t{i}", f"Theme {i}") for i in range(1, 5)))
    st.codebook = four
    s1, s2 = doc.sentences[1], doc.sentences[2]
    for t in ("t1", "t2", "t3", "t4"):
        store.add(doc, s1.start, s1.end, themes=[t], user="tester")
    store.add(doc, s2.start, s2.end, themes=["t4"], user="tester")
    st.reload()
    st.width = 40
    lay = st.layout()
    lines = render_lines(st, 0, len(lay.lines[:40]), st.label_width())

    lw = st.label_width()

    def gutter(i: int) -> str:  # the theme marks only
        return "".join(f[1] for f in lines[i])[lw + 1 : lw + 4]

    first = lay.line_of(s1.start)
    assert gutter(first).strip() == "123"
    assert gutter(first + 1).strip() == "4"  # the rest on the sentence's next line
    second = lay.line_of(s2.start)
    assert gutter(second).strip() == "4"  # only its own mark, whatever shares its line


# --- 5. NO_COLOR ------------------------------------------------------------------------------


def test_no_color_keeps_selection_matches_and_reuse_visible(
    corpus: Corpus, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    st = editor(corpus, store)
    rules = dict(style(st).style_rules)
    for cls in ("selection", "match", "reuse", "rejected", "cursor"):
        assert any(w in rules[cls] for w in ("reverse", "underline", "bold", "italic",
                                             "strike")), cls
        assert "bg:" not in rules[cls] and "fg:" not in rules[cls]
    # shared passages and search matches also get a gutter marker
    st2 = editor(corpus, store, reuse=True)
    run(st2, "r")
    screen(st2)  # scrolls the shared passage into view
    lay = st2.layout()
    lines = render_lines(st2, st2.top, 30, st2.label_width())
    seps = {frag[1] for line in lines for frag in line[:6] if frag[1] in "≈»"}
    assert "≈" in seps and lay


# --- 6. search, hints, undo ------------------------------------------------------------------


def test_escape_clears_search_highlights_and_n_brings_them_back(
    corpus: Corpus, store: Store
) -> None:
    st = editor(corpus, store)
    run(st, "/border" + ENTER)
    assert st.highlight and st.matches()

    def painted() -> bool:
        lines = render_lines(st, st.top, 20, st.label_width())
        return any("class:match" in f[0] for line in lines for f in line)

    assert painted()
    run(st, ESC + "j")
    assert not st.highlight and not painted()
    run(st, ">")
    assert st.highlight and painted()


def test_backward_search_shows_the_sentence_start(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "G")
    # a word well inside a long sentence
    target = next(s for s in st.doc.sentences if s.end - s.start > 250)
    word_at = target.start + 200
    word = st.doc.tokens[st.token_at(word_at)].text
    st.search_query = ""
    run(st, "/" + word + ENTER)
    for _ in range(60):
        if st.search_hit and st.doc.sentence_at(st.search_hit[0]) == target:
            break
        run(st, "<")
    assert st.search_hit and st.doc.sentence_at(st.search_hit[0]) == target
    screen(st, 80, 24)
    lay = st.layout()
    assert st.top <= lay.line_of(target.start)


def test_suggestion_hint_and_undo_moves_the_cursor(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    store.add(doc, *sentence(doc, 4), themes=["border"], user="tester", status="suggested")
    st.reload()
    run(st, "s")
    assert "a accept x reject" in pane(screen(st))
    run(st, "x")
    assert "rejected Border security on p" in st.message
    run(st, "g")
    assert st.offset() == 0
    run(st, "u")  # the rejection taken back: the cursor goes there
    assert st.offset() == sentence(doc, 4)[0] and "(at p" in st.message


def test_long_messages_wrap_in_the_status_bar(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    st.say("word " * 30)
    lines = screen(st, 80, 24).splitlines()
    assert "word word" in lines[-1] and "word word" in lines[-2]


# --- 7. the theme picker ----------------------------------------------------------------------


def test_picker_matches_words_anywhere_fuzzily() -> None:
    themes = HIER.themes
    assert rank("smuggling", themes)[0].id == "upstream"
    assert rank("route whole", themes)[0].id == "whole_of_route"
    assert rank("removal", themes)[0].id == "returns"
    assert rank("returned people", themes)[0].id == "returns"  # a shared stem
    assert rank("zebra", themes) == []


def test_picker_tab_completes_and_enter_toggles(corpus: Corpus, store: Store) -> None:
    st = EditorState(corpus.documents, store, HIER, "tester", start_doc=4)
    run(st, "t" + "smuggling" + ENTER)
    [ann] = store.list()
    assert ann.themes == ("upstream",)
    run(st, "t" + "rem" + TAB + ENTER)
    assert store.get(ann.id).themes == ("upstream", "returns")
    run(st, "t" + "o" + TAB + TAB + C_G)  # Tab again: the next match
    assert "2 of" in st.message


# --- 8. shared passages -----------------------------------------------------------------------


def test_o_jumps_to_the_other_side_and_back(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store, reuse=True)
    run(st, "r")
    here = (st.doc.id, st.offset())
    p = st.reuse_here()
    assert p is not None
    run(st, "o")
    assert st.doc.id != here[0] and st.reuse_here() is not None and "o goes back" in st.message
    run(st, "o")
    assert (st.doc.id, st.offset()) == here
    run(st, ENTER + "o")  # from the side-by-side view as well
    assert st.mode == "normal" and st.doc.id != here[0]


# --- 9. suggestions from inside ---------------------------------------------------------------


def test_bang_suggests_for_this_document_with_its_evidence(
    corpus: Corpus, store: Store
) -> None:
    from annotate.themes import load_codebook

    cb = load_codebook(SEEDS / "themes.toml")
    st = EditorState(corpus.documents, store, cb, "tester", start_doc=4)
    run(st, "!")
    anns = store.list(doc=st.doc.id)
    assert anns and all(a.status == "suggested" for a in anns)
    assert "suggested" in st.message
    run(st, "g" + "s")
    text = pane(screen(st, 120, 40))
    assert "pattern “" in text and "matched" in text
    run(st, "!")  # nothing twice
    assert len(store.list(doc=st.doc.id)) == len(anns)
    run(st, "u")  # one undo takes the run back
    assert store.list(doc=st.doc.id) == []


# --- 10. mouse, wide terminals, whose annotations ---------------------------------------------


def test_mouse_drag_selects_and_click_on_a_theme_toggles(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    app = build_app(st, mouse=True, input=DummyInput(), output=DummyOutput())
    screen_text(app, 100, 30)
    from annotate.tui.views import DocumentControl

    control = next(w.content for w in app.layout.find_all_windows()
                   if isinstance(w.content, DocumentControl))

    def mouse(kind: MouseEventType, x: int, y: int) -> None:
        control.mouse_handler(MouseEvent(Point(x=x, y=y), kind, MouseButton.LEFT,
                                         frozenset()))

    g = control.gutter
    mouse(MouseEventType.MOUSE_DOWN, g + 4, 0)
    mouse(MouseEventType.MOUSE_MOVE, g + 20, 0)
    mouse(MouseEventType.MOUSE_UP, g + 30, 1)
    sel = st.selection()
    assert sel is not None and sel[0] == 4 and sel[1] > 40
    from annotate.tui.panels import side

    frags = side(st, 40)
    border = next(f for f in frags if "Border security" in f[1] and len(f) == 3)
    border[2](MouseEvent(Point(x=0, y=0), MouseEventType.MOUSE_UP, MouseButton.LEFT,
                         frozenset()))
    [ann] = store.list()
    assert (ann.start, ann.end, ann.themes) == (*sel, ("border",))


def test_wide_terminal_keeps_the_text_readable(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    screen(st, 200, 40)
    assert 95 <= st.width <= 100
    screen(st, 80, 24)
    assert st.width < 60


def test_per_annotator_view_and_whose_marker(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    doc = st.doc
    mine = store.add(doc, *sentence(doc, 0), themes=["border"], user="tester")
    theirs = store.add(doc, *sentence(doc, 1), themes=["smuggling"], user="bob")
    st.reload()
    lines = screen(st, 100, 30).splitlines()
    # bob's initial in the gutter of his sentence, none on mine
    assert lines[0].split("│")[0].rstrip().endswith("1")
    s1_line = next(ln for ln in lines if ln.lstrip().startswith("p2.s1"))
    gut = s1_line.split("│")[0].rstrip()
    assert gut.endswith("B") and "2" in gut and "B" not in lines[0].split("│")[0]
    run(st, "M")  # only mine
    assert [a.id for a in st.annotations().items] == [mine.id] and "only your" in st.message
    run(st, "M")  # bob's
    assert [a.id for a in st.annotations().items] == [theirs.id] and "bob" in st.message
    run(st, "M")
    assert len(st.annotations()) == 2


def test_help_lists_the_new_keys(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, "?")
    docs = " ".join(d for _, d in st.help_lines)
    for words in ("List this document's annotations", "Go to a sentence id",
                  "annotations overlapping here", "other statement at this shared passage",
                  "Suggest themes for this document", "Whose annotations show",
                  "Complete to the best matching theme"):
        assert words in docs, words
    assert CODEBOOK.themes and ESC


def test_pane_puts_the_annotation_first_when_all_does_not_fit(
    corpus: Corpus, store: Store
) -> None:
    from annotate.themes import load_codebook

    cb = load_codebook(SEEDS / "themes.toml")
    st = EditorState(corpus.documents, store, cb, "tester", start_doc=4)
    doc = st.doc
    store.add(doc, *sentence(doc, 0), themes=[cb.themes[0].id], user="tester",
              note="a note to read")
    store.add(doc, doc.tokens[0].start, doc.tokens[2].end, themes=[cb.themes[1].id],
              user="bob")
    st.reload()
    small = pane(screen(st, 80, 24))
    assert "2 annotations here" in small
    assert small.index("annotations here") < small.index("Themes:")
    tall = pane(screen(st, 80, 60))
    assert tall.index("Themes:") < tall.index("annotations here")


def test_names_and_patterns_from_users_are_shown_with_controls_visible(
    corpus: Corpus, store: Store
) -> None:
    st = editor(corpus, store)
    doc = st.doc
    store.add(doc, *sentence(doc, 0), themes=["border"], user="\x1b[31mevil",
              status="suggested", evidence=[("border", "bord\x07er*", "Border\x1b")])
    st.reload()
    text = screen(st, 120, 40)
    assert "\x1b" not in text and "\x07" not in text
    assert "␛[31mevil" in text and "bord␇er*" in text
    # the gutter's initial of another annotator is made visible too
    assert text.splitlines()[0].split("│")[0].rstrip().endswith("␛")


def test_undo_of_a_change_in_another_document_goes_there(corpus: Corpus, store: Store) -> None:
    st = editor(corpus, store)
    run(st, ")" + "1")  # themes p2.s1 of 002
    [ann] = store.list()
    run(st, "[")  # to 003
    assert st.doc.id != "002"
    run(st, "u")
    assert st.doc.id == "002" and st.offset() == ann.start and "(at p2.s1)" in st.message
