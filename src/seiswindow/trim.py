"""Samples on ObsPy's grid: merging, trimming and gap counting as ObsPy does them.

One concept: what ``read(files).merge()``, ``Stream.trim(t0, t1)`` (nearest sample) and
``Stream.get_gaps()`` make of a channel's segments, computed on integer nanoseconds with
ObsPy's own roundings (``UTCDateTime`` differences are rounded to the microsecond,
sample offsets are rounded half away from zero). :mod:`seiswindow.extract` trims and
counts gaps with it; :mod:`seiswindow.encode` puts a window's samples on one grid with
it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .errors import DataError
from .model import Gap, Segment, TraceSpan

__all__ = ["Merged", "find_gaps", "merge_segments", "on_span", "round_away", "seconds", "trim_segments"]


class _Samples(Protocol):
    """What trimming needs of a segment (a :class:`Segment` or a decoded segment)."""

    @property
    def start(self) -> int: ...
    @property
    def sampling_rate(self) -> float: ...
    @property
    def samples(self) -> np.ndarray[Any, Any]: ...


# -- ObsPy's arithmetic -----------------------------------------------------------------


def round_away(x: float) -> int:
    """Round half away from zero, as ObsPy's ``compatibility.round_away``.

    >>> round_away(2.5), round_away(-2.5), round_away(2.4)
    (3, -3, 2)
    """
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def seconds(a: int, b: int) -> float:
    """``UTCDateTime(a) - UTCDateTime(b)``: seconds between two ns instants, rounded to
    the microsecond.

    >>> seconds(1_500_000_400, 0)
    1.5
    """
    return round((a - b) / 1e9, 6)


def _shift(start: int, samples: int, sampling_rate: float) -> int:
    """``UTCDateTime(start) + samples * delta``, as ObsPy computes a trimmed start."""
    return start + int(round(samples * (1.0 / sampling_rate) * 1e9))


def _samples_between(later: int, earlier_end: int, sampling_rate: float) -> int:
    """Samples missing between a segment ending at ``earlier_end`` and one starting at
    ``later`` (negative for an overlap), as ``Stream.get_gaps()`` counts them."""
    return int(round(seconds(later, earlier_end) * sampling_rate)) - 1


def _on_grid(t: int, origin: int | None, sampling_rate: float) -> int:
    """``t`` moved to the nearest instant ``origin + k / sampling_rate``, computed as ObsPy
    computes sample times of a trace that starts at ``origin``."""
    if origin is None:
        return t
    k = int(round(seconds(t, origin) * sampling_rate))
    return _shift(origin, k, sampling_rate)


# -- one grid, as Stream.merge(method=0) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Merged:
    """Samples of one window on one grid, as ``Stream.merge()`` makes one trace of them.

    ``samples[i]`` was taken at ``start + i / sampling_rate``; where ``mask[i]`` is true
    the sample is missing (its value in ``samples`` means nothing). ``mask`` is None when
    no sample is missing.
    """

    start: int
    sampling_rate: float
    samples: np.ndarray[Any, Any]
    mask: np.ndarray[Any, Any] | None

    @property
    def npts(self) -> int:
        return int(self.samples.shape[0])

    @property
    def end(self) -> int:
        """Time of the last sample, as ObsPy computes ``Stats.endtime``."""
        return Segment(self.start, self.sampling_rate, self.samples).end


#: A piece to merge: ``(start, offset, samples)``, ``offset`` in samples from the earliest.
_Piece = tuple[int, int, np.ndarray[Any, Any]]


def _equal_where_present(
    grid: np.ndarray[Any, Any], present: np.ndarray[Any, Any], new: Any, *, if_none_present: bool
) -> bool:
    """ObsPy's test of an overlap on masked data: the present samples agree. When none is
    present ObsPy's two branches differ: ``np.all`` of a fully masked comparison is
    ``masked`` (false) for an overlap, ``filled()`` makes it true for a contained trace."""
    if not present.any():
        return if_none_present
    return bool(np.all((grid == new) | ~present))


def _cleanup(pieces: list[_Piece]) -> list[_Piece]:
    """ObsPy's ``Stream._cleanup()``: join pieces that abut, or overlap with the same
    samples in common; leave the others alone. Pieces are sorted."""
    out = []
    cur_start, cur_off, cur = pieces[0]
    for start, off, data in pieces[1:]:
        cur_end = cur_off + len(cur)
        if off < cur_end:
            common = min(cur_end, off + len(data))
            if np.array_equal(cur[off - cur_off : common - cur_off], data[: common - off]):
                if off + len(data) > cur_end:
                    cur = np.concatenate([cur, data[cur_end - off :]])
                continue
        elif off == cur_end:
            cur = np.concatenate([cur, data])
            continue
        out.append((cur_start, cur_off, cur))
        cur_start, cur_off, cur = start, off, data
    out.append((cur_start, cur_off, cur))
    return out


def _mergeable(segments: Sequence[Segment]) -> list[Segment]:
    """The segments with samples, in time order.

    Raises:
        DataError: they differ in sampling rate or sample type.
    """
    segs = sorted((s for s in segments if s.npts), key=lambda s: (s.start, s.end))
    if len(segs) < 2:
        return segs
    rate, dtype = segs[0].sampling_rate, segs[0].samples.dtype
    others = sorted({s.sampling_rate for s in segs if s.sampling_rate != rate})
    if others:
        rates = ", ".join(f"{r:g}" for r in (rate, *others))
        raise DataError(f"the sampling rate changes within the window ({rates} Hz)")
    if any(s.samples.dtype != dtype for s in segs):
        raise DataError("the sample type changes within the window")
    return segs


def _placed(pieces: list[_Piece], origin: int, rate: float) -> list[tuple[int, np.ndarray[Any, Any]]]:
    """Where each piece lands, in samples from ``origin``: ObsPy appends the next trace
    ``round_away((start - end) * rate) - 1`` samples after the end of what it merged so
    far."""
    placed: list[tuple[int, np.ndarray[Any, Any]]] = []
    npts = 0
    for start, _, data in pieces:
        offset = 0
        if placed:
            merged_end = origin + int(round(float(npts - 1) * (1.0 / rate) * 1e9))
            offset = npts + round_away(seconds(start, merged_end) * rate) - 1
        placed.append((offset, data))
        npts = max(npts, offset + len(data))
    return placed


def _lay(
    placed: list[tuple[int, np.ndarray[Any, Any]]], dtype: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The placed pieces laid on one grid, in order, as ``Trace.__add__`` adds them:
    ``(samples, present)``."""
    npts = max(offset + len(data) for offset, data in placed)
    samples = np.zeros(npts, dtype=dtype)
    present = np.zeros(npts, dtype=bool)
    length = 0  # of what is merged so far
    for offset, data in placed:
        end = offset + len(data)
        if offset >= length:  # after a gap, or abutting
            samples[offset:end], present[offset:end] = data, True
        elif end > length:
            _lay_over_end(samples, present, offset, length, data)
        else:
            _lay_inside(samples, present, offset, data)
        length = max(length, end)
    return samples, present


