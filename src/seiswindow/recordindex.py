"""The record index of a day file: its rows in EarthScope's ``tsindex`` schema, as
``mseedindex`` makes them, and the byte range of the records that hold a time span.

One row per *section*: a run of records of one channel and publication version that
follow each other in the file (``mseedindex`` starts a new section when the source id or
the version changes, or a record is not right after the previous one; a gap or an overlap
in time does not: it shows in the row's ``timespans``, as two spans). A row holds the
section's byte offset and byte count, its earliest and latest sample time, its nominal
rate (the first record's), the MD5 of its bytes, a time index of record start times →
byte offsets, the time spans libmseed joins its records into, and their rates when the
records disagree on the rate.

Density of the time index: ``mseedindex`` writes one entry per hour by default
(``-si 3600``), enough to cut a read to the hour. Here every record's start is
written (``subindex=None``; but for records that go back in time, left out as
``mseedindex`` leaves them out), so that any time maps to the exact record that holds it
and a window's read is exactly its records; docs/index.md measures what it costs.

Times are integer nanoseconds inside; the text forms are those ``mseedindex`` writes
into SQLite (:func:`format_time`, :meth:`IndexRow.timeindex_text`, ...).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .errors import DataError
from .model import Nslc
from .mseed import RecordHeader, scan_records, spans

__all__ = [
    "IndexRow",
    "IndexedFile",
    "byte_range",
    "format_epoch",
    "format_time",
    "index_file",
    "index_records",
    "parse_epoch",
]

_NS = 1_000_000_000
#: libmseed's ``MS_ISRATETOLERABLE``: two rates are one when they differ by less than 0.01 %.
_RATE_TOLERANCE = 0.0001


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One section of a file: a row of the ``tsindex`` table (times in ns).

    ``timeindex`` holds ``(record start, byte offset)`` pairs in file order, or is empty
    when the section's earliest sample is not in its first record (``mseedindex`` writes
    NULL then: the whole section must be read). ``time_ordered`` is its ``latest`` flag:
    the records' start times increase, so the index also bounds the end of a span.
    ``timerates`` is empty unless the records disagree on the rate.
    """

    nslc: Nslc
    version: int
    start: int
    end: int
    samplerate: float
    byteoffset: int
    bytes: int
    hash: str
    timeindex: tuple[tuple[int, int], ...]
    time_ordered: bool
    timespans: tuple[tuple[int, int], ...]
    timerates: tuple[float, ...] = ()

    @property
    def byteend(self) -> int:
        """The byte after the section's last record."""
        return self.byteoffset + self.bytes

    def timeindex_text(self) -> str | None:
        """``epoch=>offset,...,latest=>1|0`` as ``mseedindex`` writes it (None: NULL)."""
        if not self.timeindex:
            return None
        pairs = [f"{format_epoch(t)}=>{offset}" for t, offset in self.timeindex]
        return ",".join([*pairs, f"latest=>{int(self.time_ordered)}"])

    def timespans_text(self) -> str | None:
        """``[start:end],...`` in epoch seconds rounded to microseconds (None: NULL)."""
        if not self.timespans:
            return None
        return ",".join(f"[{format_epoch(a)}:{format_epoch(b)}]" for a, b in self.timespans)

    def timerates_text(self) -> str | None:
        """``rate,...`` (``%.6g`` each), one per span, or None when the rates agree."""
        return ",".join(f"{r:.6g}" for r in self.timerates) if self.timerates else None


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """The rows of one object, and the identity of the version they were made from:
    ``filename`` (what the ``tsindex`` rows name it), its ``size``, ``etag`` and
    modification time ``modified`` (ns). The object changed when its size or ETag did."""

    key: str
    filename: str
    size: int
    etag: str
    modified: int
    rows: tuple[IndexRow, ...]


