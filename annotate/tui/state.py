"""Everything the editor knows and does, as plain Python: no prompt-toolkit here.

The cursor is a token index into the current document; a selection runs from an anchor token
to the cursor token. Every change goes through the Store, which commits it before the action
returns, so a message in the status bar means the work is on disk.

Among other annotators (conditional changes, the conflict view, live refresh, note drafts):
see `sharing.py`, a mixin of EditorState.

Speed matters on large documents: the wrapped layout is computed once per (document, width),
annotations are cached per document in start order (bisect for lookups) and patched in place
after each change, and nothing re-reads the corpus or re-queries the whole store per key.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from annotate.errors import AnnotateError
from annotate.model import Annotation, Codebook, Document, Passage, Side, Theme, ThemeHit
from annotate.store import ConflictError, Draft, Provenance, Since
from annotate.themes import Matcher
from annotate.tui.navigate import ListFilter, Navigate
from annotate.tui.picker import Picking
from annotate.tui.sharing import Conflict, Sharing
from annotate.tui.suggesting import Suggesting

# Characters typed plainly that match their typographic forms in a document.
_EQUIVALENT = {
    "'": "'’‘", "’": "'’‘", "‘": "'’‘",
    '"': '"“”', "“": '"“”', "”": '"“”',
    "-": "-–—", "–": "-–—", "—": "-–—",
}


def search_pattern(query: str) -> re.Pattern[str]:
    """`query` case-insensitively, any run of whitespace matching any other (the texts are
    hard-wrapped, so a phrase often spans a line break) and plain quotes and dashes matching
    their typographic forms."""
    words = [
        "".join(f"[{re.escape(_EQUIVALENT[c])}]" if c in _EQUIVALENT else re.escape(c)
                for c in w)
        for w in query.split()
    ]
    return re.compile(r"\s+".join(words), re.IGNORECASE)


MODES = ("normal", "search", "theme", "goto", "note", "help", "reuse", "conflict", "list")
THEME_KEYS = "1234567890"  # the 10th theme is on 0


class StoreLike(Protocol):
    """The part of `annotate.store.Store` the editor uses."""

    def add(
        self,
        doc: Document,
        start: int,
        end: int,
        *,
        themes: Sequence[str] = (),
        note: str = "",
        user: str,
        status: str = "accepted",
        batch: str | None = None,
        evidence: Sequence[tuple[str, str, str]] = (),
    ) -> Annotation: ...

    def list(
        self,
        *,
        doc: str | None = None,
        theme: str | None = None,
        user: str | None = None,
        status: str | None = None,
        include_removed: bool = False,
    ) -> list[Annotation]: ...

    def undone_adds(self) -> set[str]: ...

    def provenance(self, ann_id: str) -> Provenance | None: ...

    def get(self, ann_id: str, *, include_removed: bool = False) -> Annotation: ...

    def set_themes(self, ann_id: str, themes: Sequence[str], *, user: str,
                   expect: int | None = None) -> Annotation: ...

    def set_note(self, ann_id: str, note: str, *, user: str,
                 expect: int | None = None) -> Annotation: ...

    def set_status(self, ann_id: str, status: str, *, user: str,
                   expect: int | None = None) -> Annotation: ...

    def remove(self, ann_id: str, *, user: str, expect: int | None = None) -> Annotation: ...

    def data_version(self) -> int: ...

    def last_change_id(self) -> int: ...

    def changes_since(self, change_id: int, limit: int = 500) -> Since: ...

    def save_draft(self, draft: Draft) -> None: ...

    def drafts(self, user: str) -> Sequence[Draft]: ...

    def discard_draft(self, user: str, target: str) -> None: ...

    def undo(self, user: str) -> str | None: ...

    def redo(self, user: str) -> str | None: ...

    def undo_depth(self, user: str) -> int: ...

    def redo_depth(self, user: str) -> int: ...


ReuseProvider = Callable[[str], Sequence[Passage]]


# --- layout --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One display line: text[start:end] (whitespace shown as spaces), or a blank separator
    between paragraphs. `sentence` is the short id of the first sentence starting on it."""

    start: int
    end: int
    sentence: str = ""
    blank: bool = False


def _last_space(text: str, start: int, end: int) -> int:
    return max(text.rfind(c, start, end) for c in " \n\t\r")


