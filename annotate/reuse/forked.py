"""Stages of the local engine mapped over forked worker processes.

A forked child sees the parent's memory as it was at the fork (copy-on-write), so the
fingerprints, shards and seeds it works on are never pickled to it; only its result comes
back. Where there is no fork (Windows, macOS's default), everything runs in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# What the forked children read: set just before their pool starts, cleared after.
_SHARED: Any = None


def can_fork() -> bool:
    return "fork" in get_all_start_methods()


def fork_map(
    fn: Callable[[Any, T], R], items: Sequence[T], shared: Any, workers: int,
    done: Callable[[T], None] | None = None,
) -> list[R]:
    """`[fn(shared, item) for item in items]`, over `workers` forked processes when there
    are several items and workers (results in the order of `items`); `done(item)` is called
    as each result arrives (for a progress bar)."""
    if workers <= 1 or len(items) < 2 or not can_fork():
        return [_noted(fn(shared, item), item, done) for item in items]
    global _SHARED
    _SHARED = (fn, shared)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                                 mp_context=get_context("fork")) as pool:
            return [_noted(result, item, done)
                    for item, result in zip(items, pool.map(_call, items), strict=True)]
    finally:
        _SHARED = None


def _noted(result: R, item: T, done: Callable[[T], None] | None) -> R:
    if done is not None:
        done(item)
    return result


def _call(item: Any) -> Any:
    fn, shared = _SHARED
    return fn(shared, item)


class Pending(Generic[R]):
    """A result being computed in a forked process (`in_background`)."""

    def __init__(self, pool: ProcessPoolExecutor, future: Future[R]) -> None:
        self._pool, self._future = pool, future

    def result(self) -> R:
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()


def in_background(fn: Callable[[Any], R], shared: Any) -> Pending[R] | None:
    """`fn(shared)` started in a forked process, to run while this one goes on (None where
    there is no fork: the caller then computes it itself)."""
    if not can_fork():
        return None
    global _SHARED
    _SHARED = (fn, shared)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork"))
    try:
        # A fork-context pool forks its child at the first submit, so the child has
        # `_SHARED` and the parent can let go of it at once.
        return Pending(pool, pool.submit(_call_alone))
    finally:
        _SHARED = None


def _call_alone() -> Any:
    fn, shared = _SHARED
    return fn(shared)
