"""Rich renderables for phrase reuse: the ranked passage table of `annotate reuse` and the
side-by-side view of `annotate compare A B`. Pure: they build renderables, print nothing."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from annotate.corpus import Corpus
from annotate.diff import DELETE, EQUAL, INSERT, char_diff
from annotate.model import Cluster, Document, Passage, Side
from annotate.render import date_label
from annotate.sanitize import visible
from annotate.text import word_count

DELETED = "red strike"
INSERTED = "green underline"
GAP = "dim italic"


def flat(text: str) -> str:
    """Text on one line for the terminal: line breaks and runs of spaces become single
    spaces, and control characters are made visible."""
    return visible(" ".join(text.split()))


def excerpt(text: str, limit: int) -> str:
    t = flat(text)
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def _where(s: Side) -> str:
    return f"{visible(s.doc)} [{s.start}:{s.end}]"


def passage_table(
    corpus: Corpus, passages: Sequence[Passage], *, min_words: int, total: int | None = None,
    width: int = 100,
) -> Table:
    """The ranked passages: id, words, similarity, cluster, then each side (earlier first)."""
    shown = len(passages)
    total = shown if total is None else total
    more = f", the first {shown} shown" if shown < total else ""
    table = Table(
        title=f"{total} shared passages of {min_words}+ words in {len(corpus)} documents{more}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=False,
        padding=(0, 1),
    )
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("words", justify="right", no_wrap=True)
    table.add_column("sim", justify="right", no_wrap=True)
    table.add_column("earlier", ratio=1, overflow="fold")
    table.add_column("later", ratio=1, overflow="fold")
    limit = max(40, (width - 24) // 2 * 3)
    for p in passages:
        label = Text(p.id)
        if p.cluster:
            label.append(f"\n{p.cluster}", style="cyan")
        if p.same_series:  # kept by --within-series: a paper reprinting itself
            label.append("\nsame\nseries", style="yellow")
        a = Text(_where(p.a), style="cyan")
        a.append("\n" + excerpt(p.a.text, limit), style="default")
        b = Text(_where(p.b), style="cyan")
        b.append("\n" + excerpt(p.b.text, limit), style="default")
        table.add_row(label, str(p.words), f"{p.similarity:.2f}", a, b)
    return table


def _doc_label(corpus: Corpus, doc_id: str) -> str:
    d = corpus.get(doc_id)
    return visible(f"{doc_id} ({date_label(d)})" if d.meta.date else doc_id)


def cluster_table(
    corpus: Corpus, clusters: Sequence[Cluster], passages: Sequence[Passage],
    total: int | None = None,
) -> Table:
    """Phrases found in three or more documents, documents in date order."""
    by_id = {p.id: p for p in passages}
    total = len(clusters) if total is None else total
    more = f", the first {len(clusters)} shown" if len(clusters) < total else ""
    table = Table(
        title=f"{total} cluster{'s' if total != 1 else ''} (passages shared by 3+ "
        f"documents){more}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("documents, earliest first", ratio=1, overflow="fold")
    table.add_column("passages", ratio=1, overflow="fold")
    table.add_column("earliest wording", ratio=2, overflow="fold")
    for c in clusters:
        labels = [_doc_label(corpus, d) for d in c.documents]
        if len(labels) > 6:
            labels = [*labels[:5], f"… {len(labels) - 5} more"]
        ids = list(c.passages)
        shown = ", ".join(ids[:8]) + (f", … {len(ids) - 8} more" if len(ids) > 8 else "")
        first = next(
            (s for pid in c.passages if pid in by_id
             for s in (by_id[pid].a, by_id[pid].b) if s.doc == c.earliest),
            None,
        )
        table.add_row(c.id, " → ".join(labels), shown, excerpt(first.text, 200) if first else "")
    return table


def reuse_view(
    corpus: Corpus,
    passages: Sequence[Passage],
    clusters: Sequence[Cluster],
    *,
    min_words: int,
    limit: int | None = None,
    width: int = 100,
) -> Group:
    """The ranked passages, then the clusters; `limit` cuts both lists."""
    shown = passages[:limit] if limit else passages
    parts: list[RenderableType] = [
        passage_table(corpus, shown, min_words=min_words, total=len(passages), width=width)
    ]
    if clusters:
        parts.append(cluster_table(corpus, clusters[:limit] if limit else clusters, passages,
                                   total=len(clusters)))
    return Group(*parts)


# --- compare A B ----------------------------------------------------------------------------


def diff_texts(a: str, b: str) -> tuple[Text, Text]:
    """Both sides of a passage with what changed marked: words only in `a` struck through
    in red on the left, words only in `b` underlined in green on the right. Line breaks and
    spacing are flattened first so a hard wrap is not a change."""
    left, right = Text(), Text()
    for op, chunk in char_diff(flat(a), flat(b)):
        if op == EQUAL:
            left.append(chunk)
            right.append(chunk)
        elif op == DELETE:
            left.append(chunk, style=DELETED)
        elif op == INSERT:
            right.append(chunk, style=INSERTED)
    return left, right


def _gap(text: str, start: int, end: int) -> Text:
    if end < start:
        return Text("↑ (this passage comes earlier here)", style=GAP)
    n = word_count(text[start:end])
    if n == 0:
        return Text("")
    return Text(f"… {n:,} word{'s' if n != 1 else ''} …", style=GAP)


def _heading(d: Document, width: int) -> Text:
    """Id and date, then the title cut to the column."""
    t = Text(visible(d.id), style="bold")
    t.append(f" · {date_label(d)}", style="cyan")
    if d.meta.title:
        t.append("\n" + excerpt(d.meta.title, max(10, (width - 4) // 2)))
    return t


def compare_view(
    a: Document, b: Document, passages: Sequence[Passage], *, min_words: int, width: int = 80
) -> Group:
    """`a` and `b` side by side: each shared passage on one row with its character diff,
    the unshared stretches between passages shown as word counts."""
    ordered = sorted(
        (_orient(p, a.id) for p in passages), key=lambda s: (s[0].start, s[1].start)
    )

    def grid() -> Table:
        g = Table.grid(padding=(0, 2), expand=True)
        g.add_column(ratio=1, overflow="fold")
        g.add_column(ratio=1, overflow="fold")
        return g

    parts: list[RenderableType] = []
    head = grid()
    head.add_row(_heading(a, width), _heading(b, width))
    parts.append(head)
    total = sum(p.words for p in passages)
    summary = (
        f"{len(passages)} shared passage{'s' if len(passages) != 1 else ''}, {total:,} "
        f"matching words (passages of {min_words}+ words)"
        if passages else f"No shared passages of {min_words}+ words."
    )
    parts.append(Text(summary, style="bold"))
    ea = eb = 0
    for sa, sb, p in ordered:
        g = grid()
        gap_a, gap_b = _gap(a.text, ea, sa.start), _gap(b.text, eb, sb.start)
        if gap_a.plain or gap_b.plain:
            g.add_row(gap_a, gap_b)
        label = f"── {p.id} · {p.words} words · similarity {p.similarity:.2f}"
        if p.cluster:
            label += f" · cluster {p.cluster}"
        g.add_row(Text(label, style="cyan"), Text(f"[{sa.start}:{sa.end}] ↔ "
                                                  f"[{sb.start}:{sb.end}]", style="cyan"))
        left, right = diff_texts(sa.text, sb.text)
        g.add_row(left, right)
        parts.append(g)
        ea, eb = max(ea, sa.end), max(eb, sb.end)
    tail = grid()
    gap_a, gap_b = _gap(a.text, ea, len(a.text)), _gap(b.text, eb, len(b.text))
    if gap_a.plain or gap_b.plain:
        tail.add_row(gap_a, gap_b)
        parts.append(tail)
    return Group(*parts)


def _orient(p: Passage, a_id: str) -> tuple[Side, Side, Passage]:
    return (p.a, p.b, p) if p.a.doc == a_id else (p.b, p.a, p)