class Layout:
    """The document wrapped to `width` columns, paragraph by paragraph, with a blank line
    between paragraphs. Lines are in text order, so a line is found by bisect."""

    def __init__(self, doc: Document, width: int) -> None:
        self.width = width = max(8, width)
        text = doc.text
        lines: list[Line] = []
        sentences = doc.sentences
        si = 0
        for p in doc.paragraphs:
            if lines:
                prev = lines[-1]
                lines.append(Line(prev.end, prev.end, blank=True))
            pos, b = p.start, p.end
            while pos < b:
                if b - pos <= width:
                    brk = nxt = b
                else:
                    brk = _last_space(text, pos, pos + width + 1)
                    if brk <= pos:
                        brk = nxt = pos + width
                    else:
                        nxt = brk + 1
                    while nxt < b and text[nxt].isspace():
                        nxt += 1
                label = ""
                while si < len(sentences) and sentences[si].start < brk:
                    if not label and sentences[si].start >= pos:
                        label = short_id(sentences[si].id)
                    si += 1
                lines.append(Line(pos, brk, label))
                pos = nxt
        self.lines = lines
        self.starts = [ln.start for ln in lines]
        self.label_width = max((len(ln.sentence) for ln in lines), default=0)

    def line_of(self, offset: int) -> int:
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        while i > 0 and self.lines[i].blank:
            i -= 1
        return i


def short_id(sentence_id: str) -> str:
    """`002.p3.s2` -> `p3.s2`: the document is already named in the status bar."""
    parts = sentence_id.rsplit(".", 2)
    return ".".join(parts[-2:]) if len(parts) == 3 else sentence_id


# --- annotations of one document -------------------------------------------------------------


class DocAnnotations:
    """A document's annotations in (start, end, id) order, patched in place after changes."""

    def __init__(self, anns: Iterable[Annotation]) -> None:
        self.items = sorted(anns, key=_ann_key)
        self.keys = [_ann_key(a) for a in self.items]
        self._max_len = max((a.end - a.start for a in self.items), default=0)
        self.generation = 0  # bumped by every change, for views that cache what they show
        self._count: tuple[tuple[int, str], int] = ((-1, ""), 0)

    def __len__(self) -> int:
        return len(self.items)

    def put(self, ann: Annotation) -> None:
        self.discard(ann.id)
        self.generation += 1
        key = _ann_key(ann)
        i = bisect.bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.items.insert(i, ann)
        self._max_len = max(self._max_len, ann.end - ann.start)

    def discard(self, ann_id: str) -> None:
        for i, a in enumerate(self.items):
            if a.id == ann_id:
                self.generation += 1
                del self.items[i]
                del self.keys[i]
                return

    def overlapping(self, start: int, end: int) -> list[Annotation]:
        """Annotations meeting [start, end) (an empty annotation counts at its offset)."""
        lo = bisect.bisect_left(self.keys, (start - self._max_len,))
        hi = bisect.bisect_left(self.keys, (end,))
        return [
            a for a in self.items[lo:hi] if a.end > start or (a.start == a.end >= start)
        ]

    def exact(self, start: int, end: int) -> list[Annotation]:
        i = bisect.bisect_left(self.keys, (start, end))
        out = []
        while i < len(self.items) and self.keys[i][:2] == (start, end):
            out.append(self.items[i])
            i += 1
        return out

    def after(self, offset: int, pred: Callable[[Annotation], bool]) -> Annotation | None:
        i = bisect.bisect_right(self.keys, (offset, float("inf")))
        for a in self.items[i:]:
            if pred(a):
                return a
        return None

    def before(self, offset: int, pred: Callable[[Annotation], bool]) -> Annotation | None:
        i = bisect.bisect_left(self.keys, (offset,))
        for a in reversed(self.items[:i]):
            if pred(a):
                return a
        return None

    def count(self, status: str) -> int:
        # Asked on every draw (the status bar): counted once per change, not per key.
        key = (self.generation, status)
        if self._count[0] != key:
            self._count = (key, sum(1 for a in self.items if a.status == status))
        return self._count[1]


def _ann_key(a: Annotation) -> tuple[int, int, str]:
    return (a.start, a.end, a.id)


# --- the editor ------------------------------------------------------------------------------


@dataclass
class ReuseView:
    """What the reuse overlay shows: this side, the other side and their character diff."""

    passage: Passage
    here: Side
    there: Side
    there_title: str
    diff: list[tuple[int, str]] = field(default_factory=list)


