"""Segmentation: exact offsets on any input, and the cases editors care about."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.text import normalise, paragraphs, sentence_spans, stem, tokens
from tests.conftest import SEEDS

LINE_ENDS = ["\n", "\r\n", "\r", "\x85", "\u2028", "\n\n", "\r\n\r\n", "\t", "  "]
PIECES = st.one_of(
    st.text(min_size=0, max_size=12),
    st.sampled_from(
        LINE_ENDS
        + [". ", "Mr. ", "e.g. ", "£30 million", "24,000", "19%", "“Quote.” ", "'", "—", "? ",
           "# Heading", "* item", "1. ", "The", "said:", "UK's", "co-operation"]
    ),
)
TEXTS = st.lists(PIECES, max_size=40).map("".join)


def _sents(text: str) -> list[str]:
    return [s.text for p in paragraphs(text, "d") for s in p.sentences]


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_every_unit_is_an_exact_ordered_slice(text: str) -> None:
    paras = paragraphs(text, "d")
    prev_end = 0
    for p in paras:
        assert text[p.start : p.end] == p.text
        assert prev_end <= p.start < p.end
        assert p.text == p.text.strip() and p.text
        prev_end = p.end
        s_end = p.start
        for s in p.sentences:
            assert text[s.start : s.end] == s.text
            assert s_end <= s.start < s.end <= p.end
            s_end = s.end
    t_end = 0
    for t in tokens(text):
        assert text[t.start : t.end] == t.text
        assert t_end <= t.start < t.end
        t_end = t.end
    assert paragraphs(text, "d") == paras  # deterministic


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_tokens_never_cross_sentence_or_paragraph_edges(text: str) -> None:
    edges = set()
    for p in paragraphs(text, "d"):
        for s in p.sentences:
            edges.update((s.start, s.end))
    for t in tokens(text):
        assert not any(t.start < e < t.end for e in edges)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_non_blank_text_is_covered_by_paragraphs(text: str) -> None:
    paras = paragraphs(text, "d")
    covered = "".join(text[p.start : p.end] for p in paras)
    assert "".join(covered.split()) == "".join(text.split())


def test_ids_are_stable_and_nested() -> None:
    paras = paragraphs("Heading\n\nOne. Two.\n\nThree.", "002")
    assert [p.id for p in paras] == ["002.p1", "002.p2", "002.p3"]
    assert [s.id for s in paras[1].sentences] == ["002.p2.s1", "002.p2.s2"]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "Mr. Smith met Dr. J. Jones, e.g. at No. 10. Then they left."
    assert _sents(text) == ["Mr. Smith met Dr. J. Jones, e.g. at No. 10.", "Then they left."]


def test_contractions_no_and_i_before_a_capital_end_sentences() -> None:
    # Found in the speeches corpus: the "t" of "shouldn't." was taken for an initial, "No."
    # for the abbreviation of "number", "I." for an initial.
    assert _sents("We shouldn\u2019t. We must act. He can't. Nor Saddam's. Then no.") == [
        "We shouldn\u2019t.", "We must act.", "He can't.", "Nor Saddam's.", "Then no."
    ]
    assert _sents("No. Never. So do I. So today, at No. 10. Done.") == [
        "No.", "Never.", "So do I.", "So today, at No. 10.", "Done."
    ]


def test_numbers_stay_whole() -> None:
    text = "The UK gave £30 million to 24,000 people, up 19% on 2.5 times. Next."
    assert _sents(text)[0].endswith("2.5 times.")
    words = [t.text for t in tokens(text)]
    assert "£30" in words and "24,000" in words and "19%" in words and "2.5" in words


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = "“This is vital,” he said. “We act now.” Then: silence."
    assert _sents(text) == ["“This is vital,” he said.", "“We act now.”", "Then: silence."]


def test_lowercase_after_full_stop_does_not_split() -> None:
    assert len(_sents("It costs approx. ten pounds. Fine.")) == 2


def test_line_ends_of_every_kind_separate_paragraphs() -> None:
    for end in ["\n\n", "\r\n\r\n", "\r\r", "\x85\x85", "\u2029"]:
        text = f"First paragraph here.{end}Second paragraph here."
        assert [p.text for p in paragraphs(text, "d")] == [
            "First paragraph here.",
            "Second paragraph here.",
        ], repr(end)


def test_hard_wrapped_lines_are_joined_and_headings_kept() -> None:
    wrapped = (
        "The Prime Minister and Home Secretary gathered leaders from\n"
        "across the world in London today.\n"
        "Home Secretary said:\n"
        "“Organised immigration crime undermines our security and puts\n"
        "lives at risk.”\n"
    )
    assert [p.text.replace("\n", " ") for p in paragraphs(wrapped, "d")] == [
        "The Prime Minister and Home Secretary gathered leaders from across the world in "
        "London today.",
        "Home Secretary said:",
        "“Organised immigration crime undermines our security and puts lives at risk.”",
    ]
    unwrapped = (
        "A heading without a full stop\n"
        + "A long paragraph line that goes on and on. " * 4
        + "\n"
        + "Another long paragraph that goes on and on. " * 4
    )
    paras = paragraphs(unwrapped, "d")
    assert paras[0].text == "A heading without a full stop"
    assert len(paras) == 3


def test_list_items_and_markdown_headings_are_paragraphs() -> None:
    text = "# Title\nIntro line one.\n* first item\n* second item\n1. numbered"
    assert [p.text for p in paragraphs(text, "d")] == [
        "# Title",
        "Intro line one.",
        "* first item",
        "* second item",
        "1. numbered",
    ]
    assert [s.text for s in paragraphs(text, "d")[-1].sentences] == ["1. numbered"]


def test_normalised_forms_unify_quotes_dashes_and_case() -> None:
    assert normalise("UK’s") == normalise("uk's") == "uk's"
    assert normalise("co‐operation") == "co-operation"
    assert [t.norm for t in tokens("“Returns” – UK’S")] == ["returns", "uk's"]
    assert stem("returns") == stem("returned") == "return"


def test_sentence_spans_of_an_empty_range() -> None:
    assert sentence_spans("abc", 1, 1) == []


def test_a_long_hard_wrapped_block_is_read_in_linear_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 8,000 wrapped lines with no sentence end, no blank line (OCR text is like this). The
    # paragraph so far used to be sliced and scanned for every line: quadratic, minutes on a
    # 2 MB page. Count the characters the sentence-end check looks at instead of timing it.
    import annotate.text as text_module

    scanned = []
    real = text_module._ENDS_SENTENCE

    class Counting:
        def search(self, string: str, pos: int = 0, endpos: int | None = None) -> object:
            stop = len(string) if endpos is None else endpos
            scanned.append(stop - pos)
            return real.search(string, pos, stop)

    monkeypatch.setattr(text_module, "_ENDS_SENTENCE", Counting())
    lines = [f"word{i} and other words in a line of wrapped text" for i in range(8000)]
    text = "\n".join(lines)
    spans = paragraphs(text, "d")
    assert len(spans) == 1 and spans[0].text == text
    assert len(scanned) == len(lines) - 1
    assert max(scanned) <= 2 * max(len(line) for line in lines)  # never the whole paragraph


def test_one_long_line_does_not_unwrap_a_hard_wrapped_page() -> None:
    wrapped = (SEEDS / "002_3f54934f788c0788.txt").read_text(encoding="utf-8")
    title = "A long title line " * 8 + "without a full stop\n"
    before = [p.text for p in paragraphs(wrapped, "d")]
    after = [p.text for p in paragraphs(title + wrapped, "d")]
    assert after == [title.strip(), *before]
