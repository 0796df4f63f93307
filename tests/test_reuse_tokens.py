"""Fingerprint tokens are exactly `annotate.text.TOKEN` matches, however the text is cut into
slices for `re.split`, and TOKEN (written without a lookahead) matches what the original
pattern with a per-character lookahead matched."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.reuse.fingerprint import _VOCAB, fingerprint
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
    assert f.words.tolist() == [_VOCAB[m.group()] for m in found]


ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=80) | st.text(
    alphabet=st.sampled_from(list("ab Z9_'-.,%$\n\t")), max_size=80)


@given(ascii_texts)
@settings(max_examples=500)
def test_ascii_split_is_the_token_split(text: str) -> None:
    # ASCII pages are split with plain character ranges instead of Unicode classes.
    assert fp_module._SPLIT_ASCII.split(text) == fp_module._SPLIT.split(text)
