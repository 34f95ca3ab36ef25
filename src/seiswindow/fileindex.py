"""What is known of one day file: its size, record length and the times of some of its
records (anchors), from which any time is mapped to a record number; and a cache of that
knowledge, shared by the windows of a process, so a warm process skips the first round.

Knowing a file is interpolation between anchors and choosing what to probe next; reading
it is :mod:`seiswindow.locate`'s job.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .cache import Cache
from .mseed import RecordHeader
from .store import Chunk

__all__ = ["FileIndex", "FileIndexCache", "Meter", "RoundCost"]

_MAX_ANCHORS = 512
#: A time is pinned down when known records this close bracket it.
_PINNED_RECORDS = 4
_PROBES = 6


class Meter:
    """Counts the requests and bytes of reads made for one window (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes = 0

    def add(self, chunk: Chunk) -> Chunk:
        with self._lock:
            self.requests += 1
            self.bytes += len(chunk.data)
        return chunk


@dataclass(slots=True)
class FileIndex:
    """What is known of one file: size, record length, and start/end times of some records
    (``anchors``, by record number), always including the first and the last record."""

    size: int
    reclen: int
    anchors: OrderedDict[int, tuple[int, int]]
    period: int = 0  #: one sample period in ns (0 when unknown)
    ends_checked: bool = False  #: the first and last records were checked against their neighbours
    #: start of the first record that fits its neighbours (the grid ObsPy puts the file's
    #: samples on); None until the records read have been seen to disagree with record 0
    grid_start: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def nrecords(self) -> int:
        return self.size // self.reclen

    def learn(self, headers: list[RecordHeader]) -> None:
        """Remember record times; past :data:`_MAX_ANCHORS` the oldest go first (never the
        first and last record, which bound every interpolation)."""
        last = self.nrecords - 1
        with self._lock:  # windows of one file learn and estimate from several threads
            for header in headers:
                number = header.offset // self.reclen
                self.anchors[number] = (header.start, header.end)
                self.anchors.move_to_end(number)  # re-learnt: now the newest (never absent)
            excess = len(self.anchors) - _MAX_ANCHORS
            if excess > 0:
                old = [n for n in self.anchors if n not in (0, last)][:excess]
                for number in old:
                    del self.anchors[number]

    def sorted_anchors(self) -> list[tuple[int, tuple[int, int]]]:
        """``(record number, (start, end))`` of the known records, by record number."""
        with self._lock:
            return sorted(self.anchors.items())

    def estimate(self, t: int) -> float:
        """Interpolated (fractional) record number at which time ``t`` is found."""
        items = self.sorted_anchors()
        starts = [start for _, (start, _) in items]
        j = bisect.bisect_right(starts, t) - 1
        if j < 0:
            return 0.0
        if j >= len(items) - 1:
            return float(items[-1][0])
        (i0, (s0, _)), (i1, (s1, _)) = items[j], items[j + 1]
        if s1 <= s0:
            return float(i0)
        return i0 + (t - s0) / (s1 - s0) * (i1 - i0)

    def pinned(self, lo: float, hi: float) -> bool:
        """Whether known records already bracket record positions ``lo`` and ``hi`` to
        within :data:`_PINNED_RECORDS`."""
        numbers = [number for number, _ in self.sorted_anchors()]

        def pins(x: float) -> bool:
            j = bisect.bisect_right(numbers, x)
            return 0 < j < len(numbers) and numbers[j] - numbers[j - 1] <= _PINNED_RECORDS

        return pins(lo) and pins(hi)

    def spread(self, lo: float, hi: float) -> set[int]:
        """A few records around the estimated positions ``lo`` and ``hi``: in a file that
        compresses evenly these pin both down to a record or two."""
        n = self.nrecords
        width = max(8.0, 0.025 * n)
        if hi - lo < width:
            spans = [(lo - width, hi + width, _PROBES)]
        else:
            spans = [(lo - width, lo + width, _PROBES // 2 + 1), (hi - width, hi + width, _PROBES // 2 + 1)]
        numbers: set[int] = set()
        for begin, end, count in spans:
            for k in range(count):
                x = begin + (end - begin) * k / max(1, count - 1)
                numbers.add(min(n - 1, max(0, round(x))))
        return numbers

    def bracket(self, t: int) -> tuple[int, int]:
        """The known records either side of time ``t``: ``(last starting at or before t,
        first starting after it)``."""
        items = self.sorted_anchors()
        left, right = items[0][0], items[-1][0]
        for number, (start, _) in items:
            if start <= t:
                left = number
            else:
                right = number
                break
        return left, right

    def anchor_headers(self) -> list[RecordHeader]:
        """The known records as headers (offset and times only), by record number."""
        return [
            RecordHeader(i * self.reclen, self.reclen, s, e, 0.0, 0, "")
            for i, (s, e) in self.sorted_anchors()
        ]


class FileIndexCache(Cache[str, FileIndex]):
    """What is known of files, by key: at most ``capacity`` entries, each kept ``ttl``
    seconds (today's files grow; a size seen to change also drops the entry)."""

    def __init__(self, *, capacity: int = 1024, ttl: float = 600.0) -> None:
        super().__init__(maxsize=capacity, ttl=ttl)


@dataclass(frozen=True, slots=True)
class RoundCost:
    """What a round of requests and a byte cost: ``latency_s`` of one request, and the
    ``bandwidth_bps`` (bytes per second) of one connection. The defaults are S3's from a
    client in its region, the benchmark's shaping (20 ms, 100 MB/s)."""

    latency_s: float = 0.020
    bandwidth_bps: float = 100e6

    def cheaper_than_a_round(self, extra_bytes: int) -> bool:
        """Whether reading ``extra_bytes`` more costs less time than one more round."""
        return extra_bytes / self.bandwidth_bps < self.latency_s
