"""Who extracts a job's windows: the executor protocol, batches by day file, and the
local executor.

An executor takes :class:`Batch` values — the windows whose first day file is the same, so
that whoever reads them learns that file's layout (its size, record length, anchors) once
— and yields ``(window, result)`` pairs as they finish, in any order. It never writes
outputs or the manifest: the job does, in one place, which is what makes resuming the same
whatever runs the windows (this process, a Dask cluster, Lambda functions).

A window an executor cannot run (a worker lost, a function failing) must still come back,
as a result with status ``error`` and a message: it is retried by the next run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..archive import Archive, Layout
from ..archives import Archives
from ..extract import Extractor
from ..locate import RoundCost
from ..model import Limits, WindowResult
from ..nstime import utc_day
from ..tsindex import IndexStore
from .inputs import JobWindow

__all__ = ["BULK_LIMITS", "Batch", "Executor", "LocalExecutor", "batches"]

#: What one extraction call of a job may ask: any number of windows, whose memory is
#: bounded by reading them in order within a budget of samples (``samples_ahead``), not by
#: refusing them. Each window is checked against the configured limits when the job starts.
BULK_LIMITS = Limits(max_windows=sys.maxsize, max_samples=sys.maxsize)
#: Samples decoded and not yet handed back, at most, per extractor (int32: ~80 MB).
SAMPLES_AHEAD = 20_000_000


@dataclass(frozen=True, slots=True)
class Batch:
    """Windows that begin in the same day file ``key``, in the job's order."""

    key: str
    windows: tuple[JobWindow, ...]


def batches(windows: Iterable[JobWindow], layout: Layout, *, size: int = 200) -> list[Batch]:
    """``windows`` grouped by the day file their start falls in (sorted by it, so that
    neighbouring batches share their neighbour day files too), at most ``size`` a batch."""
    groups: dict[str, list[JobWindow]] = {}
    for item in windows:
        key = layout.key(item.window.nslc, utc_day(item.window.start))
        groups.setdefault(key, []).append(item)
    return [
        Batch(key, tuple(group[i : i + size]))
        for key, group in sorted(groups.items())
        for i in range(0, len(group), size)
    ]


@runtime_checkable
class Executor(Protocol):
    """Runs batches of windows; see the module's docstring."""

    def run(self, batches: Sequence[Batch]) -> Iterator[tuple[JobWindow, WindowResult]]:
        """Every window of ``batches`` with its result, as they finish."""

    def close(self) -> None:
        """Release what the executor holds (pools, clusters, stores)."""


class LocalExecutor:
    """The windows extracted in this process by one :class:`~seiswindow.extract.Extractor`
    (a bounded pool of ``workers`` day files read at once), in batch order, with at most
    ``samples_ahead`` samples decoded and not yet handed back.

    It owns ``archive``: :meth:`close` closes its store.
    """

    def __init__(
        self,
        archive: Archive | Archives,
        *,
        workers: int = 16,
        samples_ahead: int = SAMPLES_AHEAD,
        index: IndexStore | None = None,
        round_cost: RoundCost | None = None,
    ) -> None:
        self.extractor = Extractor(
            archive, limits=BULK_LIMITS, max_workers=workers, index=index, round_cost=round_cost
        )
        self.samples_ahead = samples_ahead

    def run(self, batches: Sequence[Batch]) -> Iterator[tuple[JobWindow, WindowResult]]:
        items = [item for batch in batches for item in batch.windows]
        windows = [item.window for item in items]
        for i, result in self.extractor.iter_extract(windows, samples_ahead=self.samples_ahead):
            yield items[i], result

    def close(self) -> None:
        self.extractor.close()