def format_epoch(ns: int) -> str:
    """``%.6f`` of the epoch seconds, as ``mseedindex`` prints times in its index texts
    (rounded to the microsecond, exactly: no float on the way)."""
    micro = (ns + 500) // 1000 if ns >= 0 else -((-ns + 500) // 1000)
    sign = "-" if micro < 0 else ""
    seconds, fraction = divmod(abs(micro), 1_000_000)
    return f"{sign}{seconds}.{fraction:06d}"


def parse_epoch(text: str) -> int:
    """Nanoseconds of an epoch time text (``1641081600.071859``), exactly.

    Raises:
        DataError: not a number.
    """
    whole, dot, fraction = text.partition(".")
    if whole.lstrip("-").isdigit() and (not dot or fraction.isdigit()) and len(fraction) <= 9:
        # The form mseedindex writes, parsed without Decimal (a 40 Hz day holds 7,500 of them).
        nanos, part = int(whole) * _NS, int(fraction.ljust(9, "0"))
        return nanos - part if whole.startswith("-") else nanos + part
    try:
        return int(Decimal(text.strip()) * _NS)
    except ArithmeticError:
        raise DataError(f"{text!r} is not an epoch time") from None


def format_time(ns: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff|.fffffffff]`` as libmseed's ``ms_nstime2timestr``
    (ISOMONTHDAY, NANO_MICRO_NONE) writes the ``starttime``/``endtime`` columns: no
    fraction on a whole second, microseconds when they are exact, else nanoseconds."""
    seconds, nanos = divmod(ns, _NS)
    text = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return text
    if nanos % 1000 == 0:
        return f"{text}.{nanos // 1000:06d}"
    return f"{text}.{nanos:09d}"


def index_records(data: bytes, *, reclen: int = 0, subindex: int | None = None) -> list[IndexRow]:
    """The ``tsindex`` rows of a whole file's bytes ``data``.

    Records are found and parsed by :func:`seiswindow.mseed.scan_records`; a record that
    does not parse is left out, and the records after it start a new section (it breaks
    the run in the file, as a foreign record does for ``mseedindex``). ``subindex``:
    seconds between time-index entries as ``mseedindex -si`` (None: every record).

    Raises:
        DataError: no record of ``data`` parses, or libmseed cannot join a section's
            records into spans.
    """
    headers, _ = scan_records(data, offset=0, reclen=reclen)
    if not headers:
        raise DataError("no miniSEED record to index")
    return [_row(data, section, subindex) for section in _sections(headers)]


def _sections(headers: Sequence[RecordHeader]) -> Iterable[list[RecordHeader]]:
    """Runs of records of one source id and version, each right after the previous."""
    section: list[RecordHeader] = []
    for header in headers:
        if section:
            last = section[-1]
            if (
                header.sourceid != last.sourceid
                or header.version != last.version
                or header.offset != last.offset + last.reclen
            ):
                yield section
                section = []
        section.append(header)
    if section:
        yield section


def _time_index(section: Sequence[RecordHeader], subindex: int | None) -> list[tuple[int, int]]:
    """``mseedindex``'s time index: the first record, then each record that ends past the
    next index time. With ``subindex`` None, each record that ends past every record before
    it: every record of data in time order; a record that goes back in time (an overlap) is
    left out, as ``mseedindex`` leaves it out, so that times increase with offsets."""
    first = section[0]
    entries = [(first.start, first.offset)]
    if subindex is None:
        reached = first.end
        for header in section[1:]:
            if header.end > reached:
                entries.append((header.start, header.offset))
                reached = header.end
        return entries
    step = subindex * _NS
    following = first.start + step  # mseedindex counts from the first record's start
    while following < first.end:
        following += step
    for header in section[1:]:
        if header.end > following:
            entries.append((header.start, header.offset))
            while following < header.end:
                following += step
    return entries


def _row(data: bytes, section: list[RecordHeader], subindex: int | None) -> IndexRow:
    first, last = section[0], section[-1]
    begin, end = first.offset, last.offset + last.reclen
    earliest = min(h.start for h in section)
    ordered = all(b.start > a.start for a, b in zip(section, section[1:], strict=False))
    index = _time_index(section, subindex)
    coverage = spans(data[begin:end])
    rates_differ = any(not _rate_tolerable(first.sampling_rate, h.sampling_rate) for h in section)
    return IndexRow(
        nslc=first.nslc,
        version=first.version,
        start=earliest,
        end=max(h.end for h in section),
        samplerate=float(f"{first.sampling_rate:.6g}"),
        byteoffset=begin,
        bytes=end - begin,
        hash=hashlib.md5(data[begin:end], usedforsecurity=False).hexdigest(),
        timeindex=tuple(index) if index[0][0] == earliest else (),
        time_ordered=ordered,
        timespans=tuple((a, b) for a, b, _ in coverage),
        timerates=tuple(rate for _, _, rate in coverage) if rates_differ else (),
    )


def _rate_tolerable(a: float, b: float) -> bool:
    return a == b or (a != 0 and b != 0 and abs(1.0 - a / b) < _RATE_TOLERANCE)


def index_file(
    data: bytes,
    *,
    key: str,
    filename: str,
    size: int,
    etag: str,
    modified: int,
    reclen: int = 0,
    subindex: int | None = None,
) -> IndexedFile:
    """The :class:`IndexedFile` of one object's bytes (see :func:`index_records`).

    Raises:
        DataError: ``data`` is not ``size`` bytes long, or holds no record.
    """
    if len(data) != size:
        raise DataError(f"{key}: read {len(data)} bytes of an object of {size}: it changed while read")
    rows = index_records(data, reclen=reclen, subindex=subindex)
    return IndexedFile(key, filename, size, etag, modified, tuple(rows))


def byte_range(rows: Iterable[IndexRow], t0: int, t1: int) -> tuple[int, int] | None:
    """``(offset, end)``: the bytes of a file to read for the samples in ``[t0, t1]`` (ns,
    both ends included, as ObsPy's trim and the ``tsindex`` reader take them): from the
    record that holds ``t0`` (or the first after it, when ``t0`` falls in a gap or before
    the data) to the end of the last record that starts at or before ``t1``. Exact to
    records where the rows' time index has every record; with a sparser index, the range
    is widened to the entries around the span, as ObsPy's reader widens it. A section
    whose index is missing or not in time order is read whole. None when no row holds a
    sample in the span. The rows are those of one file (and one channel).
    """
    begin: int | None = None
    end: int | None = None
    for row in rows:
        if row.end < t0 or row.start > t1:
            continue
        found = _row_range(row, t0, t1)
        if found is None:
            continue
        lo, hi = found
        begin = lo if begin is None else min(begin, lo)
        end = hi if end is None else max(end, hi)
    if begin is None or end is None:
        return None
    return begin, end


def _time_of(entry: tuple[int, int]) -> int:
    return entry[0]


def _row_range(row: IndexRow, t0: int, t1: int) -> tuple[int, int] | None:
    """The bytes of one section for ``[t0, t1]`` (the section overlaps it), None when the
    span falls in a gap of the section."""
    if not row.timeindex or not row.time_ordered:
        return row.byteoffset, row.byteend
    # A start inside a gap: the data resume at the next span (the record before ends before).
    if row.timespans and not any(a <= t0 <= b for a, b in row.timespans):
        t0 = min((a for a, _ in row.timespans if a > t0), default=t0)
        if t0 > t1:
            return None
    lo = max(bisect.bisect_right(row.timeindex, t0, key=_time_of) - 1, 0)
    hi = bisect.bisect_right(row.timeindex, t1, key=_time_of)
    begin = row.timeindex[lo][1]
    end = row.timeindex[hi][1] if hi < len(row.timeindex) else row.byteend
    return begin, end
