"""Theme commands: `annotate themes` (matrix, one theme's passages, JSON) and the `codebook`
sub-commands (check, show, export to and import from REFI-QDA .qdc)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotate.commands.common import (
    CodebookOpt,
    ForceOpt,
    JsonOpt,
    PathsArg,
    fail,
    guarded,
    load,
    print_json,
    to_stdout,
    where,
    write_out,
)
from annotate.completion import complete_theme
from annotate.sanitize import visible

CodebookArg = Annotated[
    Path | None,
    typer.Argument(
        help="Codebook file (default: $ANNOTATE_CODEBOOK, else seeds/themes.toml).",
        show_default=False,
    ),
]


def themes(
    paths: PathsArg = None,
    codebook: CodebookOpt = None,
    theme: Annotated[
        str | None,
        typer.Option("--theme", help="Show one theme's passages, statement by statement.",
                     autocompletion=complete_theme),
    ] = None,
    json_out: JsonOpt = False,
    width: Annotated[
        int | None,
        typer.Option("--width", min=40, help="Output width (default: the terminal's)."),
    ] = None,
) -> None:
    """Align themes across statements: the theme x statement matrix, statements in date order,
    or with --theme the passages of one theme, evidence highlighted."""

    def run() -> None:
        from annotate.errors import CodebookError
        from annotate.themes import codebook_path, load_codebook, match_corpus

        corpus = load(paths)
        cb = load_codebook(codebook_path(paths, codebook))
        if theme is not None and theme not in cb.ids:
            raise CodebookError(f"unknown theme {theme!r} (known: {', '.join(cb.ids)})")
        hits = match_corpus(cb, corpus)
        docs = corpus.documents
        if json_out:
            from annotate.themes_render import themes_json

            print_json(themes_json(cb, docs, hits, theme))
            return
        from annotate.render import console
        from annotate.themes_render import theme_matrix, theme_passages

        con = console(width)
        if theme is None:
            con.print(theme_matrix(cb, docs, hits, width=con.width))
        else:
            con.print(theme_passages(cb, theme, docs, hits, width=con.width))

    guarded(run)


def check(file: CodebookArg = None) -> None:
    """Validate a codebook: every error names file, line, theme and pattern."""

    def run() -> None:
        from annotate.themes import codebook_errors, codebook_path, load_codebook

        path = codebook_path(None, file)
        errors = codebook_errors(path)
        if errors:
            for e in errors[:-1]:
                typer.echo(f"Error: {visible(e)}", err=True)
            fail(errors[-1])
        cb = load_codebook(path)
        n = sum(len(t.patterns) + len(t.exclude) for t in cb.themes)
        typer.echo(f"{visible(str(path))}: OK, {len(cb.themes)} themes, {n} patterns, "
                   f"unit {cb.unit}")

    guarded(run)


def show(file: CodebookArg = None, json_out: JsonOpt = False) -> None:
    """List a codebook's themes: hierarchy, label, colour, patterns and excludes."""

    def run() -> None:
        from annotate.themes import codebook_path, load_codebook
        from annotate.themes_render import theme_record

        cb = load_codebook(codebook_path(None, file))
        if json_out:
            print_json(
                {
                    "name": cb.name,
                    "path": str(cb.path),
                    "unit": cb.unit,
                    "language": cb.language,
                    "themes": [theme_record(t) for t in cb.themes],
                }
            )
            return
        from annotate.render import console
        from annotate.themes_render import codebook_view

        console().print(codebook_view(cb))

    guarded(run)


def export(
    codebook: CodebookOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write (default: exports/<codebook>.qdc; - for "
                     "standard output).", show_default=False),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Export the codebook as a REFI-QDA codebook (.qdc) for QualCoder, ATLAS.ti, NVivo..."""

    def run() -> None:
        from annotate.exchange.qdc import codebook_to_qdc
        from annotate.themes import codebook_path, load_codebook

        path = codebook_path(None, codebook)
        cb = load_codebook(path)
        target = out or Path("exports") / f"{path.stem}.qdc"
        write_out(target, codebook_to_qdc(cb), force=force)
        typer.echo(f"Wrote {where(target)} ({len(cb.themes)} codes)", err=to_stdout(target))

    guarded(run)


def import_(
    file: Annotated[Path, typer.Argument(help="REFI-QDA codebook (.qdc) to read.")],
    out: Annotated[
        Path, typer.Option("--out", help="Codebook (TOML) to write (- for standard output).")
    ] = Path("themes.toml"),
    force: ForceOpt = False,
) -> None:
    """Import a REFI-QDA codebook (.qdc) as an editable TOML codebook."""

    def run() -> None:
        from annotate.exchange.qdc import codebook_to_toml, read_qdc

        cb = read_qdc(file)
        write_out(out, codebook_to_toml(cb).encode("utf-8"), force=force)
        without = sum(1 for t in cb.themes if not t.patterns)
        note = f"; {without} without patterns (add some to match them)" if without else ""
        typer.echo(f"Wrote {where(out)} ({len(cb.themes)} themes{note})", err=to_stdout(out))

    guarded(run)


def register(app: typer.Typer) -> None:
    app.command(name="themes")(themes)
    sub = typer.Typer(
        name="codebook",
        help="Check, list, export and import theme codebooks.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )
    sub.command(name="check")(check)
    sub.command(name="show")(show)
    sub.command(name="export")(export)
    sub.command(name="import")(import_)
    app.add_typer(sub, name="codebook")
