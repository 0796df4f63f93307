"""The data model: frozen dataclasses shared by every layer.

Offsets are half-open [start, end) code-point positions into `Document.text`, the text exactly
as read from the file (after decoding; a UTF-8 byte-order mark is not part of the text).
Normalised forms live beside the original (`Token.norm`), never instead of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

# Segmentation types live with the segmentation (annotate.text, which imports nothing of
# annotate), so the model depends on text and never the other way round.
from annotate.text import Paragraph as Paragraph
from annotate.text import Sentence as Sentence
from annotate.text import Token as Token
from annotate.text import paragraphs, tokens

DATE_PRECISIONS = ("day", "month", "year", "range")

_DAY = r"\d{4}-\d{2}-\d{2}"
_MONTH = r"\d{4}-\d{2}"
_YEAR = r"\d{4}"
_POINT = rf"(?:{_DAY}|{_MONTH}|{_YEAR})"
_DATE_RE = re.compile(rf"^(?P<from>{_POINT})(?:/(?P<to>{_POINT}))?$")


def date_precision(date: str) -> str:
    """Precision of an ISO 8601 date or interval: day, month, year or range.

    Raises ValueError for anything else, including impossible months and days.
    """
    m = _DATE_RE.match(date)
    if not m:
        raise ValueError(
            f"bad date {date!r}: use YYYY, YYYY-MM, YYYY-MM-DD or a range FROM/TO of those"
        )
    for point in filter(None, (m["from"], m["to"])):
        parts = [int(p) for p in point.split("-")]
        if len(parts) > 1 and not 1 <= parts[1] <= 12:
            raise ValueError(f"bad date {date!r}: month {parts[1]} does not exist")
        if len(parts) > 2:
            import datetime

            try:
                datetime.date(parts[0], parts[1], parts[2])
            except ValueError:
                raise ValueError(f"bad date {date!r}: day {parts[2]} does not exist") from None
    if m["to"] is not None:
        # Compare the earliest day of FROM with the latest of TO, so "2023-06/2023" is fine.
        if m["to"].ljust(10, "\uffff") < m["from"]:
            raise ValueError(f"bad date {date!r}: the range ends before it starts")
        return "range"
    return ("year", "month", "day")[m["from"].count("-")]


def date_bounds(date: str) -> tuple[str, str]:
    """The first and last point of a date or range, e.g. ("2016", "2018") for "2016/2018"."""
    start, _, end = date.partition("/")
    return start, end or start


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open [start, end) stretch of one document's text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span [{self.start}, {self.end})")


@dataclass(frozen=True)
class Metadata:
    """What is known about a document. Unknown stays None or empty; nothing is invented."""

    id: str
    title: str | None = None
    date: str | None = None
    speakers: tuple[str, ...] = ()
    author: str | None = None
    body: str | None = None
    genre: str | None = None
    source: str | None = None
    language: str | None = None
    note: str | None = None
    origin: str = "file name"  # where the metadata came from: corpus.toml, html, tei, file name
    # The publication a document belongs to (a newspaper's LCCN, say): reuse between two
    # documents of one series is a paper reprinting itself, not reuse (annotate reuse --series).
    series: str | None = None
    place: str | None = None  # place of publication, from a series table

    def __post_init__(self) -> None:
        if self.date is not None:
            date_precision(self.date)

    @property
    def date_precision(self) -> str | None:
        return None if self.date is None else date_precision(self.date)

    @property
    def sort_key(self) -> tuple[int, str, str]:
        """Dated documents first, by their earliest possible date, then by id."""
        if self.date is None:
            return (1, "", self.id)
        return (0, date_bounds(self.date)[0], self.id)


@dataclass(frozen=True)
class Document:
    """One statement: its text exactly as read, where it came from, and what is known of it.

    Segmentation is computed on first use and cached, so reading a corpus stays cheap.
    """

    path: Path
    text: str
    meta: Metadata
    format: str = "text"  # text, markdown, html, tei
    warnings: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.meta.id

    @cached_property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return paragraphs(self.text, self.id)

    @cached_property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for p in self.paragraphs for s in p.sentences)

    @cached_property
    def tokens(self) -> tuple[Token, ...]:
        return tokens(self.text)

    @cached_property
    def sentence_index(self) -> dict[str, Sentence]:
        return {s.id: s for s in self.sentences}

    @cached_property
    def sentence_starts(self) -> tuple[int, ...]:
        return tuple(s.start for s in self.sentences)

    def metadata_record(self) -> dict[str, object]:
        """What every `--json` document record starts with: where it came from and what is
        known of it (each output then adds its own counts)."""
        m = self.meta
        return {
            "id": self.id,
            "path": str(self.path),
            "format": self.format,
            "title": m.title,
            "date": m.date,
            "date_precision": m.date_precision,
            "series": m.series,
            "place": m.place,
            "speakers": list(m.speakers),
            "author": m.author,
            "body": m.body,
            "genre": m.genre,
            "source": m.source,
        }

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence containing `offset`, if any (binary search over sentence starts)."""
        import bisect

        sents = self.sentences
        i = bisect.bisect_right(self.sentence_starts, offset) - 1
        if i >= 0 and sents[i].start <= offset < sents[i].end:
            return sents[i]
        return None


