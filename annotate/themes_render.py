"""Rich renderables and the JSON shape of `annotate themes`: pure functions, no I/O.

The matrix shows how often each theme hits (units per statement) with the statements in date
order, a bar and a background shade scaled to the theme's own maximum, so a theme's rise and
fall reads left to right even without colour. The passage view shows one theme's sentences
statement by statement, the evidence highlighted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.color import Color, ColorParseError
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from annotate.model import Codebook, Document, Theme, ThemeHit
from annotate.palette import palette
from annotate.render import date_label, document_summary
from annotate.sanitize import visible

BARS = "▁▂▃▄▅▆▇█"
LABEL_WIDTH = 28
MAX_HEAD = 6  # longer ids are shown as their position (#1, #2, ...) in column heads
PASSAGE_COLUMN_MIN = 40  # narrowest readable column in the side-by-side passage view
_BACKGROUND = (28, 28, 28)
_WHITESPACE = re.compile(r"\s")

Hits = Mapping[str, Sequence[ThemeHit]]


def theme_depths(codebook: Codebook) -> list[tuple[Theme, int]]:
    """Themes in hierarchy order (each parent followed by its children), with their depth."""
    children: dict[str | None, list[Theme]] = {}
    ids = set(codebook.ids)
    for t in codebook.themes:
        parent = t.parent if t.parent in ids else None
        children.setdefault(parent, []).append(t)
    out: list[tuple[Theme, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for t in children.get(parent, []):
            out.append((t, depth))
            walk(t.id, depth + 1)

    walk(None, 0)
    return out


def counts_by_theme(codebook: Codebook, documents: Sequence[Document], hits: Hits) -> dict[
    str, list[int]
]:
    """Units hit per theme, one count per document in the given order."""
    index = {d.id: i for i, d in enumerate(documents)}
    counts = {t.id: [0] * len(documents) for t in codebook.themes}
    for doc_id, doc_hits in hits.items():
        i = index.get(doc_id)
        if i is None:
            continue
        for h in doc_hits:
            for t in h.themes:
                if t in counts:
                    counts[t][i] += 1
    return counts


def _rgb(color: str | None) -> tuple[int, int, int]:
    if color:
        try:
            t = Color.parse(color).get_truecolor()
            return (t.red, t.green, t.blue)
        except ColorParseError:
            pass
    return (95, 135, 175)


def _shade(n: int, peak: int, color: str | None) -> tuple[str, Style]:
    if n == 0 or peak == 0:
        return "·", Style(dim=True)
    frac = n / peak
    bar = BARS[max(0, math.ceil(frac * len(BARS)) - 1)]
    r, g, b = _rgb(color)
    mix = 0.25 + 0.75 * frac
    bg = tuple(int(a + (c - a) * mix) for a, c in zip(_BACKGROUND, (r, g, b), strict=True))
    light = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 140
    style = Style(bgcolor=Color.from_rgb(*bg), color="black" if light else "white", bold=True)
    return bar, style


def _groups(documents: Sequence[Document], columns: int) -> list[list[int]]:
    """Consecutive documents (date order) folded into at most `columns` columns."""
    n = len(documents)
    if n <= columns:
        return [[i] for i in range(n)]
    size = math.ceil(n / columns)
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def theme_matrix(
    codebook: Codebook, documents: Sequence[Document], hits: Hits, width: int = 100
) -> Table:
    """The theme × statement matrix: statements in date order as columns (with their dates),
    counts of units hit with a bar and shade scaled to each theme's maximum, then the total
    and each theme's first and last appearance. When the statements do not fit the width,
    consecutive ones are summed into one column, and the caption says so."""
    counts = counts_by_theme(codebook, documents, hits)
    rows = theme_depths(codebook)
    pal = palette(codebook)
    label_width = min(
        LABEL_WIDTH, max(14, width // 4), max((len(t.label) + 2 * d for t, d in rows), default=10)
    )
    numbered = any(len(d.id) > MAX_HEAD for d in documents)
    edge = max((len(_when(documents, i, numbered)) for i in range(len(documents))), default=3)
    longest = max((sum(row) for row in counts.values()), default=0)
    ids = max((len(d.id) for d in documents), default=3)
    head = len(f"#{len(documents)}–") if numbered else ids
    cell = max(5, head, len(str(longest)) + 2)
    # Each column costs its width plus 2 of padding; the rest is label, total, first, last.
    fixed = label_width + 2 + (5 + 2) + 2 * (edge + 2)
    fit = max(1, (width - fixed) // (cell + 2))
    groups = _groups(documents, fit)

    title = f"Themes × statements: {visible(codebook.name)}"
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False
    )
    table.add_column("theme", no_wrap=True, max_width=label_width, overflow="ellipsis")
    for g in groups:
        table.add_column(
            _head(documents, g, numbered), justify="right", no_wrap=True, min_width=4
        )
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)

    for theme, depth in rows:
        row = counts[theme.id]
        cells = [sum(row[i] for i in g) for g in groups]
        peak = max(cells, default=0)
        label = Text("  " * depth + visible(theme.label), style=Style(color=pal.hex(theme.id)))
        rendered: list[RenderableType] = [label]
        for n in cells:
            bar, style = _shade(n, peak, pal.hex(theme.id))
            rendered.append(Text(f"{n} {bar}" if n else bar, style=style))
        seen = [i for i, n in enumerate(row) if n]
        rendered.append(Text(str(sum(row)), style="bold"))
        rendered.append(Text(_when(documents, seen[0] if seen else None, numbered)))
        rendered.append(Text(_when(documents, seen[-1] if seen else None, numbered)))
        table.add_row(*rendered)

    folded = len(groups) < len(documents)
    note = f"{len(documents)} statements in date order"
    if numbered:
        note += " (#N: the Nth)"
    if folded:
        note += f", up to {len(groups[0])} per column (counts summed)"
    note += f"; counts are {codebook.unit}s hit; bars scale to each theme's maximum"
    table.caption = note
    table.caption_justify = "left"
    return table


def _head(documents: Sequence[Document], g: list[int], numbered: bool) -> str:
    """Column head: the statement's id, year and month-day (or range end) on three lines;
    for a column of several statements, the first and last."""
    first, last = documents[g[0]], documents[g[-1]]
    if numbered:
        return f"#{g[0] + 1}" if len(g) == 1 else f"#{g[0] + 1}–\n#{g[-1] + 1}"
    if len(g) > 1:
        return f"{visible(first.id)}–\n{visible(last.id)}"
    date = visible(short_date(first))
    head = f"{date[:4]}\n{date[4:].lstrip('-') if '–' not in date else date[4:]}"
    return f"{visible(first.id)}\n{head}"


def short_date(d: Document) -> str:
    """A date short enough for a column head: a range within one year is that year."""
    date = d.meta.date
    if date is None:
        return "?"
    start, _, end = date.partition("/")
    if not end:
        return date
    if start[:4] == end[:4]:
        return start[:4]
    return f"{start[:4]}–{end[2:4]}"


def _when(documents: Sequence[Document], i: int | None, numbered: bool) -> str:
    """A theme's first or last statement: its id (or #position) and year."""
    if i is None:
        return "—"
    d = documents[i]
    name = f"#{i + 1}" if numbered else visible(d.id)
    return name if d.meta.date is None else f"{name} ({visible(short_date(d)[:4])})"


