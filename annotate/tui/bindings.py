"""Key bindings. Every handler's docstring is its help text: the `?` screen is built from them.

Handlers run inside a guard that turns any exception into a status-bar message, so no key in
any mode can take the editor down.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from annotate.errors import AnnotateError
from annotate.tui.state import THEME_KEYS, EditorState
from annotate.tui.views import Views

Handler = Callable[[KeyPressEvent], None]

MODE_TITLES = {
    "normal": "Document",
    "search": "Search line (/)",
    "theme": "Theme line (t)",
    "goto": "Go-to line (:)",
    "list": "Annotation list (L)",
    "note": "Note editor (n)",
    "help": "This help (?)",
    "reuse": "Shared passage view (Enter)",
    "conflict": "Conflict view (another annotator changed it first)",
    "*": "Everywhere",
}

_NAMES = {
    "left": "←", "right": "→", "up": "↑", "down": "↓",
    "s-left": "Shift-←", "s-right": "Shift-→", "s-up": "Shift-↑", "s-down": "Shift-↓",
    "escape": "Esc", "enter": "Enter", "tab": "Tab", "s-tab": "Shift-Tab",
    "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End", "space": "Space",
    "<any>": "other keys",
}


def key_name(key: str | tuple[str, ...]) -> str:
    if isinstance(key, tuple):
        return "-".join(key_name(k) for k in key)
    if key in _NAMES:
        return _NAMES[key]
    if key.startswith("c-"):
        return "Ctrl-" + key[2:].upper()
    return key


@dataclass(frozen=True)
class Entry:
    mode: str
    keys: str
    doc: str


class Bindings:
    """Collects bindings per mode, guarded, with their docstrings for the help screen."""

    def __init__(self, state: EditorState, views: Views) -> None:
        self.state = state
        self.views = views
        self.kb = KeyBindings()
        self.entries: list[Entry] = []

    def on(
        self, mode: str, *keys: str | tuple[str, ...], label: str | None = None,
        eager: bool = False, keep_message: bool = False, in_help: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Bind `keys` in `mode` ("*": every mode) to the decorated handler."""
        state = self.state

        def decorate(fn: Handler) -> Handler:
            doc = inspect.getdoc(fn)
            if not doc:
                raise TypeError(f"key binding {fn.__name__} has no docstring")
            if in_help:
                keys_shown = label or " ".join(key_name(k) for k in keys)
                self.entries.append(Entry(mode, keys_shown, doc.splitlines()[0]))
            guarded = self.guard(fn, keep_message)
            active = Condition(lambda: mode == "*" or state.mode == mode)
            for key in keys:
                seq = key if isinstance(key, tuple) else (key,)
                self.kb.add(*seq, filter=active, eager=eager)(guarded)
            return fn

        return decorate

    def guard(self, fn: Handler, keep_message: bool = False) -> Handler:
        state, views = self.state, self.views

        def handler(event: KeyPressEvent) -> None:
            if state.mode == "normal" and not keep_message:
                state.clear_message()
            try:
                fn(event)
            except AnnotateError as e:
                state.say(str(e), error=True)
                # Usually another annotator changed what we showed: show the store as it is.
                state.forget_cache()
            except Exception as e:  # the promise: no key crashes the editor
                state.say(f"error: {type(e).__name__}: {e}", error=True)
            views.sync_focus()
            if state.quit_requested and not event.app.is_done:
                event.app.exit()

        handler.__doc__ = fn.__doc__
        handler.__name__ = fn.__name__
        return handler

    def help_lines(self) -> list[tuple[str, str]]:
        """(keys, description) rows grouped by mode; a row with no description is a title."""
        out: list[tuple[str, str]] = []
        for mode, title in MODE_TITLES.items():
            rows = [(e.keys, e.doc) for e in self.entries if e.mode == mode]
            if rows:
                if out:
                    out.append(("", ""))
                out.append((title, ""))
                out.extend(rows)
        return out


