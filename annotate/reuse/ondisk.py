"""Arrays a Dask task leaves on its worker's local disk rather than in the worker's memory.

Between the stages of the Dask engine every chunk's fingerprints, every shard's pieces and
every shard's seeds wait on the workers for the tasks that need them: all together, the
whole corpus's worth. Kept in memory (what a Dask future holds), they make a worker's peak
grow with the corpus / workers. An `OnDisk` is what such a task returns instead: a file in
the worker's local directory (`dask worker --local-directory`, Dask's scratch space; on HPC
clusters, a node-local disk) and a small description of the arrays in it. The next task
memory-maps the arrays it needs, so a worker's memory holds only what its running task
works on, and the operating system's page cache, not the process, keeps the rest.

Why not Dask's own spilling (`dask worker --memory-limit`)? It depends on how the workers
were started, which the client does not control; it spills only past a fraction of the
limit and reads a spilled result back whole; and single tasks at the sizes here made Dask
kill workers instead (measured: README, "Running on a cluster"). The file is the worker's
own, so no filesystem shared by the workers is needed (the same holds with `--send-text`):
when a task runs on another worker, Dask moves the value, and pickling an `OnDisk` carries
its arrays (only the fields and rows it selects), which the receiving worker writes to its
own local directory. The file goes when the last `OnDisk` naming it is garbage (Dask drops
it once no task needs it); a killed worker's directory is cleared by Dask.

The local engine's `--on-disk` runs the same tasks in a pool of this machine's processes
(`local_tasks`), which share one disk: there an `OnDisk` crosses between processes *by
reference* (its path and fields), the files live in one directory of the run, and only the
parent process removes them (`shared_disk`, `borrow`).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import tempfile
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import numpy as np

# Each array starts on a multiple of this (numpy's fast paths want aligned data).
_ALIGN = 64
_DIR: str | None = None
# Set while a local pool shares this machine's disk: an `OnDisk` is pickled by reference.
_BY_REFERENCE = False
# False in the pool's processes: the files they write belong to the parent, which removes them.
_OWNS_FILES = True
# The live `_File` of each path, so a reference coming back from the pool joins the file's
# other users instead of starting a second count (whose end would remove the file early).
_FILES: weakref.WeakValueDictionary[str, _File] = weakref.WeakValueDictionary()


def local_directory() -> str:
    """This process's place for `OnDisk` files: the Dask worker's local directory (cleared
    by Dask when the worker goes, even when killed), else one temporary directory."""
    global _DIR
    if _DIR is not None or "distributed" not in sys.modules:
        # Not a Dask worker (which has imported distributed before it runs a task).
        if _DIR is None:
            _DIR = tempfile.mkdtemp(prefix="annotate-ondisk-")
        return _DIR
    try:
        from distributed import get_worker
        from distributed.worker import Worker

        try:
            return str(get_worker().local_directory)
        except ValueError:  # not inside a task (say, unpickling a value sent by a peer)
            for worker in list(Worker._instances):
                if worker.status.name not in ("closing", "closed", "failed"):
                    return str(worker.local_directory)
    except ImportError:
        pass
    if _DIR is None:
        _DIR = tempfile.mkdtemp(prefix="annotate-ondisk-")
    return _DIR


class _File:
    """One file on the local disk, removed when the last `OnDisk` naming it goes (unless it
    belongs to another process)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.remove = weakref.finalize(self, _unlink, path) if _OWNS_FILES else None


def _file(path: str) -> _File:
    known = _FILES.get(path)
    if known is None:
        known = _FILES[path] = _File(path)
    return known


@contextlib.contextmanager
def shared_disk(directory: str) -> Iterator[None]:
    """For the parent of a local pool, while it runs: `OnDisk` values cross to the pool by
    reference, and the files (which the pool writes in `directory`) are this process's to
    remove."""
    global _BY_REFERENCE
    before = _BY_REFERENCE
    _BY_REFERENCE = True
    try:
        yield
    finally:
        _BY_REFERENCE = before


def borrow(directory: str) -> None:
    """For a process of a local pool (its initializer): write files in `directory`, send them
    by reference, and leave their removal to the parent."""
    global _DIR, _BY_REFERENCE, _OWNS_FILES
    _DIR, _BY_REFERENCE, _OWNS_FILES = directory, True, False
    for inherited in list(_FILES.values()):  # a forked process's copies of the parent's
        if inherited.remove is not None:
            inherited.remove.detach()


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def _written(path: str) -> Iterator[BinaryIO]:
    """`path` open for writing, removed again when writing fails (a full disk, say): a Dask
    worker's directory outlives the task, and nothing else would remove a partial file."""
    try:
        with open(path, "wb") as out:
            yield out
    except BaseException:
        _unlink(path)
        raise


# (name, dtype, byte offset of row 0, rows)
Field = tuple[str, str, int, int]


