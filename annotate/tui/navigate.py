"""Finding annotations, for `EditorState` (a mixin, as `sharing.py`): the list panel with its
filters, going to a sentence or annotation id, cycling through the annotations that overlap
at the cursor, and whose annotations are shown (mine, another annotator's, everyone's).

The list is built from the per-document cache the document pane already uses, so opening it
on a document with 10,000 annotations costs one pass over that list, not a store query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from annotate.model import Annotation, Codebook, Document, Passage

if TYPE_CHECKING:
    from annotate.tui.state import DocAnnotations, StoreLike

STATUSES = ("accepted", "suggested", "rejected")


@dataclass
class ListFilter:
    """What the list panel shows: None means any."""

    theme: str | None = None
    status: str | None = None
    user: str | None = None
    # the row the list cursor is on, kept per filter so a filter change starts at the top
    index: int = 0
    top: int = 0
    _cache: dict[tuple[object, ...], list[Annotation]] = field(default_factory=dict)


class Navigate:
    """The list panel, go-to, overlap cycling and the per-annotator view."""

    if TYPE_CHECKING:
        store: StoreLike
        user: str
        codebook: Codebook
        docs: tuple[Document, ...]
        doc_index: int
        anchor: int | None
        mode: str
        view_user: str | None
        pick: str | None
        listing: ListFilter
        _anns: dict[str, DocAnnotations]
        reveal: int | None

        @property
        def doc(self) -> Document: ...

        def say(self, message: str, error: bool = False) -> None: ...

        def _label(self, theme_id: str) -> str: ...

        def _go(self, index: int, keep_goal: bool = False) -> None: ...

        def token_at(self, offset: int) -> int: ...

        def open_doc(self, index: int) -> None: ...

        def forget_cache(self) -> None: ...

        def annotations(self, doc_id: str | None = None) -> DocAnnotations: ...

        def cursor_span(self) -> tuple[int, int]: ...

        def selection(self) -> tuple[int, int] | None: ...

        def describe(self, ann: Annotation) -> str: ...

        def sentence_name(self, doc_id: str, offset: int) -> str: ...

        def reuse_here(self) -> Passage | None: ...

    # --- the list panel ------------------------------------------------------------------

    def list_items(self) -> list[Annotation]:
        """This document's annotations the list filters let through, in text order."""
        f = self.listing
        anns = self.annotations()
        key = (self.doc.id, id(anns), anns.generation, f.theme, f.status, f.user)
        found = f._cache.get(key)
        if found is None:
            found = [
                a for a in anns.items
                if (f.theme is None or f.theme in a.themes)
                and (f.status is None or a.status == f.status)
                and (f.user is None or a.user == f.user)
            ]
            f._cache.clear()
            f._cache[key] = found
        return found

    def open_list(self) -> None:
        self.listing._cache.clear()
        items = self.list_items()
        # Start on the annotation at the cursor (or the first after it).
        off = self.cursor_span()[0]
        self.listing.index = next((i for i, a in enumerate(items) if a.end > off), 0)
        self.mode = "list"

    def list_move(self, delta: int) -> None:
        n = len(self.list_items())
        self.listing.index = max(0, min(n - 1, self.listing.index + delta)) if n else 0

    def list_filter_values(self, kind: str) -> list[str]:
        """The values `kind` (theme, status, user) takes in this document, to cycle through."""
        items = self.annotations().items
        if kind == "theme":  # in codebook order, then themes the codebook does not have
            present = {t for a in items for t in a.themes}
            ids = [t.id for t in self.codebook.themes]
            return [t for t in ids if t in present] + sorted(present - set(ids))
        if kind == "status":
            return [s for s in STATUSES if any(a.status == s for a in items)]
        return sorted({a.user for a in items})

    def list_cycle(self, kind: str) -> None:
        """Next value of the `kind` filter (any, then each value present, then any again)."""
        values: list[str | None] = [None, *self.list_filter_values(kind)]
        now = getattr(self.listing, kind)
        nxt = values[(values.index(now) + 1) % len(values)] if now in values else None
        setattr(self.listing, kind, nxt)
        self.listing.index = self.listing.top = 0
        shown = "any" if nxt is None else (self._label(nxt) if kind == "theme" else nxt)
        self.say(f"{kind}: {shown} ({len(self.list_items())} shown)")

    def list_clear(self) -> None:
        self.listing.theme = self.listing.status = self.listing.user = None
        self.listing.index = self.listing.top = 0
        self.say("filters cleared")

    def list_jump(self) -> None:
        """Go to the annotation on the list cursor, with the pane showing it."""
        items = self.list_items()
        self.mode = "normal"
        if not items:
            self.say("no annotation to go to")
            return
        ann = items[min(self.listing.index, len(items) - 1)]
        self.show_annotation(ann)

    def show_annotation(self, ann: Annotation) -> None:
        """Put the cursor on `ann` (in its document) and the side pane on it."""
        if ann.doc != self.doc.id:
            for i, d in enumerate(self.docs):
                if d.id == ann.doc:
                    self.open_doc(i)
                    break
            else:
                self.say(f"{ann.id} is in {ann.doc}, which is not open here", error=True)
                return
        self.anchor = None
        self._go(self.token_at(ann.start))
        self.reveal = ann.start
        self.pick = ann.id
        self.say(self.describe(ann))

    # --- go to an id -------------------------------------------------------------------------

    def goto(self, text: str) -> None:
        """Go to a sentence id (`p19.s2`, or `002.p19.s2` in another document) or an
        annotation id (or the start of one); empty: the start of the document."""
        self.mode = "normal"
        text = text.strip()
        if not text:
            self.anchor = None
            self._go(0)
            return
        for i, d in enumerate(self.docs):
            for s in d.sentences:
                if s.id == text or (d is self.doc and s.id == f"{d.id}.{text}"):
                    if d is not self.doc:
                        self.open_doc(i)
                    self.anchor = None
                    self._go(self.token_at(s.start))
                    self.reveal = s.start
                    self.say(f"{text}: sentence {s.id}")
                    return
        ann = self._find_annotation(text)
        if ann is not None:
            self.show_annotation(ann)
            return
        self.say(f"no sentence or annotation {text!r} (sentence ids look like p3.s2)",
                 error=True)

    def _find_annotation(self, text: str) -> Annotation | None:
        try:
            ann = self.store.get(text)
            if not ann.orphaned:
                return ann
        except Exception:  # not an exact id: try it as the start of one
            pass
        if len(text) < 3:
            return None
        found = [a for a in self.annotations().items if a.id.startswith(text)]
        if not found:
            found = [a for a in self.store.list() if a.id.startswith(text) and not a.orphaned]
        if len(found) > 1:
            self.say(f"{text!r} starts {len(found)} annotation ids: type more", error=True)
            return None
        return found[0] if found else None

    # --- overlapping annotations -------------------------------------------------------------

    def here(self) -> list[Annotation]:
        """Every annotation covering the cursor word (or exactly the selection), shortest
        first, rejected suggestions last: what the side pane lists and `c` cycles."""
        anns = self.annotations()
        sel = self.selection()
        if sel is not None:
            found = [a for a in anns.overlapping(*sel) if a.start <= sel[0] and sel[1] <= a.end]
        else:
            a0, b0 = self.cursor_span()
            found = [x for x in anns.overlapping(a0, b0) if x.start <= a0 and b0 <= x.end]
        return sorted(found, key=lambda x: (x.status == "rejected", x.end - x.start,
                                            -x.start, x.id))

    def cycle_here(self, delta: int = 1) -> None:
        """Show the next annotation overlapping here in the side pane (and act on it)."""
        found = self.here()
        if not found:
            self.say("no annotation here")
            return
        ids = [a.id for a in found]
        i = ids.index(self.pick) if self.pick in ids else 0
        if len(found) == 1:
            self.pick = ids[0]
            self.say(f"only one annotation here: {self.describe(found[0])}")
            return
        i = (i + delta) % len(found)
        self.pick = ids[i]
        self.say(f"{i + 1} of {len(found)} here: {self.describe(found[i])}")

    # --- whose annotations are shown ---------------------------------------------------------

    def cycle_view(self) -> None:
        """All annotators, then only mine, then each other annotator in turn."""
        users = sorted({a.user for a in self.store.list(doc=self.doc.id)} - {self.user})
        order: list[str | None] = [None, self.user, *users]
        i = order.index(self.view_user) if self.view_user in order else 0
        self.view_user = order[(i + 1) % len(order)]
        self.forget_cache()
        self.pick = None
        if self.view_user is None:
            self.say("showing everyone's annotations (initials in the gutter: others')")
        elif self.view_user == self.user:
            self.say("showing only your annotations (w: next view)")
        else:
            self.say(f"showing only {self.view_user}'s annotations (w: next view)")

    # --- the other side of a shared passage ---------------------------------------------------

    def jump_other_side(self) -> None:
        """Go to the other statement's side of the shared passage at the cursor; the same key
        there comes back (the passage is shared both ways)."""
        p = self.reuse_here()
        if p is None:
            self.say("no shared passage under the cursor (r jumps to the next)")
            return
        off = self.cursor_span()[0]
        here, there = ((p.a, p.b) if p.a.doc == self.doc.id and p.a.start <= off < p.a.end
                       else (p.b, p.a))
        index = next((i for i, d in enumerate(self.docs) if d.id == there.doc), None)
        if index is None:
            self.say(f"{there.doc} is not open in this session", error=True)
            return
        if index != self.doc_index:
            self.open_doc(index)
        self.anchor = None
        self._go(self.token_at(there.start))
        self.reveal = there.start
        back = self.sentence_name(here.doc, here.start)
        self.say(f"{there.doc} {self.sentence_name(there.doc, there.start)}, shared with "
                 f"{back} ({p.words} words): o goes back")
