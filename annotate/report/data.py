"""What the report shows, gathered once and indexed for the pages: themes with their colours,
the heatmap's columns and counts, and where each statement, passage and cluster lives.

Pure: no files are written here, and nothing depends on Jinja.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from annotate.corpus import Corpus
from annotate.model import (
    Annotation,
    Cluster,
    Codebook,
    Document,
    Passage,
    ThemeHit,
    date_bounds,
)
from annotate.palette import Palette, palette, text_on

MAX_COLUMNS = 60  # more statements than this are grouped into columns (by date, or in runs)
PAGE_SIZE = 100  # rows of a paginated list of statements
PASSAGE_PAGE_SIZE = 50  # passages a page, each with both sides and the diff
CLUSTER_PAGE_SIZE = 25  # clusters a page (a newspaper cluster can have hundreds of members)
OVERVIEW_CLUSTERS = 15  # cluster timelines drawn on the overview; the rest are on their pages
OVERVIEW_PAIRS = 25  # most-sharing statement pairs listed on the overview
MATRIX_MAX_DOCS = 60  # above this the reuse picture is the pair list only


@dataclass(frozen=True)
class ThemeInfo:
    key: str  # "t0", "t1", ...: safe in attributes and CSS whatever the codebook's ids are
    id: str
    label: str
    description: str
    color: str
    ink: str  # black or white, whichever reads on `color`
    depth: int


@dataclass(frozen=True)
class Column:
    """One column of the heatmap: one statement, or consecutive statements grouped."""

    index: int
    label: str  # date or id shown at the top
    title: str  # longer description for the tooltip and tables
    docs: tuple[Document, ...]


@dataclass(frozen=True)
class ReportData:
    corpus: Corpus
    annotations: tuple[Annotation, ...] = ()
    codebook: Codebook | None = None
    hits: Mapping[str, Sequence[ThemeHit]] = field(default_factory=dict)
    passages: tuple[Passage, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    title: str = "Corpus report"
    reuse_done: bool = True  # False when reuse was left out (--no-reuse)

    # -- documents -----------------------------------------------------------------------

    @cached_property
    def documents(self) -> tuple[Document, ...]:
        """Date order (undated last), as the corpus keeps them."""
        return tuple(sorted(self.corpus.documents, key=lambda d: d.meta.sort_key))

    @cached_property
    def doc_by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    @cached_property
    def doc_file(self) -> dict[str, str]:
        """Statement id -> its page's file name under docs/. Unique even on a case-blind file
        system (a USB stick's FAT), and only letters, digits, `_` and `-`."""
        out: dict[str, str] = {}
        taken: set[str] = set()
        for d in self.documents:
            stem = re.sub(r"[^A-Za-z0-9_-]", "_", d.id)[:80] or "doc"
            name, n = stem, 1
            while name.lower() in taken:
                n += 1
                name = f"{stem}-{n}"
            taken.add(name.lower())
            out[d.id] = f"{name}.html"
        return out

    # -- themes --------------------------------------------------------------------------

    @cached_property
    def palette(self) -> Palette:
        return palette(self.codebook, self._annotation_themes)

    @cached_property
    def _annotation_themes(self) -> list[str]:
        return sorted({t for a in self.annotations for t in a.themes})

    @cached_property
    def themes(self) -> tuple[ThemeInfo, ...]:
        """The codebook's themes in hierarchy order, then themes only annotations use."""
        rows: list[tuple[str, str, str, int]] = []
        if self.codebook:
            ids = set(self.codebook.ids)
            children: dict[str | None, list[str]] = defaultdict(list)
            for t in self.codebook.themes:
                children[t.parent if t.parent in ids else None].append(t.id)

            def walk(parent: str | None, depth: int) -> None:
                for tid in children.get(parent, []):
                    t = self.codebook.get(tid)  # type: ignore[union-attr]
                    rows.append((t.id, t.label, t.description, depth))
                    walk(tid, depth + 1)

            walk(None, 0)
        known = {r[0] for r in rows}
        rows += [(t, t, "", 0) for t in self._annotation_themes if t not in known]
        pal = self.palette
        return tuple(
            ThemeInfo(f"t{i}", tid, label, desc, pal.hex(tid), text_on(pal.hex(tid)), depth)
            for i, (tid, label, desc, depth) in enumerate(rows)
        )

    @cached_property
    def theme_by_id(self) -> dict[str, ThemeInfo]:
        return {t.id: t for t in self.themes}

    @cached_property
    def codebook_themes(self) -> tuple[ThemeInfo, ...]:
        """The themes the heatmap has rows for (the codebook's)."""
        ids = set(self.codebook.ids) if self.codebook else set()
        return tuple(t for t in self.themes if t.id in ids)

    # -- annotators ----------------------------------------------------------------------

    @cached_property
    def users(self) -> tuple[str, ...]:
        return tuple(sorted({a.user for a in self.annotations}))

    @cached_property
    def annotations_by_doc(self) -> dict[str, list[Annotation]]:
        out: dict[str, list[Annotation]] = defaultdict(list)
        for a in self.annotations:
            if a.doc in self.doc_by_id:
                out[a.doc].append(a)
        return out

    @cached_property
    def skipped_annotations(self) -> tuple[Annotation, ...]:
        """Annotations of documents not in the corpus (another corpus shares the store)."""
        return tuple(a for a in self.annotations if a.doc not in self.doc_by_id)

    # -- the heatmap ---------------------------------------------------------------------

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """One column per statement up to MAX_COLUMNS; beyond, statements of one date share a
        column when the dates are few enough, else runs of consecutive statements do."""
        docs = self.documents
        if len(docs) <= MAX_COLUMNS:
            return tuple(
                Column(i, f"{date_text(d)} {d.id}",
                       f"{d.id} ({date_text(d)}): {d.meta.title or d.path.name}", (d,))
                for i, d in enumerate(docs)
            )
        by_date: dict[str, list[Document]] = {}
        for d in docs:
            key = date_bounds(d.meta.date)[0] if d.meta.date else "undated"
            by_date.setdefault(key, []).append(d)
        out = []
        if 1 < len(by_date) <= MAX_COLUMNS:
            for i, g in enumerate(by_date.values()):
                span = date_text(g[0]) if g[0].meta.date else "undated"
                out.append(Column(i, span, f"{span}: {len(g)} statements", tuple(g)))
            return tuple(out)
        # Too many dates, or none (newspaper pages named by date but without metadata): runs
        # of consecutive statements in date order, then id.
        size = math.ceil(len(docs) / MAX_COLUMNS)
        for i, start in enumerate(range(0, len(docs), size)):
            run = docs[start:start + size]
            first, last = date_text(run[0]), date_text(run[-1])
            if first == last == "undated":
                n = len(run)
                span = f"#{start + 1}" if n == 1 else f"#{start + 1}–{start + n}"
            else:
                span = first if first == last else f"{first} – {last}"
            out.append(Column(i, span, f"{span}: {len(run)} statements, {run[0].id} to "
                                        f"{run[-1].id}", run))
        return tuple(out)

    @cached_property
    def column_of(self) -> dict[str, int]:
        return {d.id: c.index for c in self.columns for d in c.docs}

    @cached_property
    def cell_hits(self) -> dict[tuple[str, int], list[ThemeHit]]:
        """(theme id, column) -> the hits (sentences) behind that heatmap cell, in date and
        text order."""
        out: dict[tuple[str, int], list[ThemeHit]] = defaultdict(list)
        for d in self.documents:
            col = self.column_of[d.id]
            for h in sorted(self.hits.get(d.id, ()), key=lambda h: h.start):
                for t in h.themes:
                    out[(t, col)].append(h)
        return out

    def cell_count(self, theme: str, column: int) -> int:
        return len(self.cell_hits.get((theme, column), ()))

    @cached_property
    def theme_span(self) -> dict[str, tuple[Document, Document, int, int]]:
        """Theme id -> (first statement, last statement, sentences hit, statements hit)."""
        out: dict[str, tuple[Document, Document, int, int]] = {}
        for d in self.documents:
            for h in self.hits.get(d.id, ()):
                for t in h.themes:
                    if t in out:
                        first, last, n, docs = out[t]
                        out[t] = (first, d, n + 1, docs + (last is not d))
                    else:
                        out[t] = (d, d, 1, 1)
        return out

    # -- reuse ---------------------------------------------------------------------------

    @cached_property
    def passage_by_id(self) -> dict[str, Passage]:
        return {p.id: p for p in self.passages}

    @cached_property
    def passage_page(self) -> dict[str, int]:
        """Passage id -> number (1-based) of the passages page that shows it."""
        return {p.id: i // PASSAGE_PAGE_SIZE + 1 for i, p in enumerate(self.passages)}

    @cached_property
    def cluster_page(self) -> dict[str, int]:
        return {c.id: i // CLUSTER_PAGE_SIZE + 1 for i, c in enumerate(self.clusters)}

    @cached_property
    def passages_by_doc(self) -> dict[str, list[Passage]]:
        out: dict[str, list[Passage]] = defaultdict(list)
        for p in self.passages:
            out[p.a.doc].append(p)
            out[p.b.doc].append(p)
        return out

    @cached_property
    def pairs(self) -> list[tuple[str, str, int, int, Passage]]:
        """(doc a, doc b, passages, words, longest passage) for every pair of statements that
        share passages, most shared words first."""
        acc: dict[tuple[str, str], list[Passage]] = defaultdict(list)
        for p in self.passages:
            acc[(p.a.doc, p.b.doc)].append(p)
        rows = [(a, b, len(ps), sum(p.words for p in ps), ps[0]) for (a, b), ps in acc.items()]
        return sorted(rows, key=lambda r: (-r[3], r[0], r[1]))

    def cluster_members(self, cluster: Cluster) -> list[tuple[Document, Passage | None]]:
        """The cluster's statements in date order, each with a passage of the cluster in it."""
        first: dict[str, Passage] = {}
        for pid in cluster.passages:
            p = self.passage_by_id.get(pid)
            if p is None:
                continue
            for side in (p.a, p.b):
                first.setdefault(side.doc, p)
        docs = [self.doc_by_id[d] for d in cluster.documents if d in self.doc_by_id]
        docs.sort(key=lambda d: d.meta.sort_key)
        return [(d, first.get(d.id)) for d in docs]


def date_text(d: Document) -> str:
    """The statement's date as shown (a range with an en dash), or "undated"."""
    date = d.meta.date
    if date is None:
        return "undated"
    return date.replace("/", "–") if "/" in date else date


def year_fraction(date: str | None) -> float | None:
    """The earliest point of an ISO date or range as a fractional year (2016-07 -> 2016.5)."""
    if not date:
        return None
    parts = [int(p) for p in date_bounds(date)[0].split("-")]
    if len(parts) > 2:
        import datetime

        day = datetime.date(*parts) - datetime.date(parts[0], 1, 1)
        return parts[0] + day.days / 365.25
    return parts[0] + ((parts[1] - 1) / 12 if len(parts) > 1 else 0.0)
