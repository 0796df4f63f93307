"""The local engine on disk: the chunked pipeline (`chunked.run_chunked`) in a pool of this
machine's processes, for corpora whose index would not fit in memory.

The in-memory engine (`engine.find_reuse`) holds every document's fingerprints, the seeds
and the runs at once: about 11-14 bytes per character of text at its peak. Here the same
tasks as on a Dask cluster run in worker processes, with every intermediate result in a
directory of the run (under $TMPDIR) rather than in memory, so a process holds one task's
chunk or shard at a time, whatever the corpus's size. The output is the same as the
in-memory engine's, byte for byte. What stays in this process is what the corpus loader
read (the texts) and the passages found.

`LocalTasks` is a small scheduler: a task is sent to the pool once the tasks it takes
results from are done, in the order they were submitted, and its inputs are let go as soon
as it finishes, so intermediate files are removed as the run goes (as Dask does).
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from annotate.errors import AnnotateError
from annotate.reuse import ondisk
from annotate.reuse.chance import DEFAULT_MIN_BITS
from annotate.reuse.chunked import CHUNK_CHARS, VOCAB_TOKENS, ClusterError, run_chunked
from annotate.reuse.engine import ReuseResult, check_options, in_order
from annotate.reuse.forked import WorkerDied, can_fork, die_with_parent
from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MAX_DF,
    DEFAULT_MIN_WORDS,
    DEFAULT_NGRAM,
    SHARD_SHINGLES,
)

if TYPE_CHECKING:
    from annotate.corpus import Corpus

# Bytes of memory per character of text the in-memory engine needs at its peak (measured:
# 2.3-2.8 GB for the 204 MB of 9,221 newspaper pages), with a margin.
IN_MEMORY_BYTES_PER_CHAR = 16


def find_reuse_on_disk(
    corpus: Corpus,
    *,
    workers: int | None = None,
    min_words: int = DEFAULT_MIN_WORDS,
    doc: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_df: float = DEFAULT_MAX_DF,
    ngram: int = DEFAULT_NGRAM,
    gap: int = DEFAULT_GAP,
    min_bits: float = DEFAULT_MIN_BITS,
    series: Mapping[str, str] | None = None,
    within_series: bool = False,
    shard_shingles: int = SHARD_SHINGLES,
    chunk_chars: int = CHUNK_CHARS,
    vocab_tokens: int = VOCAB_TOKENS,
) -> ReuseResult:
    """`engine.find_reuse`'s result, computed by `workers` processes (default: the cores,
    at most 4) with the intermediate results on disk. `progress(done, total)` counts tasks."""
    check_options(min_words, max_df, min_bits)
    documents, focus = in_order(corpus, doc)
    n = workers or min(os.cpu_count() or 1, 4)
    with LocalTasks(n, progress) as tasks:
        return run_chunked(tasks, documents, focus, send_text=False, min_words=min_words,
                           max_df=max_df, ngram=ngram, gap=gap, min_bits=min_bits,
                           series=series, within_series=within_series,
                           shard_shingles=shard_shingles, chunk_chars=chunk_chars,
                           vocab_tokens=vocab_tokens)


def needs_disk(chars: int) -> bool:
    """Whether `chars` characters of text are too many for the in-memory engine here: its
    peak would take more than half the memory available now (False where that is unknown)."""
    available = available_memory()
    return available is not None and chars * IN_MEMORY_BYTES_PER_CHAR > available // 2


def available_memory() -> int | None:
    """Bytes of memory available to new work (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f.read(1 << 16).splitlines():
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


class _Task:
    """A submitted task: its function, its arguments (other tasks among them, until it is
    sent), what waits for it, and in the end its value or error."""

    __slots__ = ("args", "dependents", "error", "finished", "fn", "missing", "value")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args: tuple[Any, ...] | None = args
        self.dependents: list[_Task] = []
        self.missing = 0
        self.finished = False
        self.value: Any = None
        self.error: BaseException | None = None


class LocalTasks:
    """`chunked.Tasks` on a pool of this machine's processes."""

    def __init__(self, workers: int, progress: Callable[[int, int], None] | None) -> None:
        self._workers = max(1, workers)
        self.progress = progress
        self.done = self.total = 0
        _remove_abandoned()
        self._directory = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
        # Forked where the system can (a fork-context pool forks all its processes at the
        # first submit, before its own thread starts); spawned elsewhere.
        context = get_context("fork" if can_fork() else "spawn")
        self._pool = ProcessPoolExecutor(self._workers, mp_context=context,
                                         initializer=_start_worker,
                                         initargs=(self._directory,))
        # A sent task's future, with the task and its resolved arguments (kept alive, and
        # their files with them, until it is done).
        self._running: dict[Future[Any], tuple[_Task, tuple[Any, ...]]] = {}
        # Futures as they finish, put by the pool's thread: one wait for the next, whatever
        # the number running (thousands, when a stage's tasks all become ready at once).
        self._finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

    def __enter__(self) -> LocalTasks:
        self._sharing = ondisk.shared_disk(self._directory)
        self._sharing.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self._running.clear()
            self._sharing.__exit__(None, None, None)
            shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def n_workers(self) -> int:
        return self._workers

    def submit(self, fn: Callable[..., Any], *args: Any, pure: bool = True) -> _Task:
        task = _Task(fn, args)
        self.total += 1
        for source in _inputs(args):
            if not source.finished:
                task.missing += 1
                source.dependents.append(task)
            elif source.error is not None and task.error is None:
                task.error = source.error
        if task.error is not None:
            self._finish(task)
        elif task.missing == 0:
            self._send(task)
        return task

    def results(self, handles: Sequence[_Task]) -> list[Any]:
        while not all(t.finished for t in handles):
            self._step()
        return [_value(t) for t in handles]

    def each_result(self, handles: list[_Task]) -> list[Any]:
        tasks = list(handles)
        handles.clear()
        out: list[Any] = [None] * len(tasks)
        left = set(range(len(tasks)))
        while left:
            for i in [i for i in left if tasks[i].finished]:
                out[i] = _value(tasks[i])
                tasks[i].value = None
                left.discard(i)
            if left:
                self._step()
        return out

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)

    def _send(self, task: _Task) -> None:
        assert task.args is not None
        args = tuple(_resolve(a) for a in task.args)
        task.args = None  # the task no longer holds its inputs' handles, only their values
        try:
            future = self._pool.submit(task.fn, *args)
        except BrokenProcessPool as e:
            task.error = _broken(e)
            self._finish(task)
            return
        self._running[future] = (task, args)
        future.add_done_callback(self._finished.put)

    def _step(self) -> None:
        """Wait for at least one running task to finish, and send what waited for it."""
        if not self._running:
            raise ClusterError("a task waits for inputs that never come (a bug in annotate)")
        finished = [self._finished.get()]
        while not self._finished.empty():
            finished.append(self._finished.get_nowait())
        for future in finished:
            task, _args = self._running.pop(future)
            try:
                task.value = future.result()
            except AnnotateError as e:
                task.error = e
            except BrokenProcessPool as e:
                task.error = _broken(e)
            except Exception as e:  # a bug in a task: one line, not a worker's traceback
                task.error = ClusterError(f"a worker process failed: {type(e).__name__}: {e}")
            del _args
            self._finish(task)
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def _finish(self, task: _Task) -> None:
        task.finished = True
        self.done += 1
        dependents, task.dependents = task.dependents, []
        for d in dependents:
            d.missing -= 1
            if task.error is not None and d.error is None:
                d.error = task.error
            if d.missing == 0:
                if d.error is not None:
                    self._finish(d)
                else:
                    self._send(d)


_PREFIX = "annotate-reuse-"


def _remove_abandoned() -> None:
    """Remove the folders of runs whose process is gone (killed outright, so it could not
    clean up): each folder is named after its run's process id."""
    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(_PREFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive, and not ours to judge
        return True
    return True


def _start_worker(directory: str) -> None:
    die_with_parent()
    ondisk.borrow(directory)


def _broken(e: BaseException) -> WorkerDied:
    return WorkerDied(e, "; a smaller --shard-shingles holds less in memory")


def _inputs(args: tuple[Any, ...]) -> Iterator[_Task]:
    """The tasks among `args`, directly or inside a list or tuple (as Dask looks for
    futures)."""
    for a in args:
        if isinstance(a, _Task):
            yield a
        elif isinstance(a, list | tuple):
            yield from (x for x in a if isinstance(x, _Task))


def _resolve(a: Any) -> Any:
    if isinstance(a, _Task):
        return a.value
    if isinstance(a, list | tuple) and any(isinstance(x, _Task) for x in a):
        return type(a)(x.value if isinstance(x, _Task) else x for x in a)
    return a


def _value(task: _Task) -> Any:
    if task.error is not None:
        raise task.error
    return task.value
