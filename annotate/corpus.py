"""Finding and reading documents and their metadata.

A corpus is a directory (by default `seeds/` in the current directory) or a list of files.
Metadata comes from the sidecar `corpus.toml` beside the files, else from the format itself
(HTML title/meta, TEI header), else the file name.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import Any

from annotate.corpus_rules import RULE_TABLES, FolderRules, read_rules
from annotate.errors import CorpusError, InputError, MetadataError
from annotate.files import MAX_CODEBOOK, read_input
from annotate.model import Document, Metadata, date_precision

DEFAULT_CORPUS = Path("seeds")
SIDECAR = "corpus.toml"
FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".xml": "tei",
    ".tei": "tei",
}
META_KEYS = frozenset(
    "file id title date speakers author body genre source language note series".split()
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True)
class Corpus:
    """Documents in date order (undated last), and what `--skip-bad` left out."""

    documents: tuple[Document, ...]
    skipped: tuple[str, ...] = ()
    name: str | None = None

    def get(self, key: str) -> Document:
        """A document by id, file name or file stem; a clear error otherwise."""
        for d in self.documents:
            if key in (d.id, d.path.name, d.path.stem):
                return d
        for d in self.documents:  # a path, as shell completion gives it ("seeds/002_….txt")
            if Path(key) == d.path:
                return d
        known = ", ".join(d.id for d in self.documents) or "none"
        raise CorpusError(f"unknown document {key!r} (known: {known})")

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)


def decode(data: bytes, name: str) -> tuple[str, tuple[str, ...]]:
    """Text of a file: UTF-8 with or without BOM; UTF-16 with BOM decoded with a warning;
    empty, binary and undecodable files refused. Line ends are kept as they are."""
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        # Checked first: the UTF-32-LE mark begins with the UTF-16-LE one.
        raise InputError(f"{name}: UTF-32 text is not supported; convert it to UTF-8 first")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), (f"{name}: decoded as UTF-16 (byte-order mark)",)
        except UnicodeDecodeError:
            raise InputError(f"{name}: has a UTF-16 byte-order mark but is not UTF-16") from None
    if b"\x00" in data:
        raise InputError(f"{name}: looks like a binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{name}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "convert it to UTF-8 first"
        ) from None
    if not text.strip():
        raise InputError(f"{name}: file is empty")
    return text, ()


def format_of(path: Path) -> str:
    return FORMATS.get(path.suffix.lower(), "text")


def read_document(path: Path, meta: Metadata | None = None) -> Document:
    """Read one file; `meta` (from `corpus.toml`) wins over what the format carries."""
    name = str(path)
    data = read_input(path)
    fmt = format_of(path)
    format_meta: dict[str, object] = {}
    warnings: tuple[str, ...] = ()
    if fmt in ("html", "tei"):
        from annotate.markup import read_markup

        if not data.strip():
            raise InputError(f"{name}: file is empty")
        wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if b"\x00" in data and not wide:
            raise InputError(f"{name}: looks like a binary file (contains NUL bytes), not text")
        try:
            extracted = read_markup(path, data, fmt)
        except InputError:
            if not wide and _CONTROL_BYTES.search(data):
                # Rather than a charset complaint: such bytes are not text in any charset.
                raise InputError(
                    f"{name}: looks like a binary file (control characters), not text"
                ) from None
            raise
        text = extracted.text
        if _CONTROL.search(text):
            # The HTML parser reads any bytes; control characters mean they were not text.
            raise InputError(f"{name}: looks like a binary file (control characters), not text")
        format_meta = extracted.meta
        if not text.strip():
            raise InputError(f"{name}: no text found in the {fmt.upper()} file")
    else:
        text, warnings = decode(data, name)
    if meta is None:
        meta = _meta_from_format(path, format_meta, name)
    return Document(path=path, text=text, meta=meta, format=fmt, warnings=warnings)


def _meta_from_format(path: Path, found: dict[str, object], name: str) -> Metadata:
    date = found.get("date")
    if isinstance(date, str):
        try:
            date_precision(date)
        except ValueError:
            date = None  # a malformed date in someone else's markup is unknown, not fatal
    return Metadata(
        id=path.stem,
        title=_str_or_none(found.get("title")),
        date=date if isinstance(date, str) else None,
        author=_str_or_none(found.get("author")),
        body=_str_or_none(found.get("body")),
        origin="html" if path.suffix.lower() in (".html", ".htm", ".xhtml") and found else
        ("tei" if found else "file name"),
    )


def _str_or_none(v: object) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


_DOC_HEADER = re.compile(r"\s*\[\[\s*document\s*\]\]")


class _Lines:
    """Line numbers in `corpus.toml` (tomllib gives none), indexed once: where each
    `[[document]]` table starts, so finding a key costs the length of its table, not of the
    file (a 20,000-entry file used to take over a minute, scanned once per entry)."""

    def __init__(self, raw: str) -> None:
        self.lines = raw.splitlines()
        self.tables = [no for no, ln in enumerate(self.lines) if _DOC_HEADER.match(ln)]

    def of(self, table_index: int, key: str | None) -> int:
        """1-based line of `key` in the `table_index`-th `[[document]]` (or its header)."""
        if table_index >= len(self.tables):
            return 1
        start = self.tables[table_index]
        if key is not None:
            end = (self.tables[table_index + 1] if table_index + 1 < len(self.tables)
                   else len(self.lines))
            rx = _key_re(key)
            for no in range(start + 1, end):
                if rx.match(self.lines[no]):
                    return no + 1
        return start + 1

    def first(self, rx: re.Pattern[str]) -> int:
        return next((i for i, ln in enumerate(self.lines, 1) if rx.match(ln)), 1)


@lru_cache(maxsize=64)
def _key_re(key: str) -> re.Pattern[str]:
    return re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")


def _entry_problem(
    file: str, folder: Path, names: set[str], documents: list[str] | None
) -> str | None:
    """Why a `[[document]]`'s `file` describes no document of the folder, if it does not;
    given the folder's `documents`, a missing name gets the closest of them as a hint."""
    if not file or file in (".", "..") or Path(file).name != file or "\\" in file:
        return (f"file {file!r} is not a file name in this folder (corpus.toml describes the "
                "files beside it)")
    if file not in names:
        close = get_close_matches(file, documents, n=1) if documents else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"file {file!r} not found in {folder}{hint}"
    if Path(file).suffix.lower() not in FORMATS or file.startswith("."):
        return (f"file {file!r} is not a document annotate reads "
                "(.txt, .md, .html, .xml; not hidden)")
    return None


