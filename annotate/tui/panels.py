"""What the side pane, the annotation list and the shared-passage view draw.

Each function returns styled fragments; the pane's lines are wrapped here (never cut), and the
theme legend carries mouse handlers so a click on a theme toggles it (with --mouse).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable

from prompt_toolkit.formatted_text import OneStyleAndTextTuple, StyleAndTextTuples
from prompt_toolkit.mouse_events import MouseEvent, MouseEventType

from annotate.model import Annotation, Document, Theme
from annotate.palette import palette
from annotate.sanitize import visible
from annotate.tui.state import THEME_KEYS, EditorState, short_id

_BLANKS = dict.fromkeys((0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0,
                         0x2028, 0x2029), " ")


def shown(text: str) -> str:
    """Text from a file or a user as drawn: layout whitespace as spaces, controls visible."""
    return visible(text.translate(_BLANKS))


def no_color() -> bool:
    """NO_COLOR (https://no-color.org): set and not empty."""
    return bool(os.environ.get("NO_COLOR"))


def theme_styles(state: EditorState) -> dict[str, str]:
    """Style rules theme0..theme9 from the codebook's palette (the one `annotate themes` and
    the report use)."""
    pal = palette(state.codebook)
    return {f"theme{i}": f"fg:{pal.hex(t.id).lower()}"
            for i, t in enumerate(state.codebook.themes[: len(THEME_KEYS)])}


def theme_depth(state: EditorState) -> list[tuple[int, Theme, int]]:
    """(codebook index, theme, depth) in hierarchy order: each parent, then its children."""
    cb = state.codebook
    ids = set(cb.ids)
    index = {t.id: i for i, t in enumerate(cb.themes)}
    children: dict[str | None, list[Theme]] = {}
    for t in cb.themes:
        parent = t.parent if t.parent in ids and t.parent != t.id else None
        children.setdefault(parent, []).append(t)
    out: list[tuple[int, Theme, int]] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for t in children.get(parent, []):
            if t.id in seen:  # a cycle in the codebook's parents: shown once
                continue
            seen.add(t.id)
            out.append((index[t.id], t, depth))
            walk(t.id, depth + 1)

    walk(None, 0)
    out.extend((index[t.id], t, 0) for t in cb.themes if t.id not in seen)
    return out


def _wrapped(text: str, width: int, indent: int) -> list[str]:
    return textwrap.wrap(text, width=max(4, width), subsequent_indent=" " * indent,
                         break_long_words=True, break_on_hyphens=False) or [""]


def side(st: EditorState, width: int, height: int = 10_000) -> StyleAndTextTuples:
    """The side pane: the codebook's legend, then what is under the cursor. When both do not
    fit the height, what is under the cursor comes first (it is what the keys act on)."""
    w = max(8, width - 1)
    cb = st.codebook
    ann = st.current_annotation()
    active = set(ann.themes) if ann else set()
    out: StyleAndTextTuples = []
    for line in _wrapped(f"Themes: {shown(cb.name)}", w, 2):
        out.append(("class:side.title", line + "\n"))
    if not cb.themes:
        out.append(("class:side.dim", "(no codebook themes)\n"))
    for i, t, depth in theme_depth(st):
        on = t.id in active
        key = THEME_KEYS[i] if i < len(THEME_KEYS) else " "
        style_ = (f"class:theme{i}" if i < len(THEME_KEYS) else "") + (
            " class:side.active" if on else "")
        pad = "  " * min(depth, 3)
        text = f"{pad}{key} {'●' if on else '○'} {shown(t.label)}"
        handler = _click_theme(st, t)
        for line in _wrapped(text, w, len(pad) + 4):
            out.append(_frag(style_, line, handler))
            out.append(("", "\n"))
    if len(cb.themes) > len(THEME_KEYS):
        for line in _wrapped("keys 1-0: the first ten; t picks any", w, 2):
            out.append(("class:side.dim", line + "\n"))
    legend, out = out, []
    here = st.here()
    if ann is None:
        target = "selection" if st.anchor is not None else "sentence"
        out.append(("class:side.dim", "No annotation here.\n"))
        for line in _wrapped(f"1-9: theme the {target}", w, 2):
            out.append(("class:side.dim", line + "\n"))
    else:
        out.extend(_annotation(st, ann, here, w))
    p = st.reuse_here()
    if p is not None:
        other = p.b.doc if p.a.doc == st.doc.id else p.a.doc
        for line in _wrapped(f"≈ Shared with {shown(other)}: Enter compares, o jumps there",
                             w, 2):
            out.append(("class:reuse", line + "\n"))
    rule: StyleAndTextTuples = [("class:side.dim", "─" * w + "\n")]

    def lines(frags: StyleAndTextTuples) -> int:
        return sum(f[1].count("\n") for f in frags)

    if lines(legend) + 1 + lines(out) > height:
        return out + rule + legend
    return legend + rule + out


def _frag(style_: str, text: str,
          handler: Callable[[MouseEvent], None] | None) -> OneStyleAndTextTuple:
    if handler is None:
        return (style_, text)
    return (style_, text, handler)


def _click_theme(st: EditorState, theme: Theme) -> Callable[[MouseEvent], None]:
    def handler(event: MouseEvent) -> None:
        if event.event_type != MouseEventType.MOUSE_UP or st.mode != "normal":
            return
        try:
            st.toggle(theme)
        except Exception as e:  # as with keys: a message, never a crash
            st.say(f"error: {type(e).__name__}: {e}", error=True)

    return handler


def _annotation(st: EditorState, ann: Annotation, here: list[Annotation],
                w: int) -> StyleAndTextTuples:
    out: StyleAndTextTuples = []

    def put(style_: str, text: str, indent: int = 0) -> None:
        # Names, patterns and quotes come from users and files: controls made visible.
        for line in _wrapped(shown(text), w, indent):
            out.append((style_, line + "\n"))

    if len(here) > 1:
        put("class:side.title", f"{len(here)} annotations here (c cycles):")
        for a in here:
            mark = "▸" if a.id == ann.id else " "
            themes = ", ".join(shown(st._label(t)) for t in a.themes) or "no theme"
            put("class:side.active" if a.id == ann.id else "",
                f"{mark} {themes} · {a.status} · {shown(a.user)}", 2)
        out.append(("class:side.dim", "─" * w + "\n"))
    where = st.sentence_name(ann.doc, ann.start)
    put("class:side.title", f"{where} · {ann.status}", 2)
    put("class:side.dim", f"by {shown(ann.user)} · {shown(ann.id)}", 2)
    for t in ann.themes:
        put("", f"● {shown(st._label(t))}", 2)
    if ann.status == "suggested":
        put("class:hint", "a accept  x reject")
        for line in st.evidence(ann):
            put("class:side.dim", line, 2)
    elif ann.status == "rejected":
        put("class:side.dim", "✗ rejected suggestion (a accepts it)")
    prov = st.provenance(ann)
    if prov:
        put("class:side.dim", prov, 2)
        if ann.status != "suggested":
            for line in st.evidence(ann):
                put("class:side.dim", line, 2)
    if ann.note:
        out.append(("class:side.title", "Note (n edits):\n"))
        for para in visible(ann.note, keep_newlines=True).splitlines()[:12]:
            while len(para) > w:
                out.append(("", para[:w] + "\n"))
                para = para[w:]
            out.append(("", para + "\n"))
    else:
        out.append(("class:side.dim", "n: write a note\n"))
    return out


# --- the annotation list -----------------------------------------------------------------


def list_lines(st: EditorState, width: int, height: int) -> list[StyleAndTextTuples]:
    """The list panel: a filter line, then one row per annotation, the list cursor kept in
    view (only the visible rows are formatted)."""
    f = st.listing
    items = st.list_items()

    def name(kind: str, v: str | None) -> str:
        if v is None:
            return "any"
        return shown(st._label(v)) if kind == "theme" else shown(v)

    head: StyleAndTextTuples = [
        ("class:side.title", f" {len(items)} of {len(st.annotations())} · "),
        ("class:help.keys", "t"), ("", f" theme: {name('theme', f.theme)}  "),
        ("class:help.keys", "s"), ("", f" status: {name('status', f.status)}  "),
        ("class:help.keys", "u"), ("", f" annotator: {name('user', f.user)}  "),
        ("class:side.dim", "· Enter goes there · Esc closes"),
    ]
    rows = max(1, height - 1)
    if f.index < f.top:
        f.top = f.index
    elif f.index >= f.top + rows:
        f.top = f.index - rows + 1
    f.top = max(0, min(f.top, max(0, len(items) - rows)))
    lay_w = max(0, st.label_width())
    out: list[StyleAndTextTuples] = [head]
    doc = st.doc
    for i in range(f.top, min(len(items), f.top + rows)):
        a = items[i]
        sent = doc.sentence_at(a.start)
        sid = (short_id(sent.id) if sent else str(a.start)).rjust(lay_w)
        themes = ", ".join(st._label(t) for t in a.themes) or "(note only)"
        status = {"accepted": " ", "suggested": "?", "rejected": "✗"}.get(a.status, " ")
        quote = " ".join(doc.text[a.start : a.end].split())
        row = f"{sid} {status} {shown(themes)} · {shown(a.user)} · {shown(quote)}"
        if len(row) > width:
            row = row[: max(0, width - 1)] + "…"
        style_ = "class:list.cursor" if i == f.index else ""
        key = st.theme_key(a.themes[0]) if a.themes else "*"
        colour = f"class:theme{THEME_KEYS.index(key)}" if key in THEME_KEYS else ""
        out.append([(f"{style_} {colour}".strip(), row)])
    if not items:
        out.append([("class:side.dim", " no annotation matches (Backspace clears filters)")])
    return out


# --- the shared passage, side by side ----------------------------------------------------


def _context(doc: Document | None, start: int, end: int, words: int = 12) -> tuple[str, str]:
    if doc is None:
        return "", ""
    before = " ".join(doc.text[max(0, start - 400) : start].split()[-words:])
    after = " ".join(doc.text[end : end + 400].split()[:words])
    return before, after


def _ids(doc: Document | None, start: int, end: int) -> str:
    if doc is None:
        return f"[{start}, {end})"
    a = doc.sentence_at(start)
    b = doc.sentence_at(max(start, end - 1))
    first = short_id(a.id) if a else str(start)
    last = short_id(b.id) if b else str(end)
    return first if first == last else f"{first}–{last}"


def reuse_columns(st: EditorState, width: int) -> list[StyleAndTextTuples]:
    """Both sides of the shared passage in two columns, each with its sentence ids and a
    little context before and after (dimmed), then the word-level differences."""
    v = st.reuse_view
    if v is None:
        return []
    from annotate.diff import DELETE, INSERT

    col = max(10, (width - 3) // 2)
    here_doc, there_doc = st._doc(v.here.doc), st._doc(v.there.doc)
    p = v.passage
    out: list[StyleAndTextTuples] = [[
        ("class:side.title", f"{p.words} words, {p.similarity:.0%} similar"),
        ("class:side.dim", " · o: go to the other side (o there comes back) · j/k scroll"),
    ]]
    columns = []
    for side_, doc in ((v.here, here_doc), (v.there, there_doc)):
        title = shown(doc.meta.title or "") if doc is not None else ""
        before, after = _context(doc, side_.start, side_.end)
        lines: list[tuple[str, str]] = [("class:side.title",
                                         f"{shown(side_.doc)} {_ids(doc, side_.start, side_.end)}")]
        lines += [("class:side.dim", x) for x in _wrapped(title, col, 0)] if title else []
        lines += [("class:side.dim", x) for x in _wrapped("… " + shown(before), col, 0)]
        lines += [("class:reuse", x)
                  for x in _wrapped(shown(" ".join(side_.text.split())), col, 0)]
        lines += [("class:side.dim", x) for x in _wrapped(shown(after) + " …", col, 0)]
        columns.append(lines)
    for i in range(max(len(c) for c in columns)):
        row: StyleAndTextTuples = []
        for k, c in enumerate(columns):
            style_, text = c[i] if i < len(c) else ("", "")
            row.append((style_, text.ljust(col)))
            if k == 0:
                row.append(("class:gutter", " │ "))
        out.append(row)
    out.append([])
    out.append([("class:side.title", "Difference: "), ("class:diff.delete", "[-only here-]"),
                ("", " "), ("class:diff.insert", f"{{+only in {shown(v.there.doc)}+}}")])
    diff: StyleAndTextTuples = []
    for op, chunk in v.diff:
        chunk = shown(chunk)
        if op == DELETE:
            diff.append(("class:diff.delete", f"[-{chunk}-]"))
        elif op == INSERT:
            diff.append(("class:diff.insert", f"{{+{chunk}+}}"))
        else:
            diff.append(("", chunk))
    from annotate.tui.views import wrap_fragments

    out.extend(wrap_fragments(diff, width))
    return out
