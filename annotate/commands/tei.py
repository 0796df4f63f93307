"""`annotate export` and `annotate import`: TEI P5 (and Web Annotation, CSV, collation) out, and
back into the annotation store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotate.commands.common import (
    PathsArg,
    StoreOpt,
    fail,
    guarded,
    load,
    print_json,
    to_stdout,
    usage,
    where,
    write_out,
)
from annotate.completion import complete_documents

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.exchange.data import ExportData
    from annotate.model import Annotation, Change, Cluster, Codebook, Passage, ThemeHit

EXPORTS = Path("exports")


def default_out(paths: list[Path] | None, corpus: Corpus, fmt: str) -> Path:
    """`exports/<corpus directory>.<suffix>`, else the corpus name made a file name."""
    from annotate.exchange.formats import SUFFIXES

    if paths and len(paths) == 1 and paths[0].is_dir():
        stem = paths[0].resolve().name
    elif not paths:
        stem = "seeds"
    else:
        stem = re.sub(r"[^A-Za-z0-9]+", "-", corpus.name or "corpus").strip("-").lower()
    return EXPORTS / f"{stem or 'corpus'}{SUFFIXES[fmt]}"


def gather(paths: list[Path] | None, corpus: Corpus, store_path: Path | None,
           codebook: Path | None, reuse: bool, hits_too: bool = True
           ) -> tuple[ExportData, list[str]]:
    """Everything the export carries: annotations and history from the store (if there is
    one), the codebook and its hits (if there is one), shared passages unless told not."""
    from annotate.exchange.data import ExportData
    from annotate.store import Store, default_store_path

    notes: list[str] = []
    anns: tuple[Annotation, ...] = ()
    history: tuple[Change, ...] = ()
    decided: dict[str, str] = {}
    path = store_path or default_store_path()
    if path.is_file():
        with Store.open(path, readonly=True) as st:
            anns = tuple(st.list())
            history = tuple(st.history())
            decided = {i: p.decided_by for i, p in st.provenances([a.id for a in anns]).items()
                       if p.decided_by}
    elif store_path is not None:
        fail(f"{store_path}: no such annotation store")
    else:
        notes.append(f"no annotation store at {path}: exporting without annotations")
    from annotate.themes import codebook_path, load_codebook, match_corpus

    cb_path = codebook_path(paths, codebook)
    cb: Codebook | None = None
    hits: dict[str, tuple[ThemeHit, ...]] = {}
    if cb_path.is_file():
        cb = load_codebook(cb_path)
        if hits_too:
            hits = match_corpus(cb, corpus)
    elif codebook is not None:
        fail(f"{codebook}: no such codebook")
    else:
        notes.append(f"no codebook at {cb_path}: exporting without themes")
    passages: tuple[Passage, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    # One document shares passages with no other: its fingerprints would only cost memory.
    if reuse and len(corpus.documents) > 1:
        from annotate.reuse import find_reuse

        result = find_reuse(corpus)
        passages, clusters = result.passages, result.clusters
    data = ExportData(corpus, anns, history, cb, hits, passages, clusters, decided_by=decided)
    return data, notes


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        paths: PathsArg = None,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="File to write (default: exports/<corpus directory>.xml, "
            ".jsonld, .csv or .collation.xml; - for standard output).",
            show_default=False)] = None,
        fmt: Annotated[str, typer.Option(
            "--format", "-f", help="tei (teiCorpus), webanno (W3C Web Annotation JSON-LD), "
            "csv (a row per annotation) or collation (two documents, TEI parallel "
            "segmentation).")] = "tei",
        docs: Annotated[str | None, typer.Option(
            "--docs", help="The two documents of a collation, e.g. 004,000.",
            show_default=False, autocompletion=complete_documents)] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Overwrite the output file if it exists.")] = False,
        store: StoreOpt = None,
        codebook: Annotated[Path | None, typer.Option(
            "--codebook", help="Theme codebook (default: $ANNOTATE_CODEBOOK, else themes.toml "
            "in the corpus directory).", show_default=False)] = None,
        no_reuse: Annotated[bool, typer.Option(
            "--no-reuse", help="Leave shared passages out (faster on a large corpus).")
        ] = False,
    ) -> None:
        """Export the corpus with its annotations, themes and shared passages as TEI P5."""

        def run() -> None:
            from annotate.exchange.collation import collation_bytes
            from annotate.exchange.formats import FORMATS, export_chunks

            if fmt not in FORMATS:
                usage(f"invalid value for '--format': {fmt!r}",
                      f"Use one of {', '.join(FORMATS)}.")
            corpus = load(paths)
            target = out or default_out(paths, corpus, fmt)
            if not to_stdout(target):
                if target.is_dir():
                    fail(f"{target} is a directory")
                if target.exists() and not force:
                    fail(f"{target} exists; use --force to overwrite it")
            if fmt == "collation":
                if docs:
                    names = [n.strip() for n in docs.split(",") if n.strip()]
                elif len(corpus.documents) == 2:
                    names = [d.id for d in corpus.documents]
                else:
                    names = []
                if len(names) != 2:
                    usage("a collation needs two documents",
                          "Name them with --docs A,B, e.g. --docs 004,000.")
                a, b = corpus.get(names[0]), corpus.get(names[1])
                passages: tuple[Passage, ...] = ()
                if not no_reuse:
                    from annotate.reuse import find_reuse, passages_between

                    # The passages `annotate compare A B` shows: A against the whole corpus
                    # (so the chance rule sees a phrase that travels), then those with B.
                    passages = tuple(passages_between(find_reuse(corpus, doc=a.id), a.id, b.id))
                write_out(target, collation_bytes(a, b, passages), force=force)
                typer.echo(f"Wrote {where(target)}: collation of {a.id} and {b.id}, aligned on "
                           f"{len(passages)} shared passages", err=to_stdout(target))
                return
            # Theme hits and shared passages only go into the TEI export.
            full = fmt == "tei"
            data, notes = gather(paths, corpus, store, codebook, reuse=full and not no_reuse,
                                 hits_too=full)
            for n in notes:
                typer.echo(f"Note: {n}", err=True)
            skipped = data.skipped_annotations()
            if skipped:
                typer.echo(f"Warning: {len(skipped)} annotations of documents not in the "
                           f"corpus left out ({', '.join(sorted({a.doc for a in skipped}))})",
                           err=True)
            write_out(target, export_chunks(data, fmt), force=force)
            hits = sum(len(h) for h in data.hits.values())
            if not full:
                typer.echo(f"Wrote {where(target)}: {len(data.annotations) - len(skipped)} "
                           "annotations", err=to_stdout(target))
                return
            counts = [
                (len(corpus.documents), "document"),
                (len(data.annotations) - len(skipped), "annotation"),
                (hits, "theme hit"),
                (len(data.passages), "shared passage"),
                (len(data.clusters), "cluster"),
            ]
            typer.echo(f"Wrote {where(target)}: " + ", ".join(
                f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts),
                err=to_stdout(target))

        guarded(run)

    @app.command("import")
    def import_cmd(
        file: Annotated[Path, typer.Argument(
            help="A TEI file written by `annotate export`, or Web Annotation JSON-LD.")],
        paths: PathsArg = None,
        store: StoreOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")
                            ] = False,
        allow_unknown: Annotated[bool, typer.Option(
            "--allow-unknown-docs", help="Import annotations of documents that are not in the "
            "corpus (by default refused: an export of another corpus).")] = False,
    ) -> None:
        """Import annotations from an export into the store, without overwriting or
        duplicating; exits 1 if anything could not be imported."""

        def run() -> None:
            from annotate.exchange.formats import read_export
            from annotate.exchange.importing import import_into
            from annotate.store import Store

            imported = read_export(file)
            # Always against a corpus (./seeds, else the bundled one, unless given): its
            # documents are what the annotations must belong to.
            corpus = load(paths)
            with Store.open(store) as st:
                report = import_into(st, imported, corpus, allow_unknown=allow_unknown)
            if json_out:
                print_json({"file": str(file), **report.summary()})
            else:
                for w in report.warnings:
                    typer.echo(f"Warning: {w}", err=True)
                for c in report.conflicts:
                    typer.echo(f"Conflict: {c}", err=True)
                typer.echo(f"Imported {file}: {len(report.added)} added, "
                           f"{len(report.unchanged)} unchanged, "
                           f"{len(report.conflicts)} conflicts")
            if report.conflicts:
                raise typer.Exit(1)

        guarded(run)
