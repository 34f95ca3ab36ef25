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
    """Our result is ObsPy's trimmed trace: the same grid (start within 1 µs, the same
    number of samples), the same samples bit for bit where ObsPy has them, and missing
    (gaps, masked in ObsPy's trace) exactly where ObsPy's are."""
    from seiswindow.model import WindowResult

    assert isinstance(result, WindowResult)
    if len(expected) == 0:
        assert result.segments == () and result.span is None
        return
    assert len(expected) == 1, expected
    trace = expected[0]
    span = result.span
    assert span is not None, result.message
    assert abs(span.start - trace.stats.starttime.ns) <= 1_000
    assert span.npts == trace.stats.npts
    assert span.sampling_rate == trace.stats.sampling_rate
    data = np.ma.masked_array(trace.data)
    ours = np.ma.masked_all(span.npts, dtype=data.dtype)
    for seg in result.segments:
        assert seg.samples.dtype == data.dtype
        k = int(round((seg.start - span.start) / 1e9 * span.sampling_rate))
        ours[k : k + seg.npts] = seg.samples
    np.testing.assert_array_equal(np.ma.getmaskarray(ours), np.ma.getmaskarray(data))
    np.testing.assert_array_equal(ours.compressed(), data.compressed())
    if not np.ma.is_masked(data):
        assert len(result.segments) == 1
        assert abs(result.segments[0].start - trace.stats.starttime.ns) <= 1_000
