"""A statement's text as HTML: exactly the file's text (escaped, control characters made
visible, line breaks kept), wrapped in paragraph and sentence elements that carry their ids,
and cut into runs wherever an annotation, a codebook hit's evidence or a shared passage starts
or ends, so overlapping marks are all visible.

Everything the page adds to the text (sentence numbers, theme dots, passage links) has the
class `x` and cannot be selected, so copying the text gives the file's words, and a test can
compare the page's text with the file's.

Built as strings rather than in a template: a newspaper page has thousands of runs, and a
template loop per run would dominate the report's time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from annotate.model import Annotation, Document, Passage, Side
from annotate.report.data import ReportData, ThemeInfo
from annotate.sanitize import visible

UNDERLINE_PX = 3  # height of each stacked underline under annotated words


@dataclass(frozen=True)
class AnnotationRow:
    """An annotation as the page's table lists it (and the tooltip reads it)."""

    index: int
    ann: Annotation
    themes: tuple[ThemeInfo, ...]
    user_key: str
    sentence: str | None  # id of the sentence where it starts
    shown: bool  # highlighted in the text (not orphaned, inside the text)


@dataclass(frozen=True)
class Reading:
    html: Markup
    rows: tuple[AnnotationRow, ...]
    passages: tuple[tuple[Passage, Side, Side], ...]  # (passage, this side, other side)
    hits: dict[str, list[tuple[str, str]]]  # theme key -> [(sentence id, sentence text)]


def layout_text(text: str) -> str:
    """Text for a `white-space: pre-wrap` element: control characters made visible one for
    one, line ends (CR LF, CR, NEL, LS, PS) shown as line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\x85", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return visible(text, keep_newlines=True, keep_tabs=True)


def underline_style(colors: list[str]) -> str:
    shadows = ",".join(f"0 {UNDERLINE_PX * (k + 1)}px 0 {c}" for k, c in enumerate(colors))
    return f"box-shadow:{shadows}"


def evidence_style(colors: list[str]) -> str:
    if len(colors) == 1:
        return f"background:{colors[0]}"
    step = 100 / len(colors)
    stops = ",".join(
        f"{c} {k * step:.0f}% {(k + 1) * step:.0f}%" for k, c in enumerate(colors)
    )
    return f"background:linear-gradient({stops})"


def read(doc: Document, data: ReportData, passage_href: Callable[[str], str]) -> Reading:
    """Mark up one statement. `passage_href(passage id)` is the link to the passage's view."""
    text = doc.text
    n = len(text)
    themes = data.theme_by_id
    user_key = {u: f"u{i}" for i, u in enumerate(data.users)}

    rows: list[AnnotationRow] = []
    for i, a in enumerate(data.annotations_by_doc.get(doc.id, [])):
        shown = not a.orphaned and a.end <= n and a.start < a.end
        sent = doc.sentence_at(a.start) if a.start < n else None
        rows.append(AnnotationRow(
            i, a, tuple(themes[t] for t in a.themes if t in themes), user_key.get(a.user, "u0"),
            sent.id if sent else None, shown))

    starts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    ends: dict[int, list[tuple[str, str]]] = defaultdict(list)

    def layer(kind: str, key: str, start: int, end: int) -> None:
        start, end = max(0, start), min(n, end)
        if start < end:
            starts[start].append((kind, key))
            ends[end].append((kind, key))

    for r in rows:
        if r.shown:
            layer("a", str(r.index), r.ann.start, r.ann.end)
    sentence_themes: dict[str, list[str]] = defaultdict(list)
    hits: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for h in data.hits.get(doc.id, ()):
        sent = doc.sentence_index.get(h.unit) or doc.sentence_at(h.start)
        for t in h.themes:
            if t in themes:
                if sent is not None:
                    sentence_themes[sent.id].append(themes[t].key)
                hits[themes[t].key].append((h.unit, text[h.start:h.end]))
        for e in h.evidence:
            if e.theme in themes:
                layer("e", themes[e.theme].key, e.start, e.end)
    passages: list[tuple[Passage, Side, Side]] = []
    for p in data.passages_by_doc.get(doc.id, []):
        mine, other = (p.a, p.b) if p.a.doc == doc.id else (p.b, p.a)
        passages.append((p, mine, other))
        layer("r", p.id, mine.start, mine.end)
    passages.sort(key=lambda t: (t[1].start, t[0].id))
    passage_at: dict[int, list[tuple[Passage, Side]]] = defaultdict(list)
    for p, mine, other in passages:
        passage_at[max(0, min(mine.start, n))].append((p, other))

    para_at = {p.start: p for p in doc.paragraphs}
    para_end = {p.end for p in doc.paragraphs}
    sent_at = {s.start: s for s in doc.sentences}
    sent_end = {s.end for s in doc.sentences}
    bounds = sorted({0, n, *starts, *ends, *para_at, *para_end, *sent_at, *sent_end,
                     *passage_at})
    bounds = [b for b in bounds if 0 <= b <= n]

    row_by_index = {r.index: r for r in rows}
    active: dict[str, dict[str, int]] = {"a": {}, "e": {}, "r": {}}
    out: list[str] = []
    in_sent = in_para = False
    for i, pos in enumerate(bounds):
        if in_sent and pos in sent_end:
            out.append("</span>")
            in_sent = False
        if in_para and pos in para_end:
            if in_sent:
                out.append("</span>")
                in_sent = False
            out.append("</span>")
            in_para = False
        for kind, key in ends.get(pos, ()):
            left = active[kind][key] - 1
            if left:
                active[kind][key] = left
            else:
                del active[kind][key]
        for kind, key in starts.get(pos, ()):
            active[kind][key] = active[kind].get(key, 0) + 1
        if pos == n:
            break
        para = para_at.get(pos)
        if para is not None and not in_para:
            short = para.id.removeprefix(f"{doc.id}.")
            out.append(f'<span class="p" id="{escape(para.id)}" data-id="{escape(short)}">')
            in_para = True
        sent = sent_at.get(pos)
        if sent is not None and not in_sent and in_para:
            short = sent.id.rsplit(".", 1)[-1]
            out.append(f'<span class="s" id="{escape(sent.id)}">'
                       f'<span class="x sid" aria-hidden="true">{escape(short)}</span>')
            keys = sentence_themes.get(sent.id)
            if keys:
                dots = "".join(
                    f'<i class="{k}" style="background:{_color(data, k)}"></i>'
                    for k in dict.fromkeys(keys))
                out.append(f'<span class="x hm" aria-hidden="true">{dots}</span>')
            in_sent = True
        for p, other in passage_at.get(pos, ()):
            out.append(
                f'<a class="x pl" id="{escape(p.id)}" href="{escape(passage_href(p.id))}" '
                f'title="Passage {escape(p.id)}, shared with {escape(visible(other.doc))}">'
                f'⇄{escape(p.id)}</a>')
        chunk = text[pos:bounds[i + 1]]
        if chunk.endswith("\r") and text.startswith("\n", bounds[i + 1]):
            chunk = chunk[:-1]  # CR LF cut in two: the LF gives the line break
        out.append(_run(layout_text(chunk), active, row_by_index, data))
    if in_sent:
        out.append("</span>")
    if in_para:
        out.append("</span>")
    return Reading(Markup("".join(out)), tuple(rows), tuple(passages), dict(hits))


