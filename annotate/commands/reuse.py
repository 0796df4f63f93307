"""`annotate reuse` (shared passages across a corpus) and `annotate compare A B`."""

from __future__ import annotations

from typing import Annotated

import typer

from annotate.commands.common import JsonOpt, PathsArg, guarded, load, print_json
from annotate.completion import complete_document

# Mirrors annotate.reuse.DEFAULT_MIN_WORDS / DEFAULT_MAX_DF (not imported: keeps --help fast);
# tests check they agree.
MIN_WORDS = 6
MAX_DF = 0.05

MinWordsOpt = Annotated[
    int,
    typer.Option(
        "--min-words", "-m", min=1,
        help="Shortest passage reported, in matching words (shorter shared phrases are "
        "formulas, not reuse).",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command()
    def reuse(
        paths: PathsArg = None,
        min_words: MinWordsOpt = MIN_WORDS,
        doc: Annotated[
            str | None,
            typer.Option("--doc", "-d", help="Only passages shared with this document."),
        ] = None,
        max_df: Annotated[
            float,
            typer.Option(
                "--max-df",
                help="Ignore word sequences found in more than this fraction of the "
                "documents (a number above 1: this many documents) as boilerplate; never "
                "fewer than 10 documents.",
            ),
        ] = MAX_DF,
        json_out: JsonOpt = False,
        limit: Annotated[
            int | None,
            typer.Option("--limit", "-n", min=1, help="Show only the first N passages."),
        ] = None,
    ) -> None:
        """Passages shared by two or more documents, verbatim or with small edits, ranked
        longest and most similar first; clusters of passages found in three or more."""

        def run() -> None:
            from annotate.reuse import find_reuse, reuse_json

            corpus = load(paths)
            result = _with_progress(
                lambda progress: find_reuse(
                    corpus, min_words=min_words, doc=doc, max_df=max_df, progress=progress
                ),
                large=sum(len(d.text) for d in corpus.documents) > 2_000_000,
            )
            shown = result.passages[:limit] if limit else result.passages
            if json_out:
                data = reuse_json(corpus, result)
                data["passages"] = data["passages"][: len(shown)]
                data["total_passages"] = len(result.passages)
                data["min_words"] = min_words
                print_json(data)
                return
            from annotate.render import console
            from annotate.reuse_render import reuse_view

            con = console()
            con.print(
                reuse_view(corpus, result.passages, result.clusters, min_words=min_words,
                           limit=limit, width=con.width)
            )

        guarded(run)

    @app.command()
    def compare(
        a: Annotated[str, typer.Argument(help="First document id (or file name).",
                                         autocompletion=complete_document)],
        b: Annotated[str, typer.Argument(help="Second document id (or file name).",
                                         autocompletion=complete_document)],
        paths: PathsArg = None,
        width: Annotated[
            int | None,
            typer.Option("--width", "-w", min=40, help="Output width (default: terminal)."),
        ] = None,
        min_words: MinWordsOpt = MIN_WORDS,
        json_out: JsonOpt = False,
    ) -> None:
        """Two documents side by side: each shared passage on one row with a character
        diff of what changed, and the unshared stretches between them shown compactly."""

        def run() -> None:
            from annotate.corpus import Corpus
            from annotate.errors import CorpusError
            from annotate.render import console
            from annotate.reuse import find_reuse
            from annotate.reuse_render import compare_view

            corpus = load(paths)
            da, db = corpus.get(a), corpus.get(b)
            if da.id == db.id:
                raise CorpusError(f"compare needs two different documents, got {da.id} twice")
            result = find_reuse(Corpus((da, db)), min_words=min_words)
            if json_out:
                from annotate.compare_json import compare_json

                print_json(compare_json(da, db, result.passages, min_words=min_words))
                return
            con = console(width)
            con.print(compare_view(da, db, result.passages, min_words=min_words,
                                   width=con.width))

        guarded(run)


def _with_progress(work, large: bool):  # type: ignore[no-untyped-def]
    """Run `work(progress)` with a progress bar on stderr for large corpora on a terminal.
    The bar refreshes from the callback, not from a thread of its own, so the worker
    processes the detection forks never inherit a half-held lock."""
    import sys
    import time

    if not (large and sys.stderr.isatty()):
        return work(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("Finding shared passages"), BarColumn(), MofNCompleteColumn(),
        console=Console(stderr=True), transient=True, auto_refresh=False,
    ) as bar:
        task = bar.add_task("reuse", total=None)
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - last > 0.1 or done == total:
                bar.refresh()
                last = now

        return work(progress)
