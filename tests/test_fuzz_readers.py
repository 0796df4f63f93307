"""Fuzzing every reader of the corpus and theme areas: documents (.txt, .md, .html, TEI),
corpus.toml, codebooks and the pattern language.

Mutation fuzzing flips, inserts, deletes and duplicates bytes of real files and small seeds;
hypothesis fuzzing builds inputs from scratch. Both use a fixed seed, so a failure repeats.
Whatever the input, a reader returns a value whose offsets hold, or raises an AnnotateError
(a one-line message for the user): never another exception, never a hang (each case has an
alarm). The .qdc, TEI-import and Web Annotation readers are fuzzed with their own modules.
"""

from __future__ import annotations

import random
import signal
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.corpus import load_corpus, read_sidecar
from annotate.errors import AnnotateError
from annotate.model import Document, Metadata
from annotate.themes import PatternError, load_codebook, match_document, parse_pattern

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = 20251125
CASE_SECONDS = 20  # an alarm, not a speed claim: only "did not hang"

HTML = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Statement</title>'
    b'<meta name="date" content="2023-06-01"><meta name="author" content="Home Office">'
    b"</head><body><nav>Menu</nav><main><h1>Stopping the boats</h1><p>We will return "
    b"people with no right to remain.<br>Smuggling gangs exploit them.</p><ul><li>One "
    b"&amp; two</li></ul><table><tr><td>a</td><td>b</td></tr></table></main>"
    b"<script>var x = 1;</script></body></html>"
)
TEI = (
    b'<?xml version="1.0" encoding="UTF-8"?><TEI xmlns="http://www.tei-c.org/ns/1.0">'
    b"<teiHeader><fileDesc><titleStmt><title>Statement</title><author>Home Office</author>"
    b"</titleStmt><publicationStmt><publisher>HMG</publisher><date when=\"2024-11-07\"/>"
    b"</publicationStmt><sourceDesc><p>web</p></sourceDesc></fileDesc></teiHeader><text>"
    b"<body><div><head>Borders</head><p>We will fund border security in the Western "
    b'Balkans.<lb/>Three<lb break="no"/>four.</p><note>A note.</note></div></body></text>'
    b"</TEI>"
)
MARKDOWN = (
    b"# Stopping the boats\n\nWe will *return* people with no right to remain.\n\n"
    b"- Smuggling gangs\n- [Partners](http://example.org)\n\n> Quoted text here.\n"
)


def _real_tei() -> list[bytes]:
    """The TEI export of the seeds (a teiCorpus), as a document a user might add."""
    path = ROOT / "tests" / "data" / "tei" / "seeds.xml"
    return [path.read_bytes()] if path.exists() else []


def _seed_texts() -> list[bytes]:
    return [p.read_bytes()[:3000] for p in sorted(SEEDS.glob("*.txt"))]


