"""A planted-passage corpus for scoring phrase reuse, built deterministically from real
speeches, and PAN's text-alignment measures at character level.

Each case is a pair of real speeches, a *source* and a *host*, that already share a few
short phrases by chance or idiom, as speeches do ("at the end of the day"), but no passage
of 10 matching words or more. A stretch of 30-300 words of the source is planted in the host at a
sentence boundary, with none, light, medium or heavy word-level edits (substituted,
deleted and inserted words, then for heavy also swapped stretches). Each speech serves in
one case at most, and a detector sees all of them as one corpus (as a user would run it,
so corpus word frequencies are those of a few hundred speeches); as in PAN's text
alignment task only the case pairs are scored, and whatever a detector reports in them
outside the plant, such as the shared idioms, costs precision.

PAN (Potthast et al., "An Evaluation Framework for Plagiarism Detection", 2010): with S the
cases and R the detections, each a set of characters on both sides, r *detects* s when they
overlap in the source and in the host, and s ⊓ r = s ∩ r then (else ∅):
precision = mean over r of |∪_s (s ⊓ r)| / |r|; recall = mean over s of |∪_r (s ⊓ r)| /
|s|; granularity = mean over detected s of the number of r detecting it;
plagdet = F1 / log2(1 + granularity).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LEVELS = {"none": 0.0, "light": 0.1, "medium": 0.2, "heavy": 0.3}
SEED = 1916
MIN_PLANT, MAX_PLANT = 30, 300
# Speeches sharing a passage of this many matching words before planting quote each other
# (idioms are shorter): such pairs share real text, so they are not used.
LONG_SHARED = 10


@dataclass(frozen=True)
class Case:
    level: str
    source: str  # the source speech's text
    host: str  # the host speech's text, with the plant
    s0: int  # the planted stretch of the source, [s0, s1)
    s1: int
    t0: int  # where it sits in the host, [t0, t1)
    t1: int
    words: int  # words planted (before edits)
    idioms: int  # short phrases the pair shared before planting


# A detection: document i, its [start, end), document j, its [start, end).
Detection = tuple[int, int, int, int, int, int]
# Given the corpus (source k is document 2k, its host 2k + 1), all detections.
Detector = Callable[[list[str]], list[Detection]]


def _edit(words: list[str], rate: float, heavy: bool, rng: random.Random,
          vocab: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < rate / 2:
            out.append(rng.choice(vocab))  # substitution
        elif r < rate * 3 / 4:
            continue  # deletion
        elif r < rate:
            out.extend([w, rng.choice(vocab)])  # insertion
        else:
            out.append(w)
    if heavy:
        for _ in range(max(1, len(out) // 40)):  # two short stretches swapped, in places
            i = rng.randrange(max(1, len(out) - 8))
            k = rng.randint(2, 4)
            out[i : i + 2 * k] = out[i + k : i + 2 * k] + out[i : i + k]
    return out


def build_cases(
    speeches: Sequence[str], per_level: int, shared: Callable[[str, str], list[int]],
    seed: int = SEED,
) -> list[Case]:
    """`per_level` cases for each level of `LEVELS`. `shared(a, b)` lists the lengths in
    words of the passages two texts share before planting (the detector with its chance
    rule off serves), to choose pairs that share idioms and nothing longer."""
    from annotate.text import TOKEN

    rng = random.Random(seed)
    texts = [t for t in speeches if len(t.split()) > 600]
    rng.shuffle(texts)
    cases: list[Case] = []
    for level, rate in LEVELS.items():
        made = 0
        while made < per_level:
            if len(texts) < 2:
                raise ValueError(f"too few speeches for {per_level} cases a level")
            source = texts.pop()
            for k in range(len(texts) - 1, -1, -1):
                before = shared(source, texts[k])
                if before and max(before) < LONG_SHARED:
                    host = texts.pop(k)
                    break
            else:
                continue
            spans = [m.span() for m in TOKEN.finditer(source)]
            # Lengths spread evenly on a log scale: as many short plants as long ones.
            length = round(math.exp(rng.uniform(math.log(MIN_PLANT), math.log(MAX_PLANT))))
            i = rng.randrange(0, len(spans) - length)
            s0, s1 = spans[i][0], spans[i + length - 1][1]
            words = source[s0:s1].split()
            edited = _edit(words, rate, level == "heavy", rng, host.split())
            piece = "".join(w + ("\n" if n % 12 == 11 else " ")
                            for n, w in enumerate(edited)).strip()
            cut = host.find(". ", rng.randrange(len(host) // 4, 3 * len(host) // 4)) + 2
            if cut < 2:
                cut = len(host)
            planted = host[:cut] + piece + " " + host[cut:]
            cases.append(Case(level, source, planted, s0, s1, cut, cut + len(piece), length,
                              len(before)))
            made += 1
    return cases


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    granularity: float
    detections: int

    @property
    def plagdet(self) -> float:
        p, r = self.precision, self.recall
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return f1 / math.log2(1 + self.granularity)


def corpus_of(cases: Sequence[Case]) -> list[str]:
    """The detectors' corpus: source k is document 2k, its host 2k + 1."""
    return [t for c in cases for t in (c.source, c.host)]


def score(cases: Sequence[Case], detections: Sequence[Detection],
          only: Callable[[Case], bool] = lambda c: True) -> Scores:
    """PAN's measures of `detections` (over `corpus_of(cases)`) on the cases `only` keeps."""
    by_case: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    for i, a0, a1, j, b0, b1 in detections:
        if i // 2 == j // 2 and i != j:  # a case pair: source, host
            src, host = ((a0, a1), (b0, b1)) if i % 2 == 0 else ((b0, b1), (a0, a1))
            by_case.setdefault(i // 2, []).append((src, host))
    precisions: list[float] = []
    recall_sum, gran_sum, detected, n = 0.0, 0, 0, 0
    for k, c in enumerate(cases):
        if not only(c):
            continue
        n += 1
        found = by_case.get(k, [])
        case_len = (c.s1 - c.s0) + (c.t1 - c.t0)
        covered_s: set[int] = set()
        covered_t: set[int] = set()
        hits = 0
        for (a0, a1), (b0, b1) in found:
            in_s = max(0, min(a1, c.s1) - max(a0, c.s0))
            in_t = max(0, min(b1, c.t1) - max(b0, c.t0))
            if in_s and in_t:
                hits += 1
                covered_s.update(range(max(a0, c.s0), min(a1, c.s1)))
                covered_t.update(range(max(b0, c.t0), min(b1, c.t1)))
                precisions.append((in_s + in_t) / max(1, (a1 - a0) + (b1 - b0)))
            else:
                precisions.append(0.0)
        recall_sum += (len(covered_s) + len(covered_t)) / case_len
        if hits:
            detected += 1
            gran_sum += hits
    return Scores(
        precision=sum(precisions) / len(precisions) if precisions else 1.0,
        recall=recall_sum / n if n else 0.0,
        granularity=gran_sum / detected if detected else 1.0,
        detections=len(precisions),
    )
