"""The sentence segmentation of all five seeds, reviewed by reading it (tests/data/segmentation).

A line per sentence: its id, then its text with hard line breaks shown as ⏎. The golden file was
read through: no sentence broken inside "Mr." or "£30 million", none glued to the next,
headings and "X said:" lines on their own.
"""

from __future__ import annotations

from annotate.corpus import load_corpus
from tests.conftest import DATA, SEEDS, check_golden


def test_seed_sentences_match_the_reviewed_golden_file() -> None:
    lines = []
    for doc in sorted(load_corpus([SEEDS]).documents, key=lambda d: d.id):
        for s in doc.sentences:
            lines.append(f"{s.id}\t{s.text.replace(chr(10), '⏎')}")
    check_golden(DATA / "segmentation" / "seeds.tsv", "\n".join(lines) + "\n")


def test_seed_sentence_counts() -> None:
    counts = {d.id: len(d.sentences) for d in load_corpus([SEEDS]).documents}
    assert counts == {"000": 18, "001": 30, "002": 25, "003": 23, "004": 45}
