"""What an export carries, and what an import gives back, whatever the format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annotate.model import Annotation, Change, Cluster, Codebook, Document, Passage, ThemeHit

if TYPE_CHECKING:
    from annotate.corpus import Corpus

ANNO_URN = "urn:annotate:annotation:"
DOC_URN = "urn:annotate:document:"

STATUS_CERT = {"accepted": "high", "suggested": "medium", "rejected": "low"}
CERT_STATUS = {v: k for k, v in STATUS_CERT.items()}

# Reuse categories by similarity (the `reuse` taxonomy of the TEI header).
REUSE_CATEGORIES = (
    ("verbatim", "Verbatim", "The same words (similarity of at least 0.99).", 0.99),
    ("near", "Near-verbatim", "The same passage with small edits (similarity 0.85 to 0.99).",
     0.85),
    ("loose", "Loose", "A shared passage rewritten in part (similarity below 0.85).", 0.0),
)


@dataclass(frozen=True)
class ExportData:
    """Everything an export can carry; only the corpus is required."""

    corpus: Corpus
    annotations: tuple[Annotation, ...] = ()
    history: tuple[Change, ...] = ()
    codebook: Codebook | None = None
    hits: Mapping[str, tuple[ThemeHit, ...]] = field(default_factory=dict)
    passages: tuple[Passage, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    title: str | None = None
    when: str | None = None  # the export's timestamp; None means now
    # Annotation id -> who decided on a codebook suggestion (accepted or rejected), for @resp.
    decided_by: Mapping[str, str] = field(default_factory=dict)

    @property
    def documents(self) -> tuple[Document, ...]:
        return tuple(self.corpus.documents)

    def skipped_annotations(self) -> list[Annotation]:
        """Annotations of documents that are not in the corpus (they cannot be pointed at)."""
        ids = {d.id for d in self.documents}
        return [a for a in self.annotations if a.doc not in ids]



def reuse_category(similarity: float) -> str:
    for cat, _label, _desc, floor in REUSE_CATEGORIES:
        if similarity >= floor:
            return cat
    return REUSE_CATEGORIES[-1][0]


@dataclass(frozen=True)
class ImportedDoc:
    id: str
    sha256: str | None
    text: str | None = None  # the text carried by a TEI export


@dataclass(frozen=True)
class Imported:
    """What an export file holds, read back: documents, annotations and their history."""

    documents: dict[str, ImportedDoc]
    annotations: tuple[Annotation, ...]
    history: tuple[Change, ...]
    format: str
    problems: tuple[str, ...] = ()  # items of the file that could not be read
    unplaced: frozenset[str] = frozenset()  # ids known by their quote only (no offsets)


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()  # one message per annotation (or document) not imported
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {"added": len(self.added), "unchanged": len(self.unchanged),
                "conflicts": list(self.conflicts), "warnings": list(self.warnings)}

