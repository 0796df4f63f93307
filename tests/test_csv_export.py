"""CSV export: safe in a spreadsheet (no formula runs, ids stay text), and reversible."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from annotate.corpus import load_corpus
from annotate.exchange.csv_export import CSV_COLUMNS, csv_text, neutralise, restore
from annotate.exchange.data import ExportData
from annotate.model import Annotation
from tests.conftest import SEEDS

CORPUS = load_corpus([SEEDS])
TRIGGERS = "=+-@\t\r"


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_formula_cells_are_neutralised_and_restored() -> None:
    d = CORPUS.get("000")
    notes = ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
             "'=already quoted", "plain", "'tis fine"]
    anns = tuple(Annotation(f"n{i}", "000", 0, 5, d.text[:5], note=n, user="=cmd|' /C calc'!A0")
                 for i, n in enumerate(notes))
    table = rows(csv_text(ExportData(CORPUS, anns)))
    assert tuple(table[0]) == CSV_COLUMNS
    note_col, user_col = CSV_COLUMNS.index("note"), CSV_COLUMNS.index("user")
    for row, note in zip(table[1:], notes, strict=True):
        for cell in row:
            assert not cell or cell[0] not in TRIGGERS, row  # nothing a spreadsheet runs
        assert restore(row[note_col]) == note
        assert restore(row[user_col]) == "=cmd|' /C calc'!A0"
    assert table[1 + notes.index("plain")][note_col] == "plain"
    assert table[1 + notes.index("'tis fine")][note_col] == "'tis fine"


def test_ids_stay_text_and_offsets_are_numbers() -> None:
    d = CORPUS.get("000")
    text = csv_text(ExportData(CORPUS, (Annotation("007", "000", 3, 9, d.text[3:9]),)))
    line = text.splitlines()[1]
    # Text cells quoted (a spreadsheet importing quoted fields as text keeps "000"), the
    # offsets bare numbers.
    assert line.startswith('"007","000",3,9,')


@given(st.text(max_size=30))
def test_neutralise_is_reversible_and_safe(cell: str) -> None:
    out = neutralise(cell)
    assert restore(out) == cell
    assert not out or out[0] not in TRIGGERS


def test_control_characters_survive_the_csv() -> None:
    d = CORPUS.get("000")
    note = "unit\x1fseparator and \x1b[31mescape\r\nand CR"
    ann = Annotation("c1", "000", 0, 5, d.text[:5], note=note)
    table = rows(csv_text(ExportData(CORPUS, (ann,))))
    assert restore(table[1][CSV_COLUMNS.index("note")]) == note