@dataclass(frozen=True, eq=False)
class OnDisk:
    """Named one-dimensional arrays in a file of this worker's, with `meta`: small plain data
    that travels with them (document ids, offsets)."""

    file: _File
    fields: tuple[Field, ...]
    meta: Any = None

    @staticmethod
    def save(arrays: Mapping[str, Any], meta: Any = None) -> OnDisk:
        path = os.path.join(local_directory(), f"annotate-{uuid.uuid4().hex}.bin")
        fields: list[Field] = []
        at = 0
        with _written(path) as out:
            for name, array in arrays.items():
                a = np.ascontiguousarray(array)
                if a.ndim != 1:
                    raise ValueError(f"{name}: OnDisk holds one-dimensional arrays only")
                pad = -at % _ALIGN
                out.write(b"\0" * pad)
                at += pad
                fields.append((name, a.dtype.str, at, len(a)))
                out.write(a.data.cast("B"))
                at += a.nbytes
        return OnDisk(_file(path), tuple(fields), meta)

    @staticmethod
    def concat(parts: Sequence[OnDisk], meta: Any = None) -> OnDisk:
        """The parts' fields end to end in one new file (parts with the same fields), copied
        a part at a time: never all of them in memory."""
        if not parts:
            raise ValueError("OnDisk.concat needs at least one part")
        names = [(name, dt) for name, dt, _, _ in parts[0].fields]
        path = os.path.join(local_directory(), f"annotate-{uuid.uuid4().hex}.bin")
        fields: list[Field] = []
        at = 0
        with _written(path) as out:
            for name, dt in names:
                pad = -at % _ALIGN
                out.write(b"\0" * pad)
                at += pad
                rows = 0
                for part in parts:
                    a = np.ascontiguousarray(part.load()[name], dtype=np.dtype(dt))
                    out.write(a.data.cast("B"))
                    rows += len(a)
                    del a
                fields.append((name, dt, at, rows))
                at += rows * np.dtype(dt).itemsize
        return OnDisk(_file(path), tuple(fields), meta)

    def load(self) -> dict[str, Any]:
        """The arrays, memory-mapped read-only (only the pages used are ever read)."""
        size = max((off + n * np.dtype(dt).itemsize for _, dt, off, n in self.fields),
                   default=0)
        if size == 0:
            return {name: np.zeros(0, dt) for name, dt, _, _ in self.fields}
        with open(self.file.path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        # Each array keeps the mapping alive; it is unmapped when the last one goes.
        return {name: np.frombuffer(mapped, np.dtype(dt), n, off)
                for name, dt, off, n in self.fields}

    def select(self, names: Sequence[str]) -> OnDisk:
        """The same file, only these fields (so only they travel to another worker)."""
        return replace(self, fields=tuple(f for f in self.fields if f[0] in names))

    def rows(self, lo: int, hi: int, meta: Any = None) -> OnDisk:
        """Rows [lo, hi) of every field (fields of equal length)."""
        return OnDisk(self.file, tuple((name, dt, off + lo * np.dtype(dt).itemsize, hi - lo)
                                       for name, dt, off, _ in self.fields), meta)

    @property
    def nbytes(self) -> int:
        return sum(n * np.dtype(dt).itemsize for _, dt, _, n in self.fields)

    def __reduce__(self) -> tuple[Any, ...]:
        if _BY_REFERENCE:  # a process of this machine's pool, or its parent
            return (_adopt, (self.file.path, self.fields, self.meta))
        # To another process (a peer worker, Dask's own spill): the data itself, written
        # again to that process's disk when unpickled.
        return (_restore, (self.load(), self.meta))


def _restore(arrays: dict[str, Any], meta: Any) -> OnDisk:
    return OnDisk.save(arrays, meta)


def _adopt(path: str, fields: tuple[Field, ...], meta: Any) -> OnDisk:
    return OnDisk(_file(path), fields, meta)


def _register_sizeof() -> None:
    """Tell Dask an `OnDisk`'s size as what it weighs in transit (its selected rows), not
    the few bytes it takes in memory: Dask sizes its batches of transfers between workers,
    and places tasks near their data, by this figure. Reported as nearly nothing, a worker
    fetched the inputs of all its queued tasks in one message, holding them all in memory at
    once. Dask also counts this figure as the worker's managed memory: past its spill
    threshold it would spill an `OnDisk` by pickling it by value, reading the arrays into
    memory and writing a second copy, for nothing (the data is on disk already). The
    engine's own LocalCluster turns that spilling off; on a cluster of your own, start the
    workers with `--memory-limit 0`, or set `distributed.worker.memory.target` and
    `.spill` to false (README, "Running on a cluster")."""
    try:
        from dask.sizeof import sizeof
    except ImportError:
        return

    register: Any = sizeof.register  # (untyped in dask)
    register(OnDisk)(_nbytes)


def _nbytes(value: OnDisk) -> int:
    return value.nbytes


_register_sizeof()
