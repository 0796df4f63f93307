"""The Typer app: parses arguments, calls the core, prints, maps errors to exit codes.

Only typer is imported at module level so `annotate --help` starts fast; each command imports
what it needs when it runs. Commands of each area live in `annotate/commands/<area>.py` and are
registered here.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from annotate import __version__
from annotate.errors import AnnotateError

app = typer.Typer(
    name="annotate",
    help="Compare public statements: themes, phrase reuse, annotation and TEI P5 export.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# Areas whose commands live in annotate/commands/<area>.py, each with `register(app)`.
COMMAND_MODULES = ("themes", "reuse", "annotations", "edit", "tei")

T = TypeVar("T")

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Corpus directory or files (default: ./seeds).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SkipBadOpt = Annotated[
    bool, typer.Option("--skip-bad", help="Skip files that cannot be read, and list them.")
]
StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Annotation store (default: $ANNOTATE_STORE, else ./.annotate/annotations.sqlite).",
        show_default=False,
    ),
]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Annotator (default: $ANNOTATE_USER, else the system user).",
                 show_default=False),
]
CodebookOpt = Annotated[
    Path | None,
    typer.Option(
        "--codebook",
        help="Theme codebook (default: $ANNOTATE_CODEBOOK, else themes.toml in the corpus "
        "directory, else seeds/themes.toml).",
        show_default=False,
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `Error: message` on stderr and exit non-zero (no traceback for users)."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def guarded(fn: Callable[[], T]) -> T:
    """Run a command body, turning the core's errors into a one-line message."""
    try:
        return fn()
    except AnnotateError as e:
        fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        # `annotate ... | head` closing the pipe early is not an error.
        sys.stderr.close()
        raise typer.Exit(0) from None


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def load(paths: list[Path] | None, skip_bad: bool = False) -> Any:
    """Read the corpus, reporting skipped files and decoding warnings on stderr."""
    from annotate.corpus import load_corpus

    corpus = load_corpus(paths or None, skip_bad=skip_bad)
    for msg in corpus.skipped:
        typer.echo(f"Skipped: {msg}", err=True)
    for doc in corpus.documents:
        for w in doc.warnings:
            typer.echo(f"Warning: {w}", err=True)
    if not corpus.documents:
        fail("no readable documents in the corpus")
    return corpus


def _version(value: bool) -> None:
    if value:
        typer.echo(f"annotate {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Compare public statements: themes, phrase reuse, annotation and TEI P5 export."""


@app.command()
def corpus(paths: PathsArg = None, json_out: JsonOpt = False, skip_bad: SkipBadOpt = False) -> None:
    """List the documents of a corpus: id, date, title, speakers, words, sentences."""

    def run() -> None:
        from annotate.render import corpus_table, document_summary

        c = load(paths, skip_bad)
        if json_out:
            print_json({"documents": [document_summary(d) for d in c.documents]})
        else:
            from annotate.render import console

            console().print(corpus_table(c))

    guarded(run)


@app.command()
def show(
    doc: Annotated[str, typer.Argument(help="Document id (or file name).")],
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    pager: Annotated[
        bool, typer.Option("--pager/--no-pager", help="Page long output (default on a tty).")
    ] = True,
) -> None:
    """Show a document with its paragraph and sentence ids."""

    def run() -> None:
        from annotate.render import document_json, document_view

        d = load(paths).get(doc)
        if json_out:
            print_json(document_json(d))
            return
        from annotate.render import console

        con = console()
        view = document_view(d, width=con.width)
        if pager and con.is_terminal and len(d.text) > 2000:
            with con.pager(styles=True):
                con.print(view)
        else:
            con.print(view)

    guarded(run)


def _register_areas() -> None:
    for area in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"annotate.commands.{area}")
        except ModuleNotFoundError as e:
            if e.name == f"annotate.commands.{area}":
                continue  # an area not built yet
            raise
        module.register(app)


_register_areas()


def main() -> None:
    app()