def _lay_over_end(
    samples: np.ndarray[Any, Any], present: np.ndarray[Any, Any], offset: int, length: int, data: Any
) -> None:
    """A piece overlapping the end of what is merged: kept when the shared samples agree,
    else the shared span is masked and the rest appended."""
    end, shared = offset + len(data), length - offset
    span = slice(offset, length)
    if _equal_where_present(samples[span], present[span], data[:shared], if_none_present=False):
        samples[offset:end], present[offset:end] = data, True
    else:
        present[span] = False
        samples[length:end], present[length:end] = data[shared:], True


def _lay_inside(samples: np.ndarray[Any, Any], present: np.ndarray[Any, Any], offset: int, data: Any) -> None:
    """A piece contained in what is merged: fills the missing samples when the present
    ones agree, else masks its whole span."""
    span = slice(offset, offset + len(data))
    if _equal_where_present(samples[span], present[span], data, if_none_present=True):
        fill = ~present[span]
        samples[span][fill] = data[fill]
        present[span] = True
    else:
        present[span] = False


def merge_segments(segments: Sequence[Segment]) -> Merged | None:
    """Put segments of one channel on the grid of the earliest, as ObsPy's
    ``Stream.merge(method=0)`` does: first join what agrees (``_cleanup``), then add the
    rest in time order; gaps are masked samples, and so is an overlap whose samples
    disagree (over its whole length). Segments are taken to share one sample grid, as
    the segments of one channel from one archive do.

    Returns:
        None when there is no sample.

    Raises:
        DataError: the segments differ in sampling rate or sample type (ObsPy refuses
            to merge them too).
    """
    segs = _mergeable(segments)
    if not segs:
        return None
    first = segs[0]
    rate = first.sampling_rate
    if len(segs) == 1:
        return Merged(first.start, rate, first.samples, None)
    pieces = _cleanup([(s.start, round_away(seconds(s.start, first.start) * rate), s.samples) for s in segs])
    pieces.sort(key=lambda p: (p[0], p[1] + len(p[2])))
    samples, present = _lay(_placed(pieces, first.start, rate), first.samples.dtype)
    mask = ~present
    return Merged(first.start, rate, samples, mask if mask.any() else None)