def read_sidecar(
    path: Path, skipped: list[str] | None = None
) -> tuple[str | None, dict[str, Metadata]]:
    """Parse `corpus.toml`: the corpus name and metadata keyed by file name.

    An entry whose `file` is not a document in the folder (misspelt, missing, elsewhere) is an
    error naming its line; given a `skipped` list (`--skip-bad`), it is listed there and left
    out instead."""
    return sidecar_metadata(path, *load_sidecar(path), skipped)


def load_sidecar(path: Path) -> tuple[str, dict[str, Any]]:
    """`corpus.toml` read (regular file, bounded) and parsed: its text and its tables."""
    name = str(path)
    try:
        raw = read_input(path, limit=MAX_CODEBOOK).decode("utf-8-sig")
    except InputError as e:
        raise MetadataError(str(e)) from None
    except UnicodeDecodeError:
        raise MetadataError(f"{name}: not valid UTF-8") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise MetadataError(f"{name}: {e}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise MetadataError(f"{name}: arrays or tables nested too deeply") from None
    return raw, data


def sidecar_metadata(
    path: Path, raw: str, data: dict[str, Any], skipped: list[str] | None = None
) -> tuple[str | None, dict[str, Metadata]]:
    """`read_sidecar` on a `corpus.toml` already loaded by `load_sidecar`."""
    name = str(path)
    lines = _Lines(raw)
    unknown_top = set(data) - {"corpus", "document"} - RULE_TABLES
    if unknown_top:
        key = sorted(unknown_top)[0]
        line = lines.first(re.compile(rf"\s*\[?\[?\s*{re.escape(key)}\b"))
        raise MetadataError(
            f"{name}, line {line}: unknown table or key {key!r} (expected [corpus], "
            "[[document]], [files] and [series])"
        )
    corpus_table = data.get("corpus", {})
    if not isinstance(corpus_table, dict):
        raise MetadataError(f"{name}: 'corpus' must be a table ([corpus])")
    for key, value in corpus_table.items():
        line = lines.first(_key_re(key))
        if key != "name":
            raise MetadataError(
                f"{name}, line {line}: unknown key {key!r} in [corpus] (known: name)"
            )
        if not isinstance(value, str):
            raise MetadataError(f"{name}, line {line}: [corpus] name must be a string")
    corpus_name = corpus_table.get("name")
    docs = data.get("document", [])
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        raise MetadataError(f"{name}: 'document' must be an array of tables ([[document]])")
    result: dict[str, Metadata] = {}
    ids: dict[str, int] = {}
    try:
        names = set(os.listdir(path.parent))
    except OSError:
        names = set()
    documents = sorted(n for n in names if Path(n).suffix.lower() in FORMATS)
    problems: list[str] = []
    for i, entry in enumerate(docs):
        def fail(msg: str, key: str | None = None, i: int = i) -> MetadataError:
            return MetadataError(f"{name}, line {lines.of(i, key)}: {msg}")

        for key in entry:
            if key not in META_KEYS:
                raise fail(
                    f"unknown key {key!r} (known: {', '.join(sorted(META_KEYS))})", key
                )
        for key, value in entry.items():
            if key == "speakers":
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise fail("'speakers' must be a list of strings", key)
            elif not isinstance(value, str):
                raise fail(f"{key!r} must be a string", key)
        if "file" not in entry:
            raise fail("a [[document]] needs 'file', the name of the file it describes")
        file = entry["file"]
        # Hints only for the first few: each costs a comparison with every file name.
        hints = documents if len(problems) < 10 else None
        problem = _entry_problem(file, path.parent, names, hints)
        if problem is not None:
            problems.append(problem)
            if skipped is None:
                raise fail(problem, "file")
            skipped.append(str(fail(problem, "file")))
            continue
        doc_id = entry.get("id", Path(file).stem)
        if not _ID_RE.match(doc_id):
            raise fail(f"bad id {doc_id!r}: use letters, digits, '-' and '_'", "id")
        if doc_id in ids:
            raise fail(f"duplicate id {doc_id!r} (also used on line {ids[doc_id]})", "id")
        ids[doc_id] = lines.of(i, "id")
        if file in result:
            raise fail(f"file {file!r} is described twice", "file")
        date = entry.get("date")
        if date is not None:
            try:
                date_precision(date)
            except ValueError as e:
                raise fail(str(e), "date") from None
        result[file] = Metadata(
            id=doc_id,
            title=entry.get("title"),
            date=date,
            speakers=tuple(entry.get("speakers", ())),
            author=entry.get("author"),
            body=entry.get("body"),
            genre=entry.get("genre"),
            source=entry.get("source"),
            language=entry.get("language"),
            note=entry.get("note"),
            origin=SIDECAR,
            series=entry.get("series"),
        )
    return corpus_name, result


def _files_in(directory: Path) -> list[Path]:
    return sorted(
        # Not only regular files: a FIFO or a broken link named like a document is reported
        # (read_input refuses it), not silently left out.
        p for p in directory.iterdir()
        if p.suffix.lower() in FORMATS and not p.name.startswith(".") and not p.is_dir()
    )


def load_corpus(
    paths: Sequence[Path] | None = None, *, skip_bad: bool = False
) -> Corpus:
    """Read a corpus from a directory, several files, or by default `./seeds/`.

    With `skip_bad`, files that cannot be read are left out and listed in `Corpus.skipped`
    instead of stopping the whole read.
    """
    if not paths:
        if not DEFAULT_CORPUS.is_dir():
            raise InputError(
                "no corpus given and no seeds/ folder here: pass a directory or files"
            )
        paths = [DEFAULT_CORPUS]
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = _files_in(p)
            if not found:
                raise InputError(f"{p}: no .txt, .md, .html or .xml files in this directory")
            files.extend(found)
        elif os.path.lexists(p):
            files.append(p)  # read_input refuses a device or pipe (/dev/zero, a FIFO)
        else:
            raise InputError(f"{p}: no such file or directory")
    sidecars: dict[Path, tuple[str | None, dict[str, Metadata]]] = {}
    bad_entries: list[str] = []
    rules: dict[Path, FolderRules] = {}
    for parent in dict.fromkeys(f.parent for f in files):
        toml_path = parent / SIDECAR
        if os.path.lexists(toml_path):
            raw, data = load_sidecar(toml_path)  # read once for metadata and folder rules
            sidecars[parent] = sidecar_metadata(toml_path, raw, data,
                                                bad_entries if skip_bad else None)
            folder_rules = read_rules(toml_path, data)
            if folder_rules is not None:
                rules[parent] = folder_rules
    corpus = _read_all(files, sidecars, skip_bad, rules)
    if bad_entries:
        corpus = replace(corpus, skipped=(*bad_entries, *corpus.skipped))
    return corpus


def _read_all(
    files: Iterable[Path],
    sidecars: dict[Path, tuple[str | None, dict[str, Metadata]]],
    skip_bad: bool,
    rules: dict[Path, FolderRules] | None = None,
) -> Corpus:
    docs: list[Document] = []
    skipped: list[str] = []
    seen: dict[str, Path] = {}
    for f in dict.fromkeys(files):
        meta = sidecars.get(f.parent, (None, {}))[1].get(f.name)
        try:
            doc = read_document(f, meta)
            if rules and f.parent in rules:
                doc = rules[f.parent].apply(doc, explicit=meta is not None)
            if doc.id in seen:
                raise CorpusError(
                    f"{f}: duplicate document id {doc.id!r} (also {seen[doc.id]}); "
                    "give one of them another id in corpus.toml"
                )
        except (InputError, CorpusError) as e:
            if not skip_bad:
                raise
            skipped.append(str(e))
            continue
        seen[doc.id] = f
        docs.append(doc)
    names = [n for n, _ in sidecars.values() if n]
    docs.sort(key=lambda d: d.meta.sort_key)
    return Corpus(tuple(docs), tuple(skipped), names[0] if len(names) == 1 else None)
