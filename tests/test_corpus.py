"""Reading documents and metadata, and refusing bad input with a clear message."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest

from annotate.corpus import load_corpus, read_document, read_sidecar
from annotate.errors import AnnotateError, CorpusError, InputError, MetadataError
from tests.conftest import SEEDS

SHARED_SEEDS = SEEDS.parent.parent / "shared" / "seeds"


def test_seeds_are_byte_identical_to_the_originals() -> None:
    if not SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the project here")
    originals = sorted(SHARED_SEEDS.iterdir())
    assert [p.name for p in originals] == sorted(p.name for p in SEEDS.glob("*.txt"))
    for p in originals:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        assert digest == hashlib.sha256((SEEDS / p.name).read_bytes()).hexdigest()


def test_seed_metadata_and_date_order() -> None:
    c = load_corpus([SEEDS])
    assert [d.id for d in c.documents] == ["004", "000", "001", "003", "002"]
    by_id = {d.id: d.meta for d in c.documents}
    assert by_id["003"].date == "2024-11-07" and by_id["003"].date_precision == "day"
    assert by_id["001"].date_precision == "month"
    assert by_id["000"].date_precision == "range"
    assert by_id["004"].speakers == ("John Reid", "Liam Byrne", "Lord Triesman")
    assert all(m.origin == "corpus.toml" for m in by_id.values())
    assert c.get("002_3f54934f788c0788").id == "002"  # by file stem too


def test_default_corpus_is_seeds_in_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(SEEDS.parent)
    assert len(load_corpus()) == 5
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no seeds/ folder here"):
        load_corpus()


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_text_encodings_and_line_ends(tmp_path: Path) -> None:
    bom = read_document(_write(tmp_path / "bom.txt", codecs.BOM_UTF8 + b"Hi there.\r\n"))
    assert bom.text == "Hi there.\r\n" and not bom.warnings
    nel = read_document(_write(tmp_path / "nel.txt", "One.\x85\x85Two.\rThree."))
    assert [p.text for p in nel.paragraphs] == ["One.", "Two.", "Three."]
    u16 = read_document(_write(tmp_path / "u16.txt", "Wide text.".encode("utf-16")))
    assert u16.text == "Wide text." and "UTF-16" in u16.warnings[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"  \n\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "looks like a binary file"),
        (b"caf\xe9 au lait", "not valid UTF-8 (byte 0xe9 at offset 3)"),
        # The UTF-32-LE byte-order mark begins with the UTF-16-LE one; it was read as UTF-16.
        ("UTF-32 text.".encode("utf-32"), "UTF-32 text is not supported"),
        (b"Text. " * 2000 + b"\x00", "looks like a binary file"),  # a NUL past the first 8 KB
    ],
)
def test_bad_files_are_refused_with_their_name(tmp_path: Path, data: bytes, message: str) -> None:
    path = _write(tmp_path / "bad.txt", data)
    with pytest.raises(InputError) as e:
        read_document(path)
    assert str(e.value) == f"{path}: {message}" or str(e.value).startswith(f"{path}: {message}")


def test_binary_files_named_html_are_refused(tmp_path: Path) -> None:
    # The HTML parser accepts any bytes; these used to become documents of noise.
    with pytest.raises(InputError, match="looks like a binary file"):
        read_document(_write(tmp_path / "a.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR"))
    with pytest.raises(InputError, match="looks like a binary file"):
        read_document(_write(tmp_path / "b.html", b"<p>\x01\x02\x03\x90\x91\xfe</p>"))
    page = "<html><body><p>Wide page.</p></body></html>".encode("utf-16")
    assert read_document(_write(tmp_path / "c.html", page)).text == "Wide page.\n"


def test_devices_and_pipes_are_refused_not_read_forever(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # reading it would block until a writer came
    with pytest.raises(InputError, match="pipe.txt: not a regular file"):
        load_corpus([fifo])


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load_corpus([tmp_path / "nope"])


def test_html_main_text_without_scripts_or_navigation(tmp_path: Path) -> None:
    page = """<html><head><title>Deal with Albania</title>
    <meta name="author" content="Home Office"><meta name="date" content="2022-12-13">
    <script>var x = "junk";</script><style>p {}</style></head>
    <body><nav>Home | News</nav><main><h1>Deal with Albania</h1>
    <p>The UK and Albania signed a <b>returns</b> deal.</p><p>Flights start soon.</p></main>
    <footer>Crown copyright</footer></body></html>"""
    d = read_document(_write(tmp_path / "deal.html", page))
    assert d.text == "Deal with Albania\n\nThe UK and Albania signed a returns deal.\n\n" \
        "Flights start soon.\n"
    assert (d.meta.title, d.meta.author, d.meta.date) == (
        "Deal with Albania", "Home Office", "2022-12-13")
    assert d.meta.origin == "html" and d.format == "html"


def test_tei_text_and_header(tmp_path: Path) -> None:
    tei = """<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc>
      <titleStmt><title>A statement</title><author>Jane Doe</author></titleStmt>
      <publicationStmt><publisher>Home Office</publisher></publicationStmt>
      <sourceDesc><bibl><date when="2023-06">June 2023</date></bibl></sourceDesc>
      </fileDesc></teiHeader>
      <text><body><head>Title</head><p>First <hi>para</hi>.</p><p>Second.</p></body></text>
    </TEI>"""
    d = read_document(_write(tmp_path / "s.xml", tei))
    assert d.text == "Title\n\nFirst para.\n\nSecond.\n"
    assert (d.meta.title, d.meta.author, d.meta.body, d.meta.date) == (
        "A statement", "Jane Doe", "Home Office", "2023-06")
    timed = tei.replace('when="2023-06"', 'when="2023-06-14T10:30:00Z"')
    assert read_document(_write(tmp_path / "t.xml", timed)).meta.date == "2023-06-14"


def test_line_breaks_and_table_cells_separate_words(tmp_path: Path) -> None:
    tei = """<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body>
      <p>Three<lb/>four and hy<lb break="no"/>phen.</p></body></text></TEI>"""
    assert read_document(_write(tmp_path / "lb.xml", tei)).text == "Three four and hyphen.\n"
    page = "<html><body><table><tr><td>Cell</td><td>next</td></tr></table></body></html>"
    assert read_document(_write(tmp_path / "t.html", page)).text == "Cell next\n"
    page = "<html><body><p>The UK will<br>act now.</p></body></html>"
    assert [s.text for s in read_document(_write(tmp_path / "br.html", page)).sentences] == [
        "The UK will act now."
    ]


def test_malformed_xml_position_is_given_once(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        read_document(_write(tmp_path / "b.xml", "<TEI><broken"))
    assert "b.xml:1:13: malformed XML:" in str(e.value)
    assert "column" not in str(e.value)


def test_unsafe_and_malformed_xml(tmp_path: Path) -> None:
    laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><TEI>&a;</TEI>'
    with pytest.raises(InputError, match="entity declarations are not accepted"):
        read_document(_write(tmp_path / "l.xml", laughs))
    with pytest.raises(InputError, match=r"m\.xml:2:\d+: malformed XML"):
        read_document(_write(tmp_path / "m.xml", "<TEI>\n<p>unclosed</TEI>"))
    with pytest.raises(InputError, match="not a TEI P5 document"):
        read_document(_write(tmp_path / "n.xml", "<doc><p>x</p></doc>"))


def _sidecar(tmp_path: Path, toml: str) -> Path:
    _write(tmp_path / "a.txt", "Alpha text.")
    _write(tmp_path / "b.txt", "Beta text.")
    return _write(tmp_path / "corpus.toml", toml)


def test_sidecar_errors_name_file_and_line(tmp_path: Path) -> None:
    path = _sidecar(tmp_path, '[[document]]\nfile = "a.txt"\nid = "a"\ncolour = "red"\n')
    with pytest.raises(MetadataError) as e:
        read_sidecar(path)
    assert str(e.value).startswith(f"{path}, line 4: unknown key 'colour'")

    path = _sidecar(tmp_path, '[[document]]\nfile = "a.txt"\n\n[[document]]\nfile = "b.txt"\n'
                    'date = "2023-13"\n')
    with pytest.raises(MetadataError) as e:
        read_sidecar(path)
    assert str(e.value) == f"{path}, line 6: bad date '2023-13': month 13 does not exist"

    path = _sidecar(tmp_path, '[[document]]\nfile = "a.txt"\ndate = "June 2023"\n')
    with pytest.raises(MetadataError, match="line 3: bad date 'June 2023'"):
        read_sidecar(path)

    path = _sidecar(tmp_path, '[[document]]\nfile = "a.txt\n')
    with pytest.raises(MetadataError, match=r"line 2"):
        read_sidecar(path)

    path = _sidecar(tmp_path, '[[document]]\nfile="a.txt"\nid="x"\n[[document]]\nfile="b.txt"\n'
                    'id="x"\n')
    with pytest.raises(MetadataError) as e:
        read_sidecar(path)
    assert str(e.value) == f"{path}, line 6: duplicate id 'x' (also used on line 3)"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('corpus = "x"\n', "'corpus' must be a table"),
        ("document = [1, 2]\n", "'document' must be an array of tables"),
        ("[corpus]\nname = 5\n", "line 2: [corpus] name must be a string"),
        ('[corpus]\nname = "n"\ntitle = "t"\n', "line 3: unknown key 'title' in [corpus]"),
    ],
)
def test_sidecar_of_the_wrong_shape_is_an_error_not_a_crash(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = _sidecar(tmp_path, toml)
    with pytest.raises(MetadataError) as e:
        read_sidecar(path)
    assert message in str(e.value)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    _write(tmp_path / "one" / "same.txt", "First.")
    _write(tmp_path / "two" / "same.txt", "Second.")
    with pytest.raises(CorpusError, match="duplicate document id 'same'"):
        load_corpus([tmp_path / "one", tmp_path / "two"])


def test_skip_bad_keeps_the_good_files(tmp_path: Path) -> None:
    _write(tmp_path / "good.txt", "A good document.")
    _write(tmp_path / "empty.txt", "")
    _write(tmp_path / "latin1.txt", b"caf\xe9")
    with pytest.raises(AnnotateError):
        load_corpus([tmp_path])
    c = load_corpus([tmp_path], skip_bad=True)
    assert [d.id for d in c.documents] == ["good"]
    assert len(c.skipped) == 2 and any("empty.txt: file is empty" in s for s in c.skipped)


def test_metadata_falls_back_to_the_file_name(tmp_path: Path) -> None:
    d = read_document(_write(tmp_path / "plain-notes.md", "# Notes\n\nSome text."))
    assert (d.id, d.meta.title, d.meta.date, d.format) == ("plain-notes", None, None, "markdown")


@pytest.mark.parametrize(
    ("date", "precision"),
    [("2007", "year"), ("2023-06", "month"), ("2024-11-07", "day"), ("2016/2018", "range"),
     ("2023-06/2023", "range"), ("2007-04/2007-06", "range")],
)
def test_date_precision_follows_the_written_form(date: str, precision: str) -> None:
    from annotate.model import date_precision

    assert date_precision(date) == precision


@pytest.mark.parametrize("date", ["2018/2016", "2023-06/2023-05", "2023-02-30", "07/2023"])
def test_impossible_dates_are_refused(date: str) -> None:
    from annotate.model import date_precision

    with pytest.raises(ValueError, match="bad date"):
        date_precision(date)
