"""Find and read the records of one day file that cover a time span, with ranged reads.

A day file of fixed-length records is a sorted array of records, so the records that
cover ``[t0, t1]`` are one contiguous byte range. Finding it costs, for a gap-free file,
three sequential rounds of requests (requests within a round run in parallel):

1. the first record (record length, start) and the last record (file size from
   ``Content-Range``, end time);
2. a few 64-byte header probes spread around the interpolated positions of ``t0`` and
   ``t1`` (Steim2 compresses unevenly, so linear interpolation over a day can miss by
   hundreds of records; probes narrow it to a record or two);
3. the records themselves, with a margin of two records each side.

What is read is always verified: if the records do not cover the span, the range is
extended (bounded rounds). When records vary in length, are not in time order, or the
search does not converge, the whole file is read instead. What was learnt of a file
(size, record length, record start times) is kept in a small cache, so warm processes
skip the first round.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace

from .errors import DataError
from .mseed import (
    HEADER_PROBE_BYTES,
    BadRecord,
    RecordHeader,
    detect_record_length,
    parse_header,
    parse_headers,
    scan_records,
)
from .screen import GRID_TOLERANCE_NS, screen
from .store import Chunk, Store

__all__ = ["FileIndex", "FileIndexCache", "Locator", "Meter", "Records"]

_HEAD_BYTES = 512
_PROBES = 6
_MARGIN_RECORDS = 2
_MAX_EXTENSIONS = 3
_MAX_ANCHORS = 512
#: Files of more records than this are probed before the records are read.
_PROBE_ABOVE_RECORDS = 1024
#: Rounds of probes that narrow a time's bracket of known records when the first round
#: left it wide (records that compress very unevenly: a quiet day, then an earthquake).
_MAX_NARROWING_ROUNDS = 6
_NARROWING_PROBES = 7
#: An extension reads at most this many records past what the bracket pins down.
_NARROW_EXTENSION = 16


class Meter:
    """Counts the requests and bytes of reads made for one window (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.rounds = 0

    def add(self, chunk: Chunk) -> Chunk:
        with self._lock:
            self.requests += 1
            self.bytes += len(chunk.data)
        return chunk

    def round(self) -> None:
        with self._lock:
            self.rounds += 1


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
    created: float = field(default_factory=time.monotonic)
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


class FileIndexCache:
    """A small LRU of :class:`FileIndex` by key, entries expiring after ``ttl`` seconds
    (today's files grow; a size seen to change also drops the entry)."""

    def __init__(self, *, capacity: int = 1024, ttl: float = 600.0) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._entries: OrderedDict[str, FileIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> FileIndex | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.created > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: FileIndex) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


@dataclass(frozen=True, slots=True)
class Records:
    """Whole records read from ``key``: ``data`` starts at byte ``offset`` of the file."""

    key: str
    offset: int
    data: bytes
    headers: list[RecordHeader]
    problems: tuple[str, ...] = ()
    #: start of the file's first record: ObsPy reading the file puts every sample on the
    #: grid ``file_start + k / sampling_rate``, and so do we where the data agree with it.
    file_start: int | None = None
    #: records among ``data`` that parsed but were left out (they do not fit their
    #: neighbours, see :mod:`seiswindow.screen`): never decoded.
    left_out: tuple[RecordHeader, ...] = ()


class _Irregular(Exception):
    """The file is not an array of fixed-length, time-ordered records: read it whole."""


class _Changed(Exception):
    """The file's size changed since it was indexed: start again."""


class Locator:
    """Reads the records of a file that cover a time span, reading as little as it can.

    Args:
        store: where the files are.
        pool: runs the reads of one round in parallel (its tasks never wait on each other).
        cache: what is known of files from earlier reads.
        record_length: the archive's usual record length (a hint, verified).
    """

    def __init__(
        self, store: Store, *, pool: Executor, cache: FileIndexCache, record_length: int = 512
    ) -> None:
        self.store = store
        self.pool = pool
        self.cache = cache
        self.record_length = record_length
        self._flights: dict[str, Future[FileIndex]] = {}
        self._flights_lock = threading.Lock()

    def read(self, key: str, t0: int, t1: int, meter: Meter, *, context: bool = False) -> Records | None:
        """Records of ``key`` holding samples in ``[t0, t1]``, or None when it has none;
        with ``context``, the record either side too (see :meth:`_cut`).

        Raises:
            NoSuchKey: the file does not exist.
            ArchiveError: the store failed.
            DataError: the file is not valid miniSEED.
        """
        for _ in range(2):
            try:
                return self._read_ranged(key, t0, t1, meter, context)
            except _Changed:
                self.cache.drop(key)
            except _Irregular:
                self.cache.drop(key)
                break
        return self._read_whole(key, t0, t1, meter, context)

    # -- the three rounds -------------------------------------------------------------

    def _parallel(self, meter: Meter, calls: list[Callable[[], Chunk]]) -> list[Chunk]:
        meter.round()
        futures: list[Future[Chunk]] = [self.pool.submit(call) for call in calls]
        results = []
        error: BaseException | None = None
        for future in futures:  # wait for all, so no read outlives the round
            try:
                results.append(meter.add(future.result()))
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after the round
                error = error or exc
        if error is not None:
            raise error
        return results

    def _index(self, key: str, meter: Meter) -> FileIndex:
        """What is known of ``key``: from the cache, or from reading its first and last
        records. Windows of one file asked at once share one such read (single flight)."""
        index = self.cache.get(key)
        if index is not None:
            return index
        with self._flights_lock:
            index = self.cache.get(key)  # a flight may have landed since the look above
            if index is not None:
                return index
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = Future()
        assert flight is not None
        if not leader:
            return flight.result()
        try:
            index = self._read_index(key, meter)
            flight.set_result(index)
            return index
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        finally:
            with self._flights_lock:
                del self._flights[key]

    def _read_index(self, key: str, meter: Meter) -> FileIndex:
        """Size, record length and the first and last records' times (one round).

        Raises:
            _Irregular: the file is not a plain array of time-ordered records.
        """
        hint = self.record_length
        head, tail = self._parallel(
            meter,
            [
                lambda: self.store.get_range(key, start=0, end=max(_HEAD_BYTES, HEADER_PROBE_BYTES)),
                lambda: self.store.get_suffix(key, length=hint),
            ],
        )
        size = head.size
        if size == 0:
            return FileIndex(size=0, reclen=hint, anchors=OrderedDict())
        reclen = detect_record_length(head.data)
        if reclen is None or size % reclen:
            raise _Irregular  # a bad first record, a truncated file, or records of several lengths
        last_offset = size - reclen
        if tail.offset > last_offset:  # the hint was shorter than the records
            (tail,) = self._parallel(
                meter,
                [lambda: self.store.get_range(key, start=last_offset, end=last_offset + HEADER_PROBE_BYTES)],
            )
        try:
            first = parse_header(head.data, offset=0, reclen=reclen)
            last = parse_header(tail.data[last_offset - tail.offset :], offset=last_offset, reclen=reclen)
        except DataError:
            raise _Irregular from None
        if last.reclen != reclen or first.reclen != reclen or (last.start <= first.start and size > reclen):
            raise _Irregular
        periods = [h.period for h in (first, last) if h.period > 0]
        # A corrupt rate in one of the two must not widen every read: the shorter period
        # plans the reads, and the records read give the period that decides (see _read_ranged).
        index = FileIndex(size=size, reclen=reclen, anchors=OrderedDict(), period=min(periods, default=0))
        index.learn([first, last])
        self.cache.put(key, index)
        return index

    def _grid_start(self, key: str, index: FileIndex, headers: list[RecordHeader], meter: Meter) -> int:
        """Where the file's sample grid starts: at its first record, as ObsPy reading the
        file has it, unless that record is off the grid of the two after it, which agree
        (a corrupt time); then at the second. Checked (one round of two 64-byte reads, once per file) only
        when the records read are off the first record's grid by more than the jitter.

        Raises:
            _Changed, _Irregular: as :meth:`_probe`.
        """
        first, _ = index.anchors[0]
        if index.grid_start is not None:
            return index.grid_start
        if all(
            abs(_off_grid(h.start, first, h.sampling_rate)) <= GRID_TOLERANCE_NS for h in headers if h.period
        ):
            return first
        grid = first
        if index.nrecords >= 3:
            calls = [self._bytes_call(key, i * index.reclen, HEADER_PROBE_BYTES) for i in range(3)]
            try:
                trio = [
                    parse_header(chunk.data, offset=i * index.reclen, reclen=index.reclen)
                    for i, chunk in enumerate(self._parallel(meter, calls))
                ]
            except DataError:
                trio = []  # the records read tell nothing: keep the first record's grid
            if trio and _on_grid_of(trio[2], trio[1]) and not _on_grid_of(trio[0], trio[1]):
                grid = trio[1].start  # the second and third agree, the first is off their grid
        index.grid_start = grid
        return grid

    def _check_ends(self, key: str, index: FileIndex, meter: Meter) -> None:
        """Before a span is answered as outside the file on the word of its first and last
        records, check them against their neighbours (one round of two 64-byte reads, once
        per file): a record moved to an end, repeated there or with a corrupt time must not
        make the day look shorter than it is.

        Raises:
            _Irregular: an end record is out of time order with its neighbour.
        """
        n = index.nrecords
        if index.ends_checked or n < 3:
            return
        self._probe(key, index, {1, n - 2}, meter)
        index.ends_checked = True

    def _read_ranged(self, key: str, t0: int, t1: int, meter: Meter, context: bool) -> Records | None:
        index = self._index(key, meter)
        if index.size == 0:
            return None
        n = index.nrecords
        span = (t0, t1)
        # Nearest-sample trimming may keep a sample up to half a period outside the span.
        t0, t1 = t0 - index.period, t1 + index.period
        first_start, _ = index.anchors[0]
        _, last_end = index.anchors[n - 1]
        if t1 < first_start or t0 > last_end:
            self._check_ends(key, index, meter)  # _Irregular when the ends are not to be believed
            return None
        lo = index.estimate(t0)
        hi = index.estimate(t1)
        margin = _MARGIN_RECORDS
        if (hi - lo) < 0.5 * n and not self._well_known(index, lo, hi):
            if n > _PROBE_ABOVE_RECORDS:
                self._probe(key, index, self._spread(index, lo, hi), meter)
                self._narrow(key, index, (t0, t1), meter, wide=max(64, round(0.05 * n)))
                lo, hi = index.estimate(t0), index.estimate(t1)
            else:  # a small file: a wider margin costs less than a round of probes
                margin += math.ceil(0.02 * n)
        # Long spans carry more interpolation error at their ends; a record per hundred
        # costs under 1 % more bytes and saves a round.
        margin += math.ceil(0.01 * (hi - lo))
        a = max(0, math.floor(lo) - margin)
        b = min(n, math.floor(hi) + 1 + margin)
        data = self._fetch(key, index, a, b, meter)
        for attempt in range(_MAX_EXTENSIONS):
            headers, left_out, bad = self._headers(index, a, data)
            # The records read, not the first record alone, tell the period that pads the span.
            period = _period_of(headers) or index.period
            t0, t1 = span[0] - period, span[1] + period
            need_left = a > 0 and (not headers or headers[0].start > t0)
            need_right = b < n and (not headers or headers[-1].end < t1)
            if not (need_left or need_right):
                records = self._cut(key, a * index.reclen, data, headers, t0, t1, context)
                odd = [h for h in left_out if h.end >= t0 and h.start <= t1]
                records = _with_odd(key, a * index.reclen, data, records, odd)
                bad = _concerning(bad, headers, t0, t1)
                grid = self._grid_start(key, index, headers, meter)
                return _with_bad(key, records, left_out, bad, file_start=grid)
            # The records read bracket the missing end on one side; pin the other side of
            # the bracket with probes (a poor estimate then costs a round of 64-byte reads,
            # not a creep of extensions), then read exactly up to it.
            needed = tuple(t for t, need in ((t0, need_left), (t1, need_right)) if need)
            self._narrow(key, index, needed, meter, wide=_NARROW_EXTENSION)
            calls: list[Callable[[], Chunk]] = []
            new_a, new_b = a, b
            if need_left:
                step = _MARGIN_RECORDS << attempt  # grows, so a poor estimate cannot creep
                left, _ = self._bracket(index, t0)
                new_a = max(0, min(a - step, left - _MARGIN_RECORDS))
                calls.append(self._range_call(key, index, new_a, a))
            if need_right:
                step = _MARGIN_RECORDS << attempt
                _, right = self._bracket(index, t1)
                new_b = min(n, max(b + step, right + _MARGIN_RECORDS))
                calls.append(self._range_call(key, index, b, new_b))
            chunks = self._parallel(meter, calls)
            for chunk in chunks:
                if chunk.size != index.size:
                    raise _Changed
            if need_left:
                data = chunks[0].data + data
            if need_right:
                data = data + chunks[-1].data
            a, b = new_a, new_b
        raise _Irregular  # did not converge: records are not where their times say

    def _well_known(self, index: FileIndex, lo: float, hi: float) -> bool:
        """Whether cached anchors already pin both ends to within a few records."""
        numbers = [number for number, _ in index.sorted_anchors()]

        def pinned(x: float) -> bool:
            j = bisect.bisect_right(numbers, x)
            left = numbers[j - 1] if j > 0 else None
            right = numbers[j] if j < len(numbers) else None
            return left is not None and right is not None and right - left <= 2 * _MARGIN_RECORDS

        return pinned(lo) and pinned(hi)

    @staticmethod
    def _spread(index: FileIndex, lo: float, hi: float) -> set[int]:
        """A few records around the estimated positions ``lo`` and ``hi``: in a file that
        compresses evenly these pin both down to a record or two."""
        n = index.nrecords
        spread = max(8.0, 0.025 * n)
        if hi - lo < spread:
            spans = [(lo - spread, hi + spread, _PROBES)]
        else:
            spans = [
                (lo - spread, lo + spread, _PROBES // 2 + 1),
                (hi - spread, hi + spread, _PROBES // 2 + 1),
            ]
        numbers: set[int] = set()
        for begin, end, count in spans:
            for k in range(count):
                x = begin + (end - begin) * k / max(1, count - 1)
                numbers.add(min(n - 1, max(0, round(x))))
        return numbers

    @staticmethod
    def _bracket(index: FileIndex, t: int) -> tuple[int, int]:
        """The known records either side of time ``t``: ``(last starting at or before t,
        first starting after it)``."""
        items = index.sorted_anchors()
        left, right = items[0][0], items[-1][0]
        for number, (start, _) in items:
            if start <= t:
                left = number
            else:
                right = number
                break
        return left, right

    def _narrow(self, key: str, index: FileIndex, times: tuple[int, ...], meter: Meter, *, wide: int) -> None:
        """While the bracket of known records around one of ``times`` is more than ``wide``
        records, probe evenly inside it (each round shrinks it eightfold): bounded rounds
        of 64-byte reads instead of reading the records between."""
        for _ in range(_MAX_NARROWING_ROUNDS):
            numbers: set[int] = set()
            for t in times:
                left, right = self._bracket(index, t)
                if right - left > wide:
                    step = (right - left) / (_NARROWING_PROBES + 1)
                    numbers.update(round(left + step * k) for k in range(1, _NARROWING_PROBES + 1))
            if not numbers:
                return
            self._probe(key, index, numbers, meter)

    def _probe(self, key: str, index: FileIndex, numbers: set[int], meter: Meter) -> None:
        """Read the headers of records ``numbers`` and learn their times.

        Raises:
            _Changed: the file changed size.
            _Irregular: a probed record is not where a fixed-length, time-ordered file has it.
        """
        numbers -= {number for number, _ in index.sorted_anchors()}
        ordered = sorted(numbers)
        calls = [self._bytes_call(key, i * index.reclen, HEADER_PROBE_BYTES) for i in ordered]
        if not calls:
            return
        chunks = self._parallel(meter, calls)
        headers = []
        for i, chunk in zip(ordered, chunks, strict=True):
            if chunk.size != index.size:
                raise _Changed
            try:
                header = parse_header(chunk.data, offset=i * index.reclen, reclen=index.reclen)
            except DataError:
                continue  # a bad record: it tells nothing; the read that needs it reports it
            if header.reclen != index.reclen:
                raise _Irregular
            headers.append(header)
        starts = [h.start for h in sorted(headers + self._anchor_headers(index), key=lambda h: h.offset)]
        if starts != sorted(starts):
            raise _Irregular
        index.learn(headers)

    @staticmethod
    def _anchor_headers(index: FileIndex) -> list[RecordHeader]:
        return [
            RecordHeader(i * index.reclen, index.reclen, s, e, 0.0, 0, "")
            for i, (s, e) in index.sorted_anchors()
        ]

    def _bytes_call(self, key: str, start: int, length: int) -> Callable[[], Chunk]:
        return lambda: self.store.get_range(key, start=start, end=start + length)

    def _range_call(self, key: str, index: FileIndex, a: int, b: int) -> Callable[[], Chunk]:
        return lambda: self.store.get_range(key, start=a * index.reclen, end=b * index.reclen)

    def _fetch(self, key: str, index: FileIndex, a: int, b: int, meter: Meter) -> bytes:
        (chunk,) = self._parallel(meter, [self._range_call(key, index, a, b)])
        if chunk.size != index.size:
            raise _Changed
        if chunk.offset != a * index.reclen or len(chunk.data) != (b - a) * index.reclen:
            raise _Irregular  # the server did not answer the range asked for
        return chunk.data

    def _headers(
        self, index: FileIndex, a: int, data: bytes
    ) -> tuple[list[RecordHeader], list[RecordHeader], list[BadRecord]]:
        """The records of ``data`` (record ``a`` on) that fit their neighbours, those that
        parse but do not fit, and every bad record with its reason.

        Raises:
            _Irregular: not an array of time-ordered records (too many bad ones to tell).
        """
        try:
            parsed, bad = parse_headers(data, offset=a * index.reclen, reclen=index.reclen)
        except DataError:
            raise _Irregular from None
        if len(bad) > max(1, len(parsed) // 4):
            raise _Irregular  # more damage than a few bad records: scan the whole file
        screened = screen(parsed, last_offset=index.size - index.reclen)
        headers = screened.kept
        if any(later.start < earlier.start for earlier, later in zip(headers, headers[1:], strict=False)):
            raise _Irregular
        index.learn(headers)
        return headers, screened.left_out, sorted(bad + screened.bad, key=lambda b: b.offset)

    @staticmethod
    def _cut(
        key: str, offset: int, data: bytes, headers: list[RecordHeader], t0: int, t1: int, context: bool
    ) -> Records | None:
        """Keep the records that overlap ``[t0, t1]``; with ``context``, also the record
        either side, which tells whether the window starts or ends inside a gap (ObsPy's
        merged trace then begins or ends with masked samples)."""
        if not headers:
            return None
        keep = [i for i, h in enumerate(headers) if h.end >= t0 and h.start <= t1]
        if context:
            before = [i for i, h in enumerate(headers) if h.end < t0]
            after = [i for i, h in enumerate(headers) if h.start > t1]
            if keep:
                lo = keep[0] - 1 if before and before[-1] == keep[0] - 1 else keep[0]
                hi = keep[-1] + 1 if after and after[0] == keep[-1] + 1 else keep[-1]
                keep = list(range(lo, hi + 1))
            elif before and after:  # the window lies wholly in a gap
                keep = list(range(before[-1], after[0] + 1))
        if not keep:
            return None
        first, last = headers[keep[0]], headers[keep[-1]]
        start, end = first.offset - offset, last.offset + last.reclen - offset
        return Records(key, first.offset, data[start:end], headers[keep[0] : keep[-1] + 1])

    # -- fallback ---------------------------------------------------------------------

    def _read_whole(self, key: str, t0: int, t1: int, meter: Meter, context: bool) -> Records | None:
        """Read the whole file and keep the records overlapping the span (those records
        may be out of time order: each is kept on its own merit), with ``context`` the
        nearest record either side in time too."""
        (chunk,) = self._parallel(meter, [lambda: self.store.get(key)])
        parsed, bad = scan_records(chunk.data, offset=0, reclen=self.record_length)
        ends_clean = bool(parsed) and parsed[-1].offset + parsed[-1].reclen == len(chunk.data)
        screened = screen(parsed, last_offset=parsed[-1].offset if ends_clean else None)
        headers = screened.kept
        bad = sorted(bad + screened.bad, key=lambda b: b.offset)
        keep = [h for h in headers if h.end >= t0 - h.period and h.start <= t1 + h.period]
        if context:
            before = [h for h in headers if h.end < t0 - h.period]
            after = [h for h in headers if h.start > t1 + h.period]
            if before and (keep or after):
                keep.insert(0, max(before, key=lambda h: h.end))
            if after and (keep or before):
                keep.append(min(after, key=lambda h: h.start))
        file_start = headers[0].start if headers else None
        period = _period_of(headers)
        near = _concerning(bad, sorted(headers, key=lambda h: h.offset), t0 - period, t1 + period)
        # Records left out that overlap the span go along (never decoded): a record-level
        # service passes the archive's own records on as they are.
        odd = [h for h in screened.left_out if h.end >= t0 - period and h.start <= t1 + period]
        if not keep and not odd:
            return _with_bad(key, None, [], near, file_start=file_start)
        pieces: list[bytes] = []
        rebased: list[RecordHeader] = []
        rebased_odd: list[RecordHeader] = []
        position = 0
        for h in keep + odd:
            pieces.append(chunk.data[h.offset : h.offset + h.reclen])
            (rebased if len(rebased) < len(keep) else rebased_odd).append(replace(h, offset=position))
            position += h.reclen
        problems = tuple(b.describe(key) for b in near)
        return Records(key, 0, b"".join(pieces), rebased, problems, file_start, tuple(rebased_odd))


def _with_odd(
    key: str, offset: int, data: bytes, records: Records | None, odd: list[RecordHeader]
) -> Records | None:
    """``records`` (cut from ``data``, read at ``offset``) grown to hold the records left
    out that overlap the span too: never decoded, but a record-level service passes the
    archive's own records on as they are."""
    if not odd:
        return records
    begin = min([h.offset for h in odd] + ([records.offset] if records else []))
    end = max([h.offset + h.reclen for h in odd] + ([records.offset + len(records.data)] if records else []))
    headers = records.headers if records else []
    return Records(key, begin, data[begin - offset : end - offset], headers, left_out=tuple(odd))


def _on_grid_of(record: RecordHeader, other: RecordHeader) -> bool:
    """Whether ``record`` starts on ``other``'s sample grid (within the clock's jitter)."""
    return (
        other.sampling_rate > 0
        and abs(_off_grid(record.start, other.start, other.sampling_rate)) <= GRID_TOLERANCE_NS
    )


def _off_grid(t: int, origin: int, rate: float) -> int:
    """How far ``t`` is from the nearest instant ``origin + k / rate``, in ns."""
    k = round((t - origin) * rate / 1e9)
    return t - origin - round(k * 1e9 / rate)


def _period_of(headers: list[RecordHeader]) -> int:
    """The sample period most of ``headers`` have (0 when none has one)."""
    periods = Counter(h.period for h in headers if h.period > 0)
    return periods.most_common(1)[0][0] if periods else 0


def _concerning(bad: list[BadRecord], headers: list[RecordHeader], t0: int, t1: int) -> list[BadRecord]:
    """The bad records that may have held samples of ``[t0, t1]``: those that sit, in file
    order, after the last good record ending before ``t0`` and before the first good
    record starting after ``t1`` (``headers``: the good records, in file order)."""
    before = [h.offset for h in headers if h.end < t0]
    after = [h.offset for h in headers if h.start > t1]
    lo = before[-1] if before else -1
    later = [offset for offset in after if offset > lo]
    hi = later[0] if later else math.inf
    return [b for b in bad if lo < b.offset < hi]


def _with_bad(
    key: str,
    records: Records | None,
    left_out: list[RecordHeader],
    bad: list[BadRecord],
    *,
    file_start: int | None,
) -> Records | None:
    """``records`` with the bad records that concern them (see :func:`_concerning`); when
    no good record holds samples of the span, the problems alone, or None without any."""
    problems = tuple(b.describe(key) for b in bad)
    if records is None:
        return Records(key, 0, b"", [], problems, file_start) if problems else None
    end = records.offset + len(records.data)
    inside = tuple(h for h in left_out if records.offset <= h.offset < end)
    return replace(records, file_start=file_start, problems=records.problems + problems, left_out=inside)