def highlighted(doc: Document, hit: ThemeHit, theme: Theme, color: str | None = None) -> Text:
    """The unit's text, whitespace flattened and control characters made visible (both one
    character for one, so offsets are kept), this theme's evidence marked."""
    raw = doc.text[hit.start : hit.end]
    text = Text(visible(_WHITESPACE.sub(" ", raw)))
    style = Style(bold=True, underline=True, color=color or theme.color or None, reverse=True)
    for e in hit.evidence:
        if e.theme == theme.id:
            text.stylize(style, e.start - hit.start, e.end - hit.start)
    return text


def theme_passages(
    codebook: Codebook,
    theme_id: str,
    documents: Sequence[Document],
    hits: Hits,
    width: int = 100,
) -> RenderableType:
    """One theme's passages, statement by statement in date order, evidence highlighted;
    side by side when every statement gets a column of PASSAGE_COLUMN_MIN or more."""
    theme = codebook.get(theme_id)
    color = palette(codebook).hex(theme_id)
    panels: list[Panel] = []
    total = 0
    for d in documents:
        mine = [h for h in hits.get(d.id, ()) if theme_id in h.themes]
        if not mine:
            continue
        total += len(mine)
        body = Table.grid(padding=(0, 1))
        body.add_column(style="dim", no_wrap=True)
        body.add_column(ratio=1)
        for h in mine:
            body.add_row(visible(h.unit.split(".", 1)[-1]), highlighted(d, h, theme, color))
        title = f"{visible(d.id)} · {date_label(d)}"
        if d.meta.title:
            title += f" · {visible(d.meta.title)}"
        panels.append(
            Panel(
                body,
                title=Text(title, style="bold"),
                title_align="left",
                subtitle=f"{len(mine)} {codebook.unit}{'s' if len(mine) != 1 else ''}",
                subtitle_align="right",
                border_style=Style(color=color),
            )
        )
    header = Text()
    header.append(visible(theme.label), style=Style(bold=True, color=color))
    header.append(f"  [{theme.id}]", style="dim")
    header.append(f"  {total} {codebook.unit}s in {len(panels)} of {len(documents)} statements")
    parts: list[RenderableType] = [header]
    if theme.description:
        parts.append(Text(visible(" ".join(theme.description.split())), style="italic"))
    if not panels:
        parts.append(Text("No passages for this theme.", style="dim"))
        return Group(*parts)
    if len(panels) > 1 and width >= PASSAGE_COLUMN_MIN * len(panels):
        grid = Table.grid(padding=(0, 1), expand=True)
        for _ in panels:
            grid.add_column(ratio=1)
        grid.add_row(*panels)
        parts.append(grid)
    else:
        parts.extend(panels)
    return Group(*parts)