INTERESTING = [b"\x00", b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\x1b[2J", b"\x85", b"\r",
               b"\n\n", b"<", b">", b"&", b"&#0;", b"<!ENTITY x 'y'>", b"]]", b"[[", b'"',
               b"'", b"=", b"~", b"*", b"|", b"\\u0000", b"\xe2\x80\xae", b"<div>" * 40,
               b"[" * 1000, b"{a=" * 1000, b"1e309", b"\xc3", b"\xa0"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits of `data`."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randint(0, len(buf))
        if op == 0 and buf:  # flip bits of one byte
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert something a parser may choke on, often where a value starts
            if rng.random() < 0.5:
                starts = [i + 1 for i in range(len(buf)) if buf[i] in b'=[<>{,"']
                at = rng.choice(starts) if starts else at
            buf[at:at] = rng.choice(INTERESTING)
        elif op == 2:  # insert random bytes
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and buf:  # delete a stretch
            del buf[at : at + rng.randint(1, 64)]
        elif op == 4:  # truncate
            del buf[at:]
        else:  # duplicate a stretch
            j = rng.randint(0, len(buf))
            buf[at:at] = buf[j : j + rng.randint(1, 200)]
    return bytes(buf)


class _Hang(Exception):
    pass


@contextmanager
def _alarm(what: str) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise _Hang(f"{what} took more than {CASE_SECONDS} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _check_document(doc: Document) -> None:
    """A document read from hostile bytes still keeps every offset invariant."""
    text = doc.text
    for p in doc.paragraphs:
        assert 0 <= p.start <= p.end <= len(text)
        for s in p.sentences:
            assert text[s.start : s.end] == s.text
    for t in doc.tokens:
        assert text[t.start : t.end] == t.text


def _read_document(tmp_path: Path, suffix: str, data: bytes) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    with _alarm(f"reading a {suffix} file"):
        try:
            corpus = load_corpus([path])
        except AnnotateError as e:
            assert str(e) and "\n" not in str(e), repr(str(e))
            return
        for doc in corpus.documents:
            _check_document(doc)


CODEBOOK_DOC = Document(
    Path("d.txt"),
    (SEEDS / "002_3f54934f788c0788.txt").read_text(encoding="utf-8")[:2000],
    Metadata(id="d"),
)


def _read_codebook(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "themes.toml"
    path.write_bytes(data)
    with _alarm("reading a codebook"):
        try:
            codebook = load_codebook(path)
        except AnnotateError as e:
            assert str(e) and "\n" not in str(e), repr(str(e))
            return
        for hit in match_document(codebook, CODEBOOK_DOC):
            for e in hit.evidence:
                assert CODEBOOK_DOC.text[e.start : e.end] == e.text


SEED_NAMES = [p.name for p in sorted(SEEDS.glob("*.txt"))]


def _read_sidecar(tmp_path: Path, data: bytes) -> None:
    for name in SEED_NAMES:
        (tmp_path / name).write_text("A sentence here. Another one there.\n")
    path = tmp_path / "corpus.toml"
    path.write_bytes(data)
    with _alarm("reading corpus.toml"):
        try:
            read_sidecar(path)
            load_corpus([tmp_path], skip_bad=True)
        except AnnotateError as e:
            assert str(e) and "\n" not in str(e), repr(str(e))


def _parse(source: str) -> None:
    with _alarm("parsing a pattern"):
        try:
            parse_pattern(source)
        except PatternError as e:
            assert str(e)


# --- mutation fuzzing ----------------------------------------------------------------------

CORPUS_TOML = (SEEDS / "corpus.toml").read_bytes()


def _text_level(read: Callable[[Path, bytes], None]) -> Callable[[Path, bytes], None]:
    """For TOML: half the mutants are made valid UTF-8 again, so they reach the parser."""

    def read_some_as_text(d: Path, data: bytes) -> None:
        if zlib.crc32(data) % 2:  # not hash(): that changes from run to run
            data = data.decode("utf-8", "ignore").encode("utf-8")
        read(d, data)

    return read_some_as_text

CASES: list[tuple[str, Callable[[Path, bytes], None], list[bytes], int]] = [
    (".txt", lambda d, b: _read_document(d, ".txt", b), _seed_texts(), 600),
    (".md", lambda d, b: _read_document(d, ".md", b), [MARKDOWN, *_seed_texts()[:1]], 300),
    (".html", lambda d, b: _read_document(d, ".html", b), [HTML], 600),
    (".xml", lambda d, b: _read_document(d, ".xml", b), [TEI, *_real_tei()], 500),
    ("corpus.toml", _text_level(_read_sidecar), [CORPUS_TOML], 500),
    ("themes.toml", _text_level(_read_codebook), [(SEEDS / "themes.toml").read_bytes()], 500),
]


@pytest.mark.parametrize(("name", "read", "seeds", "n"), CASES, ids=[c[0] for c in CASES])
def test_mutations(
    tmp_path: Path, name: str, read: Callable[[Path, bytes], None], seeds: list[bytes], n: int
) -> None:
    rng = random.Random(f"{SEED}-{name}")
    for seed in seeds:  # the unmutated seeds must read
        read(tmp_path, seed)
    for i in range(n):
        data = mutate(rng.choice(seeds), rng)
        try:
            read(tmp_path, data)
        except AssertionError as e:
            raise AssertionError(f"{name} case {i}: {data[:300]!r}: {e}") from None
        except Exception as e:
            raise AssertionError(f"{name} case {i} raised {type(e).__name__}: {e}; input "
                                 f"{data[:300]!r}") from e


def test_pattern_mutations() -> None:
    rng = random.Random(f"{SEED}-patterns")
    import tomllib

    patterns = [p for t in tomllib.loads((SEEDS / "themes.toml").read_text())["theme"]
                for p in t.get("patterns", []) + t.get("exclude", [])]
    for _ in range(3000):
        raw = mutate(rng.choice(patterns).encode(), rng)
        _parse(raw.decode("utf-8", "replace"))


# --- hypothesis fuzzing --------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

TAGS = st.sampled_from(["p", "div", "br", "main", "script", "title", "meta", "table", "td",
                        "li", "h1", "nav", "lb", "head", "text", "body", "TEI", "teiHeader"])


@st.composite
def markup(draw: st.DrawFn) -> bytes:
    """Tag soup: random tags, attributes and text, mostly well-formed enough to parse."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(TAGS)
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{tag}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(f'<{tag} charset="{draw(st.sampled_from(["utf-8", "latin1", "x"]))}">')
        else:
            parts.append(draw(st.text(max_size=40)))
    return "".join(parts).encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])),
                                 "replace")


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([".txt", ".md", ".html", ".xml"]))
def test_any_bytes_as_a_document(tmp_path: Path, data: bytes, suffix: str) -> None:
    _read_document(tmp_path, suffix, data)


@FUZZ
@given(st.text(max_size=2000), st.sampled_from([".txt", ".md"]))
def test_any_text_as_a_document(tmp_path: Path, text: str, suffix: str) -> None:
    _read_document(tmp_path, suffix, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(markup(), st.sampled_from([".html", ".xml"]))
def test_tag_soup(tmp_path: Path, data: bytes, suffix: str) -> None:
    if suffix == ".xml":
        data = b'<TEI xmlns="http://www.tei-c.org/ns/1.0"><text>' + data + b"</text></TEI>"
    _read_document(tmp_path, suffix, data)


TOML_BITS = st.sampled_from([
    "[[document]]\n", "[corpus]\n", "[meta]\n", "[[theme]]\n", 'file = "a.txt"\n',
    'file = "../x.txt"\n', 'id = "x"\n', 'id = "bad id"\n', 'date = "2020-02-30"\n',
    'date = "2020/2021"\n', 'title = "T"\n', "speakers = [1]\n", 'label = "L"\n',
    'patterns = ["a ~3 b", "x*", "=y", "a|b"]\n', 'patterns = ["~3"]\n', 'exclude = ["z"]\n',
    'parent = "x"\n', 'color = "red"\n', 'unit = "paragraph"\n', "name = 1\n", "x = 1e309\n",
    "x = [[[[1]]]]\n", "x = {a = {b = 1}}\n", "x = " + "[" * 1000, "x = " + "{a=" * 1000,
    '"quoted key" = 1\n', "=\n", "[\n",
])


@FUZZ
@given(st.lists(st.one_of(TOML_BITS, st.text(max_size=20)), max_size=30))
def test_toml_from_fragments(tmp_path: Path, bits: list[str]) -> None:
    data = "".join(bits).encode("utf-8", "surrogatepass")
    _read_sidecar(tmp_path, data)
    _read_codebook(tmp_path, data)


PATTERN_BITS = st.sampled_from(["word", "w*", "=w", "a|b", "~", "~3", "~21", "~999", '"',
                                "*", "=", "|", " ", "co-op", "it's", "’", "\x00", "\u202e"])


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(st.one_of(PATTERN_BITS, st.text(max_size=5)), max_size=12))
def test_patterns_from_fragments(bits: list[str]) -> None:
    _parse("".join(bits))


# --- through the CLI -----------------------------------------------------------------------


def test_mutated_corpus_folders_through_the_cli(tmp_path: Path) -> None:
    """The renderings too: a table and a document view of whatever was read, or one
    `Error:` line; never "unexpected" (a bug caught by the last-resort handler)."""
    from typer.testing import CliRunner

    from annotate.cli import app

    runner = CliRunner()
    rng = random.Random(f"{SEED}-cli")
    texts = _seed_texts()
    for i in range(60):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        (folder / "a.txt").write_bytes(mutate(rng.choice(texts), rng))
        (folder / "b.html").write_bytes(mutate(HTML, rng))
        (folder / "c.xml").write_bytes(mutate(TEI, rng) if rng.random() < 0.5 else TEI)
        toml = b'[[document]]\nfile = "a.txt"\ntitle = "A"\ndate = "2020"\n'
        (folder / "corpus.toml").write_bytes(mutate(toml, rng) if rng.random() < 0.3 else toml)
        for args in (["corpus", str(folder), "--skip-bad"], ["show", "a", str(folder)],
                     ["themes", str(folder), "--codebook", str(SEEDS / "themes.toml")]):
            with _alarm(" ".join(args[:1])):
                r = runner.invoke(app, args)
            assert r.exit_code in (0, 1), (args, r.output)
            assert "unexpected" not in r.output and "Traceback" not in r.output, (
                args, r.output)
            if r.exit_code == 1:
                assert r.output.count("Error: ") == 1, r.output
