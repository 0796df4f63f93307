"""Stages of the local engine mapped over forked worker processes.

A forked child sees the parent's memory as it was at the fork (copy-on-write), so the
fingerprints, shards and seeds it works on are never pickled to it; only its result comes
back. Where fork is unavailable or unsafe (Windows; macOS, whose system libraries do not
survive a fork), everything runs in this process.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import Connection
from typing import Any, Generic, ParamSpec, TypeVar

from annotate.errors import AnnotateError

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

# What the forked children read: set just before their pool starts, cleared after.
_SHARED: Any = None


class WorkerDied(AnnotateError):
    """A worker process ended abruptly: killed by a signal or by the system when memory ran
    out."""

    def __init__(self, detail: object, hint: str = "") -> None:
        super().__init__("a worker process of the reuse pool died (out of memory, or killed)"
                         f"{hint}: {detail}")


def deaths_explained(hint: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`fn` with a worker process's abrupt end (which `concurrent.futures` reports as a
    BrokenProcessPool) turned into a `WorkerDied` error for the user, with `hint`."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def explained(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except BrokenProcessPool as e:
                raise WorkerDied(e, hint) from None

        return explained

    return wrap


def die_with_parent() -> None:
    """For a worker process, first thing (a pool's initializer): end when the process that
    started it ends. A parent killed outright (by the out-of-memory killer, say) cannot shut
    its pool down, and its workers would otherwise wait for work forever, holding their
    memory and the parent's output pipes (Linux; elsewhere nothing is done)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent was gone before the request took hold
        os._exit(1)


def can_fork() -> bool:
    return sys.platform != "darwin" and "fork" in get_all_start_methods()


def fork_map(
    fn: Callable[[Any, T], R], items: Sequence[T], shared: Any, workers: int,
    done: Callable[[T], None] | None = None,
) -> list[R]:
    """`[fn(shared, item) for item in items]`, over `workers` forked processes when there
    are several items and workers (results in the order of `items`); `done(item)` is called
    as each result arrives (for a progress bar). The pool forks all its children before it
    starts its thread."""
    if workers <= 1 or len(items) < 2 or not can_fork():
        return [_noted(fn(shared, item), item, done) for item in items]
    global _SHARED
    _SHARED = (fn, shared)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                                 mp_context=get_context("fork"),
                                 initializer=die_with_parent) as pool:
            return [_noted(result, item, done)
                    for item, result in zip(items, pool.map(_call, items), strict=True)]
    finally:
        _SHARED = None


class Background(Generic[R]):
    """`fn(shared)` computed in a forked process while this one goes on (fork only: check
    `can_fork`). A plain process and a pipe, no pool: no thread is started here, so the
    pools forked meanwhile never fork a thread. Use it as a context manager: leaving
    it ends the process, whether or not its result was taken."""

    def __init__(self, fn: Callable[[Any], R], shared: Any) -> None:
        context = get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_background, args=(fn, shared, send),
                                        daemon=True)
        self._process.start()
        send.close()

    def result(self) -> R:
        try:
            ok, value = self._receive.recv()
        except EOFError:
            raise WorkerDied(f"exit code {self._process.exitcode}") from None
        finally:
            self.close()
        if not ok:
            raise value
        result: R = value
        return result

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()

    def __enter__(self) -> Background[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _background(fn: Callable[[Any], Any], shared: Any, send: Connection) -> None:
    die_with_parent()
    try:
        outcome = (True, fn(shared))
    except BaseException as e:  # carried to the parent, which raises it
        outcome = (False, e)
    send.send(outcome)
    send.close()


def _noted(result: R, item: T, done: Callable[[T], None] | None) -> R:
    if done is not None:
        done(item)
    return result


def _call(item: Any) -> Any:
    fn, shared = _SHARED
    return fn(shared, item)