def codebook_view(codebook: Codebook) -> Table:
    """The codebook as a table: hierarchy, label, colour, patterns and excludes."""
    where = f" ({codebook.path})" if codebook.path else ""
    pal = palette(codebook)
    table = Table(
        title=visible(f"{codebook.name}{where}") + f": {len(codebook.themes)} themes, "
        f"unit {codebook.unit}",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("label", ratio=2, overflow="fold")
    table.add_column("patterns", ratio=4, overflow="fold")
    table.add_column("exclude", ratio=1, overflow="fold")
    for theme, depth in theme_depths(codebook):
        tid = Text("  " * depth + ("└ " if depth else ""))
        tid.append("■ ", style=Style(color=pal.hex(theme.id)))
        tid.append(theme.id, style="bold")
        table.add_row(
            tid,
            visible(theme.label),
            visible("; ".join(theme.patterns)) or Text("(none)", style="dim"),
            visible("; ".join(theme.exclude)),
        )
    return table


def theme_record(t: Theme) -> dict[str, Any]:
    """A theme as JSON: what `codebook show --json` lists and `themes --json` builds on."""
    return {
        "id": t.id,
        "label": t.label,
        "description": t.description,
        "parent": t.parent,
        "color": t.color,
        "patterns": list(t.patterns),
        "exclude": list(t.exclude),
        "examples": list(t.examples),
    }


def themes_json(
    codebook: Codebook,
    documents: Sequence[Document],
    hits: Hits,
    theme_id: str | None = None,
) -> dict[str, Any]:
    """The documented `annotate themes --json` shape; `theme_id` keeps one theme only."""
    counts = counts_by_theme(codebook, documents, hits)
    themes = [t for t in codebook.themes if theme_id is None or t.id == theme_id]
    theme_records = []
    for t in themes:
        row = counts[t.id]
        seen = [documents[i].id for i, n in enumerate(row) if n]
        theme_records.append(
            {
                **theme_record(t),
                "counts": {d.id: n for d, n in zip(documents, row, strict=True)},
                "total": sum(row),
                "first": seen[0] if seen else None,
                "last": seen[-1] if seen else None,
            }
        )
    hit_records = []
    for d in documents:
        for h in hits.get(d.id, ()):
            if theme_id is not None and theme_id not in h.themes:
                continue
            hit_records.append(
                {
                    "doc": h.doc,
                    "start": h.start,
                    "end": h.end,
                    "unit": h.unit,
                    "themes": [t for t in h.themes if theme_id is None or t == theme_id],
                    "evidence": [
                        {
                            "theme": e.theme,
                            "pattern": e.pattern,
                            "start": e.start,
                            "end": e.end,
                            "text": e.text,
                        }
                        for e in h.evidence
                        if theme_id is None or e.theme == theme_id
                    ],
                }
            )
    return {
        "codebook": {
            "name": codebook.name,
            "path": str(codebook.path) if codebook.path else None,
            "unit": codebook.unit,
            "language": codebook.language,
        },
        "documents": [document_summary(d) for d in documents],
        "themes": theme_records,
        "hits": hit_records,
    }
