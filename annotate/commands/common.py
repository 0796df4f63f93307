"""What every command shares: the common options, and the error contract (`Error: …` on
stderr and a non-zero exit, never a traceback).

Kept apart from `cli.py` so a command module can be imported on its own: `cli.py` imports the
command modules to register them, and they import this, never `cli.py`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from annotate.errors import AnnotateError, UsageError
from annotate.sanitize import json_visible, visible

T = TypeVar("T")

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Corpus directory or files (default: ./seeds, else the bundled example corpus).",
        show_default=False,
    ),
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
        "directory, else seeds/themes.toml, else the bundled one).",
        show_default=False,
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")]


def fail(message: str, code: int = 1, hint: str = "") -> NoReturn:
    """Print `Error: message` on stderr (one line, then the hint if any) and exit non-zero (no
    traceback for users). Messages quote file names and contents, so their control characters
    are made visible."""
    typer.echo(f"Error: {visible(message)}", err=True)
    if hint:
        typer.echo(visible(hint), err=True)
    raise typer.Exit(code)


def usage(message: str, hint: str) -> NoReturn:
    """A usage error of ours (exit 2, as for the argument parser's own)."""
    fail(message, 2, hint)


def guarded(fn: Callable[[], T]) -> T:
    """Run a command body, turning the core's errors into a one-line message."""
    try:
        return fn()
    except UsageError as e:
        fail(str(e), e.exit_code, e.hint)
    except AnnotateError as e:
        fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        # `annotate ... | head` closing the pipe early is not an error.
        sys.stderr.close()
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as e:
        # A bug of ours must still not show a user a traceback; ANNOTATE_DEBUG=1 shows it.
        if os.environ.get("ANNOTATE_DEBUG"):
            raise
        fail(f"unexpected {type(e).__name__}: {e} (set ANNOTATE_DEBUG=1 for the traceback)")


STDOUT = Path("-")


def to_stdout(path: Path) -> bool:
    """`--out -` means standard output, as for most Unix tools."""
    return path == STDOUT


def where(path: Path) -> str:
    """The place an export went, for a message (the user's path shown visibly)."""
    return "standard output" if to_stdout(path) else visible(str(path))


def write_out(path: Path, data: bytes | Iterable[bytes], *, force: bool = False) -> None:
    """Write an export (whole, or in chunks) to `path` (atomically, never over a file unasked),
    or to standard output for `-`; the summary line then goes to stderr so the output stays
    clean."""
    if to_stdout(path):
        sys.stdout.flush()
        for chunk in (data,) if isinstance(data, bytes) else data:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    from annotate.files import write_atomic

    write_atomic(path, data, force=force)


def print_json(data: Any) -> None:
    typer.echo(json_visible(json.dumps(data, ensure_ascii=False, indent=2)))


_told_bundled = False


def corpus_paths(paths: list[Path] | None) -> list[Path] | None:
    """The paths given, else `./seeds`, else the bundled example corpus (said once on stderr);
    None where there is none of them, for the corpus reader's own error."""
    global _told_bundled
    if paths:
        return paths
    from annotate.bundled import NOTICE, default_corpus_dir

    folder, bundled = default_corpus_dir()
    if folder is None:
        return None
    if bundled and not _told_bundled:
        _told_bundled = True
        typer.echo(NOTICE, err=True)
    return [folder]


def load(paths: list[Path] | None, skip_bad: bool = False) -> Any:
    """Read the corpus, reporting skipped files and decoding warnings on stderr."""
    from annotate.corpus import load_corpus

    corpus = load_corpus(corpus_paths(paths), skip_bad=skip_bad)
    for msg in corpus.skipped:
        typer.echo(f"Skipped: {visible(msg)}", err=True)
    for doc in corpus.documents:
        for w in doc.warnings:
            typer.echo(f"Warning: {visible(w)}", err=True)
    if not corpus.documents:
        fail("no readable documents in the corpus")
    return corpus
