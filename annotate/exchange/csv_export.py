"""CSV: a row per annotation, with its sentence and its document's title and date."""

from __future__ import annotations

import csv
import io

from annotate.exchange.data import ExportData

CSV_COLUMNS = ("id", "doc", "start", "end", "sentence", "quote", "prefix", "suffix", "themes",
               "note", "user", "status", "created", "modified", "orphaned", "doc_title",
               "doc_date")


def csv_text(data: ExportData) -> str:
    """A row per annotation; themes joined with `;`."""
    docs = {d.id: d for d in data.documents}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for a in data.annotations:
        d = docs.get(a.doc)
        s = d.sentence_at(a.start) if d else None
        w.writerow([a.id, a.doc, a.start, a.end, s.id if s else "", a.quote, a.prefix,
                    a.suffix, ";".join(a.themes), a.note, a.user, a.status, a.created,
                    a.modified, "yes" if a.orphaned else "no",
                    d.meta.title or "" if d else "", d.meta.date or "" if d else ""])
    return out.getvalue()
