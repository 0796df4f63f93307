"""Paragraphs, sentences and tokens with exact offsets into the original text.

Nothing here changes the text: every unit is a slice `text[start:end]` of the string that was
read, so offsets can be trusted by every later layer (themes, reuse, the store, TEI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple


class Token(NamedTuple):
    """A word or number. `norm` is case-folded with typographic quotes and dashes unified.

    A NamedTuple rather than a frozen dataclass: a corpus has millions of tokens, and a
    frozen dataclass is several times slower to construct. It is just as immutable.
    """

    start: int
    end: int
    text: str
    norm: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence; `id` is stable, e.g. `002.p3.s2` (1-based paragraph and sentence numbers).

    `source` is the whole document text the offsets point into: a reference to the one string,
    not a copy. `text` is sliced from it on demand, so a segmented 200 MB document does not
    hold its text a second (and third) time in sentence and paragraph copies.
    """

    id: str
    start: int
    end: int
    source: str = field(repr=False)

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def __repr__(self) -> str:
        return f"Sentence(id={self.id!r}, start={self.start}, end={self.end}, text={self.text!r})"


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph (hard-wrapped lines joined) with its sentences; `id` like `002.p3`.

    Like a sentence, it keeps a reference to the document text (`source`), not a copy of its
    own text: `text` is sliced on demand.
    """

    id: str
    start: int
    end: int
    source: str = field(repr=False)
    sentences: tuple[Sentence, ...]

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def __repr__(self) -> str:
        return (f"Paragraph(id={self.id!r}, start={self.start}, end={self.end}, "
                f"text={self.text!r}, sentences={self.sentences!r})")


# Every line end str.splitlines() knows, CRLF first so it counts as one.
LINE_END = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

# A block whose longest line is at most this long, with two or more lines, is taken to be
# hard-wrapped (as seeds 002 and 003 are, at ~65 columns); longer lines are paragraphs.
WRAP_WIDTH = 100
WRAPPED_SHARE = 0.8

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)

# Words may carry inner apostrophes or hyphens ("UK's", "co-operation"); numbers keep their
# separators, currency sign and percent sign ("£30", "24,000", "19%", "2.5").
# A word: letters and digits, joined by single apostrophes or hyphens (written without a
# lookahead per character, which makes the scan about 30% faster for the same matches).
TOKEN = re.compile(
    r"[£$€]?\d+(?:[.,]\d+)*%?"
    r"|[^\W\d_][^\W_]*(?:['\u2019\-\u2010\u2011][^\W_]+)*",
)

# Lines that always start a paragraph of their own: Markdown headings, list items.
_BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}\s|[*\-+\u2022]\s|\d{1,3}[.)]\s)")
_HEADING = re.compile(r"[ \t]*#{1,6}\s")
_ENDS_SENTENCE = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*\s*$")
_TAIL = 32  # how far back from a line's end _ENDS_SENTENCE looks

# Abbreviations after which a full stop does not end a sentence (lower-cased, no dot).
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof rev hon st mt sr jr gen col lt capt sgt cllr rt
    e.g i.e etc vs cf no nos vol pp op approx est dept govt inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
_CANDIDATE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+(?=[\"'\u201c\u2018(\[]*[^\W_a-z]|[\"'\u201c\u2018(\[]*\d)")
_LIST_MARKER = re.compile(r"\d{1,3}[.)]|[ivxIVX]{1,4}[.)]|[a-zA-Z][.)]")
# The whole word before a full stop: not the "t" of "shouldn't." nor the "s" of "Saddam's.".
_WORD_BEFORE = re.compile(r"(?<![\w'\u2019\-])([^\W\d_][\w.]*)\.$")
# Abbreviations that only stand before a number ("No. 10", "Nos. 3 and 4"); "No. Never." ends.
_BEFORE_NUMBER = frozenset(["no", "nos"])


_UNIFY = tuple((chr(k), v) for k, v in _QUOTES.items())


def normalise(word: str) -> str:
    """Case-folded form with typographic quotes and dashes unified."""
    if word.isascii():  # the usual case: no typographic marks, and casefold is lower
        return word.lower()
    # str.replace per character beats str.translate with a dict by ~10x on long texts.
    for typographic, plain in _UNIFY:
        if typographic in word:
            word = word.replace(typographic, plain)
    return word.casefold()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """English Snowball stem of a normalised word (cached: the same words recur a lot)."""
    result: str = _stemmer().stemWord(word)
    return result


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def tokens(text: str, start: int = 0, end: int | None = None) -> tuple[Token, ...]:
    """Word and number tokens of `text[start:end]`, offsets into `text`."""
    end = len(text) if end is None else end
    # Normalising the whole stretch once is far cheaper than per token; it is only valid when
    # case-folding keeps every position (it does not for e.g. "ß" -> "ss").
    folded = normalise(text[start:end])
    if len(folded) == end - start:
        return tuple(
            Token(a, b, m.group(), folded[a - start : b - start])
            for m in TOKEN.finditer(text, start, end)
            for a, b in (m.span(),)
        )
    return tuple(
        Token(m.start(), m.end(), m.group(), normalise(m.group()))
        for m in TOKEN.finditer(text, start, end)
    )


def lines(text: str) -> Iterator[tuple[int, int]]:
    """[start, end) of every line, line terminators excluded; a final empty line is skipped."""
    pos = 0
    for m in LINE_END.finditer(text):
        yield pos, m.start()
        pos = m.end()
    if pos < len(text):
        yield pos, len(text)


def _blocks(text: str) -> Iterator[list[tuple[int, int]]]:
    """Runs of non-blank lines, each line trimmed of surrounding whitespace."""
    block: list[tuple[int, int]] = []
    for a, b in lines(text):
        line = text[a:b]
        stripped = line.strip()
        if not stripped:
            if block:
                yield block
            block = []
            continue
        lead = len(line) - len(line.lstrip())
        trail = len(line) - len(line.rstrip())
        block.append((a + lead, b - trail))
    if block:
        yield block


def _is_hard_wrapped(block: list[tuple[int, int]]) -> bool:
    """Whether a block's lines are a wrapped paragraph rather than one paragraph each.

    Every line short, or (in three lines or more) nearly every line: one long title or URL
    line must not turn a whole hard-wrapped page into one paragraph per line.
    """
    if len(block) < 2:
        return False
    short = sum(1 for a, b in block if b - a <= WRAP_WIDTH)
    return short == len(block) or (len(block) >= 3 and short >= WRAPPED_SHARE * len(block))


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each paragraph.

    Blank lines always separate paragraphs. Inside a block, a hard-wrapped block (two or more
    lines, none longer than WRAP_WIDTH) has its lines joined, except after a line ending a
    sentence when the next line starts a new one; any other block is one paragraph per line,
    so a heading without a full stop stays its own paragraph.
    """
    spans: list[tuple[int, int]] = []
    for block in _blocks(text):
        wrapped = _is_hard_wrapped(block)
        start, end = block[0]
        prev_long = end - start > WRAP_WIDTH
        for a, b in block[1:]:
            # The paragraph so far is never sliced or scanned whole: that made a long
            # hard-wrapped block (OCR text, 2 MB) quadratic, minutes instead of a second.
            long = b - a > WRAP_WIDTH
            breaks = (
                not wrapped
                # a line longer than the wrap width was not wrapped: it stands alone
                or long
                or prev_long
                or _BLOCK_START.match(text, a, b) is not None
                or _HEADING.match(text, start, end) is not None
                or (
                    _ENDS_SENTENCE.search(text, max(start, end - _TAIL), end) is not None
                    and not text[a : a + 1].islower()
                )
            )
            if breaks:
                spans.append((start, end))
                start = a
            end = b
            prev_long = long
        spans.append((start, end))
    return spans


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) of each sentence of the paragraph `text[start:end]`.

    A sentence ends at . ! ? or … (with any closing quotes or brackets) followed by
    whitespace and a capital, digit or opening quote, unless the full stop closes an
    abbreviation ("Mr.", "e.g.") or a single initial ("J. Smith").
    """
    spans: list[tuple[int, int]] = []
    s = start
    for m in _CANDIDATE.finditer(text, start, end):
        nxt = _NEXT_START.match(text, m.end(), end)
        if nxt is None or nxt.end() >= end:
            continue
        if _is_abbreviation(text, s, m, text[nxt.end()]):
            continue
        if _LIST_MARKER.fullmatch(text, s, m.end()):
            continue
        spans.append((s, m.end()))
        s = nxt.end()
    if s < end:
        spans.append((s, end))
    return spans


def _is_abbreviation(text: str, sentence_start: int, m: re.Match[str], following: str) -> bool:
    if text[m.start()] != "." or m.end() - m.start() != 1:
        return False
    # Only the few characters before the stop matter; searching from the sentence start
    # would make long sentences quadratic.
    before = _WORD_BEFORE.search(text, max(sentence_start, m.start() - 24), m.end())
    if before is None:
        return False
    word = before.group(1).lower()
    if word in _BEFORE_NUMBER:
        return following.isdigit()
    # A single letter is an initial ("J. Smith"), except the pronoun ("so do I. Then").
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word != "i")


def paragraphs(text: str, doc_id: str) -> tuple[Paragraph, ...]:
    """Paragraphs with their sentences and stable ids `DOC.pN` and `DOC.pN.sM`."""
    result = []
    for pi, (a, b) in enumerate(paragraph_spans(text), 1):
        pid = f"{doc_id}.p{pi}"
        sents = tuple(
            Sentence(f"{pid}.s{si}", sa, sb, text)
            for si, (sa, sb) in enumerate(sentence_spans(text, a, b), 1)
        )
        result.append(Paragraph(pid, a, b, text, sents))
    return tuple(result)


def word_count(text: str) -> int:
    """Number of word and number tokens (the figure `annotate corpus` shows)."""
    return sum(1 for _ in TOKEN.finditer(text))
