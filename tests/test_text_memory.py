"""Segmentation keeps one copy of a document's text: sentences and paragraphs point into it.

A 200 MB document is segmented into millions of sentences; had each sentence and paragraph
kept its own copy of its text, the segmented document would hold the text twice more (that
made `annotate export` of one 200 MB file take over 2.5 GB).
"""

from __future__ import annotations

import random
import tracemalloc

from annotate.text import Paragraph, Sentence, paragraphs

WORDS = ("the government will act to secure the border and to end the crossings of small "
         "boats with a new law and more officers at every port of entry this year").split()


def _text(chars: int) -> str:
    """ASCII prose of long sentences (about 550 characters), three to a paragraph."""
    rng = random.Random(0)
    paras: list[str] = []
    size = 0
    while size < chars:
        sents = []
        for _ in range(3):
            words = [rng.choice(WORDS) for _ in range(100)]
            sents.append(" ".join(words).capitalize() + ".")
        paras.append(" ".join(sents))
        size += len(paras[-1]) + 2
    return "\n\n".join(paras) + "\n"


def test_segmenting_does_not_copy_the_text() -> None:
    text = _text(3_000_000)
    tracemalloc.start()
    try:
        paras = paragraphs(text, "big")
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    n_sents = sum(len(p.sentences) for p in paras)
    assert n_sents > 5000  # long sentences, so that copies would dominate
    # Objects, ids and offsets take about 0.55 byte per character here; a copy of each
    # sentence's and each paragraph's text alone would take 2 (ASCII: 1 byte a character).
    assert held < len(text), f"{held / len(text):.2f} bytes held per character of text"


def test_text_is_the_slice_of_the_document() -> None:
    text = "First one here. Second one there.\n\nA new paragraph.\n"
    paras = paragraphs(text, "d")
    assert [p.text for p in paras] == ["First one here. Second one there.", "A new paragraph."]
    assert [s.text for s in paras[0].sentences] == ["First one here.", "Second one there."]
    for p in paras:
        assert p.text == text[p.start:p.end]
        assert p.source is text  # a reference to the document text, not a copy
        for s in p.sentences:
            assert s.text == text[s.start:s.end]
            assert s.source is text


def test_repr_and_equality_show_the_unit_not_the_document() -> None:
    text = "One. Two.\n"
    s = paragraphs(text, "d")[0].sentences[1]
    assert repr(s) == "Sentence(id='d.p1.s2', start=5, end=9, text='Two.')"
    assert s == Sentence("d.p1.s2", 5, 9, text)
    assert s != Sentence("d.p1.s2", 5, 9, "One. Too.\n")  # another text: another sentence
    p = paragraphs(text, "d")[0]
    assert repr(p).startswith("Paragraph(id='d.p1', start=0, end=9, text='One. Two.', ")
    assert p == Paragraph("d.p1", 0, 9, text, p.sentences)
