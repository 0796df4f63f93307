"""Theme codebooks (TOML) and the lexical matcher that finds themes in a corpus.

The pattern language, case-insensitive throughout (words are compared after
`annotate.text.normalise`):

- `word`      any word with the same Snowball stem ("return" hits "returns", "returned");
              hyphens are ignored, so "cooperation" also hits "co-operation"
- `word*`     any word starting with `word` ("transit*" hits "transit", "transiting")
- `=word`     exactly that word form, no stemming ("=data" hits "data" only)
- `a|b|c`     any one of these words in this place ("fund|invest* ~10 border*"); each
              alternative is a word, a prefix or an exact form as above
- `a b c`     the words next to each other, in that order; `"a b c"` (quoted) is the same and
              reads better inside a longer pattern
- `a ~N b`    `b` after `a` with at most N other words between them (0 <= N <= 20)
- `exclude`   patterns of a theme that veto it in a unit (sentence) where any of them matches

A hit is one unit (a sentence by default, or a paragraph) with the themes found in it and the
evidence: the pattern and the exact words it matched, with offsets into the original text.
Matching is deterministic: units in text order, themes in codebook order. It takes bounded
time: no backtracking and no recursion, a few bit-set operations per pattern word and unit
(see `_find`), so many `~N` gaps or a 3,000-word phrase cost no more than their length.
"""

from __future__ import annotations

import os
import re
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotate.errors import CodebookError, InputError
from annotate.model import Codebook, Document, Evidence, Theme, ThemeHit
from annotate.text import TOKEN, normalise, stem

if TYPE_CHECKING:
    from annotate.corpus import Corpus

__all__ = [
    "DEFAULT_CODEBOOK",
    "ENV_CODEBOOK",
    "Matcher",
    "Pattern",
    "PatternError",
    "Term",
    "codebook_errors",
    "codebook_from_data",
    "codebook_path",
    "compile_codebook",
    "load_codebook",
    "match_corpus",
    "match_document",
    "parse_codebook",
    "parse_pattern",
    "parse_term",
]

DEFAULT_CODEBOOK = Path("seeds") / "themes.toml"
CODEBOOK_FILE = "themes.toml"
ENV_CODEBOOK = "ANNOTATE_CODEBOOK"
UNITS = ("sentence", "paragraph")
MAX_GAP = 20

TOP_KEYS = ("meta", "theme")
META_KEYS = ("name", "unit", "language")
THEME_KEYS = ("id", "label", "description", "patterns", "exclude", "examples", "color", "parent")
_LIST_KEYS = ("patterns", "exclude", "examples")
_STR_KEYS = ("id", "label", "description", "color", "parent")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def codebook_path(
    corpus_paths: Sequence[Path] | None = None, explicit: Path | None = None
) -> Path:
    """The codebook to use: `explicit`, else $ANNOTATE_CODEBOOK, else `themes.toml` in the
    (first) corpus directory, else `seeds/themes.toml` (the bundled one where there is no
    `./seeds`)."""
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_CODEBOOK)
    if env:
        return Path(env)
    if corpus_paths:
        first = Path(corpus_paths[0])
        folder = first if first.is_dir() else first.parent
        candidate = folder / CODEBOOK_FILE
        if os.path.lexists(candidate):  # a FIFO or broken link is reported, not passed over
            return candidate
    from annotate.bundled import default_codebook

    return default_codebook()


# --- The pattern language ------------------------------------------------------------------


class PatternError(ValueError):
    """A pattern that does not parse; the message says why, for a user."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word of a pattern: `kind` is stem, prefix or exact; `value` what a word must have."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern: its word slots in order (each a tuple of alternative terms) and the
    most words allowed between neighbouring slots."""

    source: str
    slots: tuple[tuple[Term, ...], ...]
    gaps: tuple[int, ...]  # gaps[i]: at most this many words between slots[i] and slots[i+1]


_LEX = re.compile(
    r'"(?P<phrase>[^"]*)"|(?P<gap>~\S*)|(?P<word>[^\s"~]+)|(?P<quote>")|(?P<space>\s+)'
)
_GAP = re.compile(r"~(\d{1,3})")


