"""The layout: document pane, theme pane, status bar, search line and overlays.

The document pane is a custom UIControl that asks the state for the visible lines only, so
drawing costs the same on a 5 KB statement and a 1 MB one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from prompt_toolkit.application.current import get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.data_structures import Point
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.layout import (
    ConditionalContainer,
    Float,
    FloatContainer,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import (
    BufferControl,
    FormattedTextControl,
    GetLinePrefixCallable,
    UIContent,
    UIControl,
)
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.mouse_events import MouseEvent, MouseEventType
from prompt_toolkit.styles import Style
from prompt_toolkit.widgets import Frame, TextArea

from annotate.sanitize import visible
from annotate.tui.panels import list_lines, no_color, reuse_columns, shown, side, theme_styles
from annotate.tui.state import THEME_KEYS, EditorState

SIDE_WIDTH = 24  # 80 columns leave the text ~44; wider screens give the labels more room
WIDE_SIDE_WIDTH = 30  # from 96 columns: "1 ● Whole-of-route approach" fits whole
TEXT_MAX = 100  # past this the text column stops growing and the side pane takes the rest
MARKS = 3  # theme marks per gutter line (a sentence's further marks go on its next lines)


def style(state: EditorState | None = None) -> Style:
    """The editor's style: theme colours from the codebook's palette; with NO_COLOR, what
    colour alone marked (selection, matches, shared passages, rejected) gets reverse,
    underline, bold or strike instead."""
    rules: dict[str, str] = {
        "gutter": "fg:#808080",
        "gutter.sentence": "fg:#8a8a8a",
        "annotated": "underline",
        "suggested": "italic underline fg:#a0a0a0",
        "rejected": "fg:#606060 strike",
        "reuse": "bg:#1c3a4a",
        "match": "bg:ansiyellow fg:black",
        "selection": "bg:ansiblue fg:ansiwhite",
        "cursor": "reverse bold",
        "status": "bg:#303030 fg:#d0d0d0",
        "status.message": "bg:#303030 fg:ansiwhite bold",
        "status.error": "bg:#5f0000 fg:ansiwhite bold",
        "side.title": "bold",
        "side.active": "reverse",
        "side.dim": "fg:#808080",
        "overlay": "bg:#1c1c1c",
        "diff.delete": "fg:ansired strike",
        "diff.insert": "fg:ansigreen underline",
        "help.keys": "bold fg:ansicyan",
        "searchline": "bg:#262626",
        "hint": "bold fg:ansicyan",
        "list.cursor": "reverse",
        "gutter.mark": "bold",
        "who": "fg:#d7af5f",
    }
    if state is not None:
        rules.update(theme_styles(state))
    if no_color():
        rules.update({
            "selection": "reverse",
            "cursor": "reverse bold underline",
            "match": "bold underline italic",
            "reuse": "italic",
            "rejected": "strike",
            "suggested": "italic underline",
            "side.active": "reverse bold",
            "status.error": "reverse bold",
        })
    return Style.from_dict(rules)


class SideControl(FormattedTextControl):
    """The side pane: its text is made for the width it is given (labels wrap, never cut)."""

    def __init__(self, state: EditorState) -> None:
        self.width = SIDE_WIDTH
        self.height = 10_000
        super().__init__(_guarded(lambda: side(state, self.width, self.height)))

    def preferred_height(self, width: int, max_available_height: int, wrap_lines: bool,
                         get_line_prefix: GetLinePrefixCallable | None) -> int | None:
        # The pane fills the height it is given; asking the text here would make (and, for
        # the render, cache) it for an unknown height.
        return None

    def create_content(self, width: int, height: int | None) -> UIContent:
        self.width = width
        self.height = height if height is not None else 10_000
        return super().create_content(width, height)


def gutter_width(state: EditorState) -> int:
    """Sentence id, space, theme marks, whose marker, separator."""
    return state.label_width() + 1 + MARKS + 1 + 1


def theme_class(state: EditorState, theme_id: str) -> str:
    key = state.theme_key(theme_id)
    return f"class:theme{THEME_KEYS.index(key)}" if key in THEME_KEYS else ""


class DocumentControl(UIControl):
    """The document pane: gutter (sentence id, theme marks) and the visible text lines."""

    def __init__(self, state: EditorState) -> None:
        self.state = state
        self.gutter = 0

    def is_focusable(self) -> bool:
        return True

    def create_content(self, width: int, height: int) -> UIContent:
        try:
            lines, cursor_row = self._render(width, height)
        except Exception as e:  # a drawing bug must not take the session down
            self.state.say(f"display error: {type(e).__name__}: {e}", error=True)
            lines, cursor_row = [[("class:status.error", f"display error: {e}")]], 0

        def get_line(i: int) -> StyleAndTextTuples:
            return lines[i] if 0 <= i < len(lines) else []

        return UIContent(
            get_line=get_line,
            line_count=len(lines),
            cursor_position=Point(x=self.gutter, y=cursor_row),
            show_cursor=False,
        )

    def _render(self, width: int, height: int) -> tuple[list[StyleAndTextTuples], int]:
        st = self.state
        label_w = st.label_width()
        self.gutter = gutter_width(st)
        st.width = max(8, width - self.gutter)
        cursor_line = st.scroll_into_view(height)
        return render_lines(st, st.top, height, label_w), max(0, cursor_line - st.top)

    def mouse_handler(self, mouse_event: MouseEvent) -> None:
        st = self.state
        if st.mode != "normal":
            return None
        try:
            kind = mouse_event.event_type
            y, x = mouse_event.position.y, mouse_event.position.x - self.gutter
            # A drag (press, move, release) selects from the word pressed to the word released.
            if kind == MouseEventType.MOUSE_DOWN:
                st.click(y, x)
                st.anchor = None
                self.drag_from: int | None = st.cursor
            elif kind in (MouseEventType.MOUSE_MOVE, MouseEventType.MOUSE_UP):
                st.click(y, x)
                start = getattr(self, "drag_from", None)
                if start is not None and start != st.cursor:
                    st.anchor = start
                if kind == MouseEventType.MOUSE_UP:
                    self.drag_from = None
            elif mouse_event.event_type == MouseEventType.SCROLL_DOWN:
                st.move_line(3)
            elif mouse_event.event_type == MouseEventType.SCROLL_UP:
                st.move_line(-3)
        except Exception as e:  # as with keys: a message, never a crash
            st.say(f"error: {type(e).__name__}: {e}", error=True)
        return None


def render_lines(
    st: EditorState, top: int, height: int, label_w: int
) -> list[StyleAndTextTuples]:
    """Styled fragments of display lines [top, top + height): only those are looked at.

    The gutter's marks belong to one sentence each: the sentence starting on the line (else
    the one the line continues), every theme of it, spread over its lines when they do not
    fit on the first; the whose-marker shows another annotator's initial."""
    import bisect

    lay = st.layout()
    visible = lay.lines[top : top + height]
    if not visible:
        return []
    text = st.doc.text
    doc = st.doc
    w_start = visible[0].start
    w_end = visible[-1].end
    anns = st.annotations().overlapping(w_start, w_end)
    reuse = [(s, e) for s, e, _ in st.reuse_spans() if s < w_end and e > w_start]
    matches: list[tuple[int, int]] = []
    if st.search_query and st.highlight:
        found = st.matches()
        i = max(0, bisect.bisect_left(found, (w_start, 0)) - 1)
        while i < len(found) and found[i][0] < w_end:
            matches.append(found[i])
            i += 1
    sel = st.selection()
    cur = st.cursor_span() if st.n_tokens else None
    sent_starts = doc.sentence_starts
    sentences = doc.sentences
    marks_of: dict[int, tuple[list[tuple[str, str]], str]] = {}

    def sentence_marks(si: int) -> tuple[list[tuple[str, str]], str]:
        got = marks_of.get(si)
        if got is None:
            s = sentences[si]
            marks: list[tuple[str, str]] = []
            suggested = False
            others: set[str] = set()
            for ann in st.annotations().overlapping(s.start, s.end):
                if ann.status == "rejected" or ann.end <= s.start or ann.start >= s.end:
                    continue
                suggested = suggested or ann.status == "suggested"
                if ann.user != st.user:
                    others.add(ann.user)
                for t in ann.themes:
                    mark = (theme_class(st, t), st.theme_key(t))
                    if mark not in marks:
                        marks.append(mark)
            marks.sort(key=lambda m: THEME_KEYS.find(m[1]) % 11)
            if suggested:  # on the first line, whatever the number of themes
                marks.insert(min(len(marks), MARKS - 1), ("class:suggested", "?"))
            who = ""
            if others:
                name = shown(next(iter(others))[:1]).upper()
                who = name if len(others) == 1 and name.strip() else "+"
            got = marks_of[si] = (marks, who)
        return got

    out: list[StyleAndTextTuples] = []
    for n_line, line in enumerate(visible):
        if line.blank:
            out.append([("class:gutter", " " * (label_w + 1 + MARKS + 1) + "│")])
            continue
        a, b = line.start, line.end
        n = b - a
        styles = [""] * n
        on_reuse = False
        for s, e in reuse:
            _paint(styles, a, s, e, "class:reuse")
            on_reuse = on_reuse or (s < b and e > a)
        for ann in anns:
            if ann.end <= a or ann.start >= b:
                continue
            if ann.status == "rejected":
                _paint(styles, a, ann.start, ann.end, "class:rejected")
                continue
            cls = theme_class(st, ann.themes[0]) if ann.themes else ""
            kind = "class:suggested" if ann.status == "suggested" else "class:annotated"
            _paint(styles, a, ann.start, ann.end, f"{kind} {cls}")
        on_match = False
        for s, e in matches:
            _paint(styles, a, s, e, "class:match")
            on_match = on_match or (s < b and e > a)
        if sel is not None:
            _paint(styles, a, *sel, "class:selection")
        if cur is not None:
            _paint(styles, a, *cur, "class:cursor")
        # Which sentence this line's gutter speaks for, and how far into it the line is.
        si = bisect.bisect_left(sent_starts, a)
        if not (si < len(sent_starts) and sent_starts[si] < b):
            si -= 1
        marks: list[tuple[str, str]] = []
        who = ""
        if 0 <= si < len(sentences) and sentences[si].end > a:
            all_marks, who_all = sentence_marks(si)
            first = lay.line_of(sentences[si].start)
            k = max(0, top + n_line - first)
            marks = all_marks[k * MARKS : (k + 1) * MARKS]
            rest = len(all_marks) - (k + 1) * MARKS
            if rest > 0 and sentences[si].end <= b:  # the sentence's last line: say more
                marks = [*marks[: MARKS - 1], ("class:gutter.mark", "+")]
            who = who_all if k == 0 else ""
        sep = "≈" if on_reuse else ("»" if on_match else "│")
        frags: StyleAndTextTuples = [
            ("class:gutter.sentence", line.sentence.rjust(label_w) + " "),
            *marks,
            ("class:gutter", " " * (MARKS - len(marks))),
            ("class:who", who or " "),
            ("class:gutter", sep),
        ]
        seg = shown(text[a:b])
        i = 0
        for style_, group in itertools.groupby(styles):
            k2 = len(list(group))
            frags.append((style_, seg[i : i + k2]))
            i += k2
        out.append(frags)
    return out


