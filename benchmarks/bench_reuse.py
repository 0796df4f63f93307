"""Phrase reuse: speed and memory at several corpus sizes (with an all-pairs difflib baseline
and the growth exponent), quality on planted passages scored with PAN's plagdet, and the time
of `annotate compare` on two ~5,000-word documents.

Run: `.venv/bin/python -m benchmarks.bench_reuse` (add `--quick` to skip the 50 MB size).
Each size runs in a fresh process so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import io
import math
import os
import random
import resource
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from difflib import SequenceMatcher
from multiprocessing import get_context
from pathlib import Path

from benchmarks.common import CHRONAM, SPEECHES, table

DIFFLIB_BUDGET = 120.0  # seconds; beyond it the baseline is extrapolated from the pairs done


def _load(files: Sequence[Path]):  # type: ignore[no-untyped-def]
    from annotate.corpus import load_corpus

    return load_corpus(list(files), skip_bad=True)


def _pss_mb() -> float:
    """Proportional set size of this process and its children (Linux), MB: memory shared
    with forked workers is counted once, unlike a sum of their ru_maxrss."""
    me, total = os.getpid(), 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            if int(d) != me and parent != me:
                continue
            with open(f"/proc/{d}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def _run_size(files: list[Path]) -> dict[str, float]:
    """In a fresh process: load, find reuse, report time, CPU time and peak memory."""
    import threading

    from annotate.reuse import find_reuse

    corpus = _load(files)
    chars = sum(len(d.text) for d in corpus.documents)
    peak_pss = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak_pss[0] = max(peak_pss[0], _pss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/smaps_rollup").exists():
        sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    result = find_reuse(corpus)
    seconds = time.perf_counter() - t0
    done.set()
    cpu = time.process_time() - c0 + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    return {
        "docs": len(corpus.documents),
        "mb": chars / 1e6,
        "seconds": seconds,
        "cpu": cpu,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pss": peak_pss[0],
        "passages": len(result.passages),
        "clusters": len(result.clusters),
    }


def _difflib_all_pairs(files: list[Path]) -> tuple[float, bool]:
    """All-pairs SequenceMatcher over token lists; (seconds, extrapolated?)."""
    corpus = _load(files)
    toks = [[t.norm for t in d.tokens] for d in corpus.documents]
    pairs = [(i, j) for i in range(len(toks)) for j in range(i + 1, len(toks))]
    t0 = time.perf_counter()
    done = 0
    for i, j in pairs:
        sm = SequenceMatcher(None, toks[i], toks[j])
        sum(b.size for b in sm.get_matching_blocks() if b.size >= 6)
        done += 1
        if time.perf_counter() - t0 > DIFFLIB_BUDGET:
            break
    seconds = time.perf_counter() - t0
    if done < len(pairs):
        return seconds * len(pairs) / done, True
    return seconds, False


def _in_child(fn, *args):  # type: ignore[no-untyped-def]
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def speed(quick: bool) -> None:
    sizes: list[tuple[str, list[Path], bool]] = []
    if SPEECHES.is_dir():
        sizes.append(("speeches (all)", sorted(SPEECHES.glob("*.txt")), False))
    else:
        print(f"skipped speeches: {SPEECHES} is absent")
    if CHRONAM.is_dir():
        pages = sorted(CHRONAM.glob("*.txt"))
        for n in (50, 200, 500) + (() if quick else (len(pages),)):
            sizes.append((f"chronam first {n}", pages[:n], n == 50))
    else:
        print(f"skipped chronam: {CHRONAM} is absent")
    rows = []
    chronam_points: list[tuple[float, float]] = []
    for name, files, baseline in sizes:
        r = _in_child(_run_size, files)
        base = ""
        if baseline:
            secs, extrapolated = _in_child(_difflib_all_pairs, files)
            base = f"{'~' if extrapolated else ''}{secs:.1f}"
        if name.startswith("chronam"):
            chronam_points.append((r["mb"], r["seconds"]))
        rows.append([
            name, int(r["docs"]), f"{r['mb']:.1f}", f"{r['seconds']:.1f}", f"{r['cpu']:.1f}",
            f"{r['peak']:.0f}", f"{r['pss']:.0f}" if r["pss"] else "-", int(r["passages"]),
            int(r["clusters"]), base or "-",
        ])
        print(f"  done: {name} in {r['seconds']:.1f} s", file=sys.stderr, flush=True)
    print(table(
        ["corpus", "docs", "MB", "time s", "cpu s", "peak RSS MB", "peak PSS all MB", "passages",
         "clusters", "difflib all-pairs s"],
        rows,
    ))
    if len(chronam_points) >= 2:
        xs = [math.log(mb) for mb, _ in chronam_points]
        ys = [math.log(s) for _, s in chronam_points]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        print(f"\ngrowth exponent (log-log slope of time vs MB, chronam sizes): {slope:.2f}")
    print("peak RSS: the main process (ru_maxrss); peak PSS all: the main process and its "
          "worker processes together, sampled every 0.2 s; cpu s includes the workers.")
    print("difflib all-pairs: SequenceMatcher over the token lists of every document pair "
          "(~ = extrapolated from the pairs done in a 120 s budget).")


# --- quality: PAN text alignment ------------------------------------------------------------


def _obfuscate(words: list[str], level: str, rng: random.Random, vocab: list[str]) -> str:
    if level == "none":
        return " ".join(words)
    rate = 0.1 if level == "light" else 0.3
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < rate / 2:
            out.append(rng.choice(vocab))  # substitution
        elif r < rate * 3 / 4:
            continue  # deletion
        elif r < rate and level == "heavy":
            out.extend([w, rng.choice(vocab)])  # insertion
        else:
            out.append(w)
        if rng.random() < rate / 2:
            out[-1:] = [out[-1].upper() if rng.random() < 0.5 else out[-1].strip(",.;:") + ","]
    if level == "heavy":
        for _ in range(max(1, len(out) // 40)):  # swap two short stretches in places
            i = rng.randrange(max(1, len(out) - 8))
            k = rng.randint(2, 4)
            out[i : i + 2 * k] = out[i + k : i + 2 * k] + out[i : i + k]
    text = ""
    for n, w in enumerate(out):
        text += w + ("\n" if n % 12 == 11 else " ")
    return text.strip()


def _cases(level: str, n: int, docs: list[tuple[str, str]]) -> list[dict[str, object]]:
    from annotate.corpus import Corpus
    from annotate.model import Document, Metadata
    from annotate.reuse import find_reuse
    from annotate.text import TOKEN

    rng = random.Random(f"pan-{level}")
    cases = []
    for k in range(n):
        # As in PAN's corpora, source and target share nothing before the plant, so every
        # passage found is about the plant (speeches by one party do share phrases).
        while True:
            (sid, stext), (tid, ttext) = rng.sample(docs, 2)
            pair = Corpus((Document(Path("s.txt"), stext, Metadata("s")),
                           Document(Path("t.txt"), ttext, Metadata("t"))))
            if not find_reuse(pair).passages:
                break
        spans = [m.span() for m in TOKEN.finditer(stext)]
        length = rng.randint(50, 300)
        i = rng.randrange(0, len(spans) - length)
        s0, s1 = spans[i][0], spans[i + length - 1][1]
        words = stext[s0:s1].split()
        vocab = ttext.split()
        piece = _obfuscate(words, level, rng, vocab)
        cut = ttext.find(". ", rng.randrange(len(ttext) // 2)) + 2
        if cut < 2:
            cut = len(ttext)
        target = ttext[:cut] + piece + " " + ttext[cut:]
        cases.append({
            "src": (f"s{k}", stext, s0, s1), "susp": (f"t{k}", target, cut, cut + len(piece)),
        })
    return cases


def _plagdet(cases: list[dict[str, object]], min_words: int) -> tuple[float, float, float]:
    """PAN 2013 text alignment: macro character precision and recall over (source,
    suspicious) character sets, granularity, on the detections of each case's pair."""
    from annotate.corpus import Corpus
    from annotate.model import Document, Metadata
    from annotate.reuse import find_reuse

    rec_sum, prec_parts, gran, detected = 0.0, [], 0, 0
    for case in cases:
        sid, stext, s0, s1 = case["src"]  # type: ignore[misc]
        tid, ttext, t0, t1 = case["susp"]  # type: ignore[misc]
        docs = (Document(Path(f"{sid}.txt"), stext, Metadata(sid)),
                Document(Path(f"{tid}.txt"), ttext, Metadata(tid)))
        found = find_reuse(Corpus(docs), min_words=min_words).passages
        gold_src, gold_susp = set(range(s0, s1)), set(range(t0, t1))
        covered_src: set[int] = set()
        covered_susp: set[int] = set()
        hits = 0
        for p in found:
            src, susp = (p.a, p.b) if p.a.doc == sid else (p.b, p.a)
            r_src, r_susp = set(range(src.start, src.end)), set(range(susp.start, susp.end))
            in_src, in_susp = r_src & gold_src, r_susp & gold_susp
            if in_src and in_susp:
                hits += 1
                covered_src |= in_src
                covered_susp |= in_susp
                prec_parts.append((len(in_src) + len(in_susp)) / (len(r_src) + len(r_susp)))
            else:
                prec_parts.append(0.0)
        rec_sum += (len(covered_src) + len(covered_susp)) / (len(gold_src) + len(gold_susp))
        if hits:
            detected += 1
            gran += hits
    recall = rec_sum / len(cases)
    precision = sum(prec_parts) / len(prec_parts) if prec_parts else 0.0
    granularity = gran / detected if detected else 1.0
    return precision, recall, granularity