class EditorState(Sharing, Navigate, Suggesting, Picking):
    """The editor: documents, cursor, selection, modes and every action on them."""

    def __init__(
        self,
        docs: Sequence[Document],
        store: StoreLike,
        codebook: Codebook,
        user: str,
        *,
        reuse: ReuseProvider | None = None,
        start_doc: int = 0,
        positions: dict[str, int] | None = None,
    ) -> None:
        if not docs:
            raise ValueError("no documents to edit")
        self.docs = tuple(docs)
        self.store = store
        self.codebook = codebook
        self.user = user
        self.reuse_provider = reuse
        self.doc_index = max(0, min(start_doc, len(self.docs) - 1))
        self.cursor = 0
        self.anchor: int | None = None
        self.goal_col: int | None = None
        self.top = 0
        self.width = 60  # text columns of the document pane, set by the view on render
        self.height = 20
        self.mode = "normal"
        self.message = ""
        self.error = False
        self.quit_requested = False
        self.search_query = ""
        self.search_hit: tuple[int, int] | None = None
        self.highlight = True  # Esc hides the search matches until the next search
        # Whose annotations are shown: None for everyone's (see navigate.py).
        self.view_user: str | None = None
        # The annotation the side pane shows where several overlap (c cycles them).
        self.pick: str | None = None
        self.listing = ListFilter()
        self._completed = self._complete_query = ""
        self._complete_turn = 0
        # An offset to keep in view with the cursor (the start of a sentence found).
        self.reveal: int | None = None
        self.note_target: str | tuple[int, int] | None = None
        self.note_draft = ""
        self.note_cursor = 0
        # The version of the annotation the note editor opened on: saving is conditional on it.
        self.note_version: int | None = None
        self.conflict: Conflict | None = None
        self._draft_dirty = False
        self._draft_changed_at = 0.0
        self._draft_saved_at = 0.0
        self._draft_doc: tuple[str, int, int] = ("", 0, 0)
        # What the editor has seen of the store, to notice others' commits.
        self._restored_target: str | None = None
        self._data_version = self._store_call(store.data_version, 0)
        self._seen_change = self._store_call(store.last_change_id, 0)
        self.reuse_view: ReuseView | None = None
        self.help_top = 0
        self.overlay_top = 0
        self.help_lines: list[tuple[str, str]] = []
        # Text offsets (not token indexes, which shift if segmentation changes) per document.
        self.positions: dict[str, int] = dict(positions or {})
        self._layouts: dict[tuple[str, int], Layout] = {}
        self._anns: dict[str, DocAnnotations] = {}
        self._reuse: dict[str, list[tuple[int, int, Passage]]] = {}
        self._matches: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._hits: dict[str, dict[tuple[int, int], ThemeHit]] = {}
        self._matcher: Matcher | None = None
        self._token_starts: dict[str, list[int]] = {}
        self._depths: tuple[int, int] | None = None
        self._label_widths: dict[str, int] = {}
        self._go(self.token_at(self.positions.get(self.doc.id, 0)))

    # --- derived data (cached) ------------------------------------------------------------

    @property
    def doc(self) -> Document:
        return self.docs[self.doc_index]

    @property
    def tokens_starts(self) -> list[int]:
        starts = self._token_starts.get(self.doc.id)
        if starts is None:
            starts = self._token_starts[self.doc.id] = [t.start for t in self.doc.tokens]
        return starts

    def layout(self) -> Layout:
        key = (self.doc.id, self.width)
        lay = self._layouts.get(key)
        if lay is None:
            if len(self._layouts) > 8:
                self._layouts.clear()
            lay = self._layouts[key] = Layout(self.doc, self.width)
        return lay

    def annotations(self, doc_id: str | None = None) -> DocAnnotations:
        doc_id = doc_id or self.doc.id
        anns = self._anns.get(doc_id)
        if anns is None:
            # An orphan's offsets point at text that no longer holds its quote: not shown.
            anns = self._anns[doc_id] = DocAnnotations(
                [a for a in self.store.list(doc=doc_id, user=self.view_user)
                 if not a.orphaned]
            )
        return anns

    def reuse_spans(self) -> list[tuple[int, int, Passage]]:
        """This document's side of every shared passage, in text order."""
        doc_id = self.doc.id
        spans = self._reuse.get(doc_id)
        if spans is None:
            spans = []
            found: Sequence[Passage] = ()
            if self.reuse_provider is not None:
                try:
                    found = self.reuse_provider(doc_id)
                except Exception as e:  # reuse is a help, not a reason to stop annotating
                    self.say(f"reuse detection failed: {e}", error=True)
            for p in found:
                for side in (p.a, p.b):
                    if side.doc == doc_id:
                        spans.append((side.start, side.end, p))
            spans.sort(key=lambda s: (s[0], s[1], s[2].id))
            self._reuse[doc_id] = spans
        return spans

    def depths(self) -> tuple[int, int]:
        if self._depths is None:
            self._depths = (self.store.undo_depth(self.user), self.store.redo_depth(self.user))
        return self._depths

    def label_width(self) -> int:
        """Width of the sentence-id gutter for the current document."""
        doc = self.doc
        w = self._label_widths.get(doc.id)
        if w is None:
            w = self._label_widths[doc.id] = max(
                (len(short_id(s.id)) for s in doc.sentences), default=0
            )
        return w

    def theme_key(self, theme_id: str) -> str:
        for i, t in enumerate(self.codebook.themes[: len(THEME_KEYS)]):
            if t.id == theme_id:
                return THEME_KEYS[i]
        return "*"

    # --- positions ---------------------------------------------------------------------------

    @property
    def n_tokens(self) -> int:
        return len(self.doc.tokens)

    def offset(self) -> int:
        """Text offset of the cursor (start of the cursor token)."""
        toks = self.doc.tokens
        return toks[self.cursor].start if toks else 0

    def cursor_span(self) -> tuple[int, int]:
        toks = self.doc.tokens
        if not toks:
            return (0, 0)
        t = toks[self.cursor]
        return (t.start, t.end)

    def token_at(self, offset: int) -> int:
        """Index of the token containing `offset`, else the next one (the last at the end)."""
        starts = self.tokens_starts
        if not starts:
            return 0
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return 0
        if self.doc.tokens[i].end <= offset and i + 1 < len(starts):
            return i + 1
        return i

    def selection(self) -> tuple[int, int] | None:
        """[start, end) of the selection, whole tokens from anchor to cursor."""
        if self.anchor is None or not self.doc.tokens:
            return None
        toks = self.doc.tokens
        a, b = sorted((self.anchor, self.cursor))
        end = toks[b].end
        # Selecting up to a sentence's last word takes its closing punctuation too, so a
        # selected sentence is the same span as the sentence a number key themes.
        sent = self.doc.sentence_at(toks[b].start)
        if sent is not None and (b + 1 == len(toks) or toks[b + 1].start >= sent.end):
            end = max(end, sent.end)
        return (toks[a].start, end)

    def target_span(self) -> tuple[int, int]:
        """What theme keys act on: the selection, else the current sentence."""
        sel = self.selection()
        if sel is not None:
            return sel
        off = self.offset()
        sent = self.doc.sentence_at(off)
        if sent is not None:
            return (sent.start, sent.end)
        return self.cursor_span()

    def current_sentence_id(self) -> str:
        sent = self.doc.sentence_at(self.offset())
        return short_id(sent.id) if sent else ""

    def current_annotation(self, suggestion_first: bool = False) -> Annotation | None:
        """The annotation the cursor is on: the one picked with `c` among those here, else
        the one exactly matching the selection, else the shortest one containing the cursor
        word (rejected suggestions last; suggestions first when asked, for accept and
        reject)."""
        found = self.here()
        if not found:
            return None
        for a in found:
            if a.id == self.pick:
                return a
        sel = self.selection()
        if sel is not None:
            exact = [a for a in found if (a.start, a.end) == sel]
            if exact:
                found = exact + [a for a in found if a not in exact]
        if suggestion_first:
            found = sorted(found, key=lambda x: x.status != "suggested")
        return found[0]

    def describe(self, ann: Annotation) -> str:
        """An annotation as a user knows it: its themes and sentence, then its id."""
        themes = ", ".join(self._label(t) for t in ann.themes) or "no theme"
        where = self.sentence_name(ann.doc, ann.start)
        return f"{themes} on {where} ({ann.status}, {ann.id})"

    def sentence_name(self, doc_id: str, offset: int) -> str:
        doc = self._doc(doc_id) or self.doc
        sent = doc.sentence_at(offset)
        name = short_id(sent.id) if sent else f"offset {offset}"
        return name if doc_id == self.doc.id else f"{doc_id}.{name}"

    def reuse_here(self) -> Passage | None:
        off = self.offset()
        best: Passage | None = None
        for s, e, p in self.reuse_spans():
            if s > off:
                break
            if s <= off < e:
                best = p
        return best

    # --- messages ------------------------------------------------------------------------------

    def say(self, message: str, error: bool = False) -> None:
        self.message = message
        self.error = error

    def clear_message(self) -> None:
        self.message = ""
        self.error = False

    # --- movement ------------------------------------------------------------------------------

    def _go(self, index: int, keep_goal: bool = False) -> None:
        n = self.n_tokens
        self.cursor = max(0, min(index, n - 1)) if n else 0
        if not keep_goal:
            self.goal_col = None

    def move_word(self, delta: int) -> None:
        self._go(self.cursor + delta)

    def move_line(self, delta: int) -> None:
        if not self.n_tokens:
            return
        lay = self.layout()
        off = self.offset()
        li = lay.line_of(off)
        if self.goal_col is None:
            self.goal_col = off - lay.lines[li].start
        step = 1 if delta > 0 else -1
        target = li
        for _ in range(abs(delta)):
            nxt = target + step
            while 0 <= nxt < len(lay.lines) and lay.lines[nxt].blank:
                nxt += step
            if not 0 <= nxt < len(lay.lines):
                break
            target = nxt
        line = lay.lines[target]
        want = min(line.start + self.goal_col, max(line.start, line.end - 1))
        i = self.token_at(want)
        toks = self.doc.tokens
        if toks[i].start >= line.end:
            # No word at or after the goal column on that line: take its last word, or, on a
            # line without words ("* * *"), the nearest word in the direction of travel.
            j = bisect.bisect_left(self.tokens_starts, line.end) - 1
            if j >= 0 and (toks[j].end > line.start or step < 0):
                i = j
        self._go(i, keep_goal=True)

    def move_sentence(self, delta: int) -> None:
        self._move_units([s.start for s in self.doc.sentences], delta)

    def move_paragraph(self, delta: int) -> None:
        self._move_units([p.start for p in self.doc.paragraphs], delta)

    def _move_units(self, starts: list[int], delta: int) -> None:
        if not starts or not self.n_tokens:
            return
        off = self.offset()
        i = bisect.bisect_right(starts, off) - 1
        if delta > 0:
            j = min(i + delta, len(starts) - 1)
            if j <= i:
                self.say("at the last one")
                return
        else:
            cur_start = self.doc.tokens[self.token_at(starts[i])].start if i >= 0 else 0
            j = i if i >= 0 and off > cur_start else i + delta
            if j < 0:
                self._go(0)
                return
        self._go(self.token_at(starts[j]))

    def move_to(self, where: str) -> None:
        self._go(0 if where == "start" else self.n_tokens - 1)

    def page(self, delta: int) -> None:
        self.move_line(delta * max(1, self.height - 2))

    def click(self, row: int, col: int) -> None:
        """Put the cursor on the word at a visible row and text column (mouse)."""
        lay = self.layout()
        li = self.top + row
        if not 0 <= li < len(lay.lines) or lay.lines[li].blank:
            return
        line = lay.lines[li]
        off = min(line.start + max(0, col), max(line.start, line.end - 1))
        self._go(self.token_at(off))

    # --- selection -----------------------------------------------------------------------------

    def toggle_selection(self) -> None:
        if self.anchor is None:
            self.anchor = self.cursor
            self.say("selecting: move to extend, a number key to theme it, Esc to stop")
        else:
            self.anchor = None

    def extend(self, move: Callable[[], None]) -> None:
        """Start a selection at the cursor if there is none, then move its free end."""
        if self.anchor is None:
            self.anchor = self.cursor
        move()

    def select_sentence(self) -> None:
        sent = self.doc.sentence_at(self.offset())
        if sent is None or not self.n_tokens:
            return
        first = self.token_at(sent.start)
        last = max(first, bisect.bisect_left(self.tokens_starts, sent.end) - 1)
        self.anchor, self.cursor = first, last

    def escape(self) -> None:
        """Clear the selection, else the search highlight (n brings it back)."""
        if self.anchor is not None:
            self.anchor = None
        elif self.search_query and self.highlight:
            self.search_hit = None
            self.highlight = False
        self.clear_message()

    # --- changes (each one a committed Store transaction) -----------------------------------

    def _changed(self, ann: Annotation, removed: bool = False) -> None:
        anns = self.annotations(ann.doc)
        if removed or (self.view_user is not None and ann.user != self.view_user):
            anns.discard(ann.id)
        else:
            anns.put(ann)
        self._depths = None

    def _label(self, theme_id: str) -> str:
        try:
            return self.codebook.get(theme_id).label
        except KeyError:
            return theme_id

    def theme_for_key(self, key: str) -> Theme | None:
        i = THEME_KEYS.find(key)
        if i < 0 or i >= len(self.codebook.themes):
            return None
        return self.codebook.themes[i]

    def toggle_theme(self, key: str) -> None:
        """Toggle the theme on number `key` on the selection (else the current sentence)."""
        theme = self.theme_for_key(key)
        if theme is None:
            self.say(f"no theme on key {key} (the codebook has {len(self.codebook.themes)})",
                     error=True)
            return
        self.toggle(theme)

    def toggle(self, theme: Theme) -> None:
        """Toggle `theme` on the selection, else on the annotation the side pane shows here
        (so a number key edits what the user sees), else on the current sentence."""
        if not self.n_tokens:
            self.say("this document has no words to annotate", error=True)
            return
        start, end = self.target_span()
        if self.anchor is not None:
            candidates = [a for a in self.annotations().exact(start, end)
                          if a.status != "rejected"]
        else:
            here = self.current_annotation()
            candidates = [here] if here is not None and here.status != "rejected" else []
        label = self._label(theme.id)
        where = self.sentence_name(self.doc.id, start)
        if not candidates:
            ann = self.store.add(self.doc, start, end, themes=[theme.id], user=self.user)
            self._changed(ann)
            self.pick = ann.id
            what = "the selection in " if self.anchor is not None else ""
            self.say(f"added {label} to {what}{where} ({ann.id})")
            return
        shown = candidates[0]
        where = self.sentence_name(shown.doc, shown.start)
        if theme.id in shown.themes:
            themes = tuple(t for t in shown.themes if t != theme.id)
            if not themes and not shown.note:
                gone = self._conditional(shown, "removed", True)
                if gone is not None:
                    self.say(f"removed {label} from {where}: the annotation had no other "
                             f"theme, so it is gone (u brings it back; {shown.id})")
                return
            done = self._conditional(shown, "themes", themes)
            if done is not None:
                kept = "" if themes else " (kept for its note; d deletes it)"
                self.say(f"removed {label} from {where}{kept} ({done.id})")
        else:
            done = self._conditional(shown, "themes", (*shown.themes, theme.id))
            if done is not None:
                self.say(f"added {label} to {where} ({done.id})")

    def set_status(self, status: str) -> None:
        """Accept or reject the annotation under the cursor (a suggestion before any other
        there), then go to the next suggestion."""
        ann = self.current_annotation(suggestion_first=True)
        if ann is None:
            self.say("no annotation under the cursor", error=True)
            return
        if ann.status == status:
            self.say(f"{ann.id} is already {status}")
            return
        done = self._conditional(ann, "status", status)
        if done is None:
            return
        ann = done
        word = "accepted" if status == "accepted" else "rejected"
        themes = ", ".join(self._label(t) for t in ann.themes) or "no theme"
        what = f"{word} {themes} on {self.sentence_name(ann.doc, ann.start)}"
        nxt = self.annotations().after(ann.start, lambda a: a.status == "suggested")
        self.pick = None
        if nxt is not None:
            self.anchor = None
            self._go(self.token_at(nxt.start))
            self.say(f"{what}, on to the next suggestion")
        else:
            self.say(f"{what}, the last suggestion")

    def delete(self) -> None:
        ann = self.current_annotation()
        if ann is None:
            self.say("no annotation under the cursor", error=True)
            return
        if self._conditional(ann, "removed", True) is not None:
            self.pick = None
            self.say(f"deleted {self.describe(ann)} (u to undo)")

    def begin_note(self) -> None:
        ann = self.current_annotation()
        if ann is not None:
            self.note_target = ann.id
            self.note_version = ann.version
            self.note_draft = ann.note
            self._draft_doc = (ann.doc, ann.start, ann.end)
        else:
            self.note_target = self.target_span()
            self.note_version = None
            self.note_draft = ""
            self._draft_doc = (self.doc.id, *self.note_target)
        self.note_cursor = len(self.note_draft)
        self._draft_dirty = False
        self.mode = "note"

    def save_note(self, text: str) -> None:
        """Save the note and close the editor; if the store refuses it (the annotation was
        removed meanwhile, the disk is read-only), the editor stays open with the text. If
        someone else changed the annotation since the editor opened, the conflict view shows
        both notes."""
        target = self.note_target
        text = text.rstrip()
        if target is None:
            self.mode = "normal"
            return
        if isinstance(target, str):
            version = self.note_version
            if version is None:  # not known (an old draft): the version there now
                version = self.store.get(target, include_removed=True).version
            # (the cache may hold a newer version by now: the editor opened on `version`)
            shown = replace(self._cached(target) or self.store.get(target, include_removed=True),
                            version=version)
            try:
                ann = self.store.set_note(target, text, user=self.user, expect=version)
            except ConflictError as e:
                # The draft stays in the store until the conflict is settled.
                self.note_target = None
                self.mode = "normal"
                self._open_conflict(e, "note", text, shown)
                return
            self._changed(ann)
            self._discard_draft()
            self.mode = "normal"
            self.note_target = None
            self.say(f"{ann.id}: note saved" if text else f"{ann.id}: note cleared")
            return
        if text:
            doc = self._doc(self._draft_doc[0]) or self.doc
            ann = self.store.add(doc, target[0], target[1], note=text, user=self.user)
            self._changed(ann)
            self.say(f"added {ann.id} with a note")
        else:
            self.say("empty note: nothing saved")
        self._discard_draft()
        self.mode = "normal"
        self.note_target = None

    def cancel_note(self) -> None:
        self._discard_draft()
        self.mode = "normal"
        self.note_target = None
        self.say("note not saved")

    def undo(self) -> None:
        self._step(undo=True)

    def redo(self) -> None:
        self._step(undo=False)

    def _step(self, undo: bool) -> None:
        """Undo or redo, then put the cursor on what changed (when it is in this document)."""
        before = {a.id: a for a in self.annotations().items}
        desc = self.store.undo(self.user) if undo else self.store.redo(self.user)
        self.forget_cache()
        if not desc:
            self.say("nothing to undo" if undo else "nothing to redo")
            return
        after = {a.id: a for a in self.annotations().items}
        changed = [a for i, a in after.items() if before.get(i) != a
                   or before[i].version != a.version]
        gone = [a for i, a in before.items() if i not in after]
        moved = changed or gone
        if not moved:  # in another document: the store's description names the annotation
            for ident in reversed(re.findall(r"\b[0-9a-f]{8}\b", desc)):
                try:
                    elsewhere = self.store.get(ident, include_removed=True)
                except AnnotateError:
                    continue
                index = next((i for i, d in enumerate(self.docs) if d.id == elsewhere.doc),
                             None)
                if index is not None and not elsewhere.orphaned:
                    self.open_doc(index)
                    moved = [elsewhere]
                    after = {a.id: a for a in self.annotations().items}
                break
        if moved:
            hit = moved[0]
            self.anchor = None
            self._go(self.token_at(hit.start))
            self.reveal = hit.start
            self.pick = hit.id if hit.id in after else None
            desc += f" (at {self.sentence_name(hit.doc, hit.start)})"
        self.say(desc)

    def forget_cache(self) -> None:
        """Forget cached annotations: undo may touch any document, others may have written."""
        self._anns.clear()
        self._depths = None

    def reload(self) -> None:
        self.forget_cache()
        self.say("reloaded annotations from the store")

    # --- jumps ---------------------------------------------------------------------------------

    def jump_annotation(self, delta: int, status: str | None = None) -> None:
        anns = self.annotations()
        off = self.offset()

        def pred(a: Annotation) -> bool:
            return status is None or a.status == status

        found = anns.after(off, pred) if delta > 0 else anns.before(off, pred)
        what = "suggestion" if status == "suggested" else "annotation"
        if found is None:
            self.say(f"no {'next' if delta > 0 else 'previous'} {what} in this document")
            return
        self.anchor = None
        self._go(self.token_at(found.start))
        self.pick = found.id
        hint = ": a accepts, x rejects" if found.status == "suggested" else ""
        self.say(f"{what}: {self.describe(found)}{hint}")

    def jump_reuse(self, delta: int) -> None:
        spans = self.reuse_spans()
        if self.reuse_provider is None:
            self.say("reuse detection is not available", error=True)
            return
        off = self.offset()
        starts = [s for s, _, _ in spans]
        if delta > 0:
            i = bisect.bisect_right(starts, off)
            hit = spans[i] if i < len(spans) else None
        else:
            i = bisect.bisect_left(starts, off) - 1
            hit = spans[i] if i >= 0 else None
        if hit is None:
            self.say(f"no {'next' if delta > 0 else 'previous'} shared passage in this document")
            return
        self.anchor = None
        self._go(self.token_at(hit[0]))
        p = hit[2]
        other = p.b if p.a.doc == self.doc.id and p.a.start == hit[0] else p.a
        self.say(f"shared with {other.doc} ({p.words} words, {p.similarity:.0%}): Enter shows it")

    def open_reuse(self) -> None:
        p = self.reuse_here()
        if p is None:
            self.say("no shared passage under the cursor (r jumps to the next)")
            return
        off = self.offset()
        here, there = (p.a, p.b) if p.a.doc == self.doc.id and p.a.start <= off < p.a.end \
            else (p.b, p.a)
        from annotate.diff import char_diff

        title = ""
        for d in self.docs:
            if d.id == there.doc:
                title = d.meta.title or ""
        # Line breaks and runs of spaces are layout, not wording: leave them out of the diff.
        diff = char_diff(" ".join(here.text.split()), " ".join(there.text.split()))
        self.reuse_view = ReuseView(p, here, there, title, diff)
        self.overlay_top = 0
        self.mode = "reuse"

    def close_overlay(self) -> None:
        self.mode = "normal"
        self.reuse_view = None

    # --- search --------------------------------------------------------------------------------

    def matches(self) -> list[tuple[int, int]]:
        if not self.search_query:
            return []
        key = (self.doc.id, self.search_query)
        found = self._matches.get(key)
        if found is None:
            if len(self._matches) > 32:
                self._matches.clear()
            rx = search_pattern(self.search_query)
            found = self._matches[key] = [m.span() for m in rx.finditer(self.doc.text)]
        return found

    def search(self, query: str) -> None:
        self.mode = "normal"
        if not query.strip():
            if self.search_query:  # as in vi, an empty search repeats the last one
                self._search_step(1)
            else:
                self.say("empty search")
            return
        self.search_query = query
        self.search_hit = None
        self.highlight = True
        self._search_step(1, from_offset=self.offset())

    def search_next(self, delta: int) -> None:
        if not self.search_query:
            self.say("no search yet: / to search")
            return
        self.highlight = True
        self._search_step(delta)

    def _search_step(self, delta: int, from_offset: int | None = None) -> None:
        found = self.matches()
        if not found:
            self.search_hit = None
            self.say(f"not found: {self.search_query}", error=True)
            return
        starts = [s for s, _ in found]
        here = self.search_hit[0] if self.search_hit is not None else self.offset()
        if from_offset is not None:
            i = bisect.bisect_left(starts, from_offset + 1)
        elif delta > 0:
            i = bisect.bisect_right(starts, here)
        else:
            i = bisect.bisect_left(starts, here) - 1
        wrapped = not 0 <= i < len(found)
        i %= len(found)
        self.search_hit = found[i]
        self.anchor = None
        self._go(self.token_at(found[i][0]))
        # Backward or forward, the sentence the match is in shows from its start.
        sent = self.doc.sentence_at(found[i][0])
        self.reveal = sent.start if sent is not None else None
        note = " (wrapped)" if wrapped else ""
        self.say(f"/{self.search_query}: match {i + 1} of {len(found)}{note}")

    # --- documents -----------------------------------------------------------------------------

    def switch_doc(self, delta: int) -> None:
        j = self.doc_index + delta
        if not 0 <= j < len(self.docs):
            self.say(f"no {'next' if delta > 0 else 'previous'} document")
            return
        self.open_doc(j)

    def open_doc(self, index: int) -> None:
        self.positions[self.doc.id] = self.offset()
        self.doc_index = index
        self.anchor = None
        self.search_hit = None
        self.top = 0
        self._go(self.token_at(self.positions.get(self.doc.id, 0)))
        d = self.doc
        self.say(f"{d.id}: {d.meta.title or d.path.name} ({index + 1}/{len(self.docs)})")

    def remembered(self) -> dict[str, int]:
        """Where the cursor is in every document visited, to reopen there next time."""
        return {**self.positions, self.doc.id: self.offset()}

    # --- view support ------------------------------------------------------------------------

    def scroll_into_view(self, height: int) -> int:
        """Adjust `top` so the cursor line shows, with a little context; return its line."""
        self.height = max(1, height)
        lay = self.layout()
        li = lay.line_of(self.offset()) if self.n_tokens else 0
        margin = min(2, (self.height - 1) // 2)
        if li < self.top + margin:
            self.top = max(0, li - margin)
        elif li >= self.top + self.height - margin:
            self.top = li - self.height + margin + 1
        if self.reveal is not None:
            # Keep the start of what was jumped to in view too, if both fit.
            ri = lay.line_of(self.reveal)
            if ri < self.top and li - ri < self.height - margin:
                self.top = max(0, ri - (1 if li - ri < self.height - margin - 1 else 0))
            self.reveal = None
        self.top = max(0, min(self.top, max(0, len(lay.lines) - self.height)))
        return li

    def status(self) -> dict[str, str | int]:
        """What the status bar shows."""
        anns = self.annotations()
        undo, redo = self.depths()
        return {
            "doc": self.doc.id,
            "doc_pos": f"{self.doc_index + 1}/{len(self.docs)}",
            "sentence": self.current_sentence_id(),
            "word": self.cursor + 1 if self.n_tokens else 0,
            "words": self.n_tokens,
            "annotations": len(anns),
            "suggested": anns.count("suggested"),
            "undo": undo,
            "redo": redo,
            "message": self.message,
            "mode": self.mode,
            "selection": "" if self.anchor is None else f"{abs(self.cursor - self.anchor) + 1}w",
        }
