"""fdsnws-dataselect: the archive's own miniSEED records that hold a request's samples.

Output is record-level, as FDSN data centres answer: whole records, byte for byte as the
archive stores them, in channel order then time order. A record is returned when it holds a
sample that ObsPy's ``Stream.trim(starttime, endtime)`` (nearest sample) could keep, i.e.
it overlaps ``[starttime - period/2, endtime + period/2]``; a client that trims what it
receives gets exactly the samples it would get by trimming the day files themselves.

Everything is decided before the first byte is sent: the channels (wildcards resolved by
the :class:`~seiswindow.fdsn.catalog.ChannelCatalog`), the records (read with ranged reads by
the extractor), whether there is any data at all, and whether the answer fits the byte
limit. The answer is then a list of byte strings the route streams.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ..errors import ArchiveError, LimitExceeded, RequestError
from ..extract import Extractor
from ..model import Nslc, Window, check_count
from ..mseed import RecordHeader
from ..nstime import NS_PER_S
from .catalog import ChannelCatalog
from .request import DataselectRequest

__all__ = ["DataselectAnswer", "DataselectService", "Record"]

_log = logging.getLogger(__name__)


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
    """What a dataselect request answers: records in output order (empty: no data), and
    the problems met reading the archive (for the log)."""

    records: tuple[Record, ...]
    problems: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(len(r.data) for r in self.records)

    def chunks(self, *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The body in pieces of about ``chunk_size`` bytes (whole records)."""
        piece: list[bytes] = []
        size = 0
        for record in self.records:
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
        max_parallel: channels read at once for one request.
    """

    def __init__(
        self, extractor: Extractor, catalog: ChannelCatalog, *, max_bytes: int, max_parallel: int = 8
    ) -> None:
        self.extractor = extractor
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.max_parallel = max_parallel

    def answer(self, request: DataselectRequest) -> DataselectAnswer:
        """The records of ``request``.

        Raises:
            LimitExceeded: a selection spans more than the configured window length, names
                more channels than allowed, or its records exceed ``max_bytes``.
            RequestError: a selection has no time span, or a wildcard cannot be resolved
                in this archive's layout.
            ArchiveError: the archive could not be read and nothing was found.
        """
        windows = self._windows(request)
        found, problems = self._fetch(windows)
        records = []
        for window in windows:
            kept = _segments_kept(
                found.get(window, []),
                window,
                minimum_length=request.minimum_length,
                longest_only=request.longest_only,
            )
            records.extend(kept)
        if problems:
            _log.warning("dataselect: %s", "; ".join(problems))
        if problems and not any(found.values()):
            raise ArchiveError(f"the archive could not be read: {'; '.join(problems[:3])}")
        return DataselectAnswer(tuple(records), tuple(problems))

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
        return sorted(kept.values(), key=lambda r: (r.start, r.end)), list(problems)


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