def quality(n_cases: int = 40) -> None:
    from annotate.reuse import DEFAULT_MIN_WORDS

    if not SPEECHES.is_dir():
        print(f"skipped quality: {SPEECHES} is absent")
        return
    files = sorted(SPEECHES.glob("*.txt"))
    corpus = _load(files)
    docs = [(d.id, d.text) for d in corpus.documents if len(d.text.split()) > 400]
    rows = []
    for level in ("none", "light", "heavy"):
        cases = _cases(level, n_cases, docs)
        p, r, g = _plagdet(cases, DEFAULT_MIN_WORDS)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        plagdet = f1 / math.log2(1 + g)
        rows.append([level, len(cases), f"{p:.3f}", f"{r:.3f}", f"{g:.3f}", f"{plagdet:.3f}"])
    print("\nQuality: passages of 50-300 words from one speech planted in another "
          "(PAN text alignment style), character-level scores")
    print(table(["obfuscation", "cases", "precision", "recall", "granularity", "plagdet"],
                rows))


def compare_time() -> None:
    from rich.console import Console

    from annotate.corpus import Corpus
    from annotate.model import Document
    from annotate.reuse import find_reuse
    from annotate.reuse_render import compare_view

    if not SPEECHES.is_dir():
        print(f"skipped compare: {SPEECHES} is absent")
        return
    corpus = _load(sorted(SPEECHES.glob("*.txt")))
    big = sorted((d for d in corpus.documents if 4500 <= len(d.text.split()) <= 6000),
                 key=lambda d: d.id)[:2]
    if len(big) < 2:
        print("skipped compare: no two speeches of ~5,000 words")
        return
    a, b = big
    middle = b.text.find(". ", len(b.text) // 2) + 2
    piece = " ".join(a.text.split()[1000:1200])
    b = Document(b.path, b.text[:middle] + piece + " " + b.text[middle:], b.meta)
    t0 = time.perf_counter()
    result = find_reuse(Corpus((a, b)))
    con = Console(file=io.StringIO(), width=100)
    con.print(compare_view(a, b, result.passages, min_words=6, width=100))
    seconds = time.perf_counter() - t0
    print(f"\ncompare {a.id} ({len(a.text.split()):,} words) with {b.id} "
          f"({len(b.text.split()):,} words, 200 planted): {seconds:.2f} s in process, "
          f"{len(result.passages)} passages")
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for d in (a, b):
            (Path(tmp) / d.path.name).write_text(d.text, encoding="utf-8")
        exe = Path(sys.executable).with_name("annotate")
        t0 = time.perf_counter()
        subprocess.run([str(exe), "compare", a.id, b.id, tmp, "--width", "100"], check=True,
                       capture_output=True)
        print(f"`annotate compare` of the same two files, end to end (start-up, reading, "
              f"detection, rendering): {time.perf_counter() - t0:.2f} s")


def main() -> None:
    quick = "--quick" in sys.argv
    speed(quick)
    quality()
    compare_time()


if __name__ == "__main__":
    main()
