"""Silent losses on reading a corpus, closed: corpus.toml entries that describe no document,
HTML whose bytes do not fit its charset, markup nested too deeply, and corpus.toml parsing
that took quadratic time."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus, read_sidecar
from annotate.errors import InputError, MetadataError

TEXT = "The first sentence is here. The second one follows it.\n"


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.output


def _corpus(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "a.txt").write_text(TEXT)
    (tmp_path / "b.txt").write_text(TEXT)
    (tmp_path / "corpus.toml").write_text(toml)
    return tmp_path


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("a.tx", "file 'a.tx' not found in {dir}; did you mean 'a.txt'?"),
        ("missing-report.txt", "file 'missing-report.txt' not found in {dir}"),
        ("../a.txt", "file '../a.txt' is not a file name in this folder (corpus.toml "
                     "describes the files beside it)"),
        ("sub/a.txt", "file 'sub/a.txt' is not a file name in this folder (corpus.toml "
                      "describes the files beside it)"),
        ("/etc/passwd", "file '/etc/passwd' is not a file name in this folder (corpus.toml "
                        "describes the files beside it)"),
        ("notes.pdf", "file 'notes.pdf' is not a document annotate reads (.txt, .md, .html, "
                      ".xml; not hidden)"),
    ],
)
def test_an_entry_describing_no_document_is_an_error(
    tmp_path: Path, file: str, message: str
) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    toml = (f'[[document]]\nfile = "a.txt"\ntitle = "A"\n\n'
            f'[[document]]\ntitle = "Lost"\nfile = "{file}"\n')
    _corpus(tmp_path, toml)
    expected = f"{tmp_path / 'corpus.toml'}, line 7: " + message.format(dir=tmp_path)
    with pytest.raises(MetadataError) as e:
        load_corpus([tmp_path])
    assert str(e.value) == expected
    code, out = _cli("corpus", str(tmp_path))
    assert (code, out) == (1, f"Error: {expected}\n")
    # --skip-bad lists it and reads the rest, with the good entry's metadata.
    corpus = load_corpus([tmp_path], skip_bad=True)
    assert corpus.skipped == (expected,)
    assert [d.meta.title for d in corpus.documents] == ["A", None]
    code, out = _cli("corpus", str(tmp_path), "--skip-bad")
    assert code == 0 and out.startswith(f"Skipped: {expected}\n")


def test_a_20000_entry_corpus_toml_is_read_in_one_pass(tmp_path: Path) -> None:
    n = 20_000
    names = [f"d{i:05d}.txt" for i in range(n)]
    for f in names[:3]:
        (tmp_path / f).write_text(TEXT)
    for f in names[3:]:
        (tmp_path / f).touch()  # exists; only the first three are read below
    parts = [f'[[document]]\nfile = "{f}"\ntitle = "T{i}"\ndate = "2020"\n'
             for i, f in enumerate(names)]
    (tmp_path / "corpus.toml").write_text("\n".join(parts))
    _, meta = read_sidecar(tmp_path / "corpus.toml")
    assert len(meta) == n and meta[names[-1]].title == f"T{n - 1}"
    corpus = load_corpus([tmp_path / f for f in names[:3]])
    assert [d.meta.title for d in corpus.documents] == ["T0", "T1", "T2"]
    # Line numbers stay right at the far end of the file.
    parts[-1] = parts[-1].replace('date = "2020"', 'date = "2020-13"')
    (tmp_path / "corpus.toml").write_text("\n".join(parts))
    with pytest.raises(MetadataError) as e:
        read_sidecar(tmp_path / "corpus.toml")
    assert str(e.value).startswith(f"{tmp_path / 'corpus.toml'}, line {5 * n - 1}: ")


# --- HTML charsets -------------------------------------------------------------------------


def _html(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "p.html"
    path.write_bytes(data)
    return path


def test_undeclared_html_is_utf8_not_mojibake(tmp_path: Path) -> None:
    path = _html(tmp_path, "<p>Café culture, naïve “quotes”.</p>".encode())
    assert load_corpus([path]).documents[0].text == "Café culture, naïve “quotes”.\n"


def test_declared_latin1_reads_as_browsers_do(tmp_path: Path) -> None:
    # Labelled latin-1 but with Windows quotes (0x93, 0x94): browsers read windows-1252.
    path = _html(tmp_path, b'<meta charset="iso-8859-1"><p>Caf\xe9 \x93ok\x94.</p>')
    assert load_corpus([path]).documents[0].text == "Café “ok”.\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<meta charset="utf-8"><p>Caf\xe9 here.</p>',
         "not valid utf-8 (byte 0xe9 at offset 28), the charset it declares; correct its "
         "<meta charset> or convert it to UTF-8"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
         b"<p>Bad \xff here.</p>",
         "not valid utf-8 (byte 0xff at offset 74), the charset it declares; correct its "
         "<meta charset> or convert it to UTF-8"),
        (b"<p>Caf\xe9 here.</p>",
         "not valid UTF-8 (byte 0xe9 at offset 6) and no charset declared; add "
         "<meta charset=...> naming its charset, or convert it to UTF-8"),
        (b'<meta charset="klingon"><p>Text.</p>',
         "declares an unknown charset 'klingon'; convert it to UTF-8 and declare "
         '<meta charset="utf-8">'),
    ],
)
def test_html_bytes_outside_its_charset_are_refused_like_txt(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = _html(tmp_path, data)
    with pytest.raises(InputError) as e:
        load_corpus([path])
    assert str(e.value) == f"{path}: {message}"
    code, out = _cli("corpus", str(path))
    assert (code, out) == (1, f"Error: {path}: {message}\n")


def test_deeply_nested_html_and_tei_say_so(tmp_path: Path) -> None:
    page = _html(tmp_path, b"<html><body>" + b"<div>" * 3000 + b"Deep text." +
                 b"</div>" * 3000 + b"</body></html>")
    with pytest.raises(InputError, match=r"p\.html: HTML nested more than \d+ elements deep; "
                       "the parser stops there, so the page is not read$"):
        load_corpus([page])
    tei = tmp_path / "t.xml"
    tei.write_bytes(b'<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body>' + b"<div>" * 3000
                    + b"<p>Deep.</p>" + b"</div>" * 3000 + b"</body></text></TEI>")
    with pytest.raises(InputError, match=r"t\.xml:1:\d+: XML nested more than \d+ elements "
                       r"deep; not read \(a limit against hostile files\)$"):
        load_corpus([tei])


def test_a_20000_theme_codebook_is_located_in_one_pass() -> None:
    from annotate.errors import CodebookError
    from annotate.themes import parse_codebook

    n = 20_000
    themes = [f'[[theme]]\nid = "t{i}"\nlabel = "T{i}"\npatterns = ["w{i}"]\n' for i in range(n)]
    themes[-1] = themes[-1].replace('["w', '["~w')
    with pytest.raises(CodebookError) as e:
        parse_codebook("\n".join(themes), "big.toml")
    assert str(e.value).startswith(f"big.toml:{5 * n - 1}: theme 't{n - 1}': pattern '~w")
