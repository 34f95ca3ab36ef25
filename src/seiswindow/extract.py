"""Windows in, waveform segments out: plan the day files, fetch their records, decode,
stitch across midnight, trim as ObsPy trims (:mod:`seiswindow.trim`), and say what is
missing.

One :class:`Extractor` serves many requests: it holds the thread pools and the cache of
what is known of each file. Windows run concurrently; a window that fails becomes a
result with status ``error`` or ``nodata`` and never fails the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .archive import Archive
from .archives import Archives
from .errors import ArchiveError, DataError, NoSuchKey
from .indexbuild import filename_of
from .indexread import Batch, IndexReader
from .locate import FileIndexCache, Locator, Meter, Records, RoundCost
from .model import FetchStats, Gap, Limits, Status, TraceSpan, Window, WindowResult, estimated_samples
from .mseed import DecodedSegment, decode
from .nstime import NS_PER_S, day_start, format_time, utc_day
from .stationday import ChannelSections
from .trim import find_gaps, trim_segments

if TYPE_CHECKING:
    from .tsindex import IndexStore

__all__ = ["Extractor", "find_gaps", "trim_segments"]

log = logging.getLogger(__name__)

#: A window this close to midnight also reads the neighbouring day file. In archives whose
#: files are cut at midnight, nearest-sample trimming can still take a sample up to half a
#: period from the neighbour (0.5 s at 1 Hz, 5 s at 0.1 Hz); archives whose records spill
#: over midnight (as SDS may) get ObsPy's SDS client's 30 s.
_BORDER_NS = 5 * NS_PER_S
_SPILL_BORDER_NS = 30 * NS_PER_S
_DAY_NS = 86_400 * NS_PER_S


@dataclass(frozen=True, slots=True)
class _FileOutcome:
    key: str
    day: dt.date
    records: Records | None = None
    missing: bool = False
    error: str = ""


class Extractor:
    """Extracts windows from one archive, or from several, each window from the first
    archive that serves its network (:class:`~seiswindow.archives.Archives`).

    Args:
        archive: the store and layout to read, or the archives and the networks they serve.
        limits: what one request may ask for.
        max_workers: day files read at once (each read makes its own parallel requests).
        cache: what is known of files; shared by all requests of this extractor.
        index: the record index of the archive's day files: windows of the files it holds
            are one read each (:mod:`seiswindow.indexread`); it is filled as files are read whole.
        round_cost: what a round of requests costs against bytes: with it, the search of
            a file not indexed reads a speculative range instead of a round of probes when
            that is cheaper (two rounds instead of three; see :mod:`seiswindow.locate`).
    """

    def __init__(
        self,
        archive: Archive | Archives,
        *,
        limits: Limits | None = None,
        max_workers: int = 16,
        cache: FileIndexCache | None = None,
        index: IndexStore | None = None,
        round_cost: RoundCost | None = None,
    ) -> None:
        self.archives = archive if isinstance(archive, Archives) else Archives.one(archive)
        #: The first archive (the only one of a single-archive configuration).
        self.archive = self.archives.primary
        #: the record index of the archive's day files, when there is one (closed with this)
        self.index = index
        self.limits = limits or Limits()
        self._files = ThreadPoolExecutor(max_workers, thread_name_prefix="seiswindow-file")
        self._io = ThreadPoolExecutor(max(8, 2 * max_workers), thread_name_prefix="seiswindow-io")
        # One locator (and file cache: keys of two archives may be equal) and one reader
        # through the index per archive (the index names files by their archive's URL).
        self._locators = [
            Locator(
                each.store,
                pool=self._io,
                cache=(cache or FileIndexCache()) if i == 0 else FileIndexCache(),
                record_length=each.layout.record_length,
                round_cost=round_cost,
            )
            for i, each in enumerate(self.archives)
        ]
        self._indexreads = [
            IndexReader(each.store, index) if index is not None else None for each in self.archives
        ]
        for locator, reader in zip(self._locators, self._indexreads, strict=True):
            if reader is not None:
                locator.on_whole = reader.learn_whole  # lazy filling
        self.locator = self._locators[0]
        #: reads through the index when it holds a file of the first archive (None without an index)
        self.indexread = self._indexreads[0]

    def close(self) -> None:
        """Stop the thread pools and close the store."""
        self._files.shutdown(wait=True, cancel_futures=True)
        self._io.shutdown(wait=True, cancel_futures=True)
        for reader in self._indexreads:
            if reader is not None:
                reader.close()  # indexing begun finishes before the store closes
        for each in self.archives:
            each.store.close()
        if self.index is not None:
            self.index.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------

    def extract(self, windows: Sequence[Window]) -> list[WindowResult]:
        """Results for ``windows``, in their order.

        Raises:
            LimitExceeded: too many windows, or a window too long.
        """
        results: list[WindowResult | None] = [None] * len(windows)
        for i, result in self.iter_extract(windows):
            results[i] = result
        return [r for r in results if r is not None]

    def iter_extract(
        self, windows: Sequence[Window], *, samples_ahead: int | None = None
    ) -> Iterator[tuple[int, WindowResult]]:
        """``(index, result)`` for each window as it completes (for progress bars).

        Args:
            windows: the windows, in the order their indexes count.
            samples_ahead: read windows in order, no more at once than their estimated
                samples (:func:`~seiswindow.model.estimated_samples`) add up to, and always
                one: what bounds the memory of an answer sent while it is made. None: every
                window's files are read at once.

        Raises:
            LimitExceeded: too many windows, or a window too long.
        """
        windows = list(windows)
        self.limits.check(windows)
        run = _Run(self, windows, samples_ahead)
        try:
            yield from run.results()
        finally:
            # A consumer that stops early (a 413 decided half-way) stops the reads not begun.
            run.cancel()

    def records(self, window: Window) -> tuple[list[Records], list[str]]:
        """The archive's own records overlapping ``window`` (for record-level services such
        as FDSN dataselect), in time order, and the problems met."""
        futures = [self._files.submit(self.file_records, window, day, key) for day, key in self.plan(window)]
        found: list[Records] = []
        problems: list[str] = []
        for future in futures:
            records, file_problems = future.result()
            if records is not None:
                found.append(records)
            problems.extend(file_problems)
        found.sort(key=lambda r: r.headers[0].start if r.headers else 0)
        return found, problems

    def plan(self, window: Window) -> list[tuple[dt.date, str]]:
        """The day files that may hold samples of ``window``, in day order, with their keys."""
        return self._plan(window)

    def file_records(self, window: Window, day: dt.date, key: str) -> tuple[Records | None, list[str]]:
        """The records of one day file (``key``, of ``day``) overlapping ``window``, read in
        the calling thread, and the problems met (a missing file is none: it has no records).
        What a service that streams file by file reads."""
        outcome = self._read_file(key, day, window, Meter(), False)
        problems = list(outcome.records.problems) if outcome.records is not None else []
        if outcome.error:
            problems.append(outcome.error)
        return outcome.records, problems

    def iter_file_records(
        self, tasks: Iterable[tuple[Window, dt.date, str]], *, ahead: int
    ) -> Generator[tuple[Window, Records | None, list[str]], None, None]:
        """:meth:`file_records` of each ``(window, day, key)``, in the order given, read in
        the extractor's pool at most ``ahead`` files ahead of the one consumed.

        Closing the iterator early (a client gone) cancels the reads not begun and waits for
        none: the pool is the extractor's, so nothing is shut down, whichever thread (or the
        garbage collector) closes it.
        """
        tasks = iter(tasks)
        queued: deque[tuple[Window, Future[tuple[Records | None, list[str]]]]] = deque()
        try:
            while True:
                while len(queued) < max(1, ahead) and (task := next(tasks, None)) is not None:
                    queued.append((task[0], self._files.submit(self.file_records, *task)))
                if not queued:
                    return
                window, future = queued.popleft()
                records, problems = future.result()
                yield window, records, problems
        finally:
            for _, future in queued:
                future.cancel()

    # -- steps ------------------------------------------------------------------------

    def _plan(self, window: Window) -> list[tuple[dt.date, str]]:
        """The day files that may hold samples of ``window`` (none when no archive serves
        its network)."""
        archive = self.archives.for_network(window.nslc.network)
        if archive is None:
            return []
        border = _SPILL_BORDER_NS if archive.layout.spills_over_midnight else _BORDER_NS
        first = utc_day(window.start - border)
        last = utc_day(window.end + border)
        days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
        return [(day, archive.layout.key(window.nslc, day)) for day in days]

    def _unserved(self, window: Window) -> WindowResult:
        """The result of a window whose network no archive serves: no data, saying so."""
        served = "; ".join(f"{r.archive.url}: {','.join(r.networks)}" for r in self.archives.routes)
        return WindowResult(
            window,
            Status.NODATA,
            message=f"no data: no archive serves network {window.nslc.network} ({served})",
        )

    def _read_file(
        self,
        key: str,
        day: dt.date,
        window: Window,
        meter: Meter,
        context: bool = True,
        failed: dict[str, str] | None = None,
        batch: Batch | None = None,
    ) -> _FileOutcome:
        """What ``key`` holds for ``window``. With ``failed``, a file the store already
        failed on in this call fails at once with the same message (a stalled file costs
        one time budget per call, not one per window). ``batch``: the call's reads through
        the index, coalesced (of the archive that serves the window's network)."""
        i = self.archives.index_of(window.nslc.network)
        if i is None:  # planned by _plan, which plans no file for such a window
            return _FileOutcome(key, day, missing=True)
        seen = f"{i}:{key}"  # two archives may have equal keys
        if failed is not None and seen in failed:
            return _FileOutcome(key, day, error=failed[seen])
        try:
            if self.archives.routes[i].archive.layout.station_day:
                sections = self._sections(i, key, window, day)
                records = self._locators[i].read_channel(
                    key, window.nslc, window.start, window.end, meter, context=context, sections=sections
                )
            else:
                records = self._locate(i, key, window, meter, context, batch)
        except NoSuchKey:
            return _FileOutcome(key, day, missing=True)
        except ArchiveError as exc:
            if failed is not None:
                failed.setdefault(seen, str(exc))
            return _FileOutcome(key, day, error=str(exc))
        except DataError as exc:
            return _FileOutcome(key, day, error=str(exc))
        except Exception:  # a bug must fail this window, not the request: logged in full
            log.exception("reading %s for %s failed", key, window.nslc)
            return _FileOutcome(key, day, error=f"{key}: internal error (logged)")
        return _FileOutcome(key, day, records=records)

    def _sections(self, i: int, key: str, window: Window, day: dt.date) -> ChannelSections | None:
        """What the record index holds of ``window``'s channel in the station-day object
        ``key`` of archive ``i`` (None without an index, or when it does not list the object).

        Raises:
            ArchiveError: the index cannot be read.
        """
        if self.index is None:
            return None
        filename = filename_of(self.archives.routes[i].archive.store, key)
        self.index.fetch(filename)  # a shared index brings the object's rows in (one GET)
        identity = self.index.identities([filename]).get(filename)
        if identity is None:
            return None
        begin = day_start(day)  # the object's records may spill into the neighbouring days
        rows = self.index.rows(window.nslc, begin - _DAY_NS, begin + 2 * _DAY_NS)
        return ChannelSections(tuple(row for name, row in rows if name == filename), size=identity[0])

    def _locate(
        self, i: int, key: str, window: Window, meter: Meter, context: bool, batch: Batch | None
    ) -> Records | None:
        """The records of ``key`` for ``window``: through the index when it holds the file
        (one read), else (or when the index is stale) by the locator's search.

        Raises:
            NoSuchKey, ArchiveError, DataError: as :meth:`Locator.read`.
        """
        reader = self._indexreads[i]
        if reader is not None:
            found = reader.read(
                key, window.nslc, window.start, window.end, meter, context=context, batch=batch
            )
            if found.hit:
                return found.records
            if found.stale:
                log.warning("%s", found.stale)
        return self._locators[i].read(key, window.start, window.end, meter, context=context)

    def _assemble_safely(self, window: Window, outcomes: list[_FileOutcome], meter: Meter) -> WindowResult:
        """:meth:`_assemble`, where a bug (or data no check foresaw) fails this window only."""
        try:
            return self._assemble(window, outcomes, meter)
        except Exception:  # logged in full; the other windows of the request still answer
            log.exception("assembling %s failed", window)
            keys = ", ".join(o.key for o in outcomes)
            return WindowResult(
                window,
                Status.ERROR,
                message=f"internal error reading {keys} (logged)",
                stats=FetchStats(meter.requests, meter.bytes),
            )

    def _assemble(self, window: Window, outcomes: list[_FileOutcome], meter: Meter) -> WindowResult:
        stats = FetchStats(meter.requests, meter.bytes)
        found = sorted((o for o in outcomes if o.records is not None), key=lambda o: o.day)
        errors = [o.error for o in outcomes if o.error]
        decoded_segments, problems, warnings = _decoded(window, found)
        grid_origin, grid_end = _trace_ends(found)
        segments, span = trim_segments(
            decoded_segments, window.start, window.end, grid_origin=grid_origin, grid_end=grid_end
        )
        gaps = find_gaps(segments, window.start, window.end, span=span)
        # Only files of days the window itself touches count as missing (neighbours near
        # midnight are read just in case).
        missing = [o.key for o in outcomes if o.missing and _overlaps_day(o.day, window.start, window.end)]
        if not segments:
            status, message = _without_samples(window, errors, problems + warnings, missing, span)
            return WindowResult(window, status, gaps=tuple(gaps), message=message, stats=stats, span=span)
        notes = errors + problems
        partial = bool(gaps) or bool(notes)
        if gaps:
            notes = _gap_summary(gaps, missing) + notes
        return WindowResult(
            window,
            Status.PARTIAL if partial else Status.OK,
            segments=tuple(segments),
            gaps=tuple(gaps),
            # Warnings about headers of records kept are said, but cost no sample: not partial.
            message="; ".join(notes + warnings),
            stats=stats,
            span=span,
        )


class _Run:
    """One call's reads: windows begun in order while their estimated samples fit the
    budget (all at once without one), each file of a window read in the extractor's pool,
    a window assembled as soon as its last file is read.

    A window's samples leave the budget only when every window before it is done too: a
    consumer that sends results in order holds the ones that finished early until the
    slower earlier ones are done, so what it holds and what is being read stay within the
    budget together."""

    def __init__(self, extractor: Extractor, windows: list[Window], samples_ahead: int | None) -> None:
        self.extractor = extractor
        self.windows = windows
        self.plans = [extractor._plan(w) for w in windows]
        self.meters = [Meter() for _ in windows]
        self.weights = [0 if samples_ahead is None else estimated_samples(w) for w in windows]
        self.budget = samples_ahead
        self.failed: dict[str, str] = {}  # files the store failed on, in this call: not asked again
        self.routes = [extractor.archives.index_of(w.nslc.network) for w in windows]
        # One batch of reads through the index per archive (station-day objects aside: they
        # are read channel by channel, see Locator.read_channel).
        self.batches: list[Batch | None] = []
        for a, (route, reader) in enumerate(
            zip(extractor.archives.routes, extractor._indexreads, strict=True)
        ):
            wanted = [
                (key, w.nslc, w.start, w.end)
                for w, plan, at in zip(windows, self.plans, self.routes, strict=True)
                if at == a
                for _, key in plan
            ]
            batch = None
            if reader is not None and wanted and not route.archive.layout.station_day:
                try:
                    batch = reader.batch(wanted)
                except ArchiveError as exc:  # the index is not readable: each window searches
                    log.warning("the record index is not used: %s", exc)
            self.batches.append(batch)
        self.futures: dict[Future[_FileOutcome], int] = {}
        self.outcomes: list[list[_FileOutcome]] = [[] for _ in windows]
        self.pending = [len(plan) for plan in self.plans]
        self.begun = 0
        self.in_flight = 0
        self.done = [False] * len(windows)
        self.passed = 0  # windows before this one are all done: out of the budget
        self.ready: list[tuple[int, WindowResult]] = []  # answered without a read

    def _fits(self, i: int) -> bool:
        return self.budget is None or not self.futures or self.in_flight + self.weights[i] <= self.budget

    def _begin_more(self) -> None:
        read = self.extractor._read_file
        while self.begun < len(self.windows) and self._fits(self.begun):
            i = self.begun
            if not self.plans[i]:  # no archive serves its network: answered at once
                self.ready.append((i, self.extractor._unserved(self.windows[i])))
                self.in_flight += self.weights[i]
                self.begun += 1
                self._done(i)
                continue
            for day, key in self.plans[i]:
                future = self.extractor._files.submit(
                    read, key, day, self.windows[i], self.meters[i], True, self.failed, self._batch(i)
                )
                self.futures[future] = i
            self.in_flight += self.weights[i]
            self.begun += 1

    def results(self) -> Iterator[tuple[int, WindowResult]]:
        self._begin_more()
        while self.futures or self.ready:
            while self.ready:
                yield self.ready.pop(0)
            if not self.futures:
                self._begin_more()
                continue
            done, _ = wait(self.futures, return_when=FIRST_COMPLETED)
            for future in done:
                i = self.futures.pop(future)
                self.outcomes[i].append(future.result())
                self.pending[i] -= 1
                if self.pending[i] == 0:
                    result = self.extractor._assemble_safely(
                        self.windows[i], self.outcomes[i], self.meters[i]
                    )
                    self.outcomes[i] = []  # the records' bytes are not needed any more
                    self._done(i)
                    yield i, result
            self._begin_more()

    def _batch(self, i: int) -> Batch | None:
        at = self.routes[i]
        return None if at is None else self.batches[at]

    def _done(self, i: int) -> None:
        self.done[i] = True
        while self.passed < self.begun and self.done[self.passed]:
            self.in_flight -= self.weights[self.passed]
            self.passed += 1

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()


def _decoded(window: Window, found: list[_FileOutcome]) -> tuple[list[DecodedSegment], list[str], list[str]]:
    """The window's channel's segments decoded from the records found, every problem met
    reading or decoding them, and the warnings of records kept."""
    problems = [p for o in found if o.records for p in o.records.problems]
    if not found:
        return [], problems, []
    period = _period_of(found)
    decoded = decode(
        ((o.key, r.offset, r.data, r.headers) for o in found if (r := o.records) is not None),
        span=(window.start - period, window.end + period),
    )
    problems.extend(decoded.problems)
    others = {str(s.nslc) for s in decoded.segments if s.nslc != window.nslc}
    if others:
        problems.append(f"records of other channels ignored: {', '.join(sorted(others))}")
    return [s for s in decoded.segments if s.nslc == window.nslc], problems, decoded.warnings


def _without_samples(
    window: Window, errors: list[str], problems: list[str], missing: list[str], span: TraceSpan | None
) -> tuple[Status, str]:
    """The status and message of a window without a sample: error when the archive failed,
    else nodata, saying why."""
    if errors:
        return Status.ERROR, "; ".join(errors + problems)
    if span is not None:
        message = f"no samples of {window.nslc}: the window lies in a gap of the data"
    elif missing:
        message = f"no data: no day file {', '.join(missing)}"
    else:
        message = (
            f"no samples of {window.nslc} between {format_time(window.start)} and {format_time(window.end)}"
        )
    if problems:
        message += "; " + "; ".join(problems)
    return Status.NODATA, message


def _gap_summary(gaps: list[Gap], missing: list[str]) -> list[str]:
    holes = [g for g in gaps if g.samples > 0]
    overlaps = len(gaps) - len(holes)
    summary = [f"{sum(g.samples for g in holes)} samples missing in {len(holes)} gaps"]
    if overlaps:
        summary.append(f"{overlaps} overlaps")
    if missing:  # the likely cause of the gaps
        summary.append(f"no day file {', '.join(missing)}")
    return summary


def _period_of(found: list[_FileOutcome]) -> int:
    periods = [h.period for o in found if o.records for h in o.records.headers if h.period > 0]
    return max(periods, default=0)


def _trace_ends(found: list[_FileOutcome]) -> tuple[int | None, int | None]:
    """The first and last sample of the trace ObsPy merges from the day files read: the
    start of the earliest file's first record that fits its neighbours (the grid every
    sample is put on) and the end of the latest file's last record (with the start, what
    ``Stream.trim`` counts a window's bounds from, which decides exact ties)."""
    origins = [o.records.file_start for o in found if o.records and o.records.file_start is not None]
    ends = [o.records.file_end for o in found if o.records and o.records.file_end is not None]
    return min(origins, default=None), max(ends, default=None)


def _overlaps_day(day: dt.date, start: int, end: int) -> bool:
    begin = day_start(day)
    return start < begin + 86_400 * NS_PER_S and end >= begin
