"""Suggestions from inside the editor, for `EditorState` (a mixin, as `sharing.py`): `!` runs
the codebook's patterns over the open document as `annotate suggest` does for a corpus, and the
side pane says which pattern and which words made a suggestion, and who accepted it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotate.model import Annotation, Codebook, Document, ThemeHit

if TYPE_CHECKING:
    from annotate.themes import Matcher
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
        _matcher: Matcher | None

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

    def _hit_at(self, start: int, end: int) -> ThemeHit | None:
        """The codebook's hit on one unit, matched alone (not the whole document: the pane
        asks this while drawing)."""
        done = self._hits.get(self.doc.id)
        if done is not None:
            return done.get((start, end))
        from annotate.themes import compile_codebook

        if self._matcher is None:
            self._matcher = compile_codebook(self.codebook)
        doc = self.doc
        unit = doc.sentence_at(start)
        return self._matcher.match_unit(doc.id, doc.text, unit.id if unit else "", start, end)

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
            evidence = [(e.theme, e.pattern, " ".join(e.text.split())) for e in hit.evidence]
            self.store.add(doc, start, end, themes=hit.themes, user=self.user,
                           status="suggested", batch=batch, evidence=evidence)
            taken.append((start, end))
            added += 1
        self.forget_cache()
        if not hits:
            self.say("the codebook's patterns find nothing in this document")
        else:
            self.say(f"suggested {added} (s goes to the next; a accepts, x rejects; u takes "
                     f"them all back); {skipped} already annotated or turned down")

    def evidence(self, ann: Annotation) -> list[str]:
        """Why the codebook suggested `ann`: each theme's pattern and the words it matched, as
        recorded when it was suggested, else as the codebook matches now."""
        prov = self.store.provenance(ann.id)
        found = list(prov.evidence) if prov is not None else []
        if not found:
            hit = self._hit_at(ann.start, ann.end)
            found = [(e.theme, e.pattern, " ".join(e.text.split()))
                     for e in (hit.evidence if hit is not None else ())]
        return [f"{self._label(theme)}: pattern “{pattern}” matched “{words}”"
                for theme, pattern, words in found if theme in ann.themes]

    def provenance(self, ann: Annotation) -> str:
        """Who suggested it and who decided, for a suggested annotation (else "")."""
        prov = self.store.provenance(ann.id)
        if prov is None:
            return ""
        text = f"suggested by the codebook (run by {prov.suggested_by})"
        if prov.decision:
            text += f", {prov.decision} by {prov.decided_by or 'someone'}"
        return text
