"""Fingerprint tokens are exactly `annotate.text.TOKEN` matches (found by numpy in
`annotate.reuse.tokens`), however the text is cut into slices, their hashes those of their
normalised forms, and TOKEN (written without a lookahead) matches what the original pattern
with a per-character lookahead matched."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.reuse.fingerprint import fingerprint
from annotate.reuse.tokens import hash_words, token_spans, word_hashes
from annotate.text import TOKEN, normalise

# The module (the package exports a function of the same name).
fp_module: Any = importlib.import_module("annotate.reuse.fingerprint")

# The pattern TOKEN had before it was rewritten for speed: the reference of equivalence.
LOOKAHEAD_TOKEN = re.compile(
    r"[£$€]?\d+(?:[.,]\d+)*%?"
    r"|[^\W\d_](?:[^\W_]|['\u2019\-\u2010\u2011](?=[^\W_]))*",
)

texts = st.text(alphabet=st.sampled_from(list("ab Z9_'’-‐‑.,%£é\u0301\nΩ\t")), max_size=60)


@given(texts)
@settings(max_examples=400)
def test_token_matches_the_lookahead_pattern(text: str) -> None:
    assert [m.span() for m in TOKEN.finditer(text)] == [
        m.span() for m in LOOKAHEAD_TOKEN.finditer(text)
    ]


@given(st.text(max_size=30))
def test_normalise_ascii_shortcut_is_casefold(word: str) -> None:
    if word.isascii():
        assert normalise(word) == word.casefold()


@pytest.mark.parametrize("chars", [1, 3, 7, 1 << 22])
@given(text=texts)
@settings(max_examples=60)
def test_fingerprint_tokens_in_any_slices(chars: int, text: str) -> None:
    old = fp_module._CHARS
    fp_module._CHARS = chars  # cut the text into many slices at white space
    try:
        f = fingerprint("d", text)
    finally:
        fp_module._CHARS = old
    found = list(TOKEN.finditer(text))
    assert f.starts.tolist() == [m.start() for m in found]
    assert f.words.tolist() == hash_words([normalise(m.group()) for m in found]).tolist()


# Every character class TOKEN knows, and some it does not (combining marks, "_", "²", "ß").
tricky = st.text(alphabet=st.sampled_from(list("ab Z9_'’-‐‑.,%£$€é\u0301\nΩ\t²ßİ٣")),
                 max_size=60)
ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=80) | st.text(
    alphabet=st.sampled_from(list("ab Z9_'-.,%$\n\t")), max_size=80)


@given(tricky | ascii_texts | st.text(max_size=40))
@settings(max_examples=1500, deadline=None)
def test_token_spans_are_the_token_matches(text: str) -> None:
    starts, ends = token_spans(text)
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [
        m.span() for m in TOKEN.finditer(text)]


@given(tricky | st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_word_hashes_are_those_of_the_normalised_tokens(text: str) -> None:
    starts, hashes = word_hashes(text)
    found = list(TOKEN.finditer(text))
    assert starts.tolist() == [m.start() for m in found]
    assert hashes.tolist() == hash_words([normalise(m.group()) for m in found]).tolist()


def test_word_hashes_fixed_cases() -> None:
    text = "$1,000.50% 1st 2-3 x1.5 'tis rock'n'roll -- a-"
    starts, ends = token_spans(text)
    assert [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)] == [
        "$1,000.50%", "1", "st", "2", "3", "x1", "5", "tis", "rock'n'roll", "a"]
    one, two = hash_words(["the", "smuggling"])
    assert one & 1 == 1 and two & 1 == 0  # the stopword flag
    assert len(set(hash_words(["a", "b", "ab", "ba", "a\u00e9", "\u00e9"]).tolist())) == 6
    # Stable across processes and versions: the general word list's hashes depend on it.
    assert hash_words(["smuggling"]).tolist() == [15453744288912872984]