def build_bindings(state: EditorState, views: Views) -> Bindings:
    b = Bindings(state, views)
    st = state

    # --- document: movement ------------------------------------------------------------

    @b.on("normal", "right", "l", "w")
    def word_right(event: KeyPressEvent) -> None:
        """Next word (extends an active selection)."""
        st.move_word(1)

    @b.on("normal", "left", "h", "b")
    def word_left(event: KeyPressEvent) -> None:
        """Previous word (extends an active selection)."""
        st.move_word(-1)

    @b.on("normal", "down", "j")
    def line_down(event: KeyPressEvent) -> None:
        """Next line."""
        st.move_line(1)

    @b.on("normal", "up", "k")
    def line_up(event: KeyPressEvent) -> None:
        """Previous line."""
        st.move_line(-1)

    @b.on("normal", ")")
    def sentence_next(event: KeyPressEvent) -> None:
        """Next sentence."""
        st.move_sentence(1)

    @b.on("normal", "(")
    def sentence_prev(event: KeyPressEvent) -> None:
        """Start of this sentence, then the previous one."""
        st.move_sentence(-1)

    @b.on("normal", "}")
    def paragraph_next(event: KeyPressEvent) -> None:
        """Next paragraph."""
        st.move_paragraph(1)

    @b.on("normal", "{")
    def paragraph_prev(event: KeyPressEvent) -> None:
        """Start of this paragraph, then the previous one."""
        st.move_paragraph(-1)

    @b.on("normal", "pagedown", "c-f", "space")
    def page_down(event: KeyPressEvent) -> None:
        """Page down."""
        st.page(1)

    @b.on("normal", "pageup", "c-b")
    def page_up(event: KeyPressEvent) -> None:
        """Page up."""
        st.page(-1)

    @b.on("normal", "home", "g")
    def go_start(event: KeyPressEvent) -> None:
        """Start of the document."""
        st.move_to("start")

    @b.on("normal", "end", "G")
    def go_end(event: KeyPressEvent) -> None:
        """End of the document."""
        st.move_to("end")

    # --- selection ---------------------------------------------------------------------

    @b.on("normal", "v")
    def selection_toggle(event: KeyPressEvent) -> None:
        """Start a selection here (moving extends it), or drop it."""
        st.toggle_selection()

    @b.on("normal", "V")
    def selection_sentence(event: KeyPressEvent) -> None:
        """Select the whole current sentence."""
        st.select_sentence()

    @b.on("normal", "s-right")
    def extend_right(event: KeyPressEvent) -> None:
        """Extend the selection by a word to the right."""
        st.extend(lambda: st.move_word(1))

    @b.on("normal", "s-left")
    def extend_left(event: KeyPressEvent) -> None:
        """Extend the selection by a word to the left."""
        st.extend(lambda: st.move_word(-1))

    @b.on("normal", "s-down")
    def extend_down(event: KeyPressEvent) -> None:
        """Extend the selection by a line down."""
        st.extend(lambda: st.move_line(1))

    @b.on("normal", "s-up")
    def extend_up(event: KeyPressEvent) -> None:
        """Extend the selection by a line up."""
        st.extend(lambda: st.move_line(-1))

    @b.on("normal", "escape")
    def escape(event: KeyPressEvent) -> None:
        """Clear the selection, then the search highlights (> brings them back)."""
        st.escape()

    # --- annotating ----------------------------------------------------------------------

    @b.on("normal", *THEME_KEYS, label="1-9 0")
    def toggle_theme(event: KeyPressEvent) -> None:
        """Toggle that theme on the selection, else the annotation here, else the sentence."""
        st.toggle_theme(event.key_sequence[0].data)

    @b.on("normal", "t")
    def theme_line(event: KeyPressEvent) -> None:
        """Toggle a theme by words of its label or id, or its number (Tab completes)."""
        st.mode = "theme"
        views.search_buffer.text = ""

    @b.on("normal", "c")
    def cycle_here(event: KeyPressEvent) -> None:
        """Next of the annotations overlapping here (number keys, n, a, x, d act on it)."""
        st.cycle_here(1)

    @b.on("normal", "C")
    def cycle_here_back(event: KeyPressEvent) -> None:
        """Previous of the annotations overlapping here."""
        st.cycle_here(-1)

    @b.on("normal", "!")
    def suggest_here(event: KeyPressEvent) -> None:
        """Suggest themes for this document from the codebook's patterns (u takes them back)."""
        st.suggest_document()

    @b.on("normal", "a")
    def accept(event: KeyPressEvent) -> None:
        """Accept the suggestion here, go to the next one."""
        st.set_status("accepted")

    @b.on("normal", "x")
    def reject(event: KeyPressEvent) -> None:
        """Reject the suggestion here, go to the next one."""
        st.set_status("rejected")

    @b.on("normal", "n")
    def note(event: KeyPressEvent) -> None:
        """Write or edit the note of the annotation here."""
        st.begin_note()
        views.load_note()

    @b.on("normal", "d")
    def delete(event: KeyPressEvent) -> None:
        """Delete the annotation here (u brings it back)."""
        st.delete()

    @b.on("normal", "u", "c-z")
    def undo(event: KeyPressEvent) -> None:
        """Undo your last change (even after a restart)."""
        st.undo()

    @b.on("normal", "c-r", "U")
    def redo(event: KeyPressEvent) -> None:
        """Redo the last undone change."""
        st.redo()

    # --- jumps ---------------------------------------------------------------------------

    @b.on("normal", "tab")
    def annotation_next(event: KeyPressEvent) -> None:
        """Next annotation."""
        st.jump_annotation(1)

    @b.on("normal", "s-tab")
    def annotation_prev(event: KeyPressEvent) -> None:
        """Previous annotation."""
        st.jump_annotation(-1)

    @b.on("normal", "s")
    def suggestion_next(event: KeyPressEvent) -> None:
        """Next suggestion (from `annotate suggest`)."""
        st.jump_annotation(1, status="suggested")

    @b.on("normal", "S")
    def suggestion_prev(event: KeyPressEvent) -> None:
        """Previous suggestion."""
        st.jump_annotation(-1, status="suggested")

    @b.on("normal", "r")
    def reuse_next(event: KeyPressEvent) -> None:
        """Next passage shared with another statement."""
        st.jump_reuse(1)

    @b.on("normal", "R")
    def reuse_prev(event: KeyPressEvent) -> None:
        """Previous shared passage."""
        st.jump_reuse(-1)

    @b.on("normal", "enter")
    def reuse_open(event: KeyPressEvent) -> None:
        """Compare a shared passage with the other statement, side by side."""
        st.open_reuse()

    @b.on("normal", "o")
    def reuse_other(event: KeyPressEvent) -> None:
        """Go to the other statement at this shared passage (o there comes back)."""
        st.jump_other_side()

    @b.on("normal", "L")
    def list_open(event: KeyPressEvent) -> None:
        """List this document's annotations (filter by theme, status, annotator)."""
        st.open_list()

    @b.on("normal", ":")
    def goto_open(event: KeyPressEvent) -> None:
        """Go to a sentence id (p19.s2) or an annotation id."""
        st.mode = "goto"
        views.search_buffer.text = ""

    @b.on("normal", ("g", "p"), label="g p")
    def goto_paragraph(event: KeyPressEvent) -> None:
        """Go to a sentence id typed after it: g p19.s2 Enter."""
        st.mode = "goto"
        views.search_buffer.text = "p"
        views.search_buffer.cursor_position = 1

    @b.on("normal", "M")
    def view_whose(event: KeyPressEvent) -> None:
        """Whose annotations show: everyone's, only yours, each other annotator's."""
        st.cycle_view()

    # --- search and documents -------------------------------------------------------------

    @b.on("normal", "/")
    def search_open(event: KeyPressEvent) -> None:
        """Search this document (case-insensitive; Enter alone repeats the last search)."""
        st.mode = "search"
        views.search_buffer.text = ""

    @b.on("normal", "c-n", ">")
    def search_next(event: KeyPressEvent) -> None:
        """Next match of the last search."""
        st.search_next(1)

    @b.on("normal", "c-p", "<")
    def search_prev(event: KeyPressEvent) -> None:
        """Previous match of the last search."""
        st.search_next(-1)

    @b.on("normal", "]")
    def doc_next(event: KeyPressEvent) -> None:
        """Next document (in date order)."""
        st.switch_doc(1)

    @b.on("normal", "[")
    def doc_prev(event: KeyPressEvent) -> None:
        """Previous document."""
        st.switch_doc(-1)

    @b.on("normal", "c-l")
    def reload(event: KeyPressEvent) -> None:
        """Reload annotations from the store, and redraw."""
        st.reload()
        event.app.renderer.clear()

    @b.on("normal", "?", "f1")
    def help_open(event: KeyPressEvent) -> None:
        """Show this help."""
        st.help_top = 0
        st.mode = "help"

    @b.on("normal", "q", keep_message=True)
    def quit_(event: KeyPressEvent) -> None:
        """Quit (everything is already saved)."""
        st.quit_requested = True

    # --- search line -----------------------------------------------------------------------

    @b.on("search", "enter", eager=True)
    def search_run(event: KeyPressEvent) -> None:
        """Search for the text typed."""
        st.search(views.search_buffer.text)

    @b.on("search", "escape", "c-c", "c-g", eager=True)
    def search_cancel(event: KeyPressEvent) -> None:
        """Close the search line."""
        st.mode = "normal"

    @b.on("theme", "enter", eager=True)
    def theme_pick(event: KeyPressEvent) -> None:
        """Toggle the theme typed on the selection, else the sentence."""
        st.pick_theme(views.search_buffer.text)

    @b.on("theme", "escape", "c-c", "c-g", eager=True)
    def theme_cancel(event: KeyPressEvent) -> None:
        """Close the theme line."""
        st.mode = "normal"

    @b.on("theme", "tab", eager=True)
    def theme_complete(event: KeyPressEvent) -> None:
        """Complete to the best matching theme id (Tab again: the next match)."""
        buf = views.search_buffer
        text = st.complete_theme(buf.text)
        buf.text = text
        buf.cursor_position = len(text)

    @b.on("goto", "enter", eager=True)
    def goto_run(event: KeyPressEvent) -> None:
        """Go to the sentence or annotation typed (empty: the start)."""
        st.goto(views.search_buffer.text)

    @b.on("goto", "escape", "c-c", "c-g", eager=True)
    def goto_cancel(event: KeyPressEvent) -> None:
        """Close the go-to line."""
        st.mode = "normal"

    # --- the annotation list ----------------------------------------------------------------

    @b.on("list", "j", "down", label="j ↓")
    def list_down(event: KeyPressEvent) -> None:
        """Next annotation in the list."""
        st.list_move(1)

    @b.on("list", "k", "up", label="k ↑")
    def list_up(event: KeyPressEvent) -> None:
        """Previous annotation in the list."""
        st.list_move(-1)

    @b.on("list", "pagedown", "space", label="PgDn")
    def list_page_down(event: KeyPressEvent) -> None:
        """A page down the list."""
        st.list_move(10)

    @b.on("list", "pageup", "b", label="PgUp")
    def list_page_up(event: KeyPressEvent) -> None:
        """A page up the list."""
        st.list_move(-10)

    @b.on("list", "enter")
    def list_go(event: KeyPressEvent) -> None:
        """Go to the annotation (the side pane shows it)."""
        st.list_jump()

    @b.on("list", "t")
    def list_theme(event: KeyPressEvent) -> None:
        """Filter by theme (again: the next theme; then all)."""
        st.list_cycle("theme")

    @b.on("list", "s")
    def list_status(event: KeyPressEvent) -> None:
        """Filter by status: accepted, suggested, rejected, any."""
        st.list_cycle("status")

    @b.on("list", "u")
    def list_user(event: KeyPressEvent) -> None:
        """Filter by annotator."""
        st.list_cycle("user")

    @b.on("list", "backspace", "c-h", label="Backspace")
    def list_clear(event: KeyPressEvent) -> None:
        """Clear the filters."""
        st.list_clear()

    @b.on("list", "escape", "L", "q", eager=True)
    def list_close(event: KeyPressEvent) -> None:
        """Close the list."""
        st.mode = "normal"

    # --- note editor -----------------------------------------------------------------------

    @b.on("note", "c-s", ("escape", "enter"), eager=True)
    def note_save(event: KeyPressEvent) -> None:
        """Save the note (an empty note clears it)."""
        st.save_note(views.note.text)

    @b.on("note", "escape")
    def note_close(event: KeyPressEvent) -> None:
        """Save the note and close the editor."""
        st.save_note(views.note.text)

    @b.on("note", "c-c", "c-g", eager=True)
    def note_cancel(event: KeyPressEvent) -> None:
        """Close the editor without saving."""
        st.cancel_note()

    # --- conflicts -------------------------------------------------------------------------

    @b.on("conflict", "t", "escape", "c-c", "c-g", keep_message=True)
    def conflict_theirs(event: KeyPressEvent) -> None:
        """Keep their version (yours is dropped; Esc does the same)."""
        st.resolve_conflict("theirs")

    @b.on("conflict", "m", keep_message=True)
    def conflict_mine(event: KeyPressEvent) -> None:
        """Keep yours, written over their version (still only if unchanged since)."""
        st.resolve_conflict("mine")

    @b.on("conflict", "e", keep_message=True)
    def conflict_merge(event: KeyPressEvent) -> None:
        """Merge: edit both notes together in the note editor, then save."""
        if st.conflict is not None and st.conflict.field != "note":
            st.say("only notes are merged: t keeps theirs, m keeps yours", error=True)
            return
        st.resolve_conflict("merge")
        if st.mode == "note":
            views.load_note()

    # --- help and reuse overlays ----------------------------------------------------------

    def scroll(attr: str, key: Keys | str) -> None:
        name = key.value if isinstance(key, Keys) else key
        step = {"j": 1, "down": 1, "k": -1, "up": -1, "pageup": -10, "b": -10}.get(name, 10)
        # The view clamps the far end, where it knows the wrapped length.
        setattr(st, attr, max(0, getattr(st, attr) + step))

    scroll_keys = "j k ↓ ↑ PgDn PgUp"

    @b.on("help", "j", "down", "k", "up", "pagedown", "pageup", "space", "b",
          label=scroll_keys)
    def help_scroll(event: KeyPressEvent) -> None:
        """Scroll (j/k a line, PgDn/PgUp/Space/b a page)."""
        scroll("help_top", event.key_sequence[0].key)

    @b.on("reuse", "j", "down", "k", "up", "pagedown", "pageup", "space", "b",
          label=scroll_keys)
    def reuse_scroll(event: KeyPressEvent) -> None:
        """Scroll (j/k a line, PgDn/PgUp/Space/b a page)."""
        scroll("overlay_top", event.key_sequence[0].key)

    @b.on("help", Keys.Any, label="other keys")
    def help_close(event: KeyPressEvent) -> None:
        """Close the help."""
        st.mode = "normal"

    @b.on("reuse", "o")
    def reuse_view_other(event: KeyPressEvent) -> None:
        """Go to the other statement at this passage."""
        st.close_overlay()
        st.jump_other_side()

    @b.on("reuse", Keys.Any, label="other keys")
    def reuse_close(event: KeyPressEvent) -> None:
        """Close the shared-passage view."""
        st.close_overlay()

    # --- everywhere ------------------------------------------------------------------------

    @b.on("*", "c-q", eager=True, keep_message=True)
    def quit_now(event: KeyPressEvent) -> None:
        """Quit from anywhere (saves a note being written)."""
        if st.mode == "note":
            st.save_note(views.note.text)
        st.quit_requested = True

    # Ctrl-C quits from the document and the overlays; in the editors it cancels.
    for mode in ("normal", "help", "reuse", "list"):

        @b.on(mode, "c-c", eager=True, keep_message=True, in_help=mode == "normal")
        def interrupt(event: KeyPressEvent) -> None:
            """Quit."""
            st.quit_requested = True

    state.help_lines = b.help_lines()
    return b
