"""Rich renderables and JSON shapes for the corpus layer: pure, no I/O.

Other areas keep their renderings beside their core (e.g. `themes_render.py`) and reuse the
helpers here.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from annotate.corpus import Corpus
from annotate.model import Document
from annotate.sanitize import visible
from annotate.text import word_count


def console(width: int | None = None) -> Console:
    """The console commands print to; tests pass a width and read `export_text()`.

    Markup is off: titles, speakers and texts are the user's, and "[/x]" in them is text, not
    a rich tag (it used to crash with a traceback)."""
    return Console(width=width, highlight=False, soft_wrap=False, markup=False)


def document_summary(d: Document) -> dict[str, Any]:
    """The per-document record shared by every `--json` output (`documents` list)."""
    return {
        **d.metadata_record(),
        "words": word_count(d.text),
        "sentences": len(d.sentences),
        "paragraphs": len(d.paragraphs),
        "characters": len(d.text),
        "metadata_from": d.meta.origin,
    }


def document_json(d: Document) -> dict[str, Any]:
    return {
        **document_summary(d),
        "paragraphs": [
            {
                "id": p.id,
                "start": p.start,
                "end": p.end,
                "sentences": [
                    {"id": s.id, "start": s.start, "end": s.end, "text": s.text}
                    for s in p.sentences
                ],
            }
            for p in d.paragraphs
        ],
    }


def date_label(d: Document) -> str:
    date = d.meta.date
    if date is None:
        return "?"
    return visible(date.replace("/", "–") if d.meta.date_precision == "range" else date)


def corpus_table(c: Corpus) -> Table:
    title = visible(c.name or "Corpus")
    n = len(c.documents)
    table = Table(title=f"{title} ({n} document{'' if n == 1 else 's'})", title_justify="left")
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("date", no_wrap=True)
    with_series = any(d.meta.series for d in c.documents)
    if with_series:
        table.add_column("series", no_wrap=True, max_width=12)
    table.add_column("title", ratio=3, overflow="fold")
    table.add_column("speakers", ratio=2, overflow="fold")
    table.add_column("words", justify="right", no_wrap=True)
    table.add_column("sentences", justify="right", no_wrap=True)
    for d in c.documents:
        title = d.meta.title or ""
        if d.meta.place:
            title += f" ({d.meta.place})"
        table.add_row(
            visible(d.id),
            date_label(d),
            *([visible(d.meta.series or "")] if with_series else []),
            visible(title),
            visible(", ".join(d.meta.speakers) or d.meta.author or ""),
            f"{word_count(d.text):,}",
            str(len(d.sentences)),
        )
    return table


def document_view(d: Document, width: int = 100) -> Group:
    """The text with paragraph and sentence ids in a left gutter; hard wraps unfolded.
    Everything from the file is shown with its control characters made visible."""
    header = Text()
    header.append(visible(d.meta.title or d.id), style="bold")
    header.append(visible(f"  [{d.id}, {date_label(d)}, {d.path}]"), style="dim")
    parts: list[Any] = [header, Text()]
    gutter = max((len(s.id) for s in d.sentences), default=8) + 1
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=gutter, no_wrap=True, style="cyan")
    grid.add_column(ratio=1)
    for p in d.paragraphs:
        for s in p.sentences:
            grid.add_row(visible(s.id), visible(" ".join(s.text.split())))
        grid.add_row("", "")
    parts.append(grid)
    return Group(*parts)
