"""The Typer app: parses arguments, calls the core, prints, maps errors to exit codes.

Only typer is imported at module level so `annotate --help` starts fast; each command imports
what it needs when it runs. Commands of each area live in `annotate/commands/<area>.py` and are
registered here.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from annotate import __version__
from annotate.commands.common import (
    JsonOpt,
    PathsArg,
    SkipBadOpt,
    guarded,
    load,
    print_json,
)
from annotate.completion import complete_document


class _Group(TyperGroup):
    """The command group, with the argument parser's usage errors (an unknown option, a bad
    value, a missing argument) as one line `Error: …` and a hint, exit 2, instead of the usage
    block; everything else as Typer does it."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args,
                                **extra)
        try:
            # Not standalone, so a parse error reaches us instead of being printed; an Exit
            # (from `fail` or --version) comes back as its exit code.
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args,
                              **extra)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        except Exception as e:
            # The parser's errors (Click's, vendored by newer Typer): told apart by their
            # interface, so this holds whichever Typer is installed.
            if not (callable(getattr(e, "format_message", None))
                    and isinstance(getattr(e, "exit_code", None), int)):
                raise
            sys.exit(_report_parse_error(e))
        sys.exit(rv if isinstance(rv, int) else 0)


def _report_parse_error(e: Exception) -> int:
    """Print a parse error the way `fail` prints ours; its exit code."""
    show = getattr(e, "show", None)
    code = getattr(e, "exit_code", 2)
    if type(e).__name__ == "NoArgsIsHelpError" and callable(show):
        show()  # `annotate` alone, or a group alone: the help, as before
        return int(code)
    fmt = getattr(e, "format_message", None)
    message = fmt() if callable(fmt) else str(e)
    typer.echo("Error: " + " ".join(str(message).split()), err=True)
    ctx = getattr(e, "ctx", None)
    path = getattr(ctx, "command_path", None) or "annotate"
    typer.echo(f"Try '{path} --help' for help.", err=True)
    return int(code)


app = typer.Typer(
    cls=_Group,
    name="annotate",
    help="Compare public statements: themes, phrase reuse, annotation and TEI P5 export.",
    no_args_is_help=True,
    # --install-completion / --show-completion for bash, zsh, fish (and PowerShell).
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# Areas whose commands live in annotate/commands/<area>.py, each with `register(app)`.
COMMAND_MODULES = ("themes", "reuse", "annotations", "edit", "tei", "agree", "report")

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
    doc: Annotated[str, typer.Argument(help="Document id (or file name).",
                                       autocompletion=complete_document)],
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
            with con.pager(styles=pager_styles()):
                con.print(view)
        else:
            con.print(view)

    guarded(run)


def pager_styles() -> bool:
    """Whether the pager can show colours. `less` shows escape codes as text unless given -R
    (or -r), so an unset $LESS becomes -R; another $PAGER gets plain text."""
    if os.path.basename((os.environ.get("PAGER") or "less").split()[0]) != "less":
        return False
    os.environ.setdefault("LESS", "-R")
    for option in os.environ["LESS"].split():
        if option.lower() == "--raw-control-chars" or (
            not option.startswith("--") and "r" in option.lower()
        ):
            return True
    return False


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
