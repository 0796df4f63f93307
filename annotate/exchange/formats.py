"""The export formats by name, and which reader an import file needs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from annotate.errors import ExportError
from annotate.exchange.data import ExportData, Imported
from annotate.files import read_input

FORMATS = ("tei", "webanno", "csv", "collation")
SUFFIXES = {"tei": ".xml", "webanno": ".jsonld", "csv": ".csv", "collation": ".collation.xml"}


def export_bytes(data: ExportData, fmt: str) -> bytes:
    """The export in one of the corpus-wide formats (a collation takes two documents: see
    `annotate.exchange.collation`)."""
    return b"".join(export_chunks(data, fmt))


def export_chunks(data: ExportData, fmt: str) -> Iterable[bytes]:
    """The export in chunks to write one after the other: TEI, which carries the whole text
    of every document, is streamed; the other formats are built whole."""
    if fmt == "tei":
        from annotate.exchange.tei_export import tei_chunks

        return tei_chunks(data)
    if fmt == "webanno":
        from annotate.exchange.webanno import webanno_json

        return ((json.dumps(webanno_json(data), ensure_ascii=False, indent=1) + "\n").encode(),)
    if fmt == "csv":
        from annotate.exchange.csv_export import csv_text

        return (csv_text(data).encode("utf-8"),)
    raise ExportError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")


def read_export(path: Path) -> Imported:
    """Read a TEI file written by `annotate export`, or Web Annotation JSON-LD."""
    data = read_input(path)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        from annotate.exchange.webanno import read_webanno

        return read_webanno(data, str(path))
    from annotate.exchange.tei_import import read_tei

    return read_tei(data, str(path))
