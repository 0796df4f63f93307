"""Hostile or careless input to the exchange formats, through the CLI: each gets a one-line
error naming the file (never a traceback), control characters survive every format, and
another corpus's export is not imported into this one unasked."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from annotate.cli import app
from annotate.exchange.csv_export import CSV_COLUMNS, restore
from annotate.exchange.qdc import QDC_NS
from tests.conftest import SEEDS

runner = CliRunner()
CTRL_TEXT = ("A line with a unit\x1fseparator inside it. Then an \x1b[2J escape sequence.\n\n"
             "A second paragraph \x07 with a bell.\n")
NOTE = "note with \x1f and \x1b]52;c;ZXZpbA==\x07 inside"


def one_line_error(result: Result, name: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert name in lines[0] and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(("payload", "says"), [
    ('{"type": "Annotation", "id": "urn:x:1", "target": {"source": "000", "selector": '
     '{"type": "TextPositionSelector", "start": 1e309, "end": 2}}}', "out of range"),
    ('{"type": "Annotation", "id": "urn:x:1", "target": {"source": "000", "selector": '
     '{"type": "TextPositionSelector", "start": NaN, "end": 2}}}', "NaN is not a number"),
    ('{"total": 1' + "0" * 5000 + "}", "digits"),
    ("[" * 100_000, "nested too deeply"),
])
def test_bad_numbers_and_nesting_in_web_annotation(
    payload: str, says: str, tmp_path: Path
) -> None:
    f = tmp_path / "bad.jsonld"
    f.write_text(payload)
    result = runner.invoke(app, ["import", str(f), str(SEEDS), "--store", str(tmp_path / "s")])
    assert says in one_line_error(result, str(f))


def test_deep_nesting_in_a_qdc(tmp_path: Path) -> None:
    deep = tmp_path / "deep.qdc"
    deep.write_text(f'<CodeBook xmlns="{QDC_NS}"><Codes>'
                    + '<Code guid="g" name="x" isCodable="true">' * 5000
                    + "</Code>" * 5000 + "</Codes></CodeBook>")
    result = runner.invoke(app, ["codebook", "import", str(deep), "--out", "-"])
    one_line_error(result, str(deep))
    block = tmp_path / "block.qdc"
    block.write_text(f'<CodeBook xmlns="{QDC_NS}"><Codes><Code guid="g" name="x" '
                     'isCodable="true"><Description>[annotate]\nid = '
                     + "[" * 5000 + "]" * 5000 + "</Description></Code></Codes></CodeBook>")
    result = runner.invoke(app, ["codebook", "import", str(block), "--out", "-"])
    assert "nested too deeply" in one_line_error(result, str(block))


def _ctrl_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "ctl"
    corpus.mkdir()
    (corpus / "ctl.txt").write_text(CTRL_TEXT, encoding="utf-8")
    store = tmp_path / "a.sqlite"
    start = CTRL_TEXT.index("unit")
    r = runner.invoke(app, ["add", "ctl", str(corpus), "--span", f"{start}:{start + 14}",
                            "--note", NOTE, "--store", str(store)])
    assert r.exit_code == 0, r.output
    start = CTRL_TEXT.index("\x07") - 2
    r = runner.invoke(app, ["add", "ctl", str(corpus), "--span", f"{start}:{start + 5}",
                            "--store", str(store)])
    assert r.exit_code == 0, r.output
    return corpus, store


def _listed(store: Path) -> list[dict[str, object]]:
    r = runner.invoke(app, ["list", "--json", "--store", str(store)])
    assert r.exit_code == 0, r.output
    keep = ("id", "doc", "start", "end", "quote", "note", "themes", "status", "user")
    return [{k: a[k] for k in keep} for a in json.loads(r.stdout)["annotations"]]


@pytest.mark.parametrize(("fmt", "name"), [("tei", "x.xml"), ("webanno", "x.jsonld")])
def test_control_characters_round_trip(fmt: str, name: str, tmp_path: Path) -> None:
    corpus, store = _ctrl_corpus(tmp_path)
    out = tmp_path / name
    r = runner.invoke(app, ["export", str(corpus), "--format", fmt, "--out", str(out),
                            "--store", str(store), "--no-reuse"])
    assert r.exit_code == 0, r.output
    fresh = tmp_path / "b.sqlite"
    r = runner.invoke(app, ["import", str(out), str(corpus), "--store", str(fresh)])
    assert r.exit_code == 0, r.output
    assert "2 added, 0 unchanged, 0 conflicts" in r.stdout
    before, after = _listed(store), _listed(fresh)
    assert after == before
    assert any(a["note"] == NOTE for a in after)
    assert any("\x1f" in str(a["quote"]) for a in after)


def test_control_characters_in_csv(tmp_path: Path) -> None:
    corpus, store = _ctrl_corpus(tmp_path)
    r = runner.invoke(app, ["export", str(corpus), "--format", "csv", "--out", "-",
                            "--store", str(store)])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
    table = [dict(zip(CSV_COLUMNS, (restore(c) for c in row), strict=True)) for row in rows[1:]]
    listed = {a["id"]: a for a in _listed(store)}
    for row in table:
        a = listed[row["id"]]
        assert (row["quote"], row["note"]) == (a["quote"], a["note"])
        assert (int(row["start"]), int(row["end"])) == (a["start"], a["end"])


def _export_of(corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    store = tmp_path / f"{corpus.name}.sqlite"
    r = runner.invoke(app, ["add", "mine", str(corpus), "--span", "0:10", "--store", str(store)])
    assert r.exit_code == 0, r.output
    out = tmp_path / f"{corpus.name}.xml"
    r = runner.invoke(app, ["export", str(corpus), "--out", str(out), "--store", str(store),
                            "--no-reuse"])
    assert r.exit_code == 0, r.output
    return out, store


def test_another_corpus_export_is_refused_unless_asked(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.txt").write_text("A statement of another corpus altogether.\n")
    out, _ = _export_of(other, tmp_path)
    target = tmp_path / "target.sqlite"
    r = runner.invoke(app, ["import", str(out), str(SEEDS), "--store", str(target)])
    assert r.exit_code == 1
    assert "0 added" in r.stdout
    assert "document 'mine' is not in the corpus" in r.stderr
    assert "--allow-unknown-docs" in r.stderr
    r = runner.invoke(app, ["import", str(out), str(SEEDS), "--store", str(target),
                            "--allow-unknown-docs"])
    assert r.exit_code == 0 and "1 added" in r.stdout, r.output


def test_same_id_other_text_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "mine.txt").write_text("The first version of this statement, as it was.\n")
    (b / "mine.txt").write_text("A quite different text under the same name.\n")
    out, _ = _export_of(a, tmp_path)
    r = runner.invoke(app, ["import", str(out), str(b), "--store", str(tmp_path / "t"),
                            "--allow-unknown-docs"])
    assert r.exit_code == 1 and "its text differs from the exported one" in r.stderr


def test_tei_with_control_characters_everywhere_is_valid_tei(tmp_path: Path) -> None:
    from annotate.corpus import load_corpus
    from annotate.exchange.data import ExportData
    from annotate.exchange.tei_export import tei_bytes
    from annotate.exchange.tei_import import read_tei
    from annotate.markup import parse_xml
    from annotate.model import Annotation, Change
    from tests.test_tei_schema import assert_valid, check_pointers

    (tmp_path / "c.txt").write_text(CTRL_TEXT, encoding="utf-8")
    corpus = load_corpus([tmp_path / "c.txt"])
    d = corpus.documents[0]
    i = CTRL_TEXT.index("\x1f")
    ann = Annotation("k1", "c", i - 4, i + 5, d.text[i - 4:i + 5], note=NOTE,
                     user="a\x1bb", prefix=d.text[:i - 4], suffix=d.text[i + 5:i + 30])
    change = Change(1, "k1", "a\x1bb", "2026-01-01T00:00:00Z", "add", "detail \x01\x02")
    raw = tei_bytes(ExportData(corpus, (ann,), (change,), when="2026-01-01T00:00:00Z"))
    root = parse_xml(raw, "ctl.xml")
    assert_valid(root)
    check_pointers(root)
    back = read_tei(raw, "ctl.xml")
    assert back.annotations == (ann,) and back.history == (change,)
    assert back.documents["c"].text == d.text
