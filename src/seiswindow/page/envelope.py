"""The envelope of a window for display: the smallest and largest sample of each of ``bins``
equal slices of ``[start, end)``, ``None`` where a slice holds no sample (a gap).

Why on the server: a day of a 40 Hz channel is 3.5 million samples (about 25 MB of JSON); a
plot 1,200 pixels wide shows at most two values per pixel column. The page asks for the
envelope of what is in view and, once the view holds few enough samples, for the samples
themselves (``POST /timewindows``): zooming fetches the detail.

A sample at time ``t`` falls in slice ``floor((t - start) * bins / (end - start))``, times in
integer nanoseconds, so the page can recompute the same slices from the samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import RequestError
from ..model import WindowResult
from ..nstime import format_time

__all__ = ["MAX_BINS", "Envelope", "envelope"]

#: More slices than any screen has pixel columns.
MAX_BINS = 8192


@dataclass(frozen=True)
class Envelope:
    """Per slice: the least and greatest sample (NaN: no sample), and how many samples."""

    start: int
    end: int
    minimum: np.ndarray[Any, np.dtype[np.float64]]
    maximum: np.ndarray[Any, np.dtype[np.float64]]
    counts: np.ndarray[Any, np.dtype[np.int64]]

    @property
    def bins(self) -> int:
        return int(self.counts.shape[0])

    def to_json(self, result: WindowResult) -> dict[str, Any]:
        """The tutorial's object of the window, with ``min``/``max`` instead of ``data``."""
        w = result.window

        def values(a: np.ndarray[Any, np.dtype[np.float64]]) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in a.tolist()]

        return {
            "network": w.network,
            "station": w.station,
            "location": w.location,
            "channel": w.channel,
            "starttime": format_time(self.start),
            "endtime": format_time(self.end),
            "start_ns": self.start,
            "end_ns": self.end,
            "sampling_rate": result.sampling_rate,
            "npts": result.npts,
            "bins": self.bins,
            "min": values(self.minimum),
            "max": values(self.maximum),
            "counts": self.counts.tolist(),
            "status": result.status.value,
            "message": result.message,
            "gaps": [
                {"start": format_time(g.start), "end": format_time(g.end), "samples": g.samples}
                for g in result.gaps
            ],
        }


def envelope(result: WindowResult, *, start: int, end: int, bins: int) -> Envelope:
    """The envelope of ``result``'s samples over ``[start, end)`` in ``bins`` slices.

    Raises:
        RequestError: ``bins`` is not within 1 to :data:`MAX_BINS`, or ``end <= start``.
    """
    if not 1 <= bins <= MAX_BINS:
        raise RequestError(f"bins must be within 1 and {MAX_BINS}, got {bins}", field="bins")
    if end <= start:
        raise RequestError("end must be after start", field="end")
    lo = np.full(bins, np.inf)
    hi = np.full(bins, -np.inf)
    counts = np.zeros(bins, dtype=np.int64)
    span = end - start
    for seg in result.segments:
        if seg.npts == 0 or seg.sampling_rate <= 0:
            continue
        # Sample times in ns as the segment defines them (start + i / rate), then their slice.
        offsets = np.rint(np.arange(seg.npts, dtype=np.float64) * (1e9 / seg.sampling_rate)).astype(np.int64)
        delta = (seg.start - start) + offsets
        if abs(span) * bins < 1 << 62:  # exact in int64
            slot = delta * bins // span
        else:  # a window of weeks: float, off by one at most at a slice's edge
            slot = np.floor(delta.astype(np.float64) * (bins / span)).astype(np.int64)
        keep = (slot >= 0) & (slot < bins)
        slot, samples = slot[keep], seg.samples[keep].astype(np.float64)
        if slot.size == 0:
            continue
        # Slots ascend within a segment: reduce each run of one slot.
        first = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        where = slot[first]
        lo[where] = np.minimum(lo[where], np.minimum.reduceat(samples, first))
        hi[where] = np.maximum(hi[where], np.maximum.reduceat(samples, first))
        counts[where] += np.diff(np.r_[first, slot.size])
    empty = counts == 0
    lo[empty] = np.nan
    hi[empty] = np.nan
    return Envelope(start=start, end=end, minimum=lo, maximum=hi, counts=counts)