# --- Themes (annotate/themes.py parses codebooks and matches them) -------------------------


@dataclass(frozen=True)
class Theme:
    """One code of the codebook. `parent` is another theme's id for a hierarchy."""

    id: str
    label: str
    description: str = ""
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    color: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class Codebook:
    """An editable theme codebook (TOML); `unit` is what a hit covers (sentence)."""

    name: str
    themes: tuple[Theme, ...]
    unit: str = "sentence"
    language: str = "en"
    path: Path | None = None

    def get(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a theme hit: the pattern and the exact words it matched, offsets into the text."""

    theme: str
    pattern: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class ThemeHit:
    """A unit (sentence) of a document where one or more themes hit."""

    doc: str
    start: int
    end: int
    unit: str  # the unit's id, e.g. "002.p3.s2"
    themes: tuple[str, ...]
    evidence: tuple[Evidence, ...]


# --- Reuse (annotate/reuse.py finds shared passages) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a shared passage: a stretch of one document, with its text."""

    doc: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage shared by two documents. `a` is the earlier document by date (then by id)."""

    id: str
    cluster: str | None
    similarity: float
    words: int
    a: Side
    b: Side
    bits: float = 0.0  # evidence against chance: see annotate/reuse/chance.py
    same_series: bool = False  # both sides from one series (kept by --within-series)


@dataclass(frozen=True, slots=True)
class Cluster:
    """A phrase that recurs in three or more documents: its passages and documents."""

    id: str
    passages: tuple[str, ...]
    documents: tuple[str, ...]
    earliest: str  # id of the earliest document by date


# --- Annotations (annotate/store.py keeps them; history feeds TEI revisionDesc) ------------

STATUSES = ("suggested", "accepted", "rejected")


@dataclass(frozen=True)
class Annotation:
    """A user's annotation of [start, end) of a document, with the quote and its context so
    it can be found again when the text changes. Times are ISO 8601 UTC strings."""

    id: str
    doc: str
    start: int
    end: int
    quote: str
    prefix: str = ""
    suffix: str = ""
    themes: tuple[str, ...] = ()
    note: str = ""
    user: str = ""
    status: str = "accepted"
    created: str = ""
    modified: str = ""
    orphaned: bool = False
    # The store's change counter (optimistic concurrency): not part of what the annotation
    # says, so two annotations equal in content compare equal whatever their versions.
    version: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span [{self.start}, {self.end})")
        if self.status not in STATUSES:
            raise ValueError(f"bad status {self.status!r}")


@dataclass(frozen=True)
class Change:
    """One entry of the history: who did what to which annotation, and when."""

    id: int
    annotation: str
    user: str
    when: str
    action: str  # add, update, remove, accept, reject, reanchor, import, ...
    detail: str = ""  # JSON of the changed fields
