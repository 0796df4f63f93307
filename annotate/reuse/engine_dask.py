"""The Dask engine: the chunked pipeline (`chunked.run_chunked`) on a Dask cluster, with the
futures API.

Every stage of `chunked` is a task over plain data submitted with `client.submit`; the two
"shuffles" (chunk -> shard, shard -> block) are explicit lists of futures, not
`dask.bag.groupby`, whose all-to-all shuffle is slow and memory-hungry. Intermediate results
wait on each worker's local disk (`ondisk.OnDisk`), so a worker's memory holds the task it
runs, not corpus / workers; they never need a shared filesystem: each file is its worker's
own, and Dask moves a result to another worker by value when a task there needs it. A lost
worker's results are recomputed by the scheduler from their inputs (lineage), as for any Dask
result. The documents come from the corpus path, which the workers must see at the same path
(a shared filesystem, as on HPC clusters), or inside the tasks with `send_text`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from annotate.errors import AnnotateError
from annotate.reuse.chance import DEFAULT_MIN_BITS
from annotate.reuse.chunked import CHUNK_CHARS, VOCAB_TOKENS, ClusterError, run_chunked
from annotate.reuse.engine import ReuseResult, check_options, in_order
from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MAX_DF,
    DEFAULT_MIN_WORDS,
    DEFAULT_NGRAM,
    SHARD_SHINGLES,
)

if TYPE_CHECKING:
    from annotate.corpus import Corpus

INSTALL_HINT = "the dask engine needs the dask extra: pip install 'annotate-statements[dask]'"

__all__ = ["ClusterError", "dask_available", "find_reuse_dask"]


def dask_available() -> None:
    """Refuse, with how to install it, when the dask extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None


def find_reuse_dask(
    corpus: Corpus,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    send_text: bool = False,
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
    connect_timeout: float = 20.0,
) -> ReuseResult:
    """`engine.find_reuse` on a Dask cluster, with the same result. `scheduler` is the
    address of a running scheduler (default: $DASK_SCHEDULER_ADDRESS); with neither, a
    `LocalCluster` of `n_workers` worker processes on this machine runs for this call.
    `progress(done, total)` counts the cluster's tasks finished (the total grows as stages
    are submitted)."""
    check_options(min_words, max_df, min_bits)
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    documents, focus = in_order(corpus, doc)
    options: dict[str, Any] = {
        "send_text": send_text, "min_words": min_words, "max_df": max_df, "ngram": ngram,
        "gap": gap, "min_bits": min_bits, "series": series, "within_series": within_series,
        "shard_shingles": shard_shingles, "chunk_chars": chunk_chars,
        "vocab_tokens": vocab_tokens}
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address is None:
        workers = n_workers or min(os.cpu_count() or 1, 4)
        # No spilling: what the workers hold is on disk already (see ondisk._register_sizeof).
        # The nannies hand the configuration they were made under to their workers.
        with dask.config.set({"distributed.worker.memory.target": False,
                              "distributed.worker.memory.spill": False}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                             dashboard_address=":0") as cluster, Client(cluster) as client:
            return run_chunked(_DaskTasks(client, progress), documents, focus, **options)
    try:
        client = Client(address, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"could not reach the Dask scheduler at {address}: {e}") from None
    with client:
        return run_chunked(_DaskTasks(client, progress), documents, focus, **options)


class _DaskTasks:
    """Submits tasks and counts them as the cluster finishes them, for the progress bar.
    Counting is by a callback on each future, so the client never holds a finished future
    (and the scheduler never keeps its result) beyond the lists `run_chunked` holds. Results are
    fetched only through `results` and `each_result`, so the client holds nothing else."""

    def __init__(self, client: Any, progress: Callable[[int, int], None] | None) -> None:
        self.client = client
        self.progress = progress
        self.done = 0
        self.total = 0
        self._lock = threading.Lock()

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable[..., Any], *args: Any, pure: bool = True) -> Any:
        future = self.client.submit(fn, *args, pure=pure)
        self.total += 1
        if self.progress is not None:
            future.add_done_callback(self._one_done)
        return future

    def _one_done(self, _future: Any) -> None:
        with self._lock:
            self.done += 1

    def results(self, futures: Sequence[Any]) -> list[Any]:
        from distributed import wait

        try:
            if self.progress is not None:
                while True:
                    self.progress(min(self.done, self.total), self.total)
                    try:
                        wait(futures, timeout=0.2)
                        break
                    except TimeoutError:
                        continue
            return list(self.client.gather(futures))
        except AnnotateError:
            raise
        except Exception as e:
            raise ClusterError(f"the Dask cluster failed: {type(e).__name__}: {e}") from None

    def each_result(self, futures: list[Any]) -> list[Any]:
        """The futures' results in their order, each fetched (and its future dropped, so
        the worker forgets it) as soon as it is done; empties `futures`."""
        from distributed import as_completed

        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        try:
            pending = as_completed(futures, with_results=True)
            futures.clear()
            for future, result in pending:
                out[index[future.key]] = result
                del future, result
                if self.progress is not None:
                    self.progress(min(self.done, self.total), self.total)
        except AnnotateError:
            raise
        except Exception as e:
            raise ClusterError(f"the Dask cluster failed: {type(e).__name__}: {e}") from None
        return out

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)

