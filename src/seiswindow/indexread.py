"""Reading a window's records through the record index: one round trip per window, and
one range for many windows of a file.

When the :class:`~seiswindow.tsindex.IndexStore` holds the rows of a day file (its
``filename`` as :func:`~seiswindow.indexbuild.filename_of` names it), the bytes a window
needs are known before any read: :func:`~seiswindow.recordindex.byte_range` of the span
padded by a sample period (nearest-sample trimming may keep a sample that far out),
widened by :data:`_MARGIN_RECORDS` records each side (the record either side tells
whether the window starts or ends in a gap, and gives the screen neighbours to judge the
edge records by). One ranged read fetches it.

What is read is verified before a sample is trusted (:func:`_verify`): the object is the
size the index was made from (the read's ``Content-Range`` tells it), the bytes are the
range asked for, and every record the index promised inside the range is there, at its
offset, of its channel, starting at its indexed time. On any mismatch (a stale index: the
file was replaced or damaged since it was indexed) the read is not used: the caller falls
back to the locator's search, and the file is indexed again in the background when its
size or ETag changed.

Many windows of one file in one call are *coalesced* (:class:`Batch`): their ranges are
sorted and merged when the hole between them is under ``coalesce_bytes``, as obstore's
``get_ranges`` merges (its default is 1 MiB). Requests of a call run in parallel, so a
merge saves a request, not a round: it pays when reading the hole costs less than what
one more request costs, ``hole / bandwidth < per-request cost``. At the benchmark's 20 ms
per request and 100 MB/s that is 2 MB; the default, :data:`COALESCE_BYTES` = 1 MiB, is
~10 ms of transfer at 100 MB/s, half a request's latency, and is what obstore chose for S3
too. A merged range is at most :data:`MAX_MERGED_BYTES`: its bytes are held until its last
window has taken its records.

Lazy filling (:meth:`IndexReader.learn_whole`): when the locator had to read a whole file,
its rows are made (:func:`~seiswindow.recordindex.index_file`) and written, in the
background. A ranged read that saw only some records writes nothing: the ``tsindex``
table's readers (ObsPy, mseedindex's tools, ROVER) take a row as a complete section, and a
partial one would hide the rest of the file from them. What a ranged read learns stays in
the locator's :class:`~seiswindow.fileindex.FileIndexCache`, as before.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from .errors import ArchiveError, DataError, NoSuchKey, SeisWindowError
from .fileindex import Meter
from .indexbuild import filename_of
from .model import Nslc
from .mseed import BadRecord, RecordHeader, scan_records
from .nstime import NS_PER_S
from .recordindex import IndexRow, byte_range, index_file
from .records import Records, concerning, cut, off_grid, period_of, pick_whole, with_bad, with_left_out
from .screen import GRID_TOLERANCE_NS, screen
from .store import Chunk, Store
from .tsindex import IndexStore

__all__ = ["COALESCE_BYTES", "MAX_MERGED_BYTES", "Batch", "IndexReader", "Lookup", "coalesce"]

log = logging.getLogger(__name__)

#: Ranges of one file closer than this are read as one (see the module docstring).
COALESCE_BYTES = 1 << 20
#: A merged range grows no larger than this (its bytes are held until its windows are cut).
MAX_MERGED_BYTES = 16 << 20
#: Records read either side of the index's range.
_MARGIN_RECORDS = 2
#: How far an indexed record time (``%.6f`` seconds) may be from the record's own start.
_INDEX_TIME_TOLERANCE_NS = 500
#: The rows of a day file lie within this of any window that reads it.
_DAY_NS = 86_400 * NS_PER_S


class _Mismatch(Exception):
    """What was read is not what the index promised: the index is stale for this file."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the index gave for one file and window: ``hit`` with the ``records`` (None:
    the file holds none in the span, known without a read); else the caller searches the
    file itself, and ``stale`` says why the index was not used when it held the file."""

    hit: bool
    records: Records | None = None
    stale: str = ""


@dataclass(frozen=True, slots=True)
class _FileRows:
    """The index's rows of one channel in one file, and the size they were made from
    (None: rows written by another tool, without the object's identity)."""

    filename: str
    size: int | None
    rows: tuple[IndexRow, ...]

    @property
    def start(self) -> int:
        return min(row.start for row in self.rows)

    @property
    def end(self) -> int:
        return max(row.end for row in self.rows)

    def period(self) -> int:
        rates = [row.samplerate for row in self.rows if row.samplerate > 0]
        return round(1e9 / max(rates)) if rates else 0

    def promised(self, begin: int, end: int) -> list[tuple[int, int, Nslc]]:
        """``(offset, start, nslc)`` of the records the rows index inside ``[begin, end)``."""
        promised: list[tuple[int, int, Nslc]] = []
        for row in self.rows:
            if row.byteoffset < end and row.byteend > begin:
                lo, hi = _entries_between(row, begin, end)
                promised.extend((offset, start, row.nslc) for start, offset in row.timeindex[lo:hi])
        return promised

    def widened(self, begin: int, end: int, records: int) -> tuple[int, int]:
        """``[begin, end)`` grown by ``records`` known record boundaries each side (record
        starts of the time indexes, and the sections' ends)."""
        before: list[int] = []
        after: list[int] = []
        for row in self.rows:
            lo, hi = _entries_between(row, begin, end + 1)
            before += [offset for _, offset in row.timeindex[max(0, lo - records) : lo]]
            after += [offset for _, offset in row.timeindex[hi : hi + records]]
            before += [m for m in (row.byteoffset, row.byteend) if m < begin]
            after += [m for m in (row.byteoffset, row.byteend) if m > end]
        before, after = sorted(set(before)), sorted(set(after))
        begin = before[-records] if len(before) >= records else (before[0] if before else begin)
        end = after[records - 1] if len(after) >= records else (after[-1] if after else end)
        return begin, end


def _offset_of(entry: tuple[int, int]) -> int:
    return entry[1]


def _entries_between(row: IndexRow, begin: int, end: int) -> tuple[int, int]:
    """The slice of ``row``'s time index whose offsets are in ``[begin, end)`` (offsets
    increase along a time index: it is in file order)."""
    lo = bisect.bisect_left(row.timeindex, begin, key=_offset_of)
    hi = bisect.bisect_left(row.timeindex, end, key=_offset_of)
    return lo, hi


@dataclass(frozen=True, slots=True)
class _Plan:
    """The bytes ``[begin, end)`` of ``key`` to read for one span, from its rows."""

    key: str
    file: _FileRows
    begin: int
    end: int


def coalesce(ranges: Iterable[tuple[int, int]], *, gap: int, most: int) -> list[tuple[int, int]]:
    """``ranges`` sorted and merged where they overlap or the hole between them is under
    ``gap`` bytes, a merged range growing no larger than ``most`` bytes (a single range
    larger than that stays whole)."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(ranges):
        if merged:
            last_begin, last_end = merged[-1]
            if begin - last_end < gap and max(end, last_end) - last_begin <= most:
                merged[-1] = (last_begin, max(end, last_end))
                continue
        merged.append((begin, end))
    return merged


@dataclass
class _Shared:
    """One merged range: read once, by the first window that needs it; its bytes dropped
    when the last window that needs it has been cut."""

    begin: int
    end: int
    users: int = 0
    future: Future[Chunk] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _begin_of(shared: _Shared) -> int:
    return shared.begin


class Batch:
    """The windows of one call, planned together: each file's ranges coalesced."""

    def __init__(self, plans: dict[tuple[str, Nslc, int, int], _Plan | None], *, gap: int, most: int) -> None:
        self.plans = plans
        by_key: dict[str, list[tuple[int, int]]] = {}
        for plan in plans.values():
            if plan is not None:
                by_key.setdefault(plan.key, []).append((plan.begin, plan.end))
        self._of: dict[tuple[str, int, int], _Shared] = {}
        for key, ranges in by_key.items():
            merged = [_Shared(b, e) for b, e in coalesce(ranges, gap=gap, most=most)]
            for begin, end in set(ranges):
                # The merged range holding it: the last that begins at or before it.
                at = bisect.bisect_right(merged, begin, key=_begin_of) - 1
                self._of[(key, begin, end)] = merged[at]
        self._lock = threading.Lock()

    def expect(self, plan: _Plan) -> None:
        """One more window will take its records from ``plan``'s merged range."""
        with self._lock:
            self._of[(plan.key, plan.begin, plan.end)].users += 1

    def read(self, store: Store, plan: _Plan, meter: Meter) -> Chunk:
        """The bytes of ``plan``, cut from its merged range (read now if no window has yet).

        Raises:
            NoSuchKey, ArchiveError: as the store's read.
        """
        shared = self._of[(plan.key, plan.begin, plan.end)]
        with shared.lock:
            leader = shared.future is None
            if leader:
                shared.future = Future()
            future = shared.future
        assert future is not None
        if leader:
            try:
                future.set_result(meter.add(store.get_range(plan.key, start=shared.begin, end=shared.end)))
            except BaseException as exc:
                future.set_exception(exc)
        try:
            chunk = future.result()
        finally:
            with shared.lock:
                shared.users -= 1
                if shared.users <= 0 and shared.future is future:
                    shared.future = None  # the last window took its records: drop the bytes
        if chunk.offset != shared.begin:
            return chunk  # not the range asked for: the verification says so
        lo = plan.begin - chunk.offset
        return Chunk(chunk.data[lo : lo + plan.end - plan.begin], plan.begin, chunk.size)


class IndexReader:
    """Reads windows' records through the index of ``store``'s day files.

    Args:
        store: where the files are.
        index: their rows.
        coalesce_bytes: ranges of a file closer than this are read as one.
        max_merged_bytes: the largest merged range.
    """

    def __init__(
        self,
        store: Store,
        index: IndexStore,
        *,
        coalesce_bytes: int = COALESCE_BYTES,
        max_merged_bytes: int = MAX_MERGED_BYTES,
    ) -> None:
        self.store = store
        self.index = index
        self.coalesce_bytes = coalesce_bytes
        self.max_merged_bytes = max_merged_bytes
        # Indexing is CPU (libmseed parses every header) and a whole read: off the windows' path.
        self._background = ThreadPoolExecutor(1, thread_name_prefix="seiswindow-index")
        self._pending: dict[str, Future[None]] = {}
        self._pending_lock = threading.Lock()

    def close(self) -> None:
        """Finish the indexing begun, then stop."""
        self._background.shutdown(wait=True)

    # -- reading ----------------------------------------------------------------------

    def batch(self, wanted: Iterable[tuple[str, Nslc, int, int]]) -> Batch:
        """The reads of ``(key, nslc, t0, t1)`` spans planned together (coalesced by file).

        Raises:
            ArchiveError: the index cannot be read.
        """
        wanted = list(wanted)
        # A shared index fetches the objects of every file of the call at once (one round).
        self.index.fetch_many(filename_of(self.store, key) for key, *_ in wanted)
        files: dict[tuple[str, Nslc], _FileRows | None] = {}
        plans: dict[tuple[str, Nslc, int, int], _Plan | None] = {}
        for key, nslc, t0, t1 in wanted:
            if (key, nslc) not in files:
                files[(key, nslc)] = self._file_rows(key, nslc, t0, t1)
            rows = files[(key, nslc)]
            plans[(key, nslc, t0, t1)] = None if rows is None else _plan(key, rows, t0, t1)
        batch = Batch(plans, gap=self.coalesce_bytes, most=self.max_merged_bytes)
        for item in wanted:
            plan = plans[item]
            if plan is not None:
                batch.expect(plan)
        return batch

    def read(
        self,
        key: str,
        nslc: Nslc,
        t0: int,
        t1: int,
        meter: Meter,
        *,
        context: bool = False,
        batch: Batch | None = None,
    ) -> Lookup:
        """The records of ``key`` holding samples of ``nslc`` in ``[t0, t1]``, from the
        index; with ``context`` the records either side too (see
        :func:`~seiswindow.records.cut`). A miss when the index does not hold the file, or
        what was read is not what it promised (then ``stale`` says why, the read is not
        used, and the file is indexed again if it changed).

        Raises:
            NoSuchKey: the file does not exist (any more).
            ArchiveError: the store or the index failed.
        """
        if batch is not None and (key, nslc, t0, t1) in batch.plans:
            plan = batch.plans[(key, nslc, t0, t1)]
        else:
            batch = None
            try:
                rows = self._file_rows(key, nslc, t0, t1)
            except ArchiveError as exc:  # the index is not readable: the search still is
                return Lookup(hit=False, stale=str(exc))
            plan = None if rows is None else _plan(key, rows, t0, t1)
        if plan is None:
            return Lookup(hit=False)
        if plan.begin >= plan.end:  # the file held no record of the span when indexed
            return self._nothing_there(plan, meter)
        if batch is not None:
            chunk = batch.read(self.store, plan, meter)
        else:
            chunk = meter.add(self.store.get_range(key, start=plan.begin, end=plan.end))
        try:
            return Lookup(hit=True, records=_records(plan, chunk, t0, t1, context=context))
        except _Mismatch as exc:
            self.reindex(key)
            return Lookup(hit=False, stale=f"{key}: the record index is stale ({exc}); searched the file")

    def _nothing_there(self, plan: _Plan, meter: Meter) -> Lookup:
        """No records in the span, if the file is still the one indexed: a file that grew
        since (a day still being written) may hold them now. Its size is checked with a
        one-byte read; rows without the object's identity are trusted as they are.

        Raises:
            NoSuchKey, ArchiveError: as the store's read.
        """
        if plan.file.size is None:
            return Lookup(hit=True)
        size = meter.add(self.store.get_range(plan.key, start=0, end=1)).size
        if size == plan.file.size:
            return Lookup(hit=True)
        self.reindex(plan.key)
        stale = f"the object is {size} bytes, it was {plan.file.size} when indexed"
        return Lookup(hit=False, stale=f"{plan.key}: the record index is stale ({stale}); searched the file")

    def _file_rows(self, key: str, nslc: Nslc, t0: int, t1: int) -> _FileRows | None:
        filename = filename_of(self.store, key)
        self.index.fetch(filename)  # a shared index brings the file's rows in (one GET)
        rows = tuple(
            row for name, row in self.index.rows(nslc, t0 - _DAY_NS, t1 + _DAY_NS) if name == filename
        )
        identity = self.index.identities([filename]).get(filename)
        if not rows and identity is None:
            return None
        return _FileRows(filename, None if identity is None else identity[0], rows)

    # -- filling ----------------------------------------------------------------------

    def learn_whole(self, key: str, data: bytes) -> None:
        """Index ``key`` from its whole bytes ``data``, just read (in the background)."""
        self._submit(key, lambda: self._index(key, data))

    def reindex(self, key: str) -> None:
        """Index ``key`` again if it changed since it was indexed (in the background)."""
        self._submit(key, lambda: self._index(key, None))

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the indexing begun (tests, benchmarks and shutdown)."""
        with self._pending_lock:
            pending = list(self._pending.values())
        for future in pending:
            future.result(timeout)

    def _submit(self, key: str, work: Callable[[], None]) -> None:
        with self._pending_lock:
            if key in self._pending:
                return  # one indexing of a file at a time
            future = self._background.submit(work)
            self._pending[key] = future
        future.add_done_callback(lambda _: self._done(key))

    def _done(self, key: str) -> None:
        with self._pending_lock:
            self._pending.pop(key, None)

    def _index(self, key: str, data: bytes | None) -> None:
        """Write the rows of ``key`` (from ``data``, or read whole when it changed)."""
        filename = filename_of(self.store, key)
        try:
            info = self.store.stat(key)
            if self.index.identities([filename]).get(filename) == (info.size, info.etag):
                # Unchanged: a mismatch was not staleness (the search handles the file), and
                # a file read whole again (one the search cannot range) is indexed once.
                return
            if data is None:
                data = self.store.get(key).data
            indexed = index_file(
                data, key=key, filename=filename, size=info.size, etag=info.etag, modified=info.modified
            )
            self.index.write(indexed)
        except NoSuchKey:
            return
        except (DataError, SeisWindowError) as exc:  # the windows were answered; only the index waits
            log.warning("could not index %s: %s", key, exc)


def _plan(key: str, file: _FileRows, t0: int, t1: int) -> _Plan:
    """The bytes to read for ``[t0, t1]``; an empty range when the file has no records
    there (outside its data); a range with context around a span in a gap."""
    period = file.period()
    if not file.rows or t1 + period < file.start or t0 - period > file.end:
        return _Plan(key, file, 0, 0)
    found = byte_range(file.rows, t0 - period, t1 + period)
    if found is None:  # the span lies in a gap: read the records either side
        found = byte_range(file.rows, t0 - period, file.end)
        found = (found[0], found[0]) if found is not None else (file.rows[-1].byteend,) * 2
    begin, end = file.widened(*found, _MARGIN_RECORDS)
    return _Plan(key, file, begin, end)


def _verify(plan: _Plan, chunk: Chunk) -> tuple[list[RecordHeader], list[BadRecord]]:
    """The records of ``chunk``, checked to be what the index promised.

    Raises:
        _Mismatch: the object's size, the range answered, or a record promised differs.
    """
    if plan.file.size is not None and chunk.size != plan.file.size:
        raise _Mismatch(f"the object is {chunk.size} bytes, it was {plan.file.size} when indexed")
    if chunk.offset != plan.begin or len(chunk.data) != plan.end - plan.begin:
        raise _Mismatch(f"asked bytes {plan.begin}-{plan.end}, got {chunk.offset}-{chunk.end}")
    headers, bad = scan_records(chunk.data, offset=plan.begin)
    at = {h.offset: h for h in headers}
    for offset, start, nslc in plan.file.promised(plan.begin, plan.end):
        header = at.get(offset)
        if header is None:
            raise _Mismatch(f"no record at byte {offset}")
        if header.nslc != nslc or abs(header.start - start) > _INDEX_TIME_TOLERANCE_NS:
            raise _Mismatch(f"the record at byte {offset} is not the one indexed")
    return headers, bad


def _records(plan: _Plan, chunk: Chunk, t0: int, t1: int, *, context: bool) -> Records | None:
    """The records of ``chunk`` for ``[t0, t1]`` as the locator answers them: screened,
    cut, with the records left out and the bad records that concern the span.

    Raises:
        _Mismatch: see :func:`_verify`; or the records are off the grid of the file's
            first record (the locator's search decides which record starts the grid).
    """
    parsed, bad = _verify(plan, chunk)
    last = max(parsed, key=lambda h: h.offset, default=None)
    at_end = last is not None and plan.file.size is not None and last.offset + last.reclen == plan.file.size
    screened = screen(parsed, last_offset=last.offset if at_end and last else None)
    headers = screened.kept
    if any(later.start < earlier.start for earlier, later in zip(headers, headers[1:], strict=False)):
        if plan.begin == 0 and plan.end == chunk.size:  # the whole file: as the search reads it whole
            bad = sorted(bad + screened.bad, key=lambda b: b.offset)
            return pick_whole(plan.key, chunk.data, headers, screened.left_out, bad, t0, t1, context=context)
        raise _Mismatch("records out of time order")
    grid = plan.file.start
    if any(h.period and abs(off_grid(h.start, grid, h.sampling_rate)) > GRID_TOLERANCE_NS for h in headers):
        raise _Mismatch("records off the grid of the file's first record")
    period = period_of(headers) or plan.file.period()
    lo, hi = t0 - period, t1 + period
    records = cut(plan.key, plan.begin, chunk.data, headers, lo, hi, context=context)
    odd = [h for h in screened.left_out if h.end >= lo and h.start <= hi]
    records = with_left_out(plan.key, plan.begin, chunk.data, records, odd)
    bad_near = concerning(sorted(bad + screened.bad, key=lambda b: b.offset), headers, lo, hi)
    return with_bad(plan.key, records, screened.left_out, bad_near, file_start=grid, file_end=plan.file.end)