def on_span(merged: Merged | None, span: TraceSpan | None) -> Merged | None:
    """``merged`` widened to the trimmed trace's grid: a window that starts or ends inside a
    gap of the data begins or ends with masked samples in ObsPy's trace, as it does here."""
    if span is None or span.npts == 0:
        return merged
    if merged is None:  # the window lies wholly in a gap
        return Merged(span.start, span.sampling_rate, np.zeros(span.npts, np.int32), np.ones(span.npts, bool))
    lead = int(round((merged.start - span.start) / 1e9 * merged.sampling_rate))
    trail = span.npts - lead - merged.npts
    if lead <= 0 and trail <= 0:
        return merged
    lead, trail = max(lead, 0), max(trail, 0)
    samples = np.zeros(lead + merged.npts + trail, dtype=merged.samples.dtype)
    samples[lead : lead + merged.npts] = merged.samples
    mask = np.ones(samples.shape, dtype=bool)
    mask[lead : lead + merged.npts] = merged.mask if merged.mask is not None else False
    return Merged(span.start if lead else merged.start, merged.sampling_rate, samples, mask)


# -- Stream.merge().trim(t0, t1) ---------------------------------------------------------


def _chain_offsets(chain: list[Segment]) -> list[int]:
    """Each segment's first sample, counted from the chain's first, on one grid."""
    sr = chain[0].sampling_rate
    offsets = [0]
    for prev, seg in zip(chain, chain[1:], strict=False):
        offsets.append(offsets[-1] + prev.npts + _samples_between(seg.start, prev.end, sr))
    return offsets


def _snapped(t0: int, t1: int, trace: tuple[int, int], sr: float) -> tuple[int, int]:
    """``Stream.trim``'s first step: ``t0`` moved onto a sample counted from the merged
    trace's first sample, ``t1`` onto one counted back from its last (``trace``).

    At an exact tie the product of float seconds and the rate lands a hair either side of
    ``k + 1/2`` (``-244.49999999999997``, ``-144.5``), so which sample a tie keeps depends
    on how far the bound is from the trace's ends: counting from anywhere else (the
    records read around the window) decides some ties the other way.
    """
    first, last = trace
    return (
        _shift(first, round_away(seconds(t0, first) * sr), sr),
        _shift(last, round_away(seconds(t1, last) * sr), sr),
    )


def _kept_range(origin: int, total: int, sr: float, t0: int, t1: int) -> tuple[int, int, int] | None:
    """``(new_start, first, count)``: the samples of a trace of ``total`` samples from
    ``origin`` that ``Trace._ltrim`` and ``Trace._rtrim`` keep of bounds already on its
    samples (:func:`_snapped`), or None."""
    end = _shift(origin, total - 1, sr)
    if t0 > t1 or t0 > end:
        return None
    left = max(round_away(seconds(t0, origin) * sr), 0)
    new_start = _shift(origin, left, sr) if left > 0 else origin
    if t1 < new_start:
        return None
    npts = total - left
    right = round_away(seconds(t1, new_start) * sr) - npts + 1
    count = 1 if t1 == new_start else npts + min(right, 0)
    return new_start, left, count


def _trim_chain(
    chain: list[Segment], t0: int, t1: int, grid: tuple[int | None, int | None]
) -> tuple[list[Segment], TraceSpan | None]:
    """Trim segments of one rate, in time order and not overlapping, as ObsPy trims the one
    trace that ``Stream.merge()`` makes of them (gaps as masked samples on the grid of the
    first segment): ``Stream.trim(t0, t1)`` with ``nearest_sample=True``. ``grid`` is the
    merged trace's first and last sample, where known (else the chain's)."""
    sr = chain[0].sampling_rate
    grid_origin, grid_end = grid
    origin = _on_grid(chain[0].start, grid_origin, sr)
    offsets = _chain_offsets(chain)
    total = offsets[-1] + chain[-1].npts
    end = _shift(origin, total - 1, sr)
    # The trace ObsPy reads holds the chain: its ends, on its grid, are never inside it.
    first = origin if grid_origin is None else min(grid_origin, origin)
    last = end if grid_end is None else max(_on_grid(grid_end, first, sr), end)
    kept = _kept_range(origin, total, sr, *_snapped(t0, t1, (first, last), sr))
    if kept is None:
        return [], None
    new_start, lo, count = kept
    hi = lo + count
    out = []
    for seg, offset in zip(chain, offsets, strict=True):
        a, b = max(lo, offset) - offset, min(hi, offset + seg.npts) - offset
        if b > a:
            out.append(Segment(_shift(origin, offset + a, sr), sr, seg.samples[a:b]))
    return out, (TraceSpan(new_start, count, sr) if count > 0 else None)


def _chains(segments: list[Segment]) -> list[list[Segment]]:
    """Segments in time order grouped into runs of one rate that do not overlap."""
    chains: list[list[Segment]] = []
    for seg in segments:
        if chains:
            prev = chains[-1][-1]
            if (
                seg.sampling_rate == prev.sampling_rate
                and _samples_between(seg.start, prev.end, seg.sampling_rate) >= 0
            ):
                chains[-1].append(seg)
                continue
        chains.append([seg])
    return chains