def _stem_key(norm: str) -> str:
    return stem(norm.replace("-", ""))


def parse_term(word: str) -> Term:
    exact = word.startswith("=")
    body = word[1:] if exact else word
    prefix = body.endswith("*")
    body = body[:-1] if prefix else body
    if exact and prefix:
        raise PatternError(f"{word!r} is both exact (=) and a prefix (*); use one of them")
    if "*" in body:
        raise PatternError(f"{word!r}: '*' may only end a word")
    if "=" in body:
        raise PatternError(f"{word!r}: '=' may only start a word")
    if not body:
        raise PatternError(f"{word!r} has no letters or digits")
    if not TOKEN.fullmatch(body):
        raise PatternError(
            f"{word!r} is not a word (letters and digits, with ' or - only inside)"
        )
    norm = normalise(body)
    if exact:
        return Term("exact", norm)
    if prefix:
        return Term("prefix", norm)
    return Term("stem", _stem_key(norm))


def parse_pattern(source: str) -> Pattern:
    """Parse one pattern; raises PatternError with a reason a user can act on."""
    if not source.strip():
        raise PatternError("empty pattern")
    terms: list[tuple[Term, ...]] = []
    gaps: list[int] = []
    pending: int | None = None
    for m in _LEX.finditer(source):
        kind = m.lastgroup
        if kind == "space":
            continue
        if kind == "quote":
            raise PatternError("unbalanced double quote")
        if kind == "gap":
            g = _GAP.fullmatch(m.group())
            if g is None:
                raise PatternError(f"bad gap {m.group()!r}: write ~N, e.g. ~3")
            n = int(g.group(1))
            if n > MAX_GAP:
                raise PatternError(f"gap ~{n} is too wide (at most ~{MAX_GAP})")
            if not terms:
                raise PatternError("a pattern cannot start with a gap ~N")
            if pending is not None:
                raise PatternError("two gaps in a row")
            pending = n
            continue
        if kind == "phrase":
            words = m.group("phrase").split()
            if not words:
                raise PatternError('empty phrase ""')
            for w in words:
                if w.startswith("~"):
                    raise PatternError("a gap ~N cannot be inside a quoted phrase")
        else:
            words = [m.group()]
        for i, w in enumerate(words):
            alternatives = w.split("|")
            if "" in alternatives:
                raise PatternError(f"{w!r} has an empty alternative (write a|b)")
            term = tuple(dict.fromkeys(parse_term(a) for a in alternatives))
            if terms:
                gaps.append(pending if (i == 0 and pending is not None) else 0)
            terms.append(term)
            pending = None
    if pending is not None:
        raise PatternError("a pattern cannot end with a gap ~N")
    return Pattern(source, tuple(terms), tuple(gaps))


# --- Codebook parsing and validation -------------------------------------------------------


