"""One channel of a station-day object (EarthScope's layout: every channel of a station in
one object, records interleaved), read through the record index when it lists the object.

The locator's bisection over record times assumes one channel per file, so a station-day
object is read whole and its channel's records kept (exact, see
:meth:`~seiswindow.locate.Locator.read_channel`) unless the ``tsindex`` rows of the channel
in that object list every record's start and offset: then the byte range from the record
before the span to the record after it is read (other channels' records in between are
skipped after parsing), and every record of the channel read is checked against the index
(same offset, same start). An index that does not list every record, or disagrees with the
object (it changed since indexed), is not used: :class:`NotIndexed`, and the object is read
whole.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from .model import Nslc
from .mseed import RecordHeader, detect_record_length, scan_records
from .recordindex import IndexRow
from .records import Records, pick_whole
from .screen import screen

__all__ = ["ChannelSections", "NotIndexed", "channel_range", "check_against"]


class NotIndexed(Exception):
    """The index cannot tell exactly where the channel's records are: read the object whole."""


@dataclass(frozen=True, slots=True)
class ChannelSections:
    """What the record index holds of one channel in one object: its rows (sections of
    consecutive records of the channel) and the object's size when it was indexed."""

    rows: tuple[IndexRow, ...]
    size: int

    @property
    def first_start(self) -> int:
        """The channel's first sample in the object (the grid ObsPy reading it starts at)."""
        return min(row.start for row in self.rows)

    @property
    def last_end(self) -> int:
        """The channel's last sample in the object."""
        return max(row.end for row in self.rows)

    @property
    def period(self) -> int:
        """The longest sample period of the rows, in ns (0 without a rate)."""
        rates = [row.samplerate for row in self.rows if row.samplerate > 0]
        return round(1e9 / min(rates)) if rates else 0


def _records(rows: tuple[IndexRow, ...]) -> list[tuple[int, int, int]]:
    """``(start, offset, end offset)`` of every record of the rows, in time order.

    Raises:
        NotIndexed: a row's time index does not list every record of its section, or the
            records are not in time order.
    """
    records: list[tuple[int, int, int]] = []
    for row in rows:
        entries = row.timeindex
        if not entries or not row.time_ordered or entries[0][1] != row.byteoffset:
            raise NotIndexed
        offsets = [offset for _, offset in entries] + [row.byteend]
        steps = {b - a for a, b in zip(offsets, offsets[1:], strict=False)}
        if len(steps) != 1:  # a sparse index (mseedindex's hourly default) or mixed lengths
            raise NotIndexed
        records.extend(
            (start, offset, end) for (start, offset), end in zip(entries, offsets[1:], strict=True)
        )
    records.sort()
    if [offset for _, offset, _ in records] != sorted(offset for _, offset, _ in records):
        raise NotIndexed  # time order and file order disagree
    return records


def channel_range(sections: ChannelSections, t0: int, t1: int) -> tuple[int, int, list[tuple[int, int]]]:
    """``(a, b, expected)``: the bytes ``[a, b)`` holding the channel's records that may
    hold samples of ``[t0, t1]`` and the record either side (which tell whether the span
    starts or ends in a gap), and the ``(offset, start)`` of every record of the channel
    in them (what the read must find).

    Raises:
        NotIndexed: the rows do not list every record in time order.
    """
    records = _records(sections.rows)
    starts = [start for start, _, _ in records]
    lo = max(bisect.bisect_right(starts, t0) - 2, 0)  # the record holding t0, and the one before
    hi = min(bisect.bisect_right(starts, t1), len(records) - 1)  # the record after the last one
    chosen = records[lo : hi + 1]
    expected = [(offset, start) for start, offset, _ in chosen]
    return chosen[0][1], chosen[-1][2], expected


def check_against(headers: list[RecordHeader], expected: list[tuple[int, int]], *, tolerance: int) -> None:
    """Whether the channel's records read are those the index lists (same offsets, starts
    within ``tolerance`` ns).

    Raises:
        NotIndexed: they differ (the object changed since it was indexed).
    """
    found = [(h.offset, h.start) for h in headers]
    if len(found) != len(expected) or any(
        fo != eo or abs(fs - es) > tolerance for (fo, fs), (eo, es) in zip(found, expected, strict=True)
    ):
        raise NotIndexed


def channel_records(
    key: str,
    data: bytes,
    offset: int,
    nslc: Nslc,
    sections: ChannelSections,
    expected: list[tuple[int, int]],
    t0: int,
    t1: int,
    *,
    reclen: int,
    context: bool,
) -> Records | None:
    """The records of ``nslc`` in ``data`` (read at ``offset`` of the object ``key``, the
    range :func:`channel_range` gave), checked against what the index promised
    (``expected``), screened and cut to ``[t0, t1]`` as any read is.

    Raises:
        NotIndexed: the records read are not those the index names.
    """
    parsed, bad = scan_records(data, offset=offset, reclen=detect_record_length(data[:512]) or reclen)
    ours = [h for h in parsed if h.nslc == nslc]
    check_against(ours, expected, tolerance=1_000)
    screened = screen(ours)
    bad = sorted(bad + screened.bad, key=lambda b: b.offset)  # an unparsed record may be ours
    records = pick_whole(
        key, data, screened.kept, screened.left_out, bad, t0, t1, context=context, offset=offset
    )
    # The trace ObsPy reads from the object starts and ends where the channel does in it.
    if records is None:
        return None
    return replace(records, file_start=sections.first_start, file_end=sections.last_end)
