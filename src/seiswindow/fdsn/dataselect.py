"""fdsnws-dataselect: the archive's own miniSEED records that hold a request's samples.

Output is record-level, as FDSN data centres answer: whole records, byte for byte as the
archive stores them, in channel order then time order. A record is returned when it holds a
sample that ObsPy's ``Stream.trim(starttime, endtime)`` (nearest sample) could keep, i.e.
it overlaps ``[starttime - period/2, endtime + period/2]``; a client that trims what it
receives gets exactly the samples it would get by trimming the day files themselves.

The status is decided before the first byte is sent: the channels (wildcards resolved by
the :class:`~seiswindow.fdsn.catalog.ChannelCatalog`), whether there is any data at all, and
whether the answer fits the byte limit. When the largest answer the request may make (10
bytes a sample, estimated from the band codes, and some records each file) fits the limit,
the records are read and sent file by file: the first files' records are gathered until
:data:`~seiswindow.encode.STREAM_AFTER_BYTES`, so a small answer goes whole (its length
known, or 204) and a larger one is streamed, never held whole in memory. Otherwise (and for
``minimumlength`` and ``longestonly``, which need a channel's every record) the records are
gathered first and the limit is exact (413 once they exceed it).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ..encode import STREAM_AFTER_BYTES
from ..errors import ArchiveError, LimitExceeded, RequestError
from ..extract import Extractor
from ..locate import Records
from ..manifest import Manifester, manifest_document
from ..model import Nslc, Status, Window, check_count, estimated_samples
from ..mseed import RecordHeader
from ..nstime import NS_PER_S, format_time
from .catalog import ChannelCatalog
from .request import DataselectRequest, Selection

__all__ = ["DataselectAnswer", "DataselectService", "Record"]

_log = logging.getLogger(__name__)

#: Records a day file may add around a window's samples (the ones it begins and ends in,
#: and a neighbour's within half a period), counted in the most an answer may take.
_EDGE_RECORDS = 4


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the archive: its bytes and what its header says."""

    nslc: Nslc
    start: int
    end: int
    period: int
    data: bytes


@dataclass(frozen=True, slots=True)
class DataselectAnswer:
    """What a dataselect request answers: the body's first pieces, made before it is sent,
    and, for an answer streamed while it is read, the rest; the problems met reading the
    archive before it was sent (for the log)."""

    head: tuple[bytes, ...]
    rest: Iterator[bytes] | None = None
    problems: tuple[str, ...] = ()

    @property
    def size(self) -> int | None:
        """The body's length; None while it is streamed (unknown until it is sent)."""
        return None if self.rest is not None else sum(len(piece) for piece in self.head)

    @property
    def empty(self) -> bool:
        """No record matches: the answer is no data (204 or 404)."""
        return self.rest is None and not any(self.head)

    def close(self) -> None:
        """Stop reading the rest (an answer that will not be sent, as to HEAD)."""
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()

    def chunks(self) -> Iterator[bytes]:
        """The body, piece by piece."""
        yield from (piece for piece in self.head if piece)
        if self.rest is not None:
            yield from self.rest


