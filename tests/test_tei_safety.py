"""Untrusted input to `annotate import`: entity bombs and external entities are refused or left
unresolved, malformed XML is reported as file:line:column, and nothing is half-imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.errors import InputError
from annotate.exchange.formats import read_export

runner = CliRunner()


def billion_laughs(encoding: str = "utf-8") -> bytes:
    entities = "".join(
        f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10)
    )
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE lolz [\n'
            f' <!ENTITY lol0 "lol">\n{entities}]>\n<lolz>&lol9;</lolz>\n')
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_billion_laughs_is_refused(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "bomb.xml"
    f.write_bytes(billion_laughs(encoding))
    with pytest.raises(InputError, match=r"bomb\.xml.*(entity declarations are not accepted"
                       r"|entity amplification)"):
        read_export(f)


def test_billion_laughs_through_the_cli(tmp_path: Path) -> None:
    f = tmp_path / "bomb.xml"
    f.write_bytes(billion_laughs())
    r = runner.invoke(app, ["import", str(f), "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 1
    assert r.output.strip() == (
        f"Error: {f}: XML entity declarations are not accepted (unsafe input)")
    assert "Traceback" not in r.output


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY e SYSTEM "file://{secret}">')
    # An entity declared in an external DTD: the DTD must not even be loaded.
    f = tmp_path / "ext.xml"
    f.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE teiCorpus SYSTEM "file://{dtd}">\n'
                 '<teiCorpus xmlns="http://www.tei-c.org/ns/1.0"><teiHeader/>'
                 '<TEI><text>&e;</text></TEI></teiCorpus>')
    with pytest.raises(InputError) as e:
        read_export(f)
    assert "TOP-SECRET" not in str(e.value)
    # And one declared inline is refused outright, in UTF-16 too.
    for enc in ("utf-8", "utf-16"):
        g = tmp_path / f"inline-{enc}.xml"
        g.write_bytes(f'<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM '
                      f'"file://{secret}">]><x>&e;</x>'.encode(enc))
        with pytest.raises(InputError) as e:
            read_export(g)
        assert "TOP-SECRET" not in str(e.value)


def test_malformed_xml_is_reported_as_file_line_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.xml"
    f.write_text('<?xml version="1.0"?>\n<teiCorpus>\n  <teiHeader>\n</teiCorpus>\n')
    r = runner.invoke(app, ["import", str(f), "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 1
    assert r.output.startswith(f"Error: {f}:4:13: malformed XML: Opening and ending tag "
                               "mismatch")


def test_malformed_json_is_reported_as_file_line_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonld"
    f.write_text('{"type": "AnnotationCollection",\n "first": [}\n')
    with pytest.raises(InputError, match=r"bad\.jsonld:2:12: malformed JSON"):
        read_export(f)


def test_foreign_tei_is_refused_clearly(tmp_path: Path) -> None:
    f = tmp_path / "other.xml"
    f.write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>x</p></body></text>'
                 "</TEI>")
    with pytest.raises(InputError, match="not a TEI corpus written by `annotate export`"):
        read_export(f)
    f.write_text('<teiCorpus xmlns="http://www.tei-c.org/ns/1.0"><teiHeader/></teiCorpus>')
    with pytest.raises(InputError, match="not written by `annotate export`"):
        read_export(f)


def test_missing_file(tmp_path: Path) -> None:
    r = runner.invoke(app, ["import", str(tmp_path / "nope.xml"),
                            "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 1 and "nope.xml: no such file" in r.output


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 200_000 + "]" * 200_000, "JSON nested too deeply"),
    ('{"first": {"items": 5}}', "not Web Annotation JSON-LD"),
])
def test_json_of_the_wrong_shape_is_refused_clearly(tmp_path: Path, text: str,
                                                     message: str) -> None:
    f = tmp_path / "odd.json"
    f.write_text(text)
    with pytest.raises(InputError, match=message):
        read_export(f)


def test_json_with_odd_documents_and_history_imports_nothing(tmp_path: Path) -> None:
    # Lists of documents or history of the wrong shape are ignored, not an unexpected error.
    f = tmp_path / "odd.json"
    f.write_text('{"items": [], "annotate:documents": [{"annotate:doc": ["x"]}, 7], '
                 '"annotate:history": "x"}')
    r = runner.invoke(app, ["import", str(f), "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 0 and "0 added, 0 unchanged, 0 conflicts" in r.output, r.output


def test_annotation_span_without_an_id_is_refused(tmp_path: Path) -> None:
    # It used to be imported as an annotation whose id is the empty string.
    from annotate.corpus import load_corpus
    from annotate.exchange.data import ExportData
    from annotate.exchange.tei_export import tei_bytes
    from annotate.model import Annotation
    from tests.conftest import SEEDS

    corpus = load_corpus([SEEDS])
    d = corpus.get("002")
    data = tei_bytes(ExportData(corpus, (Annotation("k1", "002", 0, 5, d.text[:5], user="u"),),
                                when="2026-01-01T00:00:00Z")).decode()
    f = tmp_path / "noid.xml"
    f.write_text(data.replace(' xml:id="ann.k1" n="k1"', ""))
    with pytest.raises(InputError, match=r"noid\.xml:\d+: an annotation span without its id"):
        read_export(f)
    # Two documents with one id: refused, not read as one over the other.
    f.write_text(data.replace('<idno type="annotate">002</idno>',
                              '<idno type="annotate">004</idno>'))
    with pytest.raises(InputError, match=r"noid\.xml:\d+: document '004' appears twice"):
        read_export(f)