def _color(data: ReportData, key: str) -> str:
    return data.themes[int(key[1:])].color


def _run(chunk: str, active: dict[str, dict[str, int]], rows: dict[int, AnnotationRow],
         data: ReportData) -> str:
    body = escape(chunk)
    if not (active["a"] or active["e"] or active["r"]):
        return str(body)
    classes = ["m"]
    attrs: list[str] = []
    style: list[str] = []
    if active["a"]:
        idx = sorted(int(k) for k in active["a"])
        classes.append("an")
        attrs.append(f'data-a="{" ".join(map(str, idx))}" tabindex="0"')
        # One line per annotation and theme, so two annotations of one theme that overlap
        # show as two lines where they overlap.
        colors = [t.color for i in idx for t in rows[i].themes]
        if colors:
            style.append(underline_style(colors))
        else:
            classes.append("nothemes")
    if active["e"]:
        keys = sorted(active["e"], key=lambda k: int(k[1:]))
        classes.append("ev")
        attrs.append(f'data-e="{" ".join(keys)}"')
        from annotate.palette import mix

        style.append(evidence_style([mix(_color(data, k), 0.35) for k in keys]))
    if active["r"]:
        classes.append("rp")
        attrs.append(f'data-r="{escape(" ".join(sorted(active["r"])))}"')
    st = f' style="{";".join(style)}"' if style else ""
    return f'<span class="{" ".join(classes)}" {" ".join(attrs)}{st}>{body}</span>'
