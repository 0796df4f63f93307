"""`annotate reuse` (shared passages across a corpus) and `annotate compare A B`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from annotate.commands.common import JsonOpt, PathsArg, fail, guarded, load, print_json
from annotate.completion import complete_document


class Engine(StrEnum):
    local = "local"
    dask = "dask"


# Mirrors annotate.reuse.DEFAULT_MIN_WORDS / DEFAULT_MAX_DF / DEFAULT_MIN_BITS / the params'
# SHARD_SHINGLES (not imported:
# keeps --help fast); tests check they agree.
MIN_WORDS = 6
MAX_DF = 0.05
MIN_BITS = 66.0
SHARD_SHINGLES = 4_000_000

MinWordsOpt = Annotated[
    int,
    typer.Option(
        "--min-words", "-m", min=1,
        help="Shortest passage reported, in matching words (shorter shared phrases are "
        "formulas, not reuse).",
    ),
]


MinBitsOpt = Annotated[
    float,
    typer.Option(
        "--min-bits", min=0,
        help="Chance rule: least evidence a passage needs, in bits. Each word the two sides "
        "share counts -log2 of its frequency in running text (the corpus's own, blended with "
        "general English for small corpora): 'the' is 4 bits, 'smuggling' 18, so six rare "
        "words in a row (about 90) pass and a stock phrase of common ones (50-62) does not. "
        "A passage found in three or more documents needs 8 bits fewer. 0 turns the rule "
        "off.",
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
        min_bits: MinBitsOpt = MIN_BITS,
        series: Annotated[
            str | None,
            typer.Option(
                "--series", metavar="REGEX",
                help="The series of each document (a newspaper, say) is the first group of "
                "REGEX over its file name, e.g. '_([^-]+)-ed'; a series set in corpus.toml "
                "wins. Passages between two documents of one series are left out.",
            ),
        ] = None,
        within_series: Annotated[
            bool,
            typer.Option("--within-series",
                         help="Keep passages within one series, marked as such."),
        ] = False,
        json_out: JsonOpt = False,
        jsonl: Annotated[
            bool,
            typer.Option("--jsonl", help="One passage a line as JSON (the --json passage "
                         "records), for tools that stream."),
        ] = False,
        limit: Annotated[
            int | None,
            typer.Option("--limit", "-n", min=1, help="Show only the first N passages."),
        ] = None,
        engine: Annotated[
            Engine,
            typer.Option("--engine", help="Where the detection runs: this machine's "
                         "processes (local) or a Dask cluster (dask, needs the dask extra). "
                         "Same output either way."),
        ] = Engine.local,
        scheduler: Annotated[
            str | None,
            typer.Option("--scheduler", metavar="ADDRESS",
                         help="With --engine dask: the Dask scheduler, e.g. "
                         "tcp://10.0.0.5:8786 (default: $DASK_SCHEDULER_ADDRESS, else a "
                         "cluster of worker processes on this machine)."),
        ] = None,
        send_text: Annotated[
            bool,
            typer.Option("--send-text", help="With --engine dask: send the texts to the "
                         "workers instead of letting them read the corpus path (for workers "
                         "that do not share this filesystem)."),
        ] = False,
        shard_shingles: Annotated[
            int,
            typer.Option("--shard-shingles", min=10_000, metavar="N",
                         help="Most word sequences a shard of the index holds: grouping a "
                         "shard is the largest single step (about 90 bytes a sequence), so "
                         "this bounds its memory. The output does not depend on it."),
        ] = SHARD_SHINGLES,
        on_disk: Annotated[
            bool | None,
            typer.Option("--on-disk/--in-memory",
                         help="With --engine local: keep the index and other intermediate "
                         "results on disk (in $TMPDIR), in worker processes, so memory is "
                         "bounded by chunk and shard rather than the corpus; about as fast, "
                         "same output. Default: on disk only when the corpus would take more than "
                         "half the memory available."),
        ] = None,
    ) -> None:
        """Passages shared by two or more documents, verbatim or with small edits, ranked
        longest and most similar first; clusters of passages found in three or more.
        A passage must be unlikely by chance (--min-bits) and, with series, cross them."""

        def run() -> None:
            import sys

            from annotate.reuse import find_reuse, write_json, write_jsonl

            if engine is Engine.local and (scheduler is not None or send_text):
                fail("--scheduler and --send-text need --engine dask", 2)
            if engine is Engine.dask and on_disk is not None:
                fail("--on-disk and --in-memory are for --engine local (the Dask engine "
                     "always keeps its intermediate results on disk)", 2)
            if engine is Engine.dask:
                from annotate.reuse.engine_dask import dask_available

                dask_available()
            corpus = load(paths)
            by_name = None
            if series is not None:
                from annotate.corpus_rules import series_from_names

                by_name = series_from_names({d.id: d.path.name for d in corpus.documents},
                                            series)
            options: dict[str, Any] = {
                "min_words": min_words, "doc": doc, "max_df": max_df, "min_bits": min_bits,
                "series": by_name, "within_series": within_series,
                "shard_shingles": shard_shingles}
            if engine is Engine.dask:
                from annotate.reuse.engine_dask import find_reuse_dask

                result = _with_progress(
                    lambda progress: find_reuse_dask(
                        corpus, scheduler=scheduler, send_text=send_text, progress=progress,
                        **options),
                    large=True)
            else:
                chars = sum(len(d.text) for d in corpus.documents)
                spill = on_disk
                if spill is None:
                    from annotate.reuse.local_tasks import needs_disk

                    spill = needs_disk(chars)
                    if spill:
                        typer.echo(f"Note: {chars / 1e6:,.0f} million characters of text are "
                                   "many for this machine's free memory: the index waits on "
                                   "disk (--in-memory to keep it in memory).", err=True)
                options["on_disk"] = spill
                result = _with_progress(
                    lambda progress: find_reuse(corpus, progress=progress, **options),
                    large=chars > 2_000_000,
                )
            if jsonl:
                write_jsonl(sys.stdout, result, limit=limit)
                return
            if json_out:
                write_json(sys.stdout, corpus, result, limit=limit, extra={
                    "total_passages": len(result.passages), "min_words": min_words,
                    "min_bits": min_bits,
                })
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
            from annotate.errors import CorpusError
            from annotate.render import console
            from annotate.reuse import find_reuse, passages_between
            from annotate.reuse_render import compare_view

            corpus = load(paths)
            da, db = corpus.get(a), corpus.get(b)
            if da.id == db.id:
                raise CorpusError(f"compare needs two different documents, got {da.id} twice")
            # The passages of `a` with the whole corpus, so a phrase that travels through
            # other documents counts as such (the chance rule), then those shared with `b`.
            result = find_reuse(corpus, min_words=min_words, doc=da.id)
            between = passages_between(result, da.id, db.id)
            if json_out:
                from annotate.compare_json import compare_json

                print_json(compare_json(da, db, between, min_words=min_words))
                return
            con = console(width)
            con.print(compare_view(da, db, between, min_words=min_words, width=con.width))

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
