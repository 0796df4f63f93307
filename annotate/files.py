"""The one reader and the one writer of a user's files.

Reading: only regular files, and only up to a size limit. A FIFO would block forever and
`/dev/zero` would fill memory, so the path is opened without blocking, checked with `fstat`,
and read with a bound.

Writing: a regular file is replaced atomically (written beside it, fsynced, renamed over it, as
git's lock files do), so a reader never sees half a file; a symlink is followed and its target
replaced. Anything else is never renamed over: a terminal, `/dev/null`, `/dev/full` or a FIFO
with a reader is written to in place, and whatever cannot be written safely (a disk, a socket,
a FIFO nobody reads, a device such as `/dev/mem`) is refused.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from annotate.errors import ExportError, InputError

ENV_MAX_INPUT = "ANNOTATE_MAX_INPUT_MB"
DEFAULT_MAX_INPUT = 512 * 2**20
MAX_CODEBOOK = 16 * 2**20  # codebooks, corpus.toml and other small configuration files

# Character devices that are safe to write to (major 1: null, zero, full); terminals are
# recognised with isatty. Others (/dev/mem, /dev/port, a sound card) are refused.
_SAFE_DEVICES = frozenset({(1, 3), (1, 5), (1, 7)})


def max_input() -> int:
    """The size limit for documents and imports: $ANNOTATE_MAX_INPUT_MB, else 512 MB."""
    env = os.environ.get(ENV_MAX_INPUT, "").strip()
    if env:
        try:
            mb = float(env)
        except ValueError:
            raise InputError(f"{ENV_MAX_INPUT}={env!r}: not a number of megabytes") from None
        if not mb > 0 or mb == float("inf"):
            raise InputError(f"{ENV_MAX_INPUT}={env!r}: must be a positive number of megabytes")
        return int(mb * 2**20)
    return DEFAULT_MAX_INPUT


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "an unknown kind of file"


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 10 * 2**20 else f"{n / 2**20:.1f} MB"


def read_input(path: Path, *, limit: int | None = None) -> bytes:
    """The bytes of a regular file the user named, at most `limit` of them (default:
    `max_input()`); anything else is an `InputError` naming the path."""
    bound = max_input() if limit is None else limit
    hint = f"; set {ENV_MAX_INPUT} to raise it" if limit is None else ""
    try:
        # Checked before opening: opening some devices has effects (a tape rewinds).
        before = os.stat(path)
        if stat.S_ISDIR(before.st_mode):
            raise InputError(f"{path}: is a directory, not a file")
        if not stat.S_ISREG(before.st_mode):
            raise InputError(f"{path}: not a regular file (it is {_kind(before.st_mode)})")
        # O_NONBLOCK: should the path have become a FIFO meanwhile, opening it cannot hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket
            raise InputError(f"{path}: not a regular file (it is a socket)") from None
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file (it is {_kind(st.st_mode)})")
        if st.st_size > bound:
            raise InputError(
                f"{path}: too large ({_mb(st.st_size)}; the limit is {_mb(bound)}{hint})"
            )
        chunks: list[bytes] = []
        left = bound + 1  # one byte more tells a file that grew past the limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise InputError(f"{path}: too large (more than {_mb(bound)}{hint})")
        return b"".join(chunks)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | Iterable[bytes], *, force: bool = False) -> None:
    """Write `data` to `path`: a regular file (or a symlink's target) is replaced atomically
    and kept unless `force`; a terminal, null-like device or read FIFO is written in place.

    `data` may be an iterable of chunks (an export of a 200 MB document), written as they come:
    a regular file is still replaced only once every chunk is written and synced."""
    fd = _descriptor(path)
    if fd is not None:
        _write_descriptor(path, fd, data)
        return
    try:
        st: os.stat_result | None = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ExportError(f"{path} is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # Nothing kept in a device or pipe can be lost, so no --force is needed.
        _write_in_place(path, data, st)
        return
    if st is not None and not force:
        raise ExportError(f"{path} exists; use --force to overwrite it")
    # Replace the file the path leads to, not the symlink: a dotfile linked into a repository
    # stays linked. realpath also resolves a dangling symlink to where its target would be.
    _replace(path, Path(os.path.realpath(path)), data, st)


_FD_PATH = re.compile(r"/(?:dev|proc/self|proc/\d+)/fd/(\d+)")


def _descriptor(path: Path) -> int | None:
    """The open descriptor of ours that `path` names (/dev/stdout, /dev/fd/3), if any: it is
    written as it stands, never renamed over or reopened (which could truncate an append)."""
    p = os.path.abspath(path)
    for _ in range(40):
        m = _FD_PATH.fullmatch(p)
        if m:
            if m.group(0).startswith("/proc/") and not m.group(0).startswith(
                ("/proc/self/", f"/proc/{os.getpid()}/")
            ):
                return None
            return int(m.group(1))
        try:
            link = os.readlink(p)
        except OSError:  # not a symlink (or unreadable): not one of our descriptors
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), link))
    return None


def _write_descriptor(path: Path, fd: int, data: bytes | Iterable[bytes]) -> None:
    try:
        st = os.fstat(fd)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    _refuse_unsafe(path, fd, st)
    try:
        _write_all(fd, data)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None


def _chunks(data: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return (data,) if isinstance(data, bytes) else data


def _write_all(fd: int, data: bytes | Iterable[bytes]) -> None:
    for chunk in _chunks(data):
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _refuse_unsafe(path: Path, fd: int, st: os.stat_result) -> None:
    mode = st.st_mode
    if stat.S_ISBLK(mode):
        raise ExportError(f"{path} is a block device (a disk); refusing to write to it")
    if stat.S_ISDIR(mode):
        raise ExportError(f"{path} is a directory")
    if stat.S_ISCHR(mode) and not os.isatty(fd) and (
        os.major(st.st_rdev), os.minor(st.st_rdev)
    ) not in _SAFE_DEVICES:
        raise ExportError(
            f"{path} is a device other than a terminal or /dev/null; refusing to write to it"
        )


def _replace(
    path: Path, target: Path, data: bytes | Iterable[bytes], st: os.stat_result | None
) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    try:
        if st is not None:
            mode = stat.S_IMODE(st.st_mode) & 0o777  # the replaced file keeps its permissions
        else:
            # mkstemp makes the file private (0600); a new export gets the usual mode.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            for chunk in _chunks(data):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable; not every file system lets a directory be fsynced."""
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _write_in_place(path: Path, data: bytes | Iterable[bytes], st: os.stat_result) -> None:
    if stat.S_ISBLK(st.st_mode):
        raise ExportError(f"{path} is a block device (a disk); refusing to write to it")
    if stat.S_ISSOCK(st.st_mode):
        raise ExportError(f"{path} is a socket; cannot write a file to it")
    try:
        # Never O_CREAT or O_TRUNC: nothing new appears where a device was. O_NONBLOCK makes
        # opening a FIFO nobody reads fail (ENXIO) instead of hang.
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise ExportError(
                f"{path} is a FIFO that no process is reading; nothing written"
            ) from None
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise ExportError(f"{path} changed while it was being opened; nothing written")
        _refuse_unsafe(path, fd, now)
        os.set_blocking(fd, True)  # a reader is there; wait for it as `cat > fifo` would
        _write_all(fd, data)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror}") from None
    finally:
        os.close(fd)
