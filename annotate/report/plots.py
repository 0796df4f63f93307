"""The overview's plots as static SVG: the theme heatmap over time, the statement × statement
reuse matrix and the cluster timelines.

Static SVG needs no JavaScript library in the folder, prints sharply, and carries its own
text alternative (`<title>`/`<desc>`, one `<title>` per cell); every plot also has a table
with the same figures on the page. Each cell is a link, so the plots are navigable by keyboard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from annotate.model import Cluster
from annotate.palette import mix, text_on
from annotate.report.data import ReportData, date_text, year_fraction
from annotate.sanitize import visible

LABEL_W = 300
CELL_H = 26
HEAD_H = 130
FONT = 12


def _e(text: str) -> Markup:
    return escape(visible(text))


def heatmap(data: ReportData, cell_href: Callable[[str, int], str]) -> Markup:
    """Themes as rows, heatmap columns (statements in date order) as columns; a cell's shade
    is its count of sentences hit relative to the theme's busiest column, in the theme's
    colour; non-empty cells link to the sentences behind them."""
    themes = data.codebook_themes
    cols = data.columns
    cell_w = max(14, min(56, 840 // max(1, len(cols))))
    head_h = min(HEAD_H, 24 + 5 * max((len(c.label) for c in cols), default=4))
    width = LABEL_W + cell_w * len(cols) + 110  # room for the last slanted column label
    height = head_h + CELL_H * len(themes) + 10
    parts = [
        f'<svg class="heatmap" role="img" aria-labelledby="hm-title hm-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="hm-title">Themes over time</title>',
        f'<desc id="hm-desc">Sentences hit by each of {len(themes)} themes in {len(cols)} '
        f'columns of statements in date order; darker means more sentences, relative to the '
        f"theme's busiest column. The table below gives the same counts.</desc>",
    ]
    show_numbers = cell_w >= 22
    for c in cols:
        x = LABEL_W + c.index * cell_w + cell_w / 2
        parts.append(
            f'<text class="col" x="{x:.1f}" y="{head_h - 6}" '
            f'transform="rotate(-55 {x:.1f} {head_h - 6})">{_e(_clip(c.label, 26))}'
            f"<title>{_e(c.title)}</title></text>")
    for r, t in enumerate(themes):
        y = head_h + r * CELL_H
        indent = 12 * t.depth
        parts.append(
            f'<rect x="{4 + indent}" y="{y + 7}" width="12" height="12" fill="{t.color}" '
            f'stroke="#333" stroke-width="0.5"/>'
            f'<text class="row" x="{22 + indent}" y="{y + CELL_H / 2 + 4:.1f}">'
            f"{_e(_clip(t.label, 40 - t.depth * 2))}<title>{_e(t.label)}</title></text>")
        counts = [data.cell_count(t.id, c.index) for c in cols]
        peak = max(counts, default=0)
        for c, count in zip(cols, counts, strict=True):
            x = LABEL_W + c.index * cell_w
            fill = mix(t.color, 0.15 + 0.85 * count / peak) if count else "#FFFFFF"
            label = _e(f"{t.label}, {c.label}: {count} sentence{'' if count == 1 else 's'}")
            rect = (f'<rect class="cell" x="{x}" y="{y}" width="{cell_w}" height="{CELL_H}" '
                    f'fill="{fill}" data-theme="{escape(t.id)}" data-col="{c.index}" '
                    f'data-count="{count}"')
            if not count:
                parts.append(f"{rect}><title>{label}</title></rect>")
                continue
            # The link's <title> is both its tooltip and its accessible name.
            number = (f'<text class="n" x="{x + cell_w / 2:.1f}" y="{y + CELL_H / 2 + 4:.1f}" '
                      f'fill="{text_on(fill)}" aria-hidden="true">{count}</text>'
                      if show_numbers else "")
            parts.append(f'<a href="{escape(cell_href(t.id, c.index))}"><title>{label}</title>'
                         f"{rect}/>{number}</a>")
    parts.append("</svg>")
    return Markup("".join(parts))


def reuse_matrix(data: ReportData, pair_href: Callable[[str], str]) -> Markup:
    """Statement × statement: a cell's shade is the number of words the two share; the cell
    links to their longest shared passage."""
    docs = data.documents
    index = {d.id: i for i, d in enumerate(docs)}
    cell = max(12, min(40, 700 // max(1, len(docs))))
    label_w = 24 + 7 * max((min(20, len(d.id)) for d in docs), default=4)
    size = label_w + cell * len(docs) + 10
    words: dict[tuple[int, int], tuple[int, int, str]] = {}
    for a_id, b_id, n, w, longest in data.pairs:
        i, j = sorted((index[a_id], index[b_id]))
        words[(i, j)] = (n, w, longest.id)
    peak = max((w for _, w, _ in words.values()), default=0)
    parts = [
        f'<svg class="reuse-matrix" role="img" aria-labelledby="rm-title rm-desc" '
        f'viewBox="0 0 {size + 60} {size}" width="{size + 60}" height="{size}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="rm-title">Shared passages between statements</title>',
        "<desc id=\"rm-desc\">Each cell pairs two statements in date order; darker means "
        "more shared words. The list of pairs below gives the same figures.</desc>",
    ]
    for i, d in enumerate(docs):
        y = label_w + i * cell
        parts.append(f'<text class="row" x="{label_w - 6}" y="{y + cell / 2 + 4:.1f}" '
                     f'text-anchor="end">{_e(_clip(d.id, 20))}<title>{_e(d.id)} '
                     f"({_e(date_text(d))})</title></text>")
        x = label_w + i * cell + cell / 2
        parts.append(f'<text class="col" x="{x:.1f}" y="{label_w - 6}" '
                     f'transform="rotate(-55 {x:.1f} {label_w - 6})">{_e(_clip(d.id, 20))}'
                     "</text>")
    for i, a in enumerate(docs):
        for j, b in enumerate(docs):
            x, y = label_w + j * cell, label_w + i * cell
            key = (min(i, j), max(i, j))
            if i == j:
                parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                             'fill="#DDDDDD"/>')
                continue
            if key not in words:
                parts.append(f'<rect class="pair" x="{x}" y="{y}" width="{cell}" '
                             f'height="{cell}" fill="#FFFFFF"/>')
                continue
            n, w, pid = words[key]
            fill = mix("#0072B2", 0.15 + 0.85 * w / peak)
            label = (f"{a.id} and {b.id}: {n} shared passage{'' if n == 1 else 's'}, "
                     f"{w} words")
            parts.append(
                f'<a href="{escape(pair_href(pid))}" aria-label="{_e(label)}">'
                f'<rect class="pair" x="{x}" y="{y}" width="{cell}" height="{cell}" '
                f'fill="{fill}"><title>{_e(label)}</title></rect></a>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timelines(data: ReportData, clusters: Sequence[Cluster],
              member_href: Callable[[str, str], str], label_href: Callable[[str], str]
              ) -> Markup:
    """One line per cluster from its earliest source to its latest reuse, a dot per
    statement at its date (undated statements are left off the line and listed in the
    table)."""
    years = [y for d in data.documents if (y := year_fraction(d.meta.date)) is not None]
    if not years or not clusters:
        return Markup("")
    lo, hi = min(years), max(years)
    if hi - lo < 1 / 365:
        lo, hi = lo - 1 / 365, hi + 1 / 365
    plot_w, left, row_h, top = 720, 90, 22, 30
    width = left + plot_w + 20
    height = top + row_h * len(clusters) + 10

    def x_of(y: float) -> float:
        return left + (y - lo) / (hi - lo) * plot_w

    parts = [
        f'<svg class="timeline" role="img" aria-labelledby="tl-title tl-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="tl-title">Cluster timelines</title>',
        f'<desc id="tl-desc">For each of {len(clusters)} clusters of reused passages, a line '
        "from the earliest statement that has it to the latest, with a dot per statement. "
        "The table lists the same statements and dates.</desc>",
    ]
    for tick in _ticks(lo, hi):
        x = x_of(tick[0])
        parts.append(f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 6}" '
                     f'stroke="#DDDDDD"/><text class="tick" x="{x:.1f}" y="{top - 12}" '
                     f'text-anchor="middle">{escape(tick[1])}</text>')
    for r, c in enumerate(clusters):
        y = top + r * row_h + row_h / 2
        members = [(d, p) for d, p in data.cluster_members(c)
                   if year_fraction(d.meta.date) is not None]
        parts.append(f'<a href="{escape(label_href(c.id))}"><text class="row" x="{left - 8}" '
                     f'y="{y + 4:.1f}" text-anchor="end">{escape(c.id)} '
                     f"({len(c.documents)})</text></a>")
        xs = [x_of(year_fraction(d.meta.date) or lo) for d, _ in members]
        if xs:
            parts.append(f'<line x1="{min(xs):.1f}" y1="{y:.1f}" x2="{max(xs):.1f}" '
                         f'y2="{y:.1f}" stroke="#555555" stroke-width="2"/>')
        for (d, p), x in zip(members, xs, strict=True):
            first = d.id == c.earliest
            label = (f"{c.id}: {d.id} ({date_text(d)})"
                     + (", earliest source" if first else ""))
            dot = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if first else 4.5}" '
                   f'fill="{"#D55E00" if first else "#0072B2"}" stroke="#FFFFFF">'
                   f"<title>{_e(label)}</title></circle>")
            if p is not None:
                dot = (f'<a href="{escape(member_href(d.id, p.id))}" aria-label="{_e(label)}">'
                       f"{dot}</a>")
            parts.append(dot)
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    span = hi - lo
    if span > 3:
        step = max(1, round(span / 8))
        first = int(lo) + (1 if lo > int(lo) else 0)
        return [(float(y), str(y)) for y in range(first, int(hi) + 1, step)]
    # Months (or days within a month) for short spans.
    out: list[tuple[float, str]] = []
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    if span > 0.25:
        m = int(lo * 12) + 1
        while m / 12 <= hi:
            out.append((m / 12, f"{months[m % 12]} {m // 12}"))
            m += max(1, round(span * 12 / 8))
        return out
    import datetime

    year = int(lo)
    day = int((lo - year) * 365.25 + 1e-9)
    step = max(1, round(span * 365.25 / 8))
    while year + day / 365.25 <= hi + 1e-9:
        when = datetime.date(year, 1, 1) + datetime.timedelta(days=day)
        out.append((year + day / 365.25, f"{when.day} {months[when.month - 1]}"))
        day += step
    return out


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