def _pieces(records: Iterable[Record], *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Records in pieces of about ``chunk_size`` bytes (whole records)."""
    piece: list[bytes] = []
    size = 0
    for record in records:
        piece.append(record.data)
        size += len(record.data)
        if size >= chunk_size:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


class DataselectService:
    """Answers dataselect requests from one archive.

    Args:
        extractor: reads records with ranged reads (shared with the rest of the service).
        catalog: resolves wildcards against the archive's listings.
        max_bytes: the largest answer; a larger one is refused with 413 before any byte.
        max_parallel: day files read at once for one request.
        stream_after: an answer larger than this is streamed where its bound allows (see
            :data:`~seiswindow.encode.STREAM_AFTER_BYTES`).
    """

    def __init__(
        self,
        extractor: Extractor,
        catalog: ChannelCatalog,
        *,
        max_bytes: int,
        max_parallel: int = 8,
        stream_after: int = STREAM_AFTER_BYTES,
    ) -> None:
        self.extractor = extractor
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.max_parallel = max_parallel
        self.stream_after = stream_after

    def answer(self, request: DataselectRequest) -> DataselectAnswer:
        """The records of ``request``: streamed file by file when the largest answer it may
        make fits ``max_bytes``, else gathered (see the module's docstring).

        Raises:
            LimitExceeded: a selection spans more than the configured window length, names
                more channels than allowed, would return more samples than allowed, or its
                records exceed ``max_bytes``.
            RequestError: a selection has no time span, or a wildcard cannot be resolved
                in this archive's layout.
            ArchiveError: the archive could not be read and nothing was found.
        """
        windows = self._windows(request)
        if request.minimum_length > 0 or request.longest_only or self.most_bytes(windows) > self.max_bytes:
            return self._gathered(request, windows)
        return self._streamed(windows)

    def manifest(self, request: DataselectRequest, *, request_time: int) -> dict[str, object] | None:
        """Where the records of ``request`` lie (``format=manifest``, see
        :mod:`seiswindow.manifest`): one window per channel and request line, with its
        status; None when no window has a record (the answer is no data).

        Raises:
            LimitExceeded, RequestError: as :meth:`answer`.
            ArchiveError: the archive could not be read and nothing was found.
        """
        windows = self._windows(request)
        manifests = Manifester(self.extractor, max_parallel=self.max_parallel).manifests(windows)
        if not any(m.spans for m in manifests):
            errors = [m.message for m in manifests if m.status is Status.ERROR]
            _check_found(errors, found=False)
            return None
        params = [_params(s) for s in request.selections]
        return manifest_document(
            manifests,
            archive=self.extractor.archive,
            request_time=request_time,
            extra={"dataselect_params_list": params},
        )

    def most_bytes(self, windows: list[Window]) -> int:
        """The most bytes the records of ``windows`` may take: 10 bytes a sample (Steim2's
        worst case with its headers is under 5, a float64 packed under 10), as estimated
        from the band codes, and the records each file may add around a window's ends."""
        reclen = self.extractor.archive.layout.record_length
        return sum(
            10 * estimated_samples(w) + _EDGE_RECORDS * reclen * len(self.extractor.plan(w)) for w in windows
        )

    def _gathered(self, request: DataselectRequest, windows: list[Window]) -> DataselectAnswer:
        found, problems = self._fetch(windows)
        _check_found(problems, found=any(found.values()))

        def kept() -> Iterator[Record]:
            # Each window's records are let go once joined into pieces: the answer is held
            # once, not as records and pieces both.
            for window in windows:
                yield from _segments_kept(
                    found.pop(window, []),
                    window,
                    minimum_length=request.minimum_length,
                    longest_only=request.longest_only,
                )

        return DataselectAnswer(tuple(_pieces(kept())), problems=tuple(problems))

    def _streamed(self, windows: list[Window]) -> DataselectAnswer:
        """Read file by file; gather until ``stream_after`` bytes, then stream the rest."""
        files = self._by_file(windows)
        head: list[bytes] = []
        problems: list[str] = []
        size = 0
        for data, file_problems in files:
            head.append(data)
            problems.extend(file_problems)
            size += len(data)
            if size > self.max_bytes:  # a band code that lies: still before the first byte
                files.close()
                raise LimitExceeded(
                    f"the answer would exceed {self.max_bytes} bytes of miniSEED: "
                    "ask for fewer channels or a shorter time span",
                    field="endtime",
                )
            if size >= self.stream_after:
                if problems:
                    _log.warning("dataselect: %s", "; ".join(problems))
                rest = self._rest(files, size)
                return DataselectAnswer(tuple(head), rest=rest, problems=tuple(problems))
        _check_found(problems, found=size > 0)
        return DataselectAnswer(tuple(head), problems=tuple(problems))

    def _rest(self, files: Generator[tuple[bytes, list[str]], None, None], size: int) -> Iterator[bytes]:
        """The files' records after the answer began. The bound said they fit; were a band
        code to lie, the answer is cut at the limit (logged) rather than sent past it."""
        try:
            for data, problems in files:
                if problems:
                    _log.warning("dataselect: %s", "; ".join(problems))
                size += len(data)
                if size > self.max_bytes:
                    raise LimitExceeded(f"the streamed answer passed {self.max_bytes} bytes", field="endtime")
                if data:
                    yield data
        except Exception:
            _log.exception("dataselect: the answer failed after it began; it is cut short")
            raise
        finally:
            files.close()

    def _by_file(self, windows: list[Window]) -> Generator[tuple[bytes, list[str]], None, None]:
        """Each day file's records of each window, in order, read ``max_parallel`` files
        ahead (in the extractor's pool); a record the previous file of the same window
        already gave is not repeated."""
        tasks = ((window, day, key) for window in windows for day, key in self.extractor.plan(window))
        files = self.extractor.iter_file_records(tasks, ahead=self.max_parallel)
        last: tuple[Window | None, set[tuple[int, bytes]]] = (None, set())
        try:
            for window, chunk, problems in files:
                records = _kept([] if chunk is None else [chunk], window)
                seen = last[1] if last[0] == window else set()
                fresh = [r for r in records if (r.start, r.data) not in seen]
                last = (window, {(r.start, r.data) for r in records})
                yield b"".join(r.data for r in fresh), problems
        finally:
            files.close()

    def _windows(self, request: DataselectRequest) -> list[Window]:
        limits = self.extractor.limits
        windows: dict[Window, None] = {}
        for selection in request.selections:
            if selection.start is None or selection.end is None:
                raise RequestError("starttime and endtime are required", field="starttime")
            seconds = (selection.end - selection.start) / NS_PER_S
            if seconds > limits.max_window_seconds:
                raise LimitExceeded(
                    f"a time span of {seconds:g} s; at most {limits.max_window_seconds:g} s per "
                    "request line: split the request",
                    field="endtime",
                )
            for nslc in self.catalog.channels(selection):
                windows[Window(*nslc, selection.start, selection.end)] = None
        ordered = sorted(windows, key=lambda w: (w.nslc, w.start, w.end))
        check_count(
            len(ordered), limits.max_windows, field="channel", advice="narrow the codes or split the request"
        )
        limits.check_samples(ordered, field="endtime")
        return ordered

    def _fetch(self, windows: list[Window]) -> tuple[dict[Window, list[Record]], list[str]]:
        """Records of every window, read concurrently, stopping as soon as the answer is
        known to be over ``max_bytes``.

        Raises:
            LimitExceeded: the records exceed ``max_bytes``.
        """
        found: dict[Window, list[Record]] = {}
        problems: list[str] = []
        total = 0
        if not windows:
            return found, problems
        with ThreadPoolExecutor(min(self.max_parallel, len(windows)), "seiswindow-fdsn") as pool:
            pending: dict[Future[tuple[list[Record], list[str]]], Window] = {
                pool.submit(self._records, window): window for window in windows
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        window = pending.pop(future)
                        records, window_problems = future.result()
                        found[window] = records
                        problems.extend(window_problems)
                        total += sum(len(r.data) for r in records)
                        if total > self.max_bytes:
                            raise LimitExceeded(
                                f"the answer would exceed {self.max_bytes} bytes of miniSEED: "
                                "ask for fewer channels or a shorter time span",
                                field="endtime",
                            )
            finally:
                for future in pending:
                    future.cancel()
        return found, problems

    def _records(self, window: Window) -> tuple[list[Record], list[str]]:
        """The records of ``window``'s channel that hold samples trimming may keep."""
        chunks, problems = self.extractor.records(window)
        return _kept(chunks, window), problems


def _kept(chunks: list[Records], window: Window) -> list[Record]:
    """The records of ``chunks`` of ``window``'s channel that overlap it, each once, in time order."""
    kept: dict[tuple[int, bytes], Record] = {}
    for chunk in chunks:
        # The records seiswindow leaves out of samples (a corrupt rate, say) are the
        # archive's records all the same: dataselect passes them on as they are.
        for header in (*chunk.headers, *chunk.left_out):
            if header.nslc != window.nslc or not _overlaps(header, window):
                continue
            begin = header.offset - chunk.offset
            data = chunk.data[begin : begin + header.reclen]
            record = Record(window.nslc, header.start, header.end, header.period, data)
            kept.setdefault((header.start, data), record)  # a record read twice is sent once
    return sorted(kept.values(), key=lambda r: (r.start, r.end))


def _params(selection: Selection) -> dict[str, object]:
    """A request line as the manifest repeats it (EarthScope's ``dataselect_params_list``)."""
    codes = {
        name: ",".join(p.text for p in patterns)
        for name, patterns in zip(
            ("network", "station", "location", "channel"),
            (selection.network, selection.station, selection.location, selection.channel),
            strict=True,
        )
    }
    times = {
        "starttime": None if selection.start is None else format_time(selection.start),
        "endtime": None if selection.end is None else format_time(selection.end),
    }
    return {**times, **codes}


def _check_found(problems: list[str], *, found: bool) -> None:
    """Log the problems met; an archive that failed and gave nothing is an error, not no data.

    Raises:
        ArchiveError: problems and no record.
    """
    if problems:
        _log.warning("dataselect: %s", "; ".join(problems))
    if problems and not found:
        raise ArchiveError(f"the archive could not be read: {'; '.join(problems[:3])}")


def _overlaps(header: RecordHeader, window: Window) -> bool:
    """Whether the record holds a sample within half a period of ``window`` (a sample that
    ``Stream.trim`` with ``nearest_sample=True`` may keep)."""
    half = header.period // 2
    return header.end >= window.start - half and header.start <= window.end + half


def _segments_kept(
    records: list[Record], window: Window, *, minimum_length: float, longest_only: bool
) -> list[Record]:
    """Apply ``minimumlength`` and ``longestonly`` to the records of one channel.

    A continuous segment is a run of records each starting one sample period (within half
    a period) after the previous one's last sample; its length is the time from its first
    to its last sample, counted within the window.
    """
    if not records or (minimum_length <= 0 and not longest_only):
        return records
    runs: list[list[Record]] = [[records[0]]]
    for record in records[1:]:
        previous = runs[-1][-1]
        expected = previous.end + previous.period
        if record.period == previous.period and abs(record.start - expected) <= previous.period // 2:
            runs[-1].append(record)
        else:
            runs.append([record])

    def length(run: list[Record]) -> float:
        return (min(run[-1].end, window.end) - max(run[0].start, window.start)) / NS_PER_S

    runs = [run for run in runs if length(run) >= minimum_length]
    if longest_only and runs:
        runs = [max(runs, key=length)]
    return [record for run in runs for record in run]
