"""Untrusted text on its way to a terminal: control characters made visible.

Document text, file names, HTML titles, codebook labels and notes come from files and other
users. Printed raw, an ESC in them can write the clipboard (OSC 52), retitle the window or
clear the screen. Everything from a file or a user passes through `visible()` before it
reaches a terminal, as `less` and `cat -v` do.

Each character is replaced by exactly one character, so offsets into the shown text are
offsets into the original: C0 controls become the Unicode Control Pictures (ESC -> U+241B
"␛"), DEL becomes U+2421 "␡", and C1 controls and the bidirectional overrides and isolates
(which can reorder what a reader sees, "Trojan Source") become U+2426 "␦".
"""

from __future__ import annotations

import re

_SUBSTITUTE = "\u2426"

_TABLE: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)}
_TABLE[0x7F] = "\u2421"
_TABLE.update(dict.fromkeys(range(0x80, 0xA0), _SUBSTITUTE))
_TABLE.update(dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A)), _SUBSTITUTE))

_KEEP_NEWLINE = {k: v for k, v in _TABLE.items() if k != 0x0A}
_KEEP_LAYOUT = {k: v for k, v in _TABLE.items() if k not in (0x09, 0x0A)}


def _finder(table: dict[int, str]) -> re.Pattern[str]:
    """A pattern for the characters of `table`: a regex scan finds the (rare) control
    characters several times faster than str.translate looks up every character, so clean
    text costs little."""
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(table)) + "]")


_FIND = _finder(_TABLE)
_FIND_KEEP_NEWLINE = _finder(_KEEP_NEWLINE)
_FIND_KEEP_LAYOUT = _finder(_KEEP_LAYOUT)


def visible(text: str, *, keep_newlines: bool = False, keep_tabs: bool = False) -> str:
    """`text` with every control character replaced by a visible one of the same length.

    One-line contexts (file names, labels, table cells) keep nothing; running text that the
    caller lays out by lines may keep newlines (and tabs)."""
    if keep_newlines and keep_tabs:
        find, table = _FIND_KEEP_LAYOUT, _KEEP_LAYOUT
    elif keep_newlines:
        find, table = _FIND_KEEP_NEWLINE, _KEEP_NEWLINE
    else:
        find, table = _FIND, _TABLE
    return text if find.search(text) is None else text.translate(table)


_JSON_ESCAPES = {
    k: f"\\u{k:04x}" for k in (0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F),
                                 *range(0x2066, 0x206A))
}
_FIND_JSON = _finder(_JSON_ESCAPES)


def json_visible(dumped: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with DEL, C1 controls and bidi
    overrides written as `\\uXXXX` escapes, which JSON itself leaves raw. Such characters can
    only stand inside JSON strings, so the data read back is exactly the same."""
    # Only the (rare) characters found are replaced: a translate() of a long text would
    # look up every character.
    return _FIND_JSON.sub(_json_escape, dumped)


def _json_escape(m: re.Match[str]) -> str:
    return _JSON_ESCAPES[ord(m.group())]


def has_controls(text: str) -> bool:
    """True when `visible()` would change `text` (ignoring newlines and tabs)."""
    return _FIND_KEEP_LAYOUT.search(text) is not None
