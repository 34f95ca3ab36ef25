"""ObsPy as the oracle: what the tutorial's pipeline answers for a window, and the
comparison of our results with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from obspy import Stream, UTCDateTime, read

from seiswindow.model import Window


def oracle(files: list[Path], window: Window) -> Stream:
    """What the tutorial's pipeline answers: ObsPy reads the day files that hold data of
    the window (the tutorial reads one day file per window; across midnight, each day's),
    merges and trims.

    Only the files with data within a sample period of the window are read, as the
    tutorial would: the sample grid of a merged trace starts at its first file's first
    record, and neighbouring day files disagree by a microsecond, which decides ties at
    exactly half a sample.
    """
    stream = Stream()
    for path in files:
        head = read(str(path), headonly=True)
        period = max(tr.stats.delta for tr in head)
        start = min(tr.stats.starttime for tr in head)
        end = max(tr.stats.endtime for tr in head)
        if end.ns + period * 1e9 >= window.start and start.ns - period * 1e9 <= window.end:
            stream += read(str(path))
    stream.merge()
    stream.trim(UTCDateTime(ns=window.start), UTCDateTime(ns=window.end))
    return stream


def assert_matches_oracle(result: object, expected: Stream) -> None:
    """Samples equal bit for bit (gaps as masked samples), start time within 1 µs."""
    from seiswindow.model import WindowResult

    assert isinstance(result, WindowResult)
    if len(expected) == 0:
        assert result.segments == ()
        return
    assert len(expected) == 1, expected
    trace = expected[0]
    assert result.segments, result.message
    first = result.segments[0]
    assert abs(first.start - trace.stats.starttime.ns) <= 1_000
    assert first.sampling_rate == trace.stats.sampling_rate
    data = trace.data
    if isinstance(data, np.ma.MaskedArray) and np.ma.is_masked(data):
        ours = np.concatenate([s.samples for s in result.segments])
        np.testing.assert_array_equal(ours, data.compressed())
        assert sum(g.samples for g in result.gaps if g.samples > 0) >= int(data.mask.sum())
    else:
        assert len(result.segments) == 1
        assert first.samples.dtype == data.dtype
        np.testing.assert_array_equal(first.samples, np.asarray(data))