def _paint(styles: list[str], a: int, s: int, e: int, cls: str) -> None:
    """Add a style class to the characters of [s, e) on a line starting at offset a."""
    for i in range(max(s, a) - a, min(e - a, len(styles))):
        styles[i] += " " + cls


def _guarded(fn: Callable[[], StyleAndTextTuples]) -> Callable[[], StyleAndTextTuples]:
    """A drawing bug shows as a line of text instead of ending the session."""

    def get() -> StyleAndTextTuples:
        try:
            return fn()
        except Exception as e:
            return [("class:status.error", f" display error: {type(e).__name__}: {e}")]

    return get


# What the status bar says when there is no message: the keys that matter in each mode (in
# the note editor, `q` and `?` are letters of the note).
MODE_HINTS = {
    "normal": "? help  q quit",
    "note": "Ctrl-S save  Ctrl-C cancel",
    "search": "Enter search  Esc cancel",
    "theme": "Enter toggle  Tab completes  Esc cancel",
    "goto": "Enter go  Esc cancel",
    "list": "Enter go there  t/s/u filter  Esc close",
    "help": "any other key closes",
    "reuse": "any other key closes",
    "conflict": "t theirs  m mine  e merge",
}


def _columns() -> int:
    """The terminal's width (80 when there is no running application to ask)."""
    from prompt_toolkit.application.current import get_app

    try:
        return get_app().output.get_size().columns
    except Exception:
        return 80


