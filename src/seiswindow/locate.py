"""Find and read the records of one day file that cover a time span, with ranged reads.

A day file of fixed-length records is a sorted array of records, so the records that
cover ``[t0, t1]`` are one contiguous byte range. Finding it costs, for a gap-free file,
three sequential rounds of requests (requests within a round run in parallel):

1. the first record (record length, start) and the last record (file size from
   ``Content-Range``, end time);
2. a few 64-byte header probes spread around the interpolated positions of ``t0`` and
   ``t1`` (Steim2 compresses unevenly, so linear interpolation over a day can miss by
   hundreds of records; probes narrow it to a record or two; a file that compresses very
   unevenly costs more rounds of probes, never a whole read);
3. the records themselves, with a margin of two records each side.

With a :class:`RoundCost` (``Locator(round_cost=)``, ``Extractor(round_cost=)``; off by
default, which reads the fewest bytes), round 2 is skipped when reading more costs less
than a round: the
records are read at once, with a *speculative* margin each side of
:data:`_INTERPOLATION_ERROR` of the records between the known records that bracket each
end. The error, measured by ``python -m benchmarks.indexread`` on every sample file
(between the first and last record, 2,000 times each), is at most 2.2 % of the records
(CI.CCA BHN, 166 of 7,498). The margin costs ``2 × 2.5 % × n × reclen`` bytes: 190 kB
for a 40 Hz day, 700 kB for a 100 Hz one, 2-7 ms at 100 MB/s against a round's 20 ms:
so the model speculates for files under ~78,000 records of 512 bytes (40 MB) at the
default cost (20 ms, 100 MB/s) and probes beyond. When the guess misses (a day that
compresses more unevenly) the read is extended as any read is: correct, one round more.

What is read is always verified: if the records do not cover the span, the range is
extended exactly to the records that bracket it. Records that do not parse or do not fit
their neighbours (:mod:`seiswindow.screen`) are left out and reported. When records vary
in length, are not in time order, or the search does not converge, the whole file is read
instead. What was learnt of a file is kept (:mod:`seiswindow.fileindex`), so warm
processes skip the first round.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future

from .errors import DataError
from .fileindex import FileIndex, FileIndexCache, Meter, RoundCost
from .model import Nslc
from .mseed import (
    HEADER_PROBE_BYTES,
    BadRecord,
    RecordHeader,
    detect_record_length,
    parse_header,
    parse_headers,
)
from .records import (
    Records,
    concerning,
    cut,
    off_grid,
    on_grid_of,
    period_of,
    pick_whole,
    scan_whole,
    with_bad,
    with_left_out,
)
from .screen import GRID_TOLERANCE_NS, screen
from .stationday import ChannelSections, NotIndexed, channel_range, channel_records
from .store import Chunk, Store

__all__ = ["FileIndex", "FileIndexCache", "Locator", "Meter", "Records", "RoundCost"]

_HEAD_BYTES = 512
_MARGIN_RECORDS = 2
_MAX_EXTENSIONS = 3
#: Files of more records than this are probed before the records are read.
_PROBE_ABOVE_RECORDS = 1024
#: Rounds of probes that narrow a time's bracket of known records when the first round
#: left it wide (records that compress very unevenly: a quiet day, then an earthquake).
_MAX_NARROWING_ROUNDS = 6
_NARROWING_PROBES = 7
#: An extension reads at most this many records past what the bracket pins down.
_NARROW_EXTENSION = 16
#: The largest error of linear interpolation between known records, as a fraction of the
#: records between them, measured on the sample files (2.2 %, see the module docstring).
_INTERPOLATION_ERROR = 0.025


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
        round_cost: when given, decides between a round of probes and a speculative
            margin; None (the default) always probes, reading the fewest bytes.
    """

    def __init__(
        self,
        store: Store,
        *,
        pool: Executor,
        cache: FileIndexCache,
        record_length: int = 512,
        round_cost: RoundCost | None = None,
    ) -> None:
        self.store = store
        self.round_cost = round_cost
        self.pool = pool
        self.cache = cache
        self.record_length = record_length
        #: called with a file's key and bytes when it was read whole (to index it)
        self.on_whole: Callable[[str, bytes], None] | None = None
        self._flights: dict[str, Future[FileIndex]] = {}
        self._flights_lock = threading.Lock()

    def read(self, key: str, t0: int, t1: int, meter: Meter, *, context: bool = False) -> Records | None:
        """Records of ``key`` holding samples in ``[t0, t1]``, or None when it has none;
        with ``context``, the record either side too (see :func:`~seiswindow.records.cut`).

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
        (a corrupt time); then at the second. Checked (one round of three 64-byte reads, once per file)
        only when the records read are off the first record's grid by more than the jitter.

        Raises:
            _Changed, _Irregular: as :meth:`_probe`.
        """
        first, _ = index.anchors[0]
        if index.grid_start is not None:
            return index.grid_start
        if all(
            abs(off_grid(h.start, first, h.sampling_rate)) <= GRID_TOLERANCE_NS for h in headers if h.period
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
            if trio and on_grid_of(trio[2], trio[1]) and not on_grid_of(trio[0], trio[1]):
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
        # Nearest-sample trimming may keep a sample up to half a period outside the span.
        padded = (t0 - index.period, t1 + index.period)
        first_start, _ = index.anchors[0]
        _, last_end = index.anchors[index.nrecords - 1]
        if padded[1] < first_start or padded[0] > last_end:
            self._check_ends(key, index, meter)  # _Irregular when the ends are not to be believed
            return None
        a, b = self._first_range(key, index, padded, meter)
        data = self._fetch(key, index, a, b, meter)
        for attempt in range(_MAX_EXTENSIONS):
            headers, left_out, bad = self._headers(index, a, data)
            # The records read, not the first record alone, tell the period that pads the span.
            period = period_of(headers) or index.period
            padded = (t0 - period, t1 + period)
            need_left = a > 0 and (not headers or headers[0].start > padded[0])
            need_right = b < index.nrecords and (not headers or headers[-1].end < padded[1])
            if not (need_left or need_right):
                return self._answer(key, index, a, data, (headers, left_out, bad), padded, meter, context)
            a, b, data = self._extend(
                key, index, (a, b, data), padded, (need_left, need_right), attempt, meter
            )
        raise _Irregular  # did not converge: records are not where their times say

    def _first_range(
        self, key: str, index: FileIndex, span: tuple[int, int], meter: Meter
    ) -> tuple[int, int]:
        """The records ``[a, b)`` to read first for ``span``: interpolated between known
        records, after a round of probes (or two, narrowing) in a large file."""
        n = index.nrecords
        lo, hi = index.estimate(span[0]), index.estimate(span[1])
        margin = left = right = _MARGIN_RECORDS
        if (hi - lo) < 0.5 * n and not index.pinned(lo, hi):
            left, right = (self._speculative(index, t) for t in span)
            if n <= _PROBE_ABOVE_RECORDS:  # a small file: a wider margin costs less than a round of probes
                margin += math.ceil(0.02 * n)
                left = right = 0
            elif self.round_cost is None or not self.round_cost.cheaper_than_a_round(
                (left + right) * index.reclen
            ):
                self._probe(key, index, index.spread(lo, hi), meter)
                self._narrow(key, index, span, meter, wide=max(64, round(0.05 * n)))
                lo, hi = index.estimate(span[0]), index.estimate(span[1])
                left = right = 0
        # Long spans carry more interpolation error at their ends; a record per hundred
        # costs under 1 % more bytes and saves a round.
        margin += math.ceil(0.01 * (hi - lo))
        return max(0, math.floor(lo) - margin - left), min(n, math.floor(hi) + 1 + margin + right)

    @staticmethod
    def _speculative(index: FileIndex, t: int) -> int:
        """Records to read past the estimate of ``t`` so that interpolation's error is
        covered: a fraction of the records between the known records around it."""
        below, above = index.bracket(t)
        return math.ceil(_INTERPOLATION_ERROR * (above - below))

    def _answer(
        self,
        key: str,
        index: FileIndex,
        a: int,
        data: bytes,
        read: tuple[list[RecordHeader], list[RecordHeader], list[BadRecord]],
        span: tuple[int, int],
        meter: Meter,
        context: bool,
    ) -> Records | None:
        """The records of ``data`` (record ``a`` on) for ``span``, with the records left
        out among them, the bad records that concern it and the file's grid."""
        headers, left_out, bad = read
        t0, t1 = span
        records = cut(key, a * index.reclen, data, headers, t0, t1, context=context)
        odd = [h for h in left_out if h.end >= t0 and h.start <= t1]
        records = with_left_out(key, a * index.reclen, data, records, odd)
        grid = self._grid_start(key, index, headers, meter)
        _, file_end = index.anchors[index.nrecords - 1]
        bad_near = concerning(bad, headers, t0, t1)
        return with_bad(key, records, left_out, bad_near, file_start=grid, file_end=file_end)

    def _extend(
        self,
        key: str,
        index: FileIndex,
        read: tuple[int, int, bytes],
        span: tuple[int, int],
        need: tuple[bool, bool],
        attempt: int,
        meter: Meter,
    ) -> tuple[int, int, bytes]:
        """Read more records on the side(s) that do not cover ``span`` yet. The records
        read bracket the missing end on one side; the other side of the bracket is pinned
        with probes (a poor estimate then costs a round of 64-byte reads, not a creep of
        extensions), then read exactly up to it.

        Raises:
            _Changed: the file changed size.
        """
        a, b, data = read
        need_left, need_right = need
        needed = tuple(t for t, wanted in zip(span, need, strict=True) if wanted)
        self._narrow(key, index, needed, meter, wide=_NARROW_EXTENSION)
        step = _MARGIN_RECORDS << attempt  # grows, so a poor estimate cannot creep
        calls: list[Callable[[], Chunk]] = []
        new_a, new_b = a, b
        if need_left:
            left, _ = index.bracket(span[0])
            new_a = max(0, min(a - step, left - _MARGIN_RECORDS))
            calls.append(self._range_call(key, index, new_a, a))
        if need_right:
            _, right = index.bracket(span[1])
            new_b = min(index.nrecords, max(b + step, right + _MARGIN_RECORDS))
            calls.append(self._range_call(key, index, b, new_b))
        chunks = self._parallel(meter, calls)
        if any(chunk.size != index.size for chunk in chunks):
            raise _Changed
        if need_left:
            data = chunks[0].data + data
        if need_right:
            data = data + chunks[-1].data
        return new_a, new_b, data

    def _narrow(self, key: str, index: FileIndex, times: tuple[int, ...], meter: Meter, *, wide: int) -> None:
        """While the bracket of known records around one of ``times`` is more than ``wide``
        records, probe evenly inside it (each round shrinks it eightfold): bounded rounds
        of 64-byte reads instead of reading the records between."""
        for _ in range(_MAX_NARROWING_ROUNDS):
            numbers: set[int] = set()
            for t in times:
                left, right = index.bracket(t)
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
        starts = [h.start for h in sorted(headers + index.anchor_headers(), key=lambda h: h.offset)]
        if starts != sorted(starts):
            raise _Irregular
        index.learn(headers)

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

    # -- fallback ---------------------------------------------------------------------

    def read_channel(
        self,
        key: str,
        nslc: Nslc,
        t0: int,
        t1: int,
        meter: Meter,
        *,
        context: bool = False,
        sections: ChannelSections | None = None,
    ) -> Records | None:
        """As :meth:`read`, for an object whose records interleave several channels (a
        station-day object): only ``nslc``'s records are kept. The bisection of :meth:`read`
        assumes one channel per file, so it is not tried: with ``sections`` (what the record
        index holds of the channel in this object) the records it names are read, checked
        against it (:mod:`seiswindow.stationday`); without, or when the index cannot be
        used, the whole object is read. Either way the answer is exact.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store failed.
        """
        if sections is not None and sections.rows:
            try:
                return self._read_indexed(key, nslc, sections, t0, t1, meter, context)
            except NotIndexed:
                pass
        return self._read_whole(key, t0, t1, meter, context, channel=nslc)

    def _read_indexed(
        self, key: str, nslc: Nslc, sections: ChannelSections, t0: int, t1: int, meter: Meter, context: bool
    ) -> Records | None:
        """The records of ``nslc`` the index names for ``[t0, t1]``, one ranged read.

        Raises:
            NotIndexed: the index does not list every record, or disagrees with the object.
        """
        period = sections.period
        a, b, expected = channel_range(sections, t0 - period, t1 + period)
        (chunk,) = self._parallel(meter, [lambda: self.store.get_range(key, start=a, end=b)])
        if chunk.size != sections.size or chunk.offset != a or len(chunk.data) != b - a:
            raise NotIndexed  # the object changed, or the server did not answer the range
        return channel_records(
            key, chunk.data, a, nslc, sections, expected, t0, t1, reclen=self.record_length, context=context
        )

    def _read_whole(
        self, key: str, t0: int, t1: int, meter: Meter, context: bool, *, channel: Nslc | None = None
    ) -> Records | None:
        """Read the whole file and keep the records overlapping the span (see
        :func:`~seiswindow.records.pick_whole`), going past bad records; with ``channel``,
        only that channel's records (bad records, whose channel cannot be told, are kept
        for :func:`~seiswindow.records.concerning` to judge)."""
        (chunk,) = self._parallel(meter, [lambda: self.store.get(key)])
        if self.on_whole is not None:
            self.on_whole(key, chunk.data)
        parsed, bad = scan_whole(chunk.data, reclen=self.record_length)
        ends_clean = bool(parsed) and parsed[-1].offset + parsed[-1].reclen == len(chunk.data)
        screened = screen(parsed, last_offset=parsed[-1].offset if ends_clean else None)
        bad = sorted(bad + screened.bad, key=lambda b: b.offset)
        kept, left_out = screened.kept, screened.left_out
        if channel is not None:  # the screen judges each channel on its own already
            kept = [h for h in kept if h.nslc == channel]
            left_out = [h for h in left_out if h.nslc == channel]
            ours = {h.offset for h in screened.left_out if h.nslc == channel}
            others = {h.offset for h in screened.left_out} - ours
            bad = [b for b in bad if b.offset not in others]
        return pick_whole(key, chunk.data, kept, left_out, bad, t0, t1, context=context)
