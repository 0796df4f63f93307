"""The chance rule (annotate/reuse/chance.py): rare shared words are evidence, a stock
phrase of common ones is not; word frequencies come offline."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import numpy as np
import pytest

from annotate.corpus import Corpus, load_corpus
from annotate.model import Document, Metadata
from annotate.reuse import DEFAULT_MIN_BITS, find_reuse, fingerprint, word_bits, word_counts
from annotate.reuse.chance import RECUR_BITS, general_frequencies
from tests.conftest import SEEDS

# Each document its own filler, so nothing but the planted phrase is shared.
FILLERS = ("report market engine water island river harbour deal north south".split(),
           "team data travel officers court judge policy summit treaty route".split())


def _doc(doc_id: str, text: str) -> Document:
    return Document(Path(f"{doc_id}.txt"), text, Metadata(doc_id))


def _pair(phrase: str) -> Corpus:
    rng = random.Random(phrase)
    texts = []
    for filler in FILLERS:
        words = [rng.choice(filler) for _ in range(120)]
        words[60:60] = phrase.split()
        texts.append(" ".join(words))
    return Corpus(tuple(_doc(f"d{i}", t) for i, t in enumerate(texts)))


def test_six_rare_words_are_evidence_six_common_ones_are_not() -> None:
    rare = _pair("asylum smugglers trafficking extradition biometric deportations")
    [p] = find_reuse(rare).passages
    assert p.words == 6 and p.bits >= DEFAULT_MIN_BITS
    common = _pair("no such thing as a free")
    assert find_reuse(common).passages == ()
    [q] = find_reuse(common, min_bits=0).passages
    assert q.words == 6 and 0 < find_reuse(common, min_bits=1).passages[0].bits < 58


def test_the_travelling_formula_is_still_found() -> None:
    result = find_reuse(load_corpus([SEEDS]))
    # 61 bits each, under the 66 a pair needs alone, but the words travel: a cluster.
    assert result.passages and all(
        "no right to be" in p.a.text and p.cluster == "c1"
        and p.bits >= DEFAULT_MIN_BITS - RECUR_BITS for p in result.passages
    )
    [c] = result.clusters
    assert c.earliest == "004" and len(c.documents) == 4


def test_bits_blend_corpus_and_general_frequencies() -> None:
    fp = fingerprint("x", "the the the the zyxwvut asylum")
    with_list = word_bits([word_counts(fp)])
    alone = word_bits([word_counts(fp)], general=False)
    by_word = dict(zip(with_list.hashes.tolist(), with_list.bits.tolist(), strict=True))
    words = fp.words.tolist()
    the, unknown, asylum = by_word[words[0]], by_word[words[4]], by_word[words[5]]
    # A tiny corpus leans on general English: "the" is cheap, "asylum" dear, a word no
    # list knows dearest; the corpus alone would make "the" (4 of 6 words) nearly free.
    assert the < 6 < asylum < unknown
    assert alone.bits[alone.hashes == words[0]][0] == pytest.approx(-np.log2(4 / 6))


def test_general_frequencies_need_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the word list tried to use the network")

    general_frequencies.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    hashes, freq = general_frequencies()
    assert len(hashes) > 100_000 and np.all(np.diff(hashes.astype(np.float64)) >= 0)
    assert 0 < freq.min() and freq.max() < 0.1
