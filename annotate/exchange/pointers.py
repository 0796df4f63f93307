"""Ids and pointers shared by the TEI formats: xml:ids made from user values, pointers from
offsets into the exported text (`#id` or `#string-range(id,offset,length)`), and their
resolution back to offsets on import."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from annotate.errors import InputError
from annotate.markup import TEI_NS
from annotate.model import Document

XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_ID = f"{{{XML_NS}}}id"
_T = f"{{{TEI_NS}}}"

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Dots are replaced too: the export's own ids use them as separators (d002.p3.s2,
# ann.X.comment), so an id made from a user's value can never equal one of those.
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_\-]")
_FIXED_IDS = ("app.annotate", "themes", "reuse", "reuse.verbatim", "reuse.near", "reuse.loose")
SPAN_N = re.compile(r"^(\d+):(\d+)$")
RANGE = re.compile(r"^#string-range\(\s*([^,\s)]+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")


def t(name: str) -> str:
    """Clark name of a TEI element."""
    return _T + name


def sha256(text: str) -> str:
    """SHA-256 of the text's UTF-8, encoded a megabyte at a time: a 200 MB document is not
    encoded whole (a code point is never split: a str has no surrogate pairs to cut)."""
    h = hashlib.sha256()
    for i in range(0, len(text), 1 << 20):
        h.update(text[i : i + (1 << 20)].encode("utf-8"))
    return h.hexdigest()


def xml_safe(text: str) -> str:
    """`text` with characters XML 1.0 cannot carry replaced one for one by U+FFFD (where no
    markup can be put: attribute values, the shared text of a collation)."""
    return _NOT_XML.sub("\ufffd", text)


# Characters XML 1.0 cannot carry (C0 controls other than tab, line feed and carriage return;
# U+FFFE, U+FFFF) are written as `<g type="char" n="U+001F">␟</g>`: one character of text
# content (its Control Picture, else U+FFFD), so offsets hold, and the code point in @n, so an
# import restores the character exactly.
G_TYPE = "char"
_G_N = re.compile(r"^U\+([0-9A-F]{4,6})$")


def has_unsafe(text: str) -> bool:
    return _NOT_XML.search(text) is not None


def stand_in(char: str) -> str:
    """The visible character a `g` holds for `char`."""
    code = ord(char)
    return chr(0x2400 + code) if code < 0x20 else "\ufffd"


def g_markup(char: str) -> str:
    return f'<g type="{G_TYPE}" n="U+{ord(char):04X}">{stand_in(char)}</g>'


def with_g(escaped: str) -> str:
    """Already-escaped character data with each character XML cannot carry as a `g`."""
    return _NOT_XML.sub(lambda m: g_markup(m[0]), escaped)


def split_unsafe(text: str) -> list[str]:
    """`text` split around the characters XML cannot carry: text, char, text, char, …, text."""
    return _NOT_XML.split(text) if not _NOT_XML.search(text) else re.split(
        f"({_NOT_XML.pattern})", text)


def g_char(n: str | None, content: str | None) -> str | None:
    """The character a `g type="char"` stands for, or None if it is not one of ours."""
    m = _G_N.match(n or "")
    if m is None or content is None or len(content) != 1:
        return None
    code = int(m[1], 16)
    return chr(code) if code <= 0x10FFFF else None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Ids:
    """xml:ids for documents, themes, users and annotations: NCNames, unique in the file."""

    def __init__(self) -> None:
        self.used: set[str] = set(_FIXED_IDS)
        self.maps: dict[str, dict[str, str]] = defaultdict(dict)

    def get(self, kind: str, prefix: str, value: str) -> str:
        known = self.maps[kind].get(value)
        if known is not None:
            return known
        base = prefix + _UNSAFE_ID.sub("_", value)
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        self.maps[kind][value] = candidate
        return candidate


@dataclass(frozen=True)
class Layout:
    """Where the elements of one document start and end, to write pointers into it."""

    doc: Document
    xid: str
    para_starts: tuple[int, ...]

    def sentence_xid(self, sentence_id: str) -> str:
        return self.xid + sentence_id[len(self.doc.id):]

    def pointer(self, start: int, end: int) -> tuple[str, bool]:
        """A pointer to [start, end): (`#id`, True) for a whole sentence or paragraph, else
        (`#string-range(id,offset,length)`, False) into the smallest element holding it."""
        start = max(0, min(start, len(self.doc.text)))
        end = max(start, min(end, len(self.doc.text)))
        s = self.doc.sentence_at(start)
        if s is not None and end <= s.end:
            return self._point(self.sentence_xid(s.id), s.start, s.end, start, end)
        i = bisect_right(self.para_starts, start) - 1
        if i >= 0:
            p = self.doc.paragraphs[i]
            if p.start <= start and end <= p.end:
                return self._point(self.sentence_xid(p.id), p.start, p.end, start, end)
        return self._point(f"{self.xid}.div", 0, len(self.doc.text), start, end)

    @staticmethod
    def _point(xid: str, a: int, b: int, start: int, end: int) -> tuple[str, bool]:
        if (start, end) == (a, b) and a < b:
            return f"#{xid}", True
        return f"#string-range({xid},{start - a},{end - start})", False



def resolve(ptr: str, where: Mapping[str, tuple[str, int, int]]) -> tuple[str, int, int]:
    """(owner, start, end) of a `#id` or `#string-range(id,offset,length)` pointer, given each
    element's owner and [start, end); InputError if it does not resolve."""
    m = RANGE.match(ptr.strip())
    if m:
        xid, off, length = m[1], int(m[2]), int(m[3])
        if xid not in where:
            raise InputError(f"pointer {ptr!r} names an unknown element {xid!r}")
        owner, a, b = where[xid]
        if a + off + length > b:
            raise InputError(f"pointer {ptr!r} runs past the end of {xid!r}")
        return owner, a + off, a + off + length
    if ptr.startswith("#") and ptr[1:] in where:
        return where[ptr[1:]]
    raise InputError(f"pointer {ptr!r} does not resolve")
