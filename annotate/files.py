"""Reading a user's files with one-line errors, and writing files a user will keep: atomically,
and never over an existing file unasked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from annotate.errors import ExportError, InputError


def read_input(path: Path) -> bytes:
    """The bytes of a file the user named; a missing, unreadable or wrong kind of path is an
    `InputError` naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def write_atomic(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write via a temporary file in the same directory and a rename, so a reader never sees
    half a file; an existing file is kept unless `force`."""
    if path.is_dir():
        raise ExportError(f"{path} is a directory")
    if path.exists() and not force:
        raise ExportError(f"{path} exists; use --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    try:
        # mkstemp makes the file private (0600); an export should get the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
