"""Which records fit their neighbours: a record whose header disagrees with the records
around it is left out and reported, never merged into a segment it does not belong to.

One flipped bit in a header makes a record claim another sample rate (3e-5 or 56 Hz in a
40 Hz file), another encoding (text inside a Steim2 file) or another time (a corrupt time
correction); libmseed parses such a record without complaint and would merge it. ObsPy
refuses to merge a trace of another rate; we go further and leave out a record that is
the odd one out among its neighbours:

- **samples without a rate**: a record with samples and a sample rate of 0 (or not
  finite) has no times for them;
- **rate or encoding**: it differs from both of its neighbours, which agree with each
  other (at the edge of what was read: from the two records on its one side);
- **time**: it is continuous with neither neighbour, while its neighbours are continuous
  *through* it (the record after it starts where its own samples, counted from the
  record before it, would end). A record alone between two real gaps is kept. The
  file's first and last records, which have one neighbour, are left out when they are
  not continuous with it (while it is with the next) and overlap it or are off its
  sample grid by more than :data:`GRID_TOLERANCE_NS` (the first would otherwise set the
  grid of the day). A whole number of periods off, without overlap, looks like a real
  gap and is kept.

Neighbours are the nearest records of the same channel in file order, so files that
interleave channels are screened channel by channel; records without samples (logs,
blockette-only records) are passed through. A real change of rate or a real time jump
changes the records on one side for good, and is kept. Continuity uses libmseed's own
tolerance: half a sample period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .mseed import BadRecord, RecordHeader

__all__ = ["GRID_TOLERANCE_NS", "Screened", "screen"]

#: How far records of one file may be off each other's sample grid and still be on it.
#: The sample files' records are within 4 µs of their first record's grid; corrupt times
#: (0.1 ms units in the fixed header) are further off.
GRID_TOLERANCE_NS = 10_000


@dataclass(frozen=True, slots=True)
class Screened:
    """The records kept, those left out, and why each was left out."""

    kept: list[RecordHeader]
    left_out: list[RecordHeader]
    bad: list[BadRecord]


def screen(headers: Sequence[RecordHeader], *, last_offset: int | None = None) -> Screened:
    """Split ``headers`` (records of one file, in file order) into the records that fit
    their neighbours and those that do not. ``last_offset`` is where the file's last
    record starts (when known), which is judged as the first is."""
    reasons: dict[int, str] = {}
    by_channel: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        if header.nsamples <= 0:
            continue
        if not (math.isfinite(header.sampling_rate) and header.sampling_rate > 0):
            reasons[i] = f"{header.nsamples} samples with a sample rate of {header.sampling_rate:g}"
            continue
        by_channel.setdefault(header.sourceid, []).append(i)
    for members in by_channel.values():
        _odd_values(headers, members, reasons)
        _odd_times(headers, [i for i in members if i not in reasons], reasons, last_offset)
    kept = [h for i, h in enumerate(headers) if i not in reasons]
    left_out = [_spanned(headers, i) for i in sorted(reasons)]
    bad = [BadRecord(headers[i].offset, reasons[i]) for i in sorted(reasons)]
    return Screened(kept, left_out, bad)


def _spanned(headers: Sequence[RecordHeader], i: int) -> RecordHeader:
    """Record ``i``; when it has samples but no rate, its span taken as reaching to the
    next record of its channel (its samples lie somewhere in there)."""
    header = headers[i]
    if header.nsamples <= 0 or header.end > header.start:
        return header
    later = [h.start for h in headers[i + 1 :] if h.sourceid == header.sourceid and h.start > header.start]
    return replace(header, end=later[0] - 1) if later else header


def _reference(values: list[float], j: int) -> float | None:
    """The value that record ``j``'s neighbours agree on, or None when they do not."""
    if 0 < j < len(values) - 1:
        left, right = values[j - 1], values[j + 1]
    elif j == 0 and len(values) >= 3:
        left, right = values[1], values[2]
    elif j == len(values) - 1 and len(values) >= 3:
        left, right = values[j - 1], values[j - 2]
    else:
        return None
    return left if left == right else None


