"""What a read of one day file gives: the records that hold a span's samples, the records
left out among them, and the problems that concern the span. Pure functions over parsed
headers: :mod:`seiswindow.locate` reads the bytes, this module picks from them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from .mseed import BadRecord, RecordHeader, detect_record_length, scan_records
from .screen import GRID_TOLERANCE_NS

__all__ = [
    "Records",
    "concerning",
    "cut",
    "off_grid",
    "on_grid_of",
    "period_of",
    "pick_whole",
    "scan_whole",
    "with_bad",
    "with_left_out",
]


@dataclass(frozen=True, slots=True)
class Records:
    """Whole records read from ``key``: ``data`` starts at byte ``offset`` of the file."""

    key: str
    offset: int
    data: bytes
    headers: list[RecordHeader]
    problems: tuple[str, ...] = ()
    #: start of the file's first record that fits its neighbours: ObsPy reading the file
    #: puts every sample on the grid ``file_start + k / sampling_rate``, and so do we.
    file_start: int | None = None
    #: records among ``data`` that parsed but were left out (they do not fit their
    #: neighbours, see :mod:`seiswindow.screen`): never decoded.
    left_out: tuple[RecordHeader, ...] = ()
    #: time of the last sample of the file's last record: with ``file_start``, the ends
    #: of the trace ObsPy reads, which ``Stream.trim`` counts a window's bounds from
    #: (that decides exact half-sample ties, see :mod:`seiswindow.trim`).
    file_end: int | None = None
    #: where the records of ``headers`` then ``left_out`` begin in the file, when ``data``
    #: was rebuilt from records that are not contiguous there (a whole read, see
    #: :func:`pick_whole`): their headers' offsets then count in ``data``. Empty: the
    #: headers' offsets are the file's.
    file_offsets: tuple[int, ...] = ()

    def record_offsets(self) -> list[int]:
        """Where each record of ``headers`` begins in the file, however ``data`` was read."""
        if not self.file_offsets:
            return [h.offset for h in self.headers]
        return list(self.file_offsets[: len(self.headers)])


def cut(
    key: str, offset: int, data: bytes, headers: list[RecordHeader], t0: int, t1: int, *, context: bool
) -> Records | None:
    """The records of ``headers`` (in file order, read as ``data`` at ``offset``) that
    overlap ``[t0, t1]``, as one byte range; with ``context``, also the record either
    side, which tells whether the window starts or ends inside a gap (ObsPy's merged trace
    then begins or ends with masked samples)."""
    keep = [i for i, h in enumerate(headers) if h.end >= t0 and h.start <= t1]
    if context:
        keep = _with_context(headers, keep, t0, t1)
    if not keep:
        return None
    first, last = headers[keep[0]], headers[keep[-1]]
    start, end = first.offset - offset, last.offset + last.reclen - offset
    return Records(key, first.offset, data[start:end], headers[keep[0] : keep[-1] + 1])


def _with_context(headers: list[RecordHeader], keep: list[int], t0: int, t1: int) -> list[int]:
    before = [i for i, h in enumerate(headers) if h.end < t0]
    after = [i for i, h in enumerate(headers) if h.start > t1]
    if keep:
        lo = keep[0] - 1 if before and before[-1] == keep[0] - 1 else keep[0]
        hi = keep[-1] + 1 if after and after[0] == keep[-1] + 1 else keep[-1]
        return list(range(lo, hi + 1))
    if before and after:  # the window lies wholly in a gap
        return list(range(before[-1], after[0] + 1))
    return keep


def pick_whole(
    key: str,
    data: bytes,
    kept: list[RecordHeader],
    left_out: list[RecordHeader],
    bad: list[BadRecord],
    t0: int,
    t1: int,
    *,
    context: bool,
    offset: int = 0,
) -> Records | None:
    """From a whole file (``data``; ``kept`` and ``left_out`` as the screen split its
    records, ``bad`` those that did not parse) the records overlapping ``[t0, t1]``, each
    on its own merit (they may be out of time order), with ``context`` the nearest either
    side in time; rebuilt into one run of bytes. ``data`` may be a part of the file read
    at byte ``offset`` (the records' offsets are the file's)."""
    keep = [h for h in kept if h.end >= t0 - h.period and h.start <= t1 + h.period]
    if context:
        keep = _nearest_either_side(kept, keep, t0, t1)
    file_start = kept[0].start if kept else None
    file_end = max((h.end for h in kept), default=None)
    period = period_of(kept)
    near = concerning(bad, sorted(kept, key=lambda h: h.offset), t0 - period, t1 + period)
    # Records left out that overlap the span go along (never decoded): a record-level
    # service passes the archive's own records on as they are.
    odd = [h for h in left_out if h.end >= t0 - period and h.start <= t1 + period]
    if not keep and not odd:
        return with_bad(key, None, [], near, file_start=file_start, file_end=file_end)
    pieces: list[bytes] = []
    rebased: list[RecordHeader] = []
    position = 0
    for h in keep + odd:
        pieces.append(data[h.offset - offset : h.offset - offset + h.reclen])
        rebased.append(replace(h, offset=position))
        position += h.reclen
    problems = tuple(b.describe(key) for b in near)
    headers, odd_rebased = rebased[: len(keep)], tuple(rebased[len(keep) :])
    offsets = tuple(h.offset for h in keep + odd)
    return Records(key, 0, b"".join(pieces), headers, problems, file_start, odd_rebased, file_end, offsets)


def _nearest_either_side(
    headers: list[RecordHeader], keep: list[RecordHeader], t0: int, t1: int
) -> list[RecordHeader]:
    before = [h for h in headers if h.end < t0 - h.period]
    after = [h for h in headers if h.start > t1 + h.period]
    keep = list(keep)
    if before and (keep or after):
        keep.insert(0, max(before, key=lambda h: h.end))
    if after and (keep or before):
        keep.append(min(after, key=lambda h: h.start))
    return keep


def with_left_out(
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


def on_grid_of(record: RecordHeader, other: RecordHeader) -> bool:
    """Whether ``record`` starts on ``other``'s sample grid (within the clock's jitter)."""
    return other.sampling_rate > 0 and abs(off_grid(record.start, other.start, other.sampling_rate)) <= (
        GRID_TOLERANCE_NS
    )


def off_grid(t: int, origin: int, rate: float) -> int:
    """How far ``t`` is from the nearest instant ``origin + k / rate``, in ns."""
    k = round((t - origin) * rate / 1e9)
    return t - origin - round(k * 1e9 / rate)


def period_of(headers: list[RecordHeader]) -> int:
    """The sample period most of ``headers`` have (0 when none has one)."""
    periods = Counter(h.period for h in headers if h.period > 0)
    return periods.most_common(1)[0][0] if periods else 0


def concerning(bad: list[BadRecord], headers: list[RecordHeader], t0: int, t1: int) -> list[BadRecord]:
    """The bad records that may have held samples of ``[t0, t1]``: those that sit, in file
    order, after the last good record ending before ``t0`` and before the first good
    record starting after ``t1`` (``headers``: the good records, in file order)."""
    before = [h.offset for h in headers if h.end < t0]
    after = [h.offset for h in headers if h.start > t1]
    lo = before[-1] if before else -1
    later = [offset for offset in after if offset > lo]
    hi = later[0] if later else math.inf
    return [b for b in bad if lo < b.offset < hi]


def with_bad(
    key: str,
    records: Records | None,
    left_out: list[RecordHeader],
    bad: list[BadRecord],
    *,
    file_start: int | None,
    file_end: int | None = None,
) -> Records | None:
    """``records`` with the bad records that concern them (see :func:`concerning`); when
    no good record holds samples of the span, the problems alone, or None without any."""
    problems = tuple(b.describe(key) for b in bad)
    if records is None:
        return Records(key, 0, b"", [], problems, file_start, file_end=file_end) if problems else None
    end = records.offset + len(records.data)
    inside = tuple(h for h in left_out if records.offset <= h.offset < end)
    problems = records.problems + problems
    return replace(records, file_start=file_start, file_end=file_end, problems=problems, left_out=inside)


def scan_whole(data: bytes, *, reclen: int) -> tuple[list[RecordHeader], list[BadRecord]]:
    """The records of a whole file, at the archive's usual length (``reclen``) or, when the first
    record says another, at that one: whichever parses more records. The first
    record's own length is not trusted alone (a damaged record can claim any length
    and would misread every record after it), nor the hint (a station-day object of
    another archive may use 4096-byte records)."""
    hinted = scan_records(data, offset=0, reclen=reclen)
    own = detect_record_length(data[:512])
    if own is None or own == reclen:
        return hinted
    other = scan_records(data, offset=0, reclen=own)
    return other if len(other[0]) > len(hinted[0]) else hinted