class _Locator:
    """Line numbers of keys and values in a codebook's TOML text (tomllib gives none)."""

    _HEADER = re.compile(r"^\s*\[")
    _THEME = re.compile(r"^\s*\[\[\s*theme\s*\]\]")
    _META = re.compile(r"^\s*\[\s*meta\s*\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, ln in enumerate(self.lines) if self._HEADER.match(ln)]
        self.themes = [i for i, ln in enumerate(self.lines) if self._THEME.match(ln)]
        self.meta = next((i for i, ln in enumerate(self.lines) if self._META.match(ln)), None)

    def _block(self, start: int | None) -> tuple[int, int]:
        if start is None:
            top_end = self.headers[0] if self.headers else len(self.lines)
            return 0, top_end
        # bisect, not a scan: this runs once per theme, and a codebook may have thousands.
        at = bisect_right(self.headers, start)
        end = self.headers[at] if at < len(self.headers) else len(self.lines)
        return start, end

    def _find_key(self, a: int, b: int, key: str) -> int | None:
        rx = _key_line(key)
        return next((i for i in range(a, b) if rx.match(self.lines[i])), None)

    def top(self, key: str) -> int | None:
        a, b = self._block(None)
        i = self._find_key(a, b, key)
        if i is None:
            rx = re.compile(rf"^\s*\[+\s*{re.escape(key)}\s*\]")
            i = next((j for j, ln in enumerate(self.lines) if rx.match(ln)), None)
        return None if i is None else i + 1

    def meta_key(self, key: str) -> int | None:
        if self.meta is None:
            return None
        i = self._find_key(*self._block(self.meta), key)
        return self.meta + 1 if i is None else i + 1

    def theme(self, index: int, key: str | None = None, value: str | None = None) -> int | None:
        if index >= len(self.themes):
            return None
        a, b = self._block(self.themes[index])
        at = self._find_key(a, b, key) if key else None
        if at is not None and value is not None:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            for i in range(at, b):
                if value in self.lines[i] or escaped in self.lines[i]:
                    return i + 1
        return (at if at is not None else a) + 1


@lru_cache(maxsize=64)
def _key_line(key: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")


@dataclass
class _Errors:
    name: str
    found: list[tuple[int, int, str]]

    def add(self, line: int | None, message: str) -> None:
        where = f"{self.name}:{line}" if line is not None else self.name
        self.found.append((line or 0, len(self.found), f"{where}: {message}"))

    @property
    def items(self) -> list[str]:
        """Messages in file order (then in the order found)."""
        return [m for _, _, m in sorted(self.found)]


def parse_codebook(text: str, name: str = "<codebook>", path: Path | None = None) -> Codebook:
    """Parse and validate a codebook's TOML text; raises CodebookError with the first error."""
    errors, codebook = _parse(text, name, path)
    if codebook is None:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CodebookError(errors[0] + more)
    return codebook


def codebook_errors(path: Path) -> list[str]:
    """Every problem of a codebook file, one line each (empty when it is valid)."""
    return _parse(_read(path), str(path), path)[0]


def load_codebook(path: Path) -> Codebook:
    """Read, parse and validate a codebook file (CodebookError names file, line, theme, pattern)."""
    return parse_codebook(_read(path), str(path), path)


def codebook_from_data(data: dict[str, Any], name: str) -> Codebook:
    """Validate a codebook given as TOML-shaped data (e.g. read from a .qdc file)."""
    errors = _Errors(name, [])
    codebook = _build(data, errors, None, name, None)
    if codebook is None or errors.items:
        more = f" (and {len(errors.items) - 1} more)" if len(errors.items) > 1 else ""
        raise CodebookError(errors.items[0] + more)
    return codebook


def _read(path: Path) -> str:
    from annotate.files import MAX_CODEBOOK, read_input

    if not os.path.lexists(path):
        raise CodebookError(
            f"codebook not found: {path} (write a themes.toml beside the corpus, or pass "
            "--codebook FILE or set ANNOTATE_CODEBOOK)"
        )
    try:
        data = read_input(path, limit=MAX_CODEBOOK)
    except InputError as e:
        raise CodebookError(str(e)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CodebookError(f"{path}: not valid UTF-8 (at byte {e.start})") from None


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _parse(text: str, name: str, path: Path | None) -> tuple[list[str], Codebook | None]:
    errors = _Errors(name, [])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else None
        reason = msg[: m.start()] if m else msg
        errors.add(line, f"TOML syntax error: {reason}")
        return errors.items, None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        errors.add(None, "TOML arrays or tables nested too deeply")
        return errors.items, None
    codebook = _build(data, errors, _Locator(text), name, path)
    return errors.items, (codebook if not errors.items else None)


def _build(
    data: dict[str, Any], errors: _Errors, loc: _Locator | None, name: str, path: Path | None
) -> Codebook | None:
    def at_top(key: str) -> int | None:
        return loc.top(key) if loc else None

    def at_meta(key: str) -> int | None:
        return loc.meta_key(key) if loc else None

    def at_theme(i: int, key: str | None = None, value: str | None = None) -> int | None:
        return loc.theme(i, key, value) if loc else None

    for key in data:
        if key not in TOP_KEYS:
            errors.add(at_top(key), f"unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        errors.add(at_top("meta"), "[meta] must be a table")
        meta = {}
    for key, value in meta.items():
        if key not in META_KEYS:
            errors.add(at_meta(key), f"meta: unknown key {key!r} (known: {', '.join(META_KEYS)})")
        elif not isinstance(value, str):
            errors.add(at_meta(key), f"meta: {key} must be a string")
    unit = meta.get("unit", "sentence")
    if isinstance(unit, str) and unit not in UNITS:
        errors.add(at_meta("unit"), f"meta: unknown unit {unit!r} (known: {', '.join(UNITS)})")
    raw_themes = data.get("theme", [])
    if not isinstance(raw_themes, list) or not all(isinstance(t, dict) for t in raw_themes):
        errors.add(at_top("theme"), "themes must be [[theme]] tables")
        return None
    if not raw_themes:
        errors.add(None, "no themes (add a [[theme]] table)")
        return None

    themes: list[Theme] = []
    first_line: dict[str, int | None] = {}
    for i, raw in enumerate(raw_themes):
        tid = raw.get("id")
        who = f"theme {tid!r}" if isinstance(tid, str) and tid else f"theme #{i + 1}"
        ok = True
        for key in raw:
            if key not in THEME_KEYS:
                errors.add(
                    at_theme(i, key),
                    f"{who}: unknown key {key!r} (known: {', '.join(THEME_KEYS)})",
                )
        for key in _STR_KEYS:
            if key in raw and not isinstance(raw[key], str):
                errors.add(at_theme(i, key), f"{who}: {key} must be a string")
                ok = False
        for key in _LIST_KEYS:
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.add(at_theme(i, key), f"{who}: {key} must be a list of strings")
                ok = False
        if not ok:
            continue
        if not tid:
            errors.add(at_theme(i), f"{who}: missing id")
            continue
        if not ID_RE.match(tid):
            errors.add(
                at_theme(i, "id"),
                f"{who}: bad id (use letters, digits, '-', '_' and '.', no spaces)",
            )
            continue
        if tid in first_line:
            first = first_line[tid]
            where = f" (first defined on line {first})" if first is not None else ""
            errors.add(at_theme(i, "id"), f"{who}: duplicate id{where}")
            continue
        first_line[tid] = at_theme(i, "id")
        label = raw.get("label", "")
        if not label.strip():
            errors.add(at_theme(i, "label"), f"{who}: missing label")
        for key in ("patterns", "exclude"):
            for pat in raw.get(key, []):
                try:
                    parse_pattern(pat)
                except PatternError as e:
                    kind = "pattern" if key == "patterns" else "exclude pattern"
                    errors.add(at_theme(i, key, pat), f"{who}: {kind} {pat!r}: {e}")
        color = raw.get("color") or None
        if color is not None and not _valid_color(color):
            errors.add(at_theme(i, "color"), f"{who}: unknown color {color!r}")
        themes.append(
            Theme(
                id=tid,
                label=label,
                description=raw.get("description", ""),
                patterns=tuple(raw.get("patterns", [])),
                exclude=tuple(raw.get("exclude", [])),
                examples=tuple(raw.get("examples", [])),
                color=color,
                parent=raw.get("parent") or None,
            )
        )

    # Ids of themes that failed other checks still count, so one error does not cascade.
    ids = {raw["id"] for raw in raw_themes if isinstance(raw.get("id"), str)}
    parents = {t.id: t.parent for t in themes}
    index: dict[str, int] = {}
    for i, raw in enumerate(raw_themes):
        if isinstance(raw.get("id"), str):
            index.setdefault(raw["id"], i)
    for t in themes:
        if t.parent is None:
            continue
        line = at_theme(index.get(t.id, 0), "parent")
        if t.parent not in ids:
            errors.add(line, f"theme {t.id!r}: unknown parent {t.parent!r}")
            continue
        seen = [t.id]
        p: str | None = t.parent
        while p is not None and p in parents:
            if p in seen:
                chain = " -> ".join([*seen, p])
                errors.add(line, f"theme {t.id!r}: parent cycle {chain}")
                break
            seen.append(p)
            p = parents[p]
    if errors.items:
        return None
    codebook_name = meta.get("name") or (path.stem if path else name)
    return Codebook(
        name=codebook_name,
        themes=tuple(themes),
        unit=unit,
        language=meta.get("language", "en"),
        path=path,
    )


def _valid_color(color: str) -> bool:
    from rich.color import Color, ColorParseError

    try:
        Color.parse(color)
    except ColorParseError:
        return False
    return True


# --- Matching ------------------------------------------------------------------------------


# Words Snowball English stems irregularly (its exception list), whose stem may not start
# with the word's first two letters.
_STEM_EXCEPTIONS = frozenset(
    "skis skies dying lying tying idly gently ugly early only singly sky news howe atlas "
    "cosmos bias andes".split()
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    source: str
    slots: tuple[frozenset[int], ...]  # term ids of each slot's alternatives
    gaps: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _ThemeRule:
    id: str
    patterns: tuple[_Compiled, ...]
    exclude: tuple[_Compiled, ...]


class Matcher:
    """A codebook compiled for matching: every distinct term gets an id, each distinct word form
    is resolved once to the ids of the terms it satisfies (then cached), and patterns are
    indexed by their first term so a unit only tries the patterns that can start in it."""

    def __init__(self, codebook: Codebook) -> None:
        self.codebook = codebook
        self._ids: dict[Term, int] = {}
        self._stems: dict[str, int] = {}
        self._stem_heads: set[str] = set()
        self._exact: dict[str, int] = {}
        self._prefixes: dict[str, list[tuple[str, int]]] = {}
        self._words: dict[str, frozenset[int]] = {}
        self.rules = tuple(
            _ThemeRule(
                t.id,
                tuple(self._compile(p) for p in t.patterns),
                tuple(self._compile(p) for p in t.exclude),
            )
            for t in codebook.themes
        )
        # (theme index, is_include, pattern index) of every pattern, by its first slot's terms
        by_first: dict[int, list[tuple[int, bool, int]]] = {}
        for ti, rule in enumerate(self.rules):
            for pi, p in enumerate(rule.patterns):
                for tid in sorted(p.slots[0]):
                    by_first.setdefault(tid, []).append((ti, True, pi))
            for pi, p in enumerate(rule.exclude):
                for tid in sorted(p.slots[0]):
                    by_first.setdefault(tid, []).append((ti, False, pi))
        self._by_first = {k: tuple(v) for k, v in by_first.items()}

    def _term_id(self, term: Term) -> int:
        if term not in self._ids:
            tid = self._ids[term] = len(self._ids)
            if term.kind == "stem":
                self._stems[term.value] = tid
                self._stem_heads.add(term.value[:2])
            elif term.kind == "exact":
                self._exact[term.value] = tid
            else:
                # Compared with the word without hyphens, as stems are: "co-operat*" hits
                # "cooperation" and "co-operation" alike.
                bare = term.value.replace("-", "")
                self._prefixes.setdefault(bare[:1], []).append((bare, tid))
        return self._ids[term]

    def _compile(self, source: str) -> _Compiled:
        p = parse_pattern(source)
        slots = tuple(frozenset(self._term_id(t) for t in slot) for slot in p.slots)
        return _Compiled(source, slots, p.gaps)

    def word_terms(self, word: str) -> frozenset[int]:
        """Ids of the terms a surface word form satisfies (cached per form)."""
        hit = self._words.get(word)
        if hit is not None:
            return hit
        norm = normalise(word)
        bare = norm.replace("-", "")
        found: set[int] = set()
        for form in {norm, bare}:
            # Stemming is the slow part (pure Python); skip words whose stem cannot be a
            # term's. Snowball keeps a word's first two letters except in short words, words
            # like "dying" -> "die" (a "y" second), and its list of exceptions.
            if (
                len(form) <= 4
                or form[:2] in self._stem_heads
                or form[1:2] == "y"
                or form in _STEM_EXCEPTIONS
            ):
                key = stem(form)
                if key in self._stems:
                    found.add(self._stems[key])
        if norm in self._exact:
            found.add(self._exact[norm])
        for prefix, tid in self._prefixes.get(bare[:1], ()):
            if bare.startswith(prefix):
                found.add(tid)
        # Most forms satisfy no term: they share one empty set (each new one is 216 bytes,
        # and OCR text has millions of forms), and the cache is bounded.
        result = frozenset(found) if found else _NO_TERMS
        if len(self._words) >= _WORD_CACHE:
            self._words.clear()
        self._words[word] = result
        return result

    def match_unit(
        self, doc_id: str, text: str, unit_id: str, start: int, end: int
    ) -> ThemeHit | None:
        # The hot loop stays in C where it can: most units hit nothing, and token offsets are
        # only needed (found again with finditer) for the few that do.
        words = TOKEN.findall(text, start, end)
        get = self._words.get
        at: list[frozenset[int]] = [get(w) for w in words]  # type: ignore[misc]
        if None in at:
            resolve = self.word_terms
            at = [i if i is not None else resolve(w) for i, w in zip(at, words, strict=True)]
        present: set[int] = set().union(*at)
        if not present:
            return None
        candidates: list[tuple[int, bool, int]] = []
        by_first = self._by_first
        for tid in present:
            candidates.extend(by_first.get(tid, ()))
        if not candidates:
            return None
        candidates = sorted(set(candidates))
        occurs = _positions(at)
        vetoed = {
            ti
            for ti, include, pi in candidates
            if not include
            and _find(self.rules[ti].exclude[pi], occurs, present, first_only=True)
        }
        themes: list[str] = []
        evidence: list[tuple[int, int, int, int, Evidence]] = []
        found_at: list[re.Match[str]] | None = None
        for ti, include, pi in candidates:
            if not include or ti in vetoed:
                continue
            rule = self.rules[ti]
            p = rule.patterns[pi]
            for a, b in _find(p, occurs, present):
                if found_at is None:
                    found_at = list(TOKEN.finditer(text, start, end))
                s, e = found_at[a].start(), found_at[b].end()
                evidence.append((s, e, ti, pi, Evidence(rule.id, p.source, s, e, text[s:e])))
                if not themes or themes[-1] != rule.id:
                    themes.append(rule.id)
        if not themes:
            return None
        evidence.sort(key=lambda x: x[:4])
        return ThemeHit(doc_id, start, end, unit_id, tuple(themes), tuple(e[4] for e in evidence))


# Units longer than this many words (a paragraph with no blank lines, a text with no full
# stops) are handled with byte arrays and sorted positions: on an int of n bits every shift
# or OR costs n/64 steps, which per word or per match would make a huge unit quadratic.
LONG_UNIT = 2048
_NONZERO = re.compile(rb"[^\x00]+")


def _positions(at: list[frozenset[int]]) -> dict[int, int]:
    """Where each term occurs in a unit, as a bit set over token positions (bit q: token q)."""
    if len(at) > LONG_UNIT:
        size = (len(at) >> 3) + 1
        arrays: dict[int, bytearray] = {}
        for q, terms in enumerate(at):
            for tid in terms:
                bits = arrays.get(tid)
                if bits is None:
                    bits = arrays[tid] = bytearray(size)
                bits[q >> 3] |= 1 << (q & 7)
        return {tid: int.from_bytes(bits, "little") for tid, bits in arrays.items()}
    occurs: dict[int, int] = {}
    for q, terms in enumerate(at):
        bit = 1 << q
        for tid in terms:
            occurs[tid] = occurs.get(tid, 0) | bit
    return occurs


def _set_bits(x: int) -> list[int]:
    """The positions of the set bits of `x`, ascending, in time linear in its length."""
    data = x.to_bytes((x.bit_length() + 7) >> 3, "little")
    out: list[int] = []
    for run in _NONZERO.finditer(data):
        for i in range(run.start(), run.end()):
            byte, base = data[i], i << 3
            while byte:
                low = byte & -byte
                out.append(base + low.bit_length() - 1)
                byte ^= low
    return out


def _find(
    p: _Compiled, occurs: dict[int, int], present: set[int], first_only: bool = False
) -> list[tuple[int, int]]:
    """Leftmost non-overlapping matches of a pattern, as (first, last) token indexes.

    Each match is the one a backtracking search would find (from its first word, the nearest
    next word from which the rest of the pattern can still be completed, and so on), but found
    in polynomial time: the positions from which the rest can be completed are computed once,
    backwards, as bit sets over token positions (bit q set: token q). That is a few big-integer
    operations per slot, so neither many `~N` gaps nor a long phrase can make matching
    exponential, and nothing recurses."""
    if any(map(present.isdisjoint, p.slots)):
        return []

    def where(slot: frozenset[int]) -> int:
        bits = 0
        for tid in slot:
            bits |= occurs.get(tid, 0)
        return bits

    # can[k]: positions where slot k matches and slots k+1.. can follow within their gaps.
    last = len(p.slots) - 1
    can = [0] * len(p.slots)
    can[last] = where(p.slots[last])
    for k in range(last - 1, -1, -1):
        follow = can[k + 1]
        if not follow:
            return []
        can[k] = where(p.slots[k]) & _reach(follow, p.gaps[k])
    if max(c.bit_length() for c in can) > LONG_UNIT:
        return _walk_positions(p, can, first_only)
    out: list[tuple[int, int]] = []
    starts = can[0]
    while starts:
        i = (starts & -starts).bit_length() - 1
        q = i
        for k in range(1, len(p.slots)):
            window = (can[k] >> (q + 1)) & ((2 << p.gaps[k - 1]) - 1)
            q += (window & -window).bit_length()  # the nearest: lowest bit, 1-based
        out.append((i, q))
        if first_only:
            break
        starts &= -1 << (q + 1)  # matches do not overlap
    return out


def _walk_positions(p: _Compiled, can: list[int], first_only: bool) -> list[tuple[int, int]]:
    """The same walk as in `_find`, over sorted positions (bisect) instead of shifted ints."""
    where: list[list[int] | None] = [None] * len(can)
    starts = _set_bits(can[0])
    out: list[tuple[int, int]] = []
    j = 0
    while j < len(starts):
        i = q = starts[j]
        for k in range(1, len(can)):
            positions = where[k]
            if positions is None:
                positions = where[k] = _set_bits(can[k])
            q = positions[bisect_right(positions, q)]  # within the gap: can[] says so
        out.append((i, q))
        if first_only:
            break
        j = bisect_right(starts, q, j)
    return out


def _reach(follow: int, gap: int) -> int:
    """Positions q with a position of `follow` in q+1 .. q+1+gap (the OR of `follow` shifted
    right by 1 .. gap+1, built by doubling: a few shifts, whatever the gap)."""
    spread = follow >> 1
    covered = 1
    while covered < gap + 1:
        step = min(covered, gap + 1 - covered)
        spread |= spread >> step
        covered += step
    return spread


_NO_TERMS: frozenset[int] = frozenset()
# Word forms whose terms `Matcher.word_terms` remembers (about 150 bytes each).
_WORD_CACHE = 1_000_000


@lru_cache(maxsize=16)
def compile_codebook(codebook: Codebook) -> Matcher:
    """The codebook compiled once for matching (cached: codebooks are immutable)."""
    return Matcher(codebook)


def _units(codebook: Codebook, doc: Document) -> Iterable[tuple[str, int, int]]:
    if codebook.unit == "paragraph":
        return ((p.id, p.start, p.end) for p in doc.paragraphs)
    return ((s.id, s.start, s.end) for s in doc.sentences)


def match_document(codebook: Codebook, doc: Document) -> tuple[ThemeHit, ...]:
    """One ThemeHit per unit with at least one theme, in text order."""
    matcher = compile_codebook(codebook)
    hits = []
    for unit_id, start, end in _units(codebook, doc):
        hit = matcher.match_unit(doc.id, doc.text, unit_id, start, end)
        if hit is not None:
            hits.append(hit)
    return tuple(hits)


def match_corpus(codebook: Codebook, corpus: Corpus) -> dict[str, tuple[ThemeHit, ...]]:
    """Hits of every document, keyed by document id (in the corpus's date order)."""
    return {d.id: match_document(codebook, d) for d in corpus.documents}
