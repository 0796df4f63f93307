"""Writing the report folder: Jinja templates (autoescaped) filled from `ReportData`, the CSS
and JavaScript copied beside them, everything linked by relative paths so the folder works
from a USB stick with no server.

The folder is built beside the target and renamed into place, so a reader never sees half a
report, and an existing folder is only replaced when it is a report this tool wrote (it holds
the marker file) and `--force` was given: a folder of the user's is never emptied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from annotate import __version__
from annotate.errors import ExportError
from annotate.model import Document, Passage
from annotate.report import plots
from annotate.report.data import (
    CLUSTER_PAGE_SIZE,
    MATRIX_MAX_DOCS,
    OVERVIEW_CLUSTERS,
    OVERVIEW_PAIRS,
    PAGE_SIZE,
    PASSAGE_PAGE_SIZE,
    ReportData,
    date_text,
)
from annotate.report.reading import layout_text, read
from annotate.sanitize import visible
from annotate.text import word_count

MARKER = ".annotate-report"
ASSETS = ("report.css", "report.js")
T = TypeVar("T")


@dataclass(frozen=True)
class ReportSummary:
    out: Path
    pages: int
    bytes: int
    documents: int
    annotations: int
    hits: int
    passages: int
    clusters: int


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("annotate.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Untrusted one-line text (titles, names, ids, notes): control characters made visible,
    # then autoescaped like everything else.
    env.filters["vis"] = lambda s: visible(str(s)) if s is not None else ""
    env.filters["clip"] = lambda s, n=160: s if len(s) <= n else s[: n - 1] + "…"
    # A quote in a table or list: line breaks and runs of spaces become one space.
    env.filters["snippet"] = lambda s, n=160: env.filters["clip"](
        visible(" ".join(str(s).split())), n)
    env.globals["version"] = __version__
    env.globals["date_text"] = date_text
    return env


def pages(items: Sequence[T], size: int = PAGE_SIZE) -> Iterator[tuple[int, int, Sequence[T]]]:
    """(page number, page count, items of the page); one empty page for no items."""
    count = max(1, -(-len(items) // size))
    for n in range(count):
        yield n + 1, count, items[n * size:(n + 1) * size]


class Site:
    """Renders the pages of one report into a folder; paths in links are relative."""

    def __init__(self, data: ReportData, folder: Path) -> None:
        self.data = data
        self.folder = folder
        self.env = environment()
        self.count = 0
        self.size = 0

    # -- links ---------------------------------------------------------------------------

    def doc_href(self, doc_id: str, root: str = "") -> str:
        return f"{root}docs/{self.data.doc_file[doc_id]}"

    def passage_href(self, pid: str, root: str = "") -> str:
        return f"{root}reuse/passages-{self.data.passage_page[pid]}.html#{pid}"

    def cluster_href(self, cid: str, root: str = "") -> str:
        return f"{root}reuse/clusters-{self.data.cluster_page[cid]}.html#{cid}"

    def cell_href(self, theme_id: str, col: int, root: str = "") -> str:
        return f"{root}cells/{self.data.theme_by_id[theme_id].key}-c{col}.html"

    # -- writing -------------------------------------------------------------------------

    def render(self, path: str, template: str, **context: Any) -> None:
        root = "../" * path.count("/")
        html = self.env.get_template(template).render(
            root=root, site=self, data=self.data, report_title=self.data.title,
            has_reuse=self.data.reuse_done, **context)
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = html.encode("utf-8")
        target.write_bytes(raw)
        self.count += 1
        self.size += len(raw)

    def write(self) -> None:
        assets = resources.files("annotate.report").joinpath("assets")
        (self.folder / "assets").mkdir(parents=True, exist_ok=True)
        for name in ASSETS:
            raw = assets.joinpath(name).read_bytes()
            (self.folder / "assets" / name).write_bytes(raw)
            self.size += len(raw)
        (self.folder / MARKER).write_text(
            "Written by `annotate report`; `annotate report --force` may replace this folder.\n",
            encoding="utf-8")
        self.overview()
        self.statements()
        self.documents()
        self.cells()
        self.reuse()

    def overview(self) -> None:
        d = self.data
        clusters = sorted(d.clusters, key=lambda c: (-len(c.documents), c.id))[:OVERVIEW_CLUSTERS]
        clusters.sort(key=lambda c: (self.data.doc_by_id[c.earliest].meta.sort_key
                                     if c.earliest in d.doc_by_id else (2, "", ""), c.id))
        heatmap = (plots.heatmap(d, lambda t, c: self.cell_href(t, c))
                   if d.codebook_themes else Markup(""))
        matrix = (plots.reuse_matrix(d, lambda pid: self.passage_href(pid))
                  if d.passages and len(d.documents) <= MATRIX_MAX_DOCS else Markup(""))
        timeline = plots.timelines(
            d, clusters, lambda doc, pid: f"{self.doc_href(doc)}#{pid}",
            lambda cid: self.cluster_href(cid))
        self.render(
            "index.html", "index.html", page_title="Overview", heatmap=heatmap, matrix=matrix,
            timeline=timeline, clusters=clusters, pairs=d.pairs[:OVERVIEW_PAIRS],
            inline_table=len(d.documents) <= 2 * PAGE_SIZE, rows=self.statement_rows(),
            words=sum(r["words"] for r in self.statement_rows()))

    def statement_rows(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_rows"):
            d = self.data
            self._rows = [
                {"doc": doc, "words": word_count(doc.text),
                 "annotations": len(d.annotations_by_doc.get(doc.id, ())),
                 "hits": len(d.hits.get(doc.id, ())),
                 "passages": len(d.passages_by_doc.get(doc.id, ()))}
                for doc in d.documents]
        return self._rows

    def statements(self) -> None:
        for n, count, rows in pages(self.statement_rows()):
            self.render(f"statements-{n}.html", "statements.html", page_title="Statements",
                        rows=rows, page=n, page_count=count)

    def documents(self) -> None:
        docs = self.data.documents
        for i, doc in enumerate(docs):
            reading = read(doc, self.data, lambda pid: self.passage_href(pid, "../"))
            self.render(
                f"docs/{self.data.doc_file[doc.id]}", "document.html",
                page_title=doc.meta.title or doc.id, doc=doc, reading=reading,
                words=word_count(doc.text),
                prev=docs[i - 1] if i else None, next=docs[i + 1] if i + 1 < len(docs) else None,
                themes_here=self.themes_here(doc, reading))

    def themes_here(self, doc: Document, reading: Any) -> list[Any]:
        keys = set(reading.hits) | {t.key for r in reading.rows for t in r.themes}
        return [t for t in self.data.themes if t.key in keys]

    def cells(self) -> None:
        d = self.data
        for (theme_id, col), hits in d.cell_hits.items():
            if theme_id not in d.theme_by_id:
                continue
            t = d.theme_by_id[theme_id]
            items = []
            for h in hits:
                doc = d.doc_by_id[h.doc]
                items.append({"doc": doc, "hit": h, "html": evidence_html(
                    doc.text, h.start, h.end,
                    [(e.start, e.end) for e in h.evidence if e.theme == theme_id],
                    d.palette.tint(theme_id, 0.4))})
            self.render(f"cells/{t.key}-c{col}.html", "cell.html",
                        page_title=f"{t.label} in {d.columns[col].label}", theme=t,
                        column=d.columns[col], items=items)

    def reuse(self) -> None:
        d = self.data
        for n, count, chunk in pages(d.passages, PASSAGE_PAGE_SIZE):
            views = [passage_view(p) for p in chunk]
            self.render(f"reuse/passages-{n}.html", "passages.html", page_title="Shared passages",
                        views=views, page=n, page_count=count)
        for n, count, group in pages(d.clusters, CLUSTER_PAGE_SIZE):
            items = [(c, d.cluster_members(c)) for c in group]
            timeline = plots.timelines(
                d, group, lambda doc, pid: f"{self.doc_href(doc, '../')}#{pid}",
                lambda cid: f"#{cid}")
            self.render(f"reuse/clusters-{n}.html", "clusters.html", page_title="Clusters",
                        items=items, timeline=timeline, page=n, page_count=count)


@dataclass(frozen=True)
class PassageView:
    passage: Passage
    left: Markup
    right: Markup


def passage_view(p: Passage) -> PassageView:
    """Both sides of a shared passage with the character diff: what only the earlier side has
    is struck through on the left, what only the later side has is marked on the right."""
    from annotate.diff import DELETE, EQUAL, INSERT, word_char_diff

    left: list[str] = []
    right: list[str] = []
    for op, chunk in word_char_diff(p.a.text, p.b.text):
        body = str(escape(layout_text(chunk)))
        if op == EQUAL:
            left.append(body)
            right.append(body)
        elif op == DELETE:
            left.append(f"<del>{body}</del>")
        elif op == INSERT:
            right.append(f"<ins>{body}</ins>")
    return PassageView(p, Markup("".join(left)), Markup("".join(right)))


def evidence_html(text: str, start: int, end: int, marks: list[tuple[int, int]],
                  color: str) -> Markup:
    """text[start:end] with the evidence spans marked."""
    out: list[str] = []
    pos = start
    for s, e in sorted(marks):
        s, e = max(s, pos), min(e, end)
        if s >= e:
            continue
        out.append(str(escape(layout_text(text[pos:s]))))
        out.append(f'<mark style="background:{color}">{escape(layout_text(text[s:e]))}</mark>')
        pos = e
    out.append(str(escape(layout_text(text[pos:end]))))
    return Markup("".join(out))


def write_report(data: ReportData, out: Path, *, force: bool = False) -> ReportSummary:
    """Write the report into the folder `out` (see the module docstring for the rules)."""
    check_out(out, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise ExportError(f"cannot write {out}: {e.strerror}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        site = Site(data, tmp)
        site.write()
        old = None
        if out.is_dir():
            old = out.parent / f"{tmp.name}.old"
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write {out}: {e.strerror}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportSummary(
        out, site.count, site.size, len(data.documents),
        sum(len(v) for v in data.annotations_by_doc.values()),
        sum(len(h) for h in data.hits.values()), len(data.passages), len(data.clusters))


def check_out(out: Path, *, force: bool) -> None:
    """Refuse a target that is not a folder, a folder of the user's, or (without `force`) an
    earlier report; checked before the work so a mistake costs nothing."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ExportError(f"{out} is a folder not written by `annotate report`; "
                              "choose another --out")
        if not force:
            raise ExportError(f"{out} exists; use --force to replace the report")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