def status_bar(state: EditorState) -> Callable[[], StyleAndTextTuples]:
    def get() -> StyleAndTextTuples:
        s = state.status()
        sel = f" sel {s['selection']}" if s["selection"] else ""
        counts = f" │ {s['annotations']} ann" + (
            f" {s['suggested']}?" if s["suggested"] else ""
        )
        undo = f" │ undo {s['undo']}" + (f" redo {s['redo']}" if s["redo"] else "")
        doc = shown(str(s["doc"]))
        left = (f" {doc} {s['doc_pos']} {s['sentence']} {s['word']}/{s['words']}{sel}"
                f"{counts}{undo} │ ")
        # Messages quote names, notes and labels: nothing raw reaches the terminal.
        msg = shown(str(s["message"])) or MODE_HINTS.get(str(s["mode"]), "")
        if s["message"] and len(left) + len(msg) > _columns():
            # A message cut off is worse than the word position and undo depth left out for
            # a moment: they come back with the next key. Longer still, the bar wraps.
            left = f" {doc} {s['doc_pos']} {s['sentence']}{sel}{counts} │ "
        cls = "class:status.error" if state.error else "class:status.message"
        return [("class:status", left), (cls, msg)]

    return _guarded(get)


def help_text(state: EditorState) -> Callable[[], StyleAndTextTuples]:
    def get() -> StyleAndTextTuples:
        out: StyleAndTextTuples = [
            ("class:side.dim", "j/k, arrows, PgUp/PgDn scroll · any other key closes\n\n")
        ]
        for keys, doc in state.help_lines:
            if not doc:
                out.append(("class:side.title", keys + "\n"))
            else:
                out.append(("class:help.keys", f"  {keys:<18}"))
                out.append(("", doc + "\n"))
        return out

    return _guarded(get)