def _odd_values(headers: Sequence[RecordHeader], members: list[int], reasons: dict[int, str]) -> None:
    rates = [headers[i].sampling_rate for i in members]
    encodings = [float(headers[i].encoding) for i in members]
    for j, i in enumerate(members):
        rate = _reference(rates, j)
        if rate is not None and rates[j] != rate:
            reasons[i] = f"sample rate {rates[j]:g} Hz, its neighbours' {rate:g} Hz"
            continue
        encoding = _reference(encodings, j)
        if encoding is not None and encodings[j] != encoding:
            reasons[i] = f"encoding {int(encodings[j])}, its neighbours' {int(encoding)}"


def _continuous(before: RecordHeader, after: RecordHeader) -> bool:
    """Whether ``after`` starts one sample after ``before``'s last (within half a period)."""
    period = before.period
    return abs(after.start - (before.end + period)) <= period // 2


def _odd_edge(
    headers: Sequence[RecordHeader], members: list[int], reasons: dict[int, str], *, last: bool
) -> None:
    """The file's first (or last) record, which has one neighbour: left out when the
    neighbour is continuous with the next, and the record overlaps the neighbour or is
    off its sample grid by more than :func:`_harmless` allows (a real gap keeps the grid,
    within the clock's jitter)."""
    if len(members) < 3:
        return
    order = members[::-1] if last else members
    edge, near, far = (headers[i] for i in order[:3])
    if not (edge.sampling_rate == near.sampling_rate == far.sampling_rate):
        return
    before, after = (near, edge) if last else (edge, near)
    if not (_continuous(far, near) if last else _continuous(near, far)):
        return
    period = near.period
    off = _off(near.start - edge.start, period)
    if _continuous(before, after):
        odd = not _harmless(off, period)  # merged with its neighbour: only a toss-up harms
    else:  # a gap or an overlap: a real gap keeps the grid, within the clock's jitter
        odd = after.start - before.end < period // 2 or abs(off) > GRID_TOLERANCE_NS
    if odd:
        which = "before" if last else "after"
        reasons[order[0]] = (
            f"its time is {off / 1e9:+.6f} s off the sample grid of the records {which} it, or overlaps them"
        )


def _odd_times(
    headers: Sequence[RecordHeader], members: list[int], reasons: dict[int, str], last_offset: int | None
) -> None:
    if members and headers[members[0]].offset == 0:
        _odd_edge(headers, members, reasons, last=False)
    if members and last_offset is not None and headers[members[-1]].offset == last_offset:
        _odd_edge(headers, members, reasons, last=True)
    for j in range(1, len(members) - 1):
        before, record, after = (headers[members[k]] for k in (j - 1, j, j + 1))
        if not (before.sampling_rate == record.sampling_rate == after.sampling_rate):
            continue
        period = before.period
        shift = record.start - (before.end + period)  # from where it would start, following `before`
        if _harmless(shift, period):
            continue
        # Where `after` starts if `record` fits: its neighbours are continuous through it.
        expected = before.end + period * (record.nsamples + 1)
        if (
            abs(after.start - expected) <= period // 2
            and abs(_off(after.start - before.end, period)) <= GRID_TOLERANCE_NS
        ):
            reasons[members[j]] = (
                f"its time is {shift / 1e9:+.6f} s off the records either side, continuous through it"
            )


def _harmless(shift: int, period: int) -> bool:
    """Whether a record ``shift`` off its neighbours' grid is merged onto that grid without
    harm: libmseed merges it into their segment (within half a period), and the samples
    are put on the grid of the data around them. Near half a period, which grid point it
    belongs to is a toss-up: not harmless."""
    return abs(shift) <= period // 2 - GRID_TOLERANCE_NS


def _off(distance: int, period: int) -> int:
    """How far ``distance`` is from a whole number of ``period``."""
    return distance - round(distance / period) * period