def trim_segments(
    decoded: Iterable[_Samples],
    t0: int,
    t1: int,
    *,
    grid_origin: int | None = None,
    grid_end: int | None = None,
) -> tuple[list[Segment], TraceSpan | None]:
    """Cut segments to ``[t0, t1]`` with ObsPy's ``Stream.merge().trim(t0, t1)`` semantics.

    Segments of one rate that follow each other are trimmed together on one sample grid
    (as ObsPy's merged trace); overlapping segments, or a change of rate, start a new
    chain that is trimmed on its own grid. ``grid_origin`` is the start of the first record
    of the (first) day file: sample times are put on its grid, as ObsPy reading that file
    does (record headers may disagree with it by a microsecond, which decides exact ties at
    half a sample). ``grid_end`` is the last sample of the last day file ObsPy reads: with
    ``grid_origin``, the ends of ObsPy's merged trace, which ``Stream.trim`` counts ``t0``
    and ``t1`` from, and so decide the other exact ties (see :func:`_snapped`); without
    them the segments' own ends stand in. Also returns the trimmed trace's grid (of the
    first chain, the trace ObsPy keeps), which starts or ends inside a gap when the window
    does.
    """
    segments = [Segment(s.start, s.sampling_rate, s.samples) for s in decoded if len(s.samples)]
    segments.sort(key=lambda s: s.start)
    chains = _chains(segments)
    pieces: list[Segment] = []
    span: TraceSpan | None = None
    for k, chain in enumerate(chains):
        # After an overlap ObsPy's merged trace goes on, on one grid: so do we. After a
        # change of rate it would not merge: that chain keeps its own grid.
        same_rate = chain[0].sampling_rate == chains[0][0].sampling_rate
        grid = (grid_origin, grid_end) if same_rate else (None, None)
        trimmed, chain_span = _trim_chain(chain, t0, t1, grid)
        pieces.extend(trimmed)
        if k == 0:
            span = chain_span
    return pieces, span


def _held(periods: float, sampling_rate: float) -> int:
    """How many samples a window holds beyond its data's first (or last) sample when its
    bound is ``periods`` sample periods beyond it: those 1, 2, ... periods out, short of
    ``periods + 1/2``. A sample exactly half a period outside the bound is not held: at a
    tie ``Stream.trim`` moves the start later and the end earlier. (Half a microsecond of
    slack, in periods, absorbs the float error of ``periods``; ObsPy's times differ by
    whole microseconds.)"""
    return max(0, math.ceil(periods - 0.5 - 0.5e-6 * sampling_rate))


def _edge_gaps(first: Segment, last: Segment, t0: int, t1: int, span: TraceSpan | None) -> tuple[int, int]:
    """Samples missing before ``first`` and after ``last`` within ``[t0, t1]``. Where
    ObsPy's trimmed trace reaches past the data (``span``: it begins or ends in a gap of
    the data) its masked samples are the count; elsewhere (the data stop, a day file is
    missing) the samples of the data's grid the window holds."""
    sr = first.sampling_rate
    lead = _held(seconds(first.start, t0) * sr, sr)
    trail = _held(seconds(t1, last.end) * last.sampling_rate, last.sampling_rate)
    if span is not None and span.npts and span.sampling_rate == sr:
        if span.start < first.start:
            lead = round(seconds(first.start, span.start) * sr)
        span_end = _shift(span.start, span.npts - 1, sr)
        if span_end > last.end and last.sampling_rate == sr:
            trail = round(seconds(span_end, last.end) * sr)
    return lead, trail


def find_gaps(segments: Sequence[Segment], t0: int, t1: int, *, span: TraceSpan | None = None) -> list[Gap]:
    """Gaps (and overlaps) between segments and at the window's ends, counted in samples
    as ObsPy's ``Stream.get_gaps()`` counts them (a window that lies wholly in a gap of
    the data, ``span`` without segments, is one gap of ``span.npts`` samples). A bound
    exactly half a sample from the data is no gap: no sample is missing there."""
    if not segments:
        return [Gap(t0, t1, span.npts)] if span is not None else []
    gaps = []
    first, last = segments[0], segments[-1]
    lead, trail = _edge_gaps(first, last, t0, t1, span)
    if lead > 0:
        gaps.append(Gap(t0, first.start, lead))
    for prev, seg in zip(segments, segments[1:], strict=False):
        missing = _samples_between(seg.start, prev.end, prev.sampling_rate)
        if missing != 0:
            gaps.append(Gap(prev.end, seg.start, missing))
    if trail > 0:
        gaps.append(Gap(last.end, t1, trail))
    return gaps