def conflict_text(state: EditorState) -> Callable[[], StyleAndTextTuples]:
    """Both versions side by side (one above the other): theirs as stored now, and yours."""

    def themes(ids: tuple[str, ...]) -> str:
        return shown(", ".join(state._label(t) for t in ids)) or "none"

    def get() -> StyleAndTextTuples:
        c = state.conflict
        if c is None:
            return []
        t = c.theirs
        who = shown(c.by)
        out: StyleAndTextTuples = [
            ("", f"{shown(t.id)} ({shown(t.doc)} [{t.start}, {t.end})) was changed by {who} "
                 f"after you saw version {c.shown.version}.\n\n"),
            ("class:side.title", f"Theirs ({who}, version {t.version}):\n"),
        ]
        if c.removed:
            out.append(("", "    removed\n"))
        else:
            out.append(("", f"    themes: {themes(t.themes)}; status: {t.status}\n"))
            out.append(("", "    note: " + (visible(t.note, keep_newlines=True) or "(none)")
                        + "\n"))
        out.append(("", "\n"))
        out.append(("class:side.title", "Yours:\n"))
        mine = c.mine
        if c.field == "note":
            out.append(("", "    note: " + (visible(str(mine), keep_newlines=True)
                                            or "(none)") + "\n"))
        elif c.field == "themes":
            out.append(("", f"    themes: {themes(tuple(mine))}\n"))
        elif c.field == "status":
            out.append(("", f"    status: {mine}\n"))
        else:
            out.append(("", "    removed\n"))
        out.append(("", "\n"))
        for key, what in state.conflict_choices():
            out.append(("class:help.keys", f"  {key}  "))
            out.append(("", what + "\n"))
        return out

    return _guarded(get)


_WORDS = re.compile(r"\S+\s*|\s+")


