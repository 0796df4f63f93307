"""Shared-passage detection (annotate/reuse.py): offsets, symmetry, determinism, planted
passages found whole, edit tolerance, boilerplate, clusters, edge cases."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.corpus import Corpus, load_corpus
from annotate.model import Document, Metadata, Passage
from annotate.reuse import (
    DEFAULT_MIN_WORDS,
    ReuseResult,
    chain_boxes,
    df_limit,
    find_reuse,
    fingerprint,
)
from annotate.text import TOKEN, word_count
from tests.conftest import SEEDS

WORDS = (
    "border asylum returns smuggling gangs partners security crime vessel channel funding "
    "agency minister summit treaty route migrants country data travel visa team officers "
    "deal north south river harbour market engine report court judge policy water island"
).split()
FILLER = "the of and to in a is that for on with as by at from it this".split()


def doc(doc_id: str, text: str, date: str | None = None) -> Document:
    return Document(path=Path(f"{doc_id}.txt"), text=text, meta=Metadata(id=doc_id, date=date))


def prose(rng: random.Random, n: int) -> str:
    """Random but word-like text: content words mixed with function words, punctuation,
    capitals and line breaks."""
    out = []
    for i in range(n):
        w = rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(FILLER)
        if i % 11 == 0:
            w = w.capitalize()
        out.append(w + rng.choice(["", "", "", "", ",", ".", ";"]))
    text = ""
    for w in out:
        text += w + ("\n" if rng.random() < 0.08 else " ")
    return text


# Real sentences (from seeds/000, about 70 words) to plant: realistic word statistics.
PLANT = (
    "The UK will continue to be a leader in tackling organised crime groups involved in "
    "irregular migration. Our Organised Immigration Crime Taskforce was set up to exploit "
    "every opportunity at source, in transit countries and in Europe to identify and tackle "
    "organised crime groups. This Taskforce is now working in 17 countries, with presence "
    "and relationships across source, transit and destination countries."
)


def check_slices(corpus: Corpus, result: ReuseResult) -> None:
    for p in result.passages:
        for side in (p.a, p.b):
            d = corpus.get(side.doc)
            assert d.text[side.start : side.end] == side.text
            assert side.text.strip() == side.text and side.text


def covering(result: ReuseResult, a: str, b: str) -> list[Passage]:
    return [p for p in result.passages if {p.a.doc, p.b.doc} == {a, b}]


# --- offsets ------------------------------------------------------------------------------


@st.composite
def planted_corpora(draw: st.DrawFn) -> Corpus:
    seed = draw(st.integers(0, 10_000))
    rng = random.Random(seed)
    n_docs = draw(st.integers(2, 4))
    texts = [prose(rng, draw(st.integers(5, 120))) for _ in range(n_docs)]
    # Plant a stretch of one document into another, with random light edits.
    src, dst = rng.sample(range(n_docs), 2)
    words = texts[src].split(" ")
    i = rng.randrange(len(words))
    piece = words[i : i + rng.randint(5, 40)]
    for k in range(len(piece)):
        r = rng.random()
        if r < 0.05:
            piece[k] = piece[k].upper()
        elif r < 0.1:
            piece[k] = "\u201c" + piece[k] + "\u201d"
        elif r < 0.13:
            piece[k] = rng.choice(WORDS)
    cut = rng.randrange(len(texts[dst]) + 1)
    texts[dst] = texts[dst][:cut] + " " + " ".join(piece) + " " + texts[dst][cut:]
    return Corpus(tuple(doc(f"d{k}", t) for k, t in enumerate(texts)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_corpora(), st.integers(2, 10))
def test_every_text_is_the_file_slice_at_its_offsets(corpus: Corpus, min_words: int) -> None:
    result = find_reuse(corpus, min_words=min_words)
    check_slices(corpus, result)
    for p in result.passages:
        assert p.words >= min_words
        assert 0 < p.similarity <= 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(12, 60))
def test_exact_plant_is_found_whole(seed: int, length: int) -> None:
    rng = random.Random(seed)
    src = prose(rng, 150)
    words = src.split(" ")
    i = rng.randrange(len(words) - length)
    piece = " ".join(words[i : i + length]).strip()
    host = prose(rng, 100)
    cut = host.rfind(" ", 0, rng.randrange(1, len(host))) + 1
    dst = host[:cut] + piece + " " + host[cut:]
    corpus = Corpus((doc("src", src), doc("dst", dst)))
    result = find_reuse(corpus)
    check_slices(corpus, result)
    toks = list(TOKEN.finditer(piece))
    first, last = cut + toks[0].start(), cut + toks[-1].end()
    sides = [p.a if p.a.doc == "dst" else p.b for p in result.passages]
    over = [s for s in sides if s.start < last and first < s.end]
    assert len(over) == 1
    assert over[0].start <= first and over[0].end >= last


def test_fingerprint_offsets_are_token_offsets() -> None:
    text = "The Home\r\nSecretary’s “plan”, 24,000 people — in 2025."
    fp = fingerprint("x", text)
    spans = [text[s : fp.end(i, text)] for i, s in enumerate(fp.starts.tolist())]
    assert spans == ["The", "Home", "Secretary’s", "plan", "24,000", "people", "in", "2025"]
    # Case, quotes and line breaks do not change a word's hash.
    other = fingerprint("y", "the HOME secretary's plan")
    assert fp.words[:4].tolist() == other.words[:4].tolist()


# --- symmetry and determinism --------------------------------------------------------------


def test_symmetric_and_deterministic_on_seeds() -> None:
    corpus = load_corpus([SEEDS])
    expected = find_reuse(corpus)
    docs = list(corpus.documents)
    for seed in range(4):
        random.Random(seed).shuffle(docs)
        again = find_reuse(Corpus(tuple(docs)))
        assert again == expected


@settings(max_examples=20, deadline=None)
@given(planted_corpora(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_document_order(corpus: Corpus, rnd: random.Random) -> None:
    docs = list(corpus.documents)
    rnd.shuffle(docs)
    assert find_reuse(Corpus(tuple(docs)), min_words=4) == find_reuse(corpus, min_words=4)


def test_earlier_document_is_side_a() -> None:
    rng = random.Random(3)
    late = doc("a_late", prose(rng, 50) + PLANT + prose(rng, 50), date="2024")
    early = doc("z_early", prose(rng, 40) + PLANT, date="2007-05")
    result = find_reuse(Corpus((late, early)))
    assert result.passages and all(p.a.doc == "z_early" for p in result.passages)


# --- planted passages, edit tolerance -------------------------------------------------------


def plant(text: str, piece: str, at: float) -> tuple[str, int, int]:
    cut = text.rfind(" ", 0, int(len(text) * at)) + 1
    return text[:cut] + piece + " " + text[cut:], cut, cut + len(piece)


def test_planted_passage_is_found_whole() -> None:
    corpus = load_corpus([SEEDS])
    host = corpus.get("002")
    text, start, end = plant(host.text, PLANT, 0.5)
    source = corpus.get("000")
    result = find_reuse(Corpus((source, doc("002", text, "2025-03-31"))))
    [p] = covering(result, "000", "002")
    assert p.b.start == start and p.b.end == end - 1  # the final full stop is not a word
    src_start = source.text.index(PLANT)
    assert p.a.start == src_start and p.a.end == src_start + len(PLANT) - 1
    assert p.similarity == 1.0 and p.words == word_count(PLANT) == 62


def edited(text: str) -> str:
    """Substitutions, deletions, case, quotes and hard line breaks."""
    return (
        text.replace("leader", "champion")
        .replace("irregular ", "")
        .replace("Our Organised Immigration Crime Taskforce", "our ORGANISED IMMIGRATION CRIME "
                 "taskforce")
        .replace("every opportunity", "\u201cevery opportunity\u201d")
        .replace("transit countries and in Europe", "transit countries and\nin Europe")
        .replace("identify", "find")
        .replace("This Taskforce is", "This Taskforce\r\nis")
        .replace("17 countries", "18 countries")
    )


def test_edited_passage_is_one_passage() -> None:
    rng = random.Random(7)
    a_text = prose(rng, 80) + " " + PLANT + " " + prose(rng, 80)
    b_piece = edited(PLANT)
    b_text, start, end = plant(prose(rng, 150), b_piece, 0.3)
    result = find_reuse(Corpus((doc("a", a_text, "2016"), doc("b", b_text, "2023"))))
    [p] = covering(result, "a", "b")
    assert p.b.start <= start + 4 and p.b.end >= end - 2
    assert p.a.text.startswith("The UK will") and p.a.text.endswith("destination countries")
    assert 0.85 <= p.similarity < 1.0
    assert p.words >= 55


def test_heavier_edits_still_one_passage() -> None:
    words = PLANT.split()
    rng = random.Random(11)
    for i in sorted(rng.sample(range(len(words)), 12), reverse=True):
        if rng.random() < 0.5:
            del words[i]
        else:
            words[i] = rng.choice(WORDS)
    words[20:24] = words[22:24] + words[20:22]  # a little reordering
    b_text = prose(rng, 60) + " " + " ".join(words) + " " + prose(rng, 60)
    a_text = prose(rng, 60) + " " + PLANT
    result = find_reuse(Corpus((doc("a", a_text), doc("b", b_text))))
    [p] = covering(result, "a", "b")
    assert p.words >= 40 and p.similarity >= 0.7


# --- boilerplate, options -------------------------------------------------------------------


def test_short_formulas_are_not_passages() -> None:
    rng = random.Random(5)
    texts = [
        prose(rng, 40) + " the Home Secretary said " + prose(rng, 40) + " in order to "
        + prose(rng, 40)
        for _ in range(3)
    ]
    result = find_reuse(Corpus(tuple(doc(f"d{i}", t) for i, t in enumerate(texts))))
    assert result.passages == ()
    assert find_reuse(Corpus(tuple(doc(f"d{i}", t) for i, t in enumerate(texts))),
                      min_words=3, min_bits=0).passages != ()


def test_frequent_phrases_are_boilerplate() -> None:
    rng = random.Random(9)
    phrase = "we are committed to working with international partners to secure our borders"
    docs = tuple(doc(f"d{i:02}", prose(rng, 30) + " " + phrase + " " + prose(rng, 30))
                 for i in range(24))
    # In more than max_df of the documents (never fewer than 10), a phrase says nothing.
    assert df_limit(24, 0.05) == 10 and df_limit(1000, 0.05) == 50 and df_limit(5, 30) == 30
    assert find_reuse(Corpus(docs)).passages == ()
    allowed = find_reuse(Corpus(docs), max_df=1.0)
    # A phrase this frequent seeds each document with the next, and the chain of passages
    # forms one cluster of all 24.
    [c] = allowed.clusters
    assert len(c.documents) == 24 and c.earliest == "d00"
    assert all(phrase in " ".join(p.b.text.split()) for p in allowed.passages)


def test_min_words_option() -> None:
    corpus = load_corpus([SEEDS])
    loose = find_reuse(corpus, min_words=4, min_bits=0)
    strict = find_reuse(corpus, min_words=DEFAULT_MIN_WORDS, min_bits=0)
    assert len(loose.passages) > len(strict.passages) > 0
    assert {p.words for p in strict.passages} >= {DEFAULT_MIN_WORDS}
    assert min(p.words for p in strict.passages) >= DEFAULT_MIN_WORDS


def test_doc_focus() -> None:
    corpus = load_corpus([SEEDS])
    full = find_reuse(corpus)
    focus = find_reuse(corpus, doc="002")
    assert focus.passages and all("002" in (p.a.doc, p.b.doc) for p in focus.passages)
    strip = {(p.a, p.b) for p in full.passages if "002" in (p.a.doc, p.b.doc)}
    assert {(p.a, p.b) for p in focus.passages} == strip


# --- clusters, ranking ----------------------------------------------------------------------


def test_seeds_cluster_travels_from_2007_to_2025() -> None:
    result = find_reuse(load_corpus([SEEDS]))
    [c] = result.clusters
    assert c.documents == ("004", "001", "003", "002") and c.earliest == "004"
    # The chance rule keeps the formula's long forms (61+ bits), not its 6-word pieces.
    assert [p.id for p in result.passages] == [f"r{i}" for i in range(1, 5)]
    keys = [(-p.words, -p.similarity) for p in result.passages]
    assert keys == sorted(keys)
    for p in result.passages:
        assert (p.cluster == "c1") == (p.id in c.passages)
        assert "no right to" in p.a.text and "no right to" in p.b.text


def test_chain_boxes_bridges_gaps_but_not_distance() -> None:
    runs = [(0, 5, 100, 105), (8, 14, 106, 112), (40, 45, 300, 305)]
    chains = chain_boxes(runs, gap=10)
    assert [c[0] for c in chains] == [(0, 14, 100, 112), (40, 45, 300, 305)]


# --- edge cases -----------------------------------------------------------------------------


def test_empty_and_single_document_corpora() -> None:
    assert find_reuse(Corpus(())).passages == ()
    one = Corpus((doc("only", PLANT + " " + PLANT),))
    assert find_reuse(one).passages == () and find_reuse(one).clusters == ()
    none = find_reuse(Corpus((doc("a", "..."), doc("b", "!!"))))
    assert none.passages == () and none.clusters == () and none.words == {"a": 0, "b": 0}
