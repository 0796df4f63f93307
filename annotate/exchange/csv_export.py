"""CSV: a row per annotation, with its sentence and its document's title and date.

Safe to open in a spreadsheet:
- a text cell that a spreadsheet would run as a formula (one beginning with `=`, `+`, `-`, `@`,
  tab or carriage return; OWASP's CSV injection advice) gets a leading `'`, which spreadsheets
  show as plain text. The change is reversible: `restore()` undoes it (a cell that already
  begins with `'` before such a character gets one more, so nothing is ambiguous);
- every text cell is quoted and only the offsets are bare numbers, so a spreadsheet that treats
  quoted fields as text (LibreOffice's "Format quoted field as text", or a column typed Text on
  import) keeps ids such as `000` as written instead of turning them into the number 0.
Every other character, control characters included, is written as it is.
"""

from __future__ import annotations

import csv
import io
import re

from annotate.exchange.data import ExportData

CSV_COLUMNS = ("id", "doc", "start", "end", "sentence", "quote", "prefix", "suffix", "themes",
               "note", "user", "status", "created", "modified", "orphaned", "doc_title",
               "doc_date")

_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def neutralise(cell: str) -> str:
    """`cell` as a spreadsheet shows it as text, never as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def restore(cell: str) -> str:
    """The cell as it was before `neutralise`."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


def csv_text(data: ExportData) -> str:
    """A row per annotation; themes joined with `;`."""
    docs = {d.id: d for d in data.documents}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    w.writerow(CSV_COLUMNS)
    for a in data.annotations:
        d = docs.get(a.doc)
        s = d.sentence_at(a.start) if d else None
        text = [a.id, a.doc, s.id if s else "", a.quote, a.prefix, a.suffix,
                ";".join(a.themes), a.note, a.user, a.status, a.created, a.modified,
                "yes" if a.orphaned else "no", d.meta.title or "" if d else "",
                d.meta.date or "" if d else ""]
        cells = [neutralise(c) for c in text]
        w.writerow([*cells[:2], a.start, a.end, *cells[2:]])
    return out.getvalue()
