"""The matcher runs in polynomial time and finds exactly what a backtracking search finds.

The reference is the matcher as it was (leftmost matches, each completed by a depth-first
search trying the nearest next word first), kept as the yardstick of benchmarks/bench_themes:
right, but exponential in the number of `~N` gaps and recursive in the number of words."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.model import Codebook, Document, Metadata, Theme
from annotate.themes import _Compiled, _find, _positions, match_document
from benchmarks.bench_themes import backtracking_find as _reference

TERMS = st.integers(0, 3)
WORDS = st.lists(st.frozensets(TERMS, max_size=2), max_size=24)


@st.composite
def patterns(draw: st.DrawFn) -> _Compiled:
    slots = draw(st.lists(st.frozensets(TERMS, min_size=1, max_size=2), min_size=1, max_size=5))
    gaps = draw(st.lists(st.integers(0, 4), min_size=len(slots) - 1, max_size=len(slots) - 1))
    return _Compiled("p", tuple(slots), tuple(gaps))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(patterns(), WORDS, st.booleans())
def test_same_matches_as_backtracking(p: _Compiled, at: list[frozenset[int]], first: bool) -> None:
    present: set[int] = set().union(*at)
    assert _find(p, _positions(at), present, first_only=first) == _reference(p, at, first)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(patterns(), WORDS, st.booleans())
def test_long_unit_path_gives_the_same_matches(
    p: _Compiled, at: list[frozenset[int]], first: bool
) -> None:
    # Units over LONG_UNIT words are walked over sorted positions instead of shifted ints;
    # with the threshold at 0 every unit takes that path.
    import annotate.themes as themes

    present: set[int] = set().union(*at)
    saved = themes.LONG_UNIT
    themes.LONG_UNIT = 0
    try:
        got = _find(p, _positions(at), present, first_only=first)
    finally:
        themes.LONG_UNIT = saved
    assert got == _reference(p, at, first)


def test_a_long_unit_matches_as_a_short_one() -> None:
    words = (["alpha", "beta", "gamma", "the", "of"] * 2000)[:9999] + ["omega"]
    text = " ".join(words) + "\n"
    patterns = ("alpha ~3 gamma", "the of", "=omega", "beta ~20 omega")
    paragraph = Codebook("t", (Theme("x", "X", patterns=patterns),), unit="paragraph")
    (hit,) = match_document(paragraph, _doc(text))
    assert len(hit.evidence) == 2000 + 1999 + 1 + 1
    (last,) = [e for e in hit.evidence if e.pattern == "beta ~20 omega"]
    assert last.text.split() == words[9981:]  # the leftmost beta within reach
    import annotate.themes as themes

    saved = themes.LONG_UNIT
    themes.LONG_UNIT = 10**9  # every unit through the short path
    try:
        assert match_document(paragraph, _doc(text)) == (hit,)
    finally:
        themes.LONG_UNIT = saved


def test_the_case_backtracking_exists_for() -> None:
    # "a ~2 b c" over "a b x b c": the nearest b leaves c out of reach; the second b does not.
    a, b, c, x = (frozenset({n}) for n in range(4))
    p = _Compiled("a ~2 b c", (a, b, c), (2, 0))
    at = [a, b, x, b, c]
    assert _find(p, _positions(at), {0, 1, 2, 3}) == [(0, 4)] == _reference(p, at, False)


def _doc(text: str) -> Document:
    return Document(Path("t.txt"), text, Metadata(id="t"))


def test_many_gaps_on_a_long_sentence_are_polynomial() -> None:
    # Seven `~20` slots over a 300-word sentence with no full match: the backtracking matcher
    # tried ~20^6 paths per start (minutes); this is a handful of bit operations.
    words = ["alpha"] * 299 + ["omega"]
    pattern = " ~20 ".join(["alpha"] * 7 + ["zeta"])
    cb = Codebook("t", (Theme("x", "X", patterns=(pattern,)),))
    assert match_document(cb, _doc(" ".join(words) + ".")) == ()
    pattern = " ~20 ".join(["alpha"] * 7 + ["omega"])
    cb = Codebook("t", (Theme("x", "X", patterns=(pattern,)),))
    (hit,) = match_document(cb, _doc(" ".join(words) + "."))
    (evidence,) = hit.evidence
    assert evidence.text.split()[-1] == "omega"
    # The leftmost match: as far back as 8 words and 7 gaps of 20 reach.
    assert len(evidence.text.split()) == 8 + 7 * 20


def test_a_3000_word_phrase_does_not_recurse() -> None:
    words = [f"w{i}" for i in range(3000)]
    phrase = " ".join(words)
    cb = Codebook("t", (Theme("x", "X", patterns=(f'"{phrase}"',)),))
    assert sys.getrecursionlimit() < 3000 * 2  # the old matcher would have raised here
    (hit,) = match_document(cb, _doc("Before. " + phrase + " after."))
    assert hit.evidence[0].text == phrase


def test_a_3000_word_phrase_through_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from annotate.cli import app

    phrase = " ".join(f"w{i}" for i in range(3000))
    (tmp_path / "a.txt").write_text(f"Before. {phrase} after.\n")
    book = tmp_path / "themes.toml"
    book.write_text(f'[[theme]]\nid = "long"\nlabel = "Long"\npatterns = ["{phrase}"]\n')
    r = CliRunner().invoke(app, ["codebook", "check", str(book)])
    assert r.exit_code == 0 and r.output.endswith("OK, 1 themes, 1 patterns, unit sentence\n")
    r = CliRunner().invoke(app, ["themes", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    import json

    (hit,) = json.loads(r.output)["hits"]
    assert hit["themes"] == ["long"] and hit["evidence"][0]["text"] == phrase
