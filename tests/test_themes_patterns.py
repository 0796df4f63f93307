"""The pattern language: stems, prefixes, exact forms, phrases, gaps, alternatives, excludes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.model import Codebook, Document, Metadata, Theme
from annotate.text import TOKEN, normalise, stem
from annotate.themes import Matcher, PatternError, match_document, parse_pattern, parse_term


def doc(text: str) -> Document:
    return Document(Path("t.txt"), text, Metadata(id="t"))


def matched(pattern: str, text: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Evidence texts of one pattern over a one-paragraph document."""
    cb = Codebook("t", (Theme("x", "X", patterns=(pattern,), exclude=exclude),))
    return [e.text for h in match_document(cb, doc(text)) for e in h.evidence]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        # a bare word: same Snowball stem, any case
        ("return", "Returns rose. We returned them. Returning is hard.",
         ["Returns", "returned", "Returning"]),
        ("return", "They were on the route.", []),
        # hyphens are ignored for stems, both ways
        ("cooperation", "More co-operation and cooperation.", ["co-operation", "cooperation"]),
        ("co-operation", "Cooperation matters.", ["Cooperation"]),
        # a prefix glob on the surface form, not the stem
        ("transit*", "Transited through transit countries.", ["Transited", "transit"]),
        ("invest*", "Investigations and investment.", ["Investigations", "investment"]),
        ("invest", "Investigations and investment.", ["investment"]),
        # ... where hyphens are ignored too, as for stems
        ("co-operat*", "Cooperation and co-operating.", ["Cooperation", "co-operating"]),
        ("cooperat*", "Co-operation.", ["Co-operation"]),
        # an exact form: no stemming, case-insensitive
        ("=joint", "A joint plan, jointly run. JOINT work.", ["joint", "JOINT"]),
        ("=data", "Data and datum.", ["Data"]),
        # typographic apostrophes are normalised
        ("=uk's", "The UK’s border.", ["UK’s"]),
    ],
)
def test_words(pattern: str, text: str, expected: list[str]) -> None:
    assert matched(pattern, text) == expected


def test_phrases_are_consecutive_words_in_order() -> None:
    assert matched("whole of route", "The whole of route approach.") == ["whole of route"]
    assert matched('"whole of route"', "The whole of route approach.") == ["whole of route"]
    assert matched("whole of route", "The whole of the route.") == []
    assert matched("route of whole", "The whole of route approach.") == []


def test_phrase_spans_a_line_break_and_keeps_original_text() -> None:
    assert matched("people smuggling gangs", "the people\nsmuggling gangs") == [
        "people\nsmuggling gangs"
    ]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("source ~4 transit", "source, transit and destination", ["source, transit"]),
        ("source ~2 transit", "source and origin and transit", []),
        ("source ~3 transit", "source and origin and transit", ["source and origin and transit"]),
        ("source ~0 transit", "source transit", ["source transit"]),
        # ordered: b must follow a
        ("transit ~4 source", "source and transit", []),
        # backtracking: the nearest "b" leaves "c" out of reach, a later one does not
        ("a ~2 b c", "a b x b c", ["a b x b c"]),
        # a gap after a phrase
        ('"no right to" ~2 remain', "no right at all to remain; no right to stay or remain",
         ["no right to stay or remain"]),
    ],
)
def test_gaps(pattern: str, text: str, expected: list[str]) -> None:
    assert matched(pattern, text) == expected


def test_alternatives_fill_one_slot() -> None:
    assert matched("fund|invest* ~3 border*", "Investment in borders, funding for the border.") == [
        "Investment in borders",
        "funding for the border",
    ]
    assert matched("=deter|deterrence", "Deterrence will deter; deterring too.") == [
        "Deterrence",
        "deter",
    ]


def test_matches_do_not_overlap_and_are_leftmost() -> None:
    assert matched("a ~3 a", "a a a a") == ["a a", "a a"]


