"""`annotate report`: the static HTML report (overview, reading views, reuse views)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotate.commands.common import (
    CodebookOpt,
    ForceOpt,
    PathsArg,
    StoreOpt,
    fail,
    guarded,
    load,
)

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.report import ReportData

DEFAULT_OUT = Path("exports") / "report"


def gather(paths: list[Path] | None, corpus: Corpus, store_path: Path | None,
           codebook: Path | None, reuse: bool) -> tuple[ReportData, list[str]]:
    """The same data as the TEI export: annotations from the store (if there is one), the
    codebook and its hits (if there is one), and the shared passages unless told not."""
    from annotate.model import Annotation, Cluster, Codebook, Passage, ThemeHit
    from annotate.report import ReportData
    from annotate.store import Store, default_store_path
    from annotate.themes import codebook_path, load_codebook, match_corpus

    notes: list[str] = []
    anns: tuple[Annotation, ...] = ()
    path = store_path or default_store_path()
    if path.is_file():
        with Store.open(path, readonly=True) as st:
            anns = tuple(st.list())
    elif store_path is not None:
        fail(f"{store_path}: no such annotation store")
    else:
        notes.append(f"no annotation store at {path}: the report shows no annotations")
    cb_path = codebook_path(paths, codebook)
    cb: Codebook | None = None
    hits: dict[str, tuple[ThemeHit, ...]] = {}
    if cb_path.is_file():
        cb = load_codebook(cb_path)
        hits = match_corpus(cb, corpus)
    elif codebook is not None:
        fail(f"{codebook}: no such codebook")
    else:
        notes.append(f"no codebook at {cb_path}: the report shows no themes")
    passages: tuple[Passage, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    if reuse:
        from annotate.reuse import find_reuse

        result = find_reuse(corpus)
        passages, clusters = result.passages, result.clusters
    title = corpus.name or (paths[0].resolve().name if paths and len(paths) == 1
                            else "seeds" if not paths else "Corpus")
    data = ReportData(corpus, anns, cb, hits, passages, clusters, title=f"{title}: report",
                      reuse_done=reuse)
    return data, notes


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        paths: PathsArg = None,
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Folder to write (default: exports/report).")] = DEFAULT_OUT,
        store: StoreOpt = None,
        codebook: CodebookOpt = None,
        force: ForceOpt = False,
        no_reuse: Annotated[bool, typer.Option(
            "--no-reuse", help="Leave shared passages out (faster on a large corpus).")
        ] = False,
    ) -> None:
        """Write a static HTML report that opens offline: overview with the theme heatmap
        and reuse, a reading view per statement, the shared passages side by side."""

        def run() -> None:
            from annotate.report import write_report
            from annotate.report.site import check_out

            check_out(out, force=force)
            corpus = load(paths)
            data, notes = gather(paths, corpus, store, codebook, reuse=not no_reuse)
            for n in notes:
                typer.echo(f"Note: {n}", err=True)
            skipped = data.skipped_annotations
            if skipped:
                typer.echo(f"Warning: {len(skipped)} annotations of documents not in the "
                           f"corpus left out ({', '.join(sorted({a.doc for a in skipped}))})",
                           err=True)
            s = write_report(data, out, force=force)
            counts = [(s.documents, "statement"), (s.annotations, "annotation"),
                      (s.hits, "theme hit"), (s.passages, "shared passage"),
                      (s.clusters, "cluster")]
            typer.echo(f"Wrote {s.out / 'index.html'}: {s.pages} pages "
                       f"({s.bytes / 1e6:.1f} MB) for " + ", ".join(
                           f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts))

        guarded(run)
