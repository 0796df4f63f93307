"""Suggestions from inside the editor, for `EditorState` (a mixin, as `sharing.py`): `!` runs
the codebook's patterns over the open document as `annotate suggest` does for a corpus, and the
side pane says which pattern and which words made a suggestion, and who accepted it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotate.model import Annotation, Codebook, Document, ThemeHit

if TYPE_CHECKING:
    from annotate.tui.state import DocAnnotations, StoreLike


class Suggesting:
    """`!` (suggest for this document) and the why/who lines of the side pane."""

    if TYPE_CHECKING:
        store: StoreLike
        user: str
        codebook: Codebook
        _anns: dict[str, DocAnnotations]
        _hits: dict[str, dict[tuple[int, int], ThemeHit]]
        _depths: tuple[int, int] | None

        @property
        def doc(self) -> Document: ...

        def say(self, message: str, error: bool = False) -> None: ...

        def _label(self, theme_id: str) -> str: ...

        def forget_cache(self) -> None: ...

    def hits(self) -> dict[tuple[int, int], ThemeHit]:
        """The codebook's hits in this document by (start, end), computed once per document."""
        found = self._hits.get(self.doc.id)
        if found is None:
            from annotate.themes import match_document

            found = self._hits[self.doc.id] = {
                (h.start, h.end): h for h in match_document(self.codebook, self.doc)
            }
        return found

    def suggest_document(self) -> None:
        """Add the codebook's hits in this document as suggestions, as `annotate suggest` does:
        a unit anyone has annotated is left alone, and a suggestion someone removed is not
        offered again. One undo takes the whole run back."""
        from annotate.store import new_batch

        doc = self.doc
        hits = self.hits()
        taken: list[tuple[int, int]] = []
        removed: set[tuple[int, int]] = set()
        live = {a.id for a in self.store.list(doc=doc.id)}
        undone = self.store.undone_adds()  # a suggestion taken back by undo may come again
        for a in self.store.list(doc=doc.id, include_removed=True):
            if a.id in live:
                taken.append((a.start, a.end))
            elif a.status == "suggested" and a.id not in undone:
                removed.add((a.start, a.end))
        batch = new_batch()
        added = skipped = 0
        for (start, end), hit in sorted(hits.items()):
            if (start, end) in removed or any(s < end and start < e for s, e in taken):
                skipped += 1
                continue
            self.store.add(doc, start, end, themes=hit.themes, user=self.user,
                           status="suggested", batch=batch)
            taken.append((start, end))
            added += 1
        self.forget_cache()
        if not hits:
            self.say("the codebook's patterns find nothing in this document")
        else:
            self.say(f"suggested {added} (s goes to the next; a accepts, x rejects; u takes "
                     f"them all back); {skipped} already annotated or turned down")

    def evidence(self, ann: Annotation) -> list[str]:
        """Why the codebook suggested `ann`: each theme's pattern and the words it matched."""
        hit = self.hits().get((ann.start, ann.end))
        if hit is None:
            return []
        out = []
        for ev in hit.evidence:
            if ev.theme in ann.themes:
                out.append(f"{self._label(ev.theme)}: pattern “{ev.pattern}” matched "
                           f"“{' '.join(ev.text.split())}”")
        return out

    def provenance(self, ann: Annotation) -> str:
        """Who suggested and who decided, when the store knows (see Store.provenance)."""
        get = getattr(self.store, "provenance", None)
        if get is None:
            return ""
        prov = get(ann.id)
        if prov is None:
            return ""
        text = f"suggested by the codebook ({prov.suggested_by})"
        if prov.decided_by:
            text += f", {prov.decision} by {prov.decided_by}"
        return text