def test_exclude_vetoes_the_theme_in_the_same_unit_only() -> None:
    text = "Artificial intelligence is new. We share intelligence."
    assert matched("intelligence", text, exclude=("artificial intelligence",)) == ["intelligence"]
    cb = Codebook("t", (Theme("x", "X", patterns=("intelligence",),
                              exclude=("artificial intelligence",)),))
    hits = match_document(cb, doc(text))
    assert [h.unit for h in hits] == ["t.p1.s2"]


def test_exclude_of_one_theme_does_not_veto_another() -> None:
    cb = Codebook(
        "t",
        (
            Theme("a", "A", patterns=("border*",), exclude=("nuclear",)),
            Theme("b", "B", patterns=("border*",)),
        ),
    )
    hits = match_document(cb, doc("Nuclear borders."))
    assert [h.themes for h in hits] == [("b",)]


def test_hit_lists_themes_in_codebook_order_and_evidence_in_text_order() -> None:
    cb = Codebook(
        "t",
        (
            Theme("later", "L", patterns=("route",)),
            Theme("first", "F", patterns=("source",)),
        ),
    )
    (hit,) = match_document(cb, doc("The route starts at source and the route ends."))
    assert hit.themes == ("later", "first")
    assert [(e.theme, e.text) for e in hit.evidence] == [
        ("later", "route"), ("first", "source"), ("later", "route")
    ]


def test_paragraph_unit() -> None:
    cb = Codebook("t", (Theme("x", "X", patterns=("route",)),), unit="paragraph")
    hits = match_document(cb, doc("One route. Two.\n\nThree route."))
    assert [h.unit for h in hits] == ["t.p1", "t.p2"]


def test_parse_structure() -> None:
    p = parse_pattern('whole "of route" ~3 =Data|transit*')
    assert [[(t.kind, t.value) for t in slot] for slot in p.slots] == [
        [("stem", "whole")],
        [("stem", "of")],
        [("stem", "rout")],
        [("exact", "data"), ("prefix", "transit")],
    ]
    assert p.gaps == (0, 0, 3)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern"),
        ("   ", "empty pattern"),
        ('"whole of route', "unbalanced double quote"),
        ('""', 'empty phrase ""'),
        ("~3 route", "a pattern cannot start with a gap ~N"),
        ("route ~3", "a pattern cannot end with a gap ~N"),
        ("a ~2 ~3 b", "two gaps in a row"),
        ("a ~x b", "bad gap '~x': write ~N, e.g. ~3"),
        ("a ~ b", "bad gap '~': write ~N, e.g. ~3"),
        ("a ~21 b", "gap ~21 is too wide (at most ~20)"),
        ('"a ~2 b"', "a gap ~N cannot be inside a quoted phrase"),
        ("tr*nsit", "'tr*nsit': '*' may only end a word"),
        ("=transit*", "'=transit*' is both exact (=) and a prefix (*); use one of them"),
        ("a=b", "'a=b': '=' may only start a word"),
        ("*", "'*' has no letters or digits"),
        ("route!", "'route!' is not a word (letters and digits, with ' or - only inside)"),
        ("a||b", "'a||b' has an empty alternative (write a|b)"),
    ],
)
def test_bad_patterns(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as e:
        parse_pattern(pattern)
    assert str(e.value) == message


# The matcher skips stemming words whose stem cannot equal a pattern's (for speed); it must
# find exactly what stemming every word would.
STEMS = ["lie", "die", "sky", "news", "early", "return", "a", "ab", "yes", "cooperation",
         "transit", "gently", "is", "us"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abdeilnorstuywy-'", min_size=1, max_size=9).filter(
    lambda w: TOKEN.fullmatch(w) is not None) | st.sampled_from(
    ["lying", "dying", "skies", "tying", "gently", "earlier", "returning", "co-operating",
     "bying", "lyings", "news", "aye", "is", "us"]))
def test_stem_shortcut_finds_what_stemming_every_word_would(word: str) -> None:
    matcher = Matcher(Codebook("s", (Theme("x", "X", patterns=tuple(STEMS)),)))
    ids = matcher.word_terms(word)
    norm = normalise(word)
    keys = {stem(norm), stem(norm.replace("-", ""))}
    for w in STEMS:
        term = parse_term(w)
        assert (matcher._ids[term] in ids) == (term.value in keys), (word, w)
