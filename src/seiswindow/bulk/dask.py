"""The Dask executor: batches of windows run on a ``distributed`` cluster.

Without an address, a ``LocalCluster`` of ``workers`` processes is started on this machine
(one thread each: the extractor in a worker has its own pools of reads); with
``tcp://host:8786``, the job runs on that scheduler's workers, which must have seiswindow
installed and reach the archive. Each task is one :class:`~seiswindow.executors.Batch` (the
windows of one day file): a worker keeps one extractor per archive for its whole life, so
what it learns of a file (its size, record length, anchors) serves every later window of
that file. Results are streamed back to this process as tasks finish
(``distributed.as_completed``), where the job writes outputs and manifest; at most
``in_flight`` batches are submitted at once, which bounds the client's memory.

The archive travels to the workers as ``opener``, a picklable callable that opens it
(``functools.partial(seiswindow.open_archive, settings, check=False)``): stores hold sockets
and cannot be pickled.

``distributed`` is an optional dependency: ``pip install seiswindow[dask]``.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..archive import Archive
from ..archives import Archives
from ..errors import ConfigError
from ..extract import Extractor
from ..locate import RoundCost
from ..model import Status, Window, WindowResult
from ..tsindex import IndexStore
from .executors import BULK_LIMITS, SAMPLES_AHEAD, Batch
from .inputs import JobWindow

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

__all__ = ["DaskExecutor", "extract_batch"]

#: Each worker process's extractors, by their pickled opener (one per archive).
_EXTRACTORS: dict[bytes, Extractor] = {}
_EXTRACTORS_LOCK = threading.Lock()


def extract_batch(
    opener: Callable[[], Archive | Archives],
    windows: Sequence[Window],
    *,
    threads: int,
    samples_ahead: int,
    index: str | Callable[[], IndexStore | None] | None = None,
    round_cost: RoundCost | None = None,
) -> list[WindowResult]:
    """The results of ``windows``, in their order: what a worker runs for one batch.

    The worker's extractor for the archive ``opener`` opens is made on the first batch
    and kept (with what it learns of files) for the worker's life. ``index``: the path of
    the record index (a tsindex SQLite file every worker can open: SQLite serialises the
    lazy fill's writes of several processes), or what opens it in the worker (picklable: a
    shared index, ``s3://bucket/prefix``, is cached by each worker; docs/index.md);
    ``round_cost``: as ``Extractor(round_cost=)``.
    """
    key = pickle.dumps((opener, index, round_cost))
    with _EXTRACTORS_LOCK:
        extractor = _EXTRACTORS.get(key)
        if extractor is None:
            extractor = _EXTRACTORS[key] = Extractor(
                opener(),
                limits=BULK_LIMITS,
                max_workers=threads,
                index=(index() if callable(index) else IndexStore(index)) if index else None,
                round_cost=round_cost,
            )
    results: list[WindowResult | None] = [None] * len(windows)
    for i, result in extractor.iter_extract(list(windows), samples_ahead=samples_ahead):
        results[i] = result
    return [r for r in results if r is not None]


class DaskExecutor:
    """Runs batches on a Dask ``distributed`` cluster (see the module's docstring).

    Args:
        opener: opens the archive (or archives), in each worker (picklable).
        index: the path of the record index every worker opens, or what opens it there
            (see :func:`extract_batch`).
        round_cost: what a round costs against bytes (``Extractor(round_cost=)``).
        address: the scheduler (``tcp://host:8786``); None: a ``LocalCluster`` here.
        workers: worker processes of the ``LocalCluster``.
        threads: day files each worker reads at once.
        in_flight: batches submitted and not yet received, at most (default: 4 per worker).
        client: a ``distributed.Client`` of the caller's to run on (not closed by
            :meth:`close`); then ``address`` and ``workers`` are not used.

    Raises:
        ConfigError: ``distributed`` is not installed, or the scheduler cannot be reached.
    """

    def __init__(
        self,
        opener: Callable[[], Archive | Archives],
        *,
        index: str | Callable[[], IndexStore | None] | None = None,
        round_cost: RoundCost | None = None,
        address: str | None = None,
        workers: int = 2,
        threads: int = 8,
        in_flight: int | None = None,
        samples_ahead: int = SAMPLES_AHEAD,
        client: Client | None = None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "the dask executor needs the 'distributed' package: pip install 'seiswindow[dask]'"
            ) from None
        self.opener = opener
        self.index = index
        self.round_cost = round_cost
        self.threads = threads
        self.samples_ahead = samples_ahead
        self._cluster: LocalCluster | None = None
        self._owns_client = client is None
        self.client: Client
        try:
            if client is not None:
                self.client = client
            elif address:
                self.client = Client(address, timeout="30s")  # type: ignore[no-untyped-call]
            else:
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                )
                self.client = Client(self._cluster)  # type: ignore[no-untyped-call]
        except OSError as exc:
            self.close()
            raise ConfigError(f"cannot reach the Dask scheduler {address or '(local)'}: {exc}") from None
        reached = len(self.client.scheduler_info().get("workers", {})) or workers
        self.in_flight = in_flight or 4 * reached

    def run(self, batches: Sequence[Batch]) -> Iterator[tuple[JobWindow, WindowResult]]:
        from distributed import as_completed

        pending = iter(batches)
        submitted: dict[Any, Batch] = {}

        def submit() -> Any | None:
            batch = next(pending, None)
            if batch is None:
                return None
            future = self.client.submit(
                extract_batch,
                self.opener,
                [item.window for item in batch.windows],
                threads=self.threads,
                samples_ahead=self.samples_ahead,
                index=self.index,
                round_cost=self.round_cost,
                pure=False,
            )
            submitted[future] = batch
            return future

        first = [f for f in (submit() for _ in range(self.in_flight)) if f is not None]
        queue = as_completed(first)  # type: ignore[no-untyped-call]
        for future in queue:
            batch = submitted.pop(future)
            yield from _batch_results(future, batch)
            following = submit()
            if following is not None:
                queue.add(following)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None and self._owns_client:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _batch_results(future: Any, batch: Batch) -> Iterator[tuple[JobWindow, WindowResult]]:
    """A finished task's results; a failed task (a worker lost, a bug) fails its windows
    with the reason, for the next run to retry."""
    if future.status == "finished":
        results = future.result()
        yield from zip(batch.windows, results, strict=True)
        return
    try:
        reason = repr(future.exception())
    except Exception as exc:  # the cluster itself went away: that is the reason too
        reason = repr(exc)
    for item in batch.windows:
        yield item, WindowResult(item.window, Status.ERROR, message=f"dask task failed: {reason}")
    future.release()