def wrap_fragments(
    fragments: StyleAndTextTuples, width: int, indent: int = 0
) -> list[StyleAndTextTuples]:
    """Styled text broken into lines of at most `width` cells, at spaces where possible;
    continuation lines are indented by `indent`."""
    width = max(1, width)
    indent = indent if indent < width // 2 else 0
    out: list[StyleAndTextTuples] = []
    for logical in split_lines(fragments):
        line: StyleAndTextTuples = []
        used = 0
        for frag in logical:
            style_, text = frag[0], frag[1]
            for m in _WORDS.finditer(text):
                word = m.group()
                while word:
                    if used + len(word.rstrip()) > width and used > indent:
                        out.append(line)
                        line, used = [("", " " * indent)] if indent else [], indent
                        word = word.lstrip() or word
                    room = width - used
                    chunk, word = word[:room], word[room:]
                    line.append((style_, chunk))
                    used += len(chunk)
                    if word:
                        out.append(line)
                        line, used = [("", " " * indent)] if indent else [], indent
        out.append(line)
    return out


class ScrollText(UIControl):
    """Wrapped, scrollable text for the overlays; the scroll offset lives in the state."""

    def __init__(
        self, get: Callable[[], StyleAndTextTuples], state: EditorState, top_attr: str,
        indent: int = 0,
    ) -> None:
        self.get = get
        self.state = state
        self.top_attr = top_attr
        self.indent = indent

    def create_content(self, width: int, height: int) -> UIContent:
        lines = wrap_fragments(self.get(), width, self.indent)
        top = max(0, min(getattr(self.state, self.top_attr), len(lines) - height))
        setattr(self.state, self.top_attr, top)
        visible = lines[top : top + height]

        def get_line(i: int) -> StyleAndTextTuples:
            return visible[i] if 0 <= i < len(visible) else []

        return UIContent(get_line=get_line, line_count=len(visible), show_cursor=False)


