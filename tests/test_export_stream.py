"""The TEI export is streamed to its file in chunks: a large document's markup is never held
whole, and the file is still replaced atomically (or not at all)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotate.corpus import Corpus
from annotate.errors import ExportError
from annotate.exchange.data import ExportData
from annotate.exchange.tei_export import CHUNK, tei_bytes, tei_chunks
from annotate.files import write_atomic
from annotate.model import Document, Metadata
from tests.test_text_memory import _text

WHEN = "2026-01-01T00:00:00Z"


def _big_data(chars: int) -> ExportData:
    text = _text(chars)
    doc = Document(Path("big.txt"), text, Metadata("big"))
    return ExportData(Corpus((doc,)), when=WHEN)


def test_chunks_make_the_same_export_and_stay_small() -> None:
    data = _big_data(3 * CHUNK)
    chunks = list(tei_chunks(data))
    assert b"".join(chunks) == tei_bytes(data)
    assert len(chunks) >= 3
    # A chunk closes at the first paragraph past CHUNK characters (paragraphs here are short).
    assert max(len(c) for c in chunks) < CHUNK + 10_000


def test_writing_an_export_does_not_hold_it_whole(tmp_path: Path) -> None:
    data = _big_data(4_000_000)
    _ = data.documents[0].paragraphs  # segmentation is not what is measured here
    out = tmp_path / "big.xml"
    write_atomic(tmp_path / "small.xml", tei_chunks(_big_data(1000)))  # modules imported
    tracemalloc.start()
    try:
        write_atomic(out, tei_chunks(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = out.stat().st_size
    assert size > 4_000_000
    # Held whole, the export would take its size as a string and again as bytes.
    assert peak < size / 2, f"peak {peak / 2**20:.1f} MB for an export of {size / 2**20:.1f} MB"
    assert out.read_bytes() == tei_bytes(data)


def test_a_failing_stream_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "export.xml"
    out.write_bytes(b"the old export\n")

    def chunks() -> Iterator[bytes]:
        yield b"<teiCorpus>"
        raise ExportError("something went wrong halfway")

    with pytest.raises(ExportError, match="halfway"):
        write_atomic(out, chunks(), force=True)
    assert out.read_bytes() == b"the old export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.xml"]


def test_chunks_are_written_in_order(tmp_path: Path) -> None:
    out = tmp_path / "new.xml"
    write_atomic(out, iter([b"one ", b"", b"two ", b"three\n"]))
    assert out.read_bytes() == b"one two three\n"
    with pytest.raises(ExportError, match="exists"):
        write_atomic(out, iter([b"other"]))
    assert out.read_bytes() == b"one two three\n"
    write_atomic(Path("/dev/null"), iter([b"discarded", b"too"]))
