"""Fuzzing the readers of the exchange formats: TEI import, Web Annotation import and the
REFI-QDA (.qdc) reader.

Real exports (of the seeds, with annotations, notes, history and control characters) are
mutated byte by byte with a fixed seed, and hypothesis builds structured inputs (derandomized,
so CI sees the same cases every run). Every case must end in a result or an `AnnotateError`
(the one-line `Error: …` users see): any other exception is a bug that would show a user
"unexpected …". Whatever is read is also imported into a store. A case that runs for more than
a few seconds fails as a hang (a guard, not a timing assertion).
"""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.corpus import load_corpus
from annotate.errors import AnnotateError
from annotate.exchange.data import ExportData, Imported
from annotate.exchange.importing import import_into
from annotate.exchange.qdc import codebook_to_qdc, qdc_to_codebook
from annotate.exchange.tei_export import tei_bytes
from annotate.exchange.tei_import import read_tei
from annotate.exchange.webanno import read_webanno, webanno_json
from annotate.model import Annotation, Change
from annotate.store import Store
from annotate.themes import load_codebook
from tests.conftest import SEEDS

SEED = 20261125
HANG_SECONDS = 10
CORPUS = load_corpus([SEEDS / "000_0c700c58de30505e.txt", SEEDS / "004_7917adf0cacaeedc.txt"])

# Fragments that have broken readers elsewhere: huge and non-finite numbers, entity and DTD
# tricks, our own g elements with bad code points, deep nesting, odd offsets and encodings.
TOKENS = [
    b"1e309", b"-1e309", b"NaN", b"Infinity", b"-1", b"99999999999999999999999", b"1" * 400,
    b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"<!DOCTYPE x [<!ELEMENT x ANY>]>", b"&x;",
    b"]]>", b"<![CDATA[", b"&#0;", b"&#x1F;", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
    b'<g type="char" n="U+110000">x</g>', b'<g type="char" n="U+001F">ab</g>',
    b'<g type="char" n="U+D800">x</g>', b"[" * 300, b"{" * 300, b"<a>" * 300,
    b'"start": -5', b'"end": 1e20', b"#string-range(d000.div,-1,5)",
    b"#string-range(d000.div,0,999999999)", b'xml:id="d000.div"', b"\x1b[2J", b"\r\n",
    b'"source": {"id": 5}', b'"selector": null', b'"body": "x"', b"[annotate]\nid = [[[[",
]


def _exports() -> tuple[bytes, bytes, bytes]:
    d = CORPUS.get("000")
    anns = (
        Annotation("a1", "000", 0, 40, d.text[:40], themes=("returns",),
                   note="a note \x1f with \x1b controls", user="alice",
                   created="2026-01-01T10:00:00Z", suffix=d.text[40:70]),
        Annotation("a2", "004", 100, 130, CORPUS.get("004").text[100:130], user="bob",
                   status="suggested"),
        Annotation("a3", "000", 50, 60, d.text[50:60], orphaned=True, user="bob"),
    )
    history = (Change(1, "a1", "alice", "2026-01-01T10:00:00Z", "add", '{"note": ""}'),)
    data = ExportData(CORPUS, anns, history, load_codebook(SEEDS / "themes.toml"),
                      when="2026-01-01T00:00:00Z")
    tei = tei_bytes(data)
    web = json.dumps(webanno_json(data), ensure_ascii=False, indent=1).encode()
    qdc = codebook_to_qdc(load_codebook(SEEDS / "themes.toml"))
    return tei, web, qdc


TEI, WEB, QDC = _exports()


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip, insert, delete, duplicate, or splice a token."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del buf[at:at + rng.randint(1, 64)]
        elif op == 3:
            n = rng.randint(1, 200)
            buf[at:at] = buf[max(0, at - n):at]
        elif op == 4:
            buf[at:at] = rng.choice(TOKENS)
        else:
            # Replace a number or a quoted value: where the interesting checks are.
            end = min(len(buf), at + rng.randint(1, 12))
            buf[at:end] = rng.choice(TOKENS)
    return bytes(buf)


class Hang(Exception):
    pass


@contextmanager
def hang_guard() -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"a case ran for more than {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_case(read: Callable[[bytes, str], object], data: bytes, store: Store | None) -> str:
    """'ok' or 'refused'; anything but an AnnotateError fails the test with the input."""
    try:
        with hang_guard():
            result = read(data, "fuzz")
            if store is not None and isinstance(result, Imported):
                import_into(store, result, CORPUS)
    except AnnotateError as e:
        message = str(e).strip()
        assert message and "\n" not in message, message  # one line for `Error: …`
        return "refused"
    except Hang:
        pytest.fail(f"hang on input {data[:300]!r}…")
    except Exception as e:  # noqa: BLE001 - any other exception is the bug we look for
        pytest.fail(f"{type(e).__name__}: {e} on input {data[:300]!r}…")
    return "ok"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "fuzz.sqlite") as st_:
        yield st_


@pytest.mark.parametrize(("name", "read", "cases"), [
    ("tei", read_tei, 2000),
    ("webanno", read_webanno, 2000),
    ("qdc", qdc_to_codebook, 1000),
])
def test_mutated_exports(name: str, read: Callable[[bytes, str], object], cases: int,
                         store: Store) -> None:
    source = {"tei": TEI, "webanno": WEB, "qdc": QDC}[name]
    assert run_case(read, source, store) == "ok"  # the unmutated export reads
    rng = random.Random(f"{SEED}-{name}")
    outcomes = [run_case(read, mutate(source, rng), store) for _ in range(cases)]
    # Both outcomes occur, so the mutations reach past the first check of each reader.
    assert outcomes.count("ok") > cases // 20 and outcomes.count("refused") > cases // 20


json_leaf = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
             | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                          max_leaves=20)
selector = st.fixed_dictionaries({
    "type": st.sampled_from(["TextQuoteSelector", "TextPositionSelector", "Other"]),
}, optional={"exact": json_value | st.text(max_size=30), "prefix": json_value,
             "suffix": json_value, "start": json_value | st.integers(-5, 10**6),
             "end": json_value | st.integers(-5, 10**6)})
annotation = st.fixed_dictionaries({
    "id": json_value | st.text(max_size=20),
    "type": st.just("Annotation"),
    "target": json_value | st.fixed_dictionaries({
        "source": json_value | st.sampled_from(["000", "004", "urn:annotate:document:000",
                                                "file:///x/004.txt", "nowhere"]),
        "selector": st.lists(selector, max_size=3) | selector}),
}, optional={"body": json_value, "creator": json_value, "annotate:status": json_value,
             "annotate:orphaned": json_value, "created": json_value})


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(items=st.lists(annotation, max_size=4), docs=json_value, history=json_value)
def test_structured_web_annotation(store: Store, items: list[Any], docs: Any,
                                   history: Any) -> None:
    doc = {"type": "AnnotationCollection", "first": {"items": items},
           "annotate:documents": docs, "annotate:history": history}
    run_case(read_webanno, json.dumps(doc).encode(), store)


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60), st.text(max_size=60), st.sampled_from([0, 1, 2]))
def test_structured_qdc(name: str, description: str, depth: int) -> None:
    from xml.sax.saxutils import escape, quoteattr

    code = (f'<Code guid="g{depth}" name={quoteattr(name)} isCodable="true">'
            f"<Description>{escape(description)}</Description>")
    body = code * (depth + 1) + "</Code>" * (depth + 1)
    data = (f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{body}</Codes></CodeBook>')
    run_case(qdc_to_codebook, data.encode("utf-8", "surrogatepass"), None)