def status_height(state: EditorState) -> int:
    """The status bar grows (up to 4 lines) so a long message wraps instead of being cut."""
    if not state.message:
        return 1
    n = sum(len(f[1]) for f in status_bar(state)())
    return max(1, min(4, -(-n // max(20, _columns()))))


class LinesControl(UIControl):
    """Lines made for a given size (the list panel, the side-by-side passage view)."""

    def __init__(self, make: Callable[[int, int], list[StyleAndTextTuples]],
                 state: EditorState, top_attr: str | None = None) -> None:
        self.make = make
        self.state = state
        self.top_attr = top_attr

    def create_content(self, width: int, height: int) -> UIContent:
        try:
            lines = self.make(width, height)
        except Exception as e:  # a drawing bug must not take the session down
            lines = [[("class:status.error", f"display error: {type(e).__name__}: {e}")]]
        if self.top_attr is not None:
            top = max(0, min(getattr(self.state, self.top_attr), len(lines) - height))
            setattr(self.state, self.top_attr, top)
            lines = lines[top : top + height]

        def get_line(i: int) -> StyleAndTextTuples:
            return lines[i] if 0 <= i < len(lines) else []

        return UIContent(get_line=get_line, line_count=len(lines), show_cursor=False)


class Views:
    """The widgets the key bindings need to reach (buffers, focus targets) and the layout."""

    def __init__(self, state: EditorState) -> None:
        self.state = state
        self.document = DocumentControl(state)
        self.doc_window = Window(
            self.document, wrap_lines=False, always_hide_cursor=True,
            width=lambda: Dimension(min=20, preferred=gutter_width(state) + TEXT_MAX,
                                    max=gutter_width(state) + TEXT_MAX))
        self.search_buffer = Buffer(multiline=False, name="search")
        self.note = TextArea(multiline=True, wrap_lines=True, focus_on_click=True)

        def edited(buf: Buffer) -> None:
            state.note_edited(buf.text, buf.cursor_position)

        # Every keystroke and cursor move marks the draft for saving (debounced by the state).
        self.note.buffer.on_text_changed += edited
        self.note.buffer.on_cursor_position_changed += edited
        def mode(m: str) -> Condition:
            return Condition(lambda: state.mode == m)

        wide = Condition(lambda: get_app().output.get_size().columns >= 60)
        side = ConditionalContainer(
            Window(
                SideControl(state),
                # Past ~100 columns more text width does not help reading: the text column
                # stops there and the side pane takes the rest.
                width=lambda: Dimension(
                    min=SIDE_WIDTH, max=10_000,
                    preferred=SIDE_WIDTH if _columns() < 96 else WIDE_SIDE_WIDTH),
                wrap_lines=False,
                style="class:side",
            ),
            filter=wide,
        )
        def prompt() -> str:
            if state.mode == "goto":
                return "go to (sentence id like p3.s2, or annotation id): "
            return "/" if state.mode == "search" else "theme (words of its label or id): "

        search_line = ConditionalContainer(
            VSplit([
                Window(FormattedTextControl(prompt), dont_extend_width=True,
                       style="class:searchline"),
                Window(BufferControl(self.search_buffer), style="class:searchline"),
            ], height=1),
            filter=mode("search") | mode("theme") | mode("goto"),
        )
        body = HSplit([
            VSplit([self.doc_window, Window(width=1, char="│", style="class:gutter"), side]),
            Window(FormattedTextControl(status_bar(state)), wrap_lines=True,
                   height=lambda: Dimension.exact(status_height(state)), style="class:status"),
            search_line,
        ])
        note_frame = Frame(
            HSplit([
                Window(FormattedTextControl(lambda: self._note_title()), height=1,
                       style="class:side.dim"),
                self.note,
            ]),
            title="Note",
            style="class:overlay",
        )
        help_frame = Frame(
            Window(ScrollText(help_text(state), state, "help_top", indent=20)),
            title="Keys (generated from the key bindings)",
            style="class:overlay",
        )
        reuse_frame = Frame(
            Window(LinesControl(lambda w, h: reuse_columns(state, w), state, "overlay_top")),
            title="Shared passage: o goes to the other side, j/k scroll, other keys close",
            style="class:overlay",
        )
        conflict_frame = Frame(
            Window(ScrollText(conflict_text(state), state, "overlay_top", indent=4)),
            title="Changed by someone else meanwhile: nothing was overwritten",
            style="class:overlay",
        )
        list_frame = Frame(
            Window(LinesControl(lambda w, h: list_lines(state, w, h), state)),
            title="Annotations of this document (L closes)",
            style="class:overlay",
        )
        self.root = FloatContainer(
            body,
            floats=[
                Float(ConditionalContainer(note_frame, filter=mode("note")),
                      top=2, bottom=3, left=3, right=3),
                Float(ConditionalContainer(help_frame, filter=mode("help")),
                      top=0, bottom=1, left=1, right=1),
                Float(ConditionalContainer(reuse_frame, filter=mode("reuse")),
                      top=1, bottom=2, left=2, right=2),
                Float(ConditionalContainer(list_frame, filter=mode("list")),
                      top=0, bottom=1, left=0, right=0),
                Float(ConditionalContainer(conflict_frame, filter=mode("conflict")),
                      top=1, bottom=2, left=2, right=2),
            ],
        )
        self.layout = Layout(self.root, focused_element=self.doc_window)

    def _note_title(self) -> str:
        t = self.state.note_target
        what = f"Note on {shown(t)}" if isinstance(t, str) else "New note on the sentence"
        if isinstance(t, tuple) and self.state.anchor is not None:
            what = "New note on the selection"
        return f"{what} · Ctrl-S saves · Ctrl-C cancels"

    def load_note(self) -> None:
        """Put the state's note text and cursor into the note editor."""
        text, cursor = self.state.note_draft, self.state.note_cursor
        self.note.text = text  # (this reports the cursor at 0 to the state: set it after)
        self.note.buffer.cursor_position = min(cursor, len(text))
        self.state.note_edited(text, self.note.buffer.cursor_position)
        self.state.discard_pending_draft()

    def sync_focus(self) -> None:
        """Focus follows the mode, so a mode change from any path lands in the right place."""
        mode = self.state.mode
        target: Window | Buffer = self.doc_window
        if mode == "note":
            target = self.note.window
        elif mode in ("search", "theme", "goto"):
            target = self.search_buffer
        try:
            if not self.layout.has_focus(target):
                self.layout.focus(target)
        except ValueError:
            self.layout.focus(self.doc_window)
