"""seiswindow.trim against ObsPy: ``Stream.merge()``, ``Stream.trim()`` and
``Stream.get_gaps()`` of pieces cut from real day files (gaps, agreeing and disagreeing
overlaps, contained pieces), with ObsPy computing every expected value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import obspy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obspy import Stream, Trace, UTCDateTime
from obspy.core.compatibility import round_away as obspy_round_away

from seiswindow.errors import DataError
from seiswindow.model import Segment
from seiswindow.trim import find_gaps, merge_segments, round_away, seconds, trim_segments

DAY_FILES = {
    "LHZ": "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms",
    "BHN": "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms",
}
#: How many samples of the real trace the pieces are cut from.
SPAN = 600

#: A piece: first and last-but-one sample index into the real trace, and whether its
#: samples are changed (so that an overlap with it disagrees).
Piece = tuple[int, int, bool]


@pytest.fixture(scope="module", params=sorted(DAY_FILES))
def real(request: pytest.FixtureRequest, shared_data: Path) -> Trace:
    """The first :data:`SPAN` samples of a real day file, as ObsPy reads them."""
    [trace] = obspy.read(str(shared_data / DAY_FILES[request.param])).merge()
    return trace.slice(trace.stats.starttime, trace.stats.starttime + (SPAN - 1) * trace.stats.delta)


def _traces(real: Trace, pieces: list[Piece]) -> list[Trace]:
    out = []
    for a, b, changed in pieces:
        data = real.data[a:b].copy()
        if changed:
            data += 1
        header = {k: real.stats[k] for k in ("network", "station", "location", "channel", "sampling_rate")}
        header["starttime"] = real.stats.starttime + a * real.stats.delta
        out.append(Trace(data, header=header))
    return out


def _segments(traces: list[Trace]) -> list[Segment]:
    return [Segment(tr.stats.starttime.ns, tr.stats.sampling_rate, tr.data) for tr in traces]


def _assert_merged_like_obspy(traces: list[Trace]) -> None:
    expected = Stream([tr.copy() for tr in traces]).merge(method=0)
    merged = merge_segments(_segments(traces))
    assert len(expected) == 1
    [trace] = expected
    assert merged is not None
    assert merged.start == trace.stats.starttime.ns
    assert merged.end == trace.stats.endtime.ns
    assert merged.npts == trace.stats.npts
    mask = np.ma.getmaskarray(trace.data)
    ours = np.zeros(merged.npts, bool) if merged.mask is None else merged.mask
    np.testing.assert_array_equal(ours, mask)
    np.testing.assert_array_equal(merged.samples[~mask], np.ma.getdata(trace.data)[~mask])


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([(0, 200, False), (200, 400, False)], id="abutting"),
        pytest.param([(0, 200, False), (230, 400, False)], id="gap"),
        pytest.param([(0, 200, False), (150, 400, False)], id="overlap-agrees"),
        pytest.param([(0, 200, False), (150, 400, True)], id="overlap-disagrees"),
        pytest.param([(0, 400, False), (100, 200, False)], id="contained-agrees"),
        pytest.param([(0, 400, False), (100, 200, True)], id="contained-disagrees"),
        pytest.param([(300, 500, False), (0, 100, False), (90, 320, True)], id="unsorted-three"),
        pytest.param([(0, 100, False), (150, 250, False), (120, 200, False)], id="fills-a-gap"),
        pytest.param([(0, 100, False), (150, 250, False), (120, 200, True)], id="fills-a-gap-disagrees"),
    ],
)
def test_merge_segments_is_stream_merge(real: Trace, pieces: list[Piece]) -> None:
    _assert_merged_like_obspy(_traces(real, pieces))


_pieces = st.lists(
    st.tuples(st.integers(0, SPAN - 2), st.integers(1, 200), st.booleans()).map(
        lambda p: (p[0], min(SPAN, p[0] + p[1]), p[2])
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=_pieces)
def test_merge_segments_is_stream_merge_for_any_pieces(real: Trace, pieces: list[Piece]) -> None:
    _assert_merged_like_obspy(_traces(real, pieces))


def test_merge_segments_refuses_what_obspy_refuses(real: Trace) -> None:
    [a, b] = _traces(real, [(0, 100, False), (100, 200, False)])
    b.stats.sampling_rate *= 2
    with pytest.raises(Exception, match="(?i)sampling rate"):
        Stream([a.copy(), b.copy()]).merge()
    with pytest.raises(DataError, match="sampling rate changes"):
        merge_segments(_segments([a, b]))
    assert merge_segments([]) is None


def _window(real: Trace, start_s: float, end_s: float) -> tuple[UTCDateTime, UTCDateTime]:
    return real.stats.starttime + start_s, real.stats.starttime + end_s


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([(0, SPAN, False)], id="whole"),
        pytest.param([(0, 200, False), (260, SPAN, False)], id="gap"),
        pytest.param([(100, 300, False)], id="window-wider"),
    ],
)
@pytest.mark.parametrize(
    ("start_periods", "end_periods"),
    [(10.0, 500.0), (10.5, 499.5), (10.49, 480.51), (0.0, 1.0), (150.3, 155.7), (210.2, 240.9), (-3.0, 80.0)],
)
def test_trim_segments_is_stream_trim(
    real: Trace, pieces: list[Piece], start_periods: float, end_periods: float
) -> None:
    traces = _traces(real, pieces)
    delta = real.stats.delta
    t0, t1 = _window(real, start_periods * delta, end_periods * delta)
    expected = Stream([tr.copy() for tr in traces]).merge().trim(t0, t1, nearest_sample=True)
    segments, span = trim_segments(_segments(traces), t0.ns, t1.ns)
    if len(expected) == 0:
        assert segments == [] and span is None
        return
    [trace] = expected
    assert span is not None
    assert span.start == trace.stats.starttime.ns
    assert span.npts == trace.stats.npts
    data = np.ma.masked_array(trace.data)
    present = ~np.ma.getmaskarray(data)
    ours = np.zeros(span.npts, bool)
    for seg in segments:
        k = int(round((seg.start - span.start) / 1e9 * span.sampling_rate))
        np.testing.assert_array_equal(seg.samples, np.ma.getdata(data)[k : k + seg.npts])
        ours[k : k + seg.npts] = True
    np.testing.assert_array_equal(ours, present)


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([(0, 200, False), (260, SPAN, False)], id="one-gap"),
        pytest.param([(0, 100, False), (101, 300, False), (350, 400, False)], id="two-gaps"),
        pytest.param([(0, 100, False), (100, 200, False)], id="none"),
    ],
)
def test_find_gaps_counts_as_get_gaps(real: Trace, pieces: list[Piece]) -> None:
    traces = _traces(real, pieces)
    expected = [(UTCDateTime(g[4]).ns, UTCDateTime(g[5]).ns, g[7]) for g in Stream(traces).get_gaps()]
    segments = _segments(traces)
    gaps = find_gaps(segments, segments[0].start, segments[-1].end)
    assert [(g.start, g.end, g.samples) for g in gaps] == expected


def test_find_gaps_counts_the_window_ends(real: Trace) -> None:
    [trace] = _traces(real, [(100, 200, False)])
    t0, t1 = _window(real, 90.0 * real.stats.delta, 215.0 * real.stats.delta)
    # What ObsPy's trimmed trace pads with masked samples at each end.
    padded = trace.copy().trim(t0, t1, pad=True, nearest_sample=True)
    lead = int(round((trace.stats.starttime - padded.stats.starttime) * trace.stats.sampling_rate))
    trail = padded.stats.npts - trace.stats.npts - lead
    gaps = find_gaps(_segments([trace]), t0.ns, t1.ns)
    assert [g.samples for g in gaps] == [lead, trail]


@pytest.fixture(scope="module", params=[*sorted(DAY_FILES), "100 Hz"])
def whole_day(request: pytest.FixtureRequest, shared_data: Path) -> Trace:
    """A real day file as ObsPy reads and merges it (one continuous trace), or six hours
    at 100 Hz with samples at .005 s, where one exact tie in ten is a float product a
    hair off ``k + 1/2`` (at 1 and 40 Hz they are exact)."""
    if request.param == "100 Hz":
        rng = np.random.default_rng(10)
        header = {"network": "SY", "station": "TIE", "channel": "HHZ", "sampling_rate": 100.0}
        header["starttime"] = UTCDateTime("2024-01-01T00:00:00.005")
        return Trace(rng.integers(-5000, 5000, 6 * 360_000, dtype=np.int32), header=header)
    [trace] = obspy.read(str(shared_data / DAY_FILES[request.param])).merge()
    assert not np.ma.is_masked(trace.data)
    return trace


def _sample_time(trace: Trace, k: int) -> int:
    """Sample ``k`` of ``trace``, as ObsPy computes it."""
    return int(trace.stats.starttime.ns + round(k * trace.stats.delta * 1e9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.floats(0.0, 1.0),
    length=st.integers(0, 400),
    signs=st.tuples(st.sampled_from([-1, 1]), st.sampled_from([-1, 1])),
    margins=st.tuples(st.integers(2, 600), st.integers(2, 600)),
)
def test_ties_are_counted_from_the_traces_ends(
    whole_day: Trace, where: float, length: int, signs: tuple[int, int], margins: tuple[int, int]
) -> None:
    """The records read around a window deep inside a day, trimmed at bounds exactly half
    a sample from the data: the samples ObsPy keeps of the whole day's trace, whose ends
    (``grid_origin``, ``grid_end``) are what ``Stream.trim`` counts the bounds from."""
    day = whole_day
    npts, rate = day.stats.npts, day.stats.sampling_rate
    half = int(round(0.5e9 / rate))
    k = 700 + int(where * (npts - length - 1400))
    t0, t1 = _sample_time(day, k) + signs[0] * half, _sample_time(day, k + length) + signs[1] * half
    if t1 <= t0:
        return
    first = k - margins[0]  # the records read: the window and at least a period more
    piece = Segment(_sample_time(day, first), rate, day.data[first : k + length + margins[1]])
    grid = (day.stats.starttime.ns, day.stats.endtime.ns)
    segments, span = trim_segments([piece], t0, t1, grid_origin=grid[0], grid_end=grid[1])
    whole = Stream([Trace(day.data, header=day.stats.copy())])
    try:
        [trace] = whole.trim(UTCDateTime(ns=t0), UTCDateTime(ns=t1))
    except ValueError:  # the bounds, moved onto samples, cross
        assert segments == [] and span is None
        return
    assert span is not None
    assert (span.start, span.npts) == (trace.stats.starttime.ns, trace.stats.npts)
    [segment] = segments
    np.testing.assert_array_equal(segment.samples, trace.data)
    assert find_gaps(segments, t0, t1, span=span) == []


@pytest.mark.parametrize("offset", [0.5, 0.4999, 0.5001, 1.5, 2.5, 2.51])
def test_find_gaps_at_the_window_ends_holds_no_tie(real: Trace, offset: float) -> None:
    """Bounds ``offset`` periods outside the data: the samples the window would hold there
    are those less than ``offset + 1/2`` periods out, a sample exactly half a period
    outside a bound is not in the window (as Stream.trim moves a tied start later and a
    tied end earlier on a trace that has it)."""
    [trace] = _traces(real, [(100, 200, False)])
    delta = real.stats.delta
    t0, t1 = _window(real, (100 - offset) * delta, (199 + offset) * delta)
    held = int(np.ceil(round(offset - 0.5, 9)))
    gaps = find_gaps(_segments([trace]), t0.ns, t1.ns)
    assert [g.samples for g in gaps] == ([held, held] if held else [])


@pytest.mark.parametrize("x", [2.5, -2.5, 0.5, -0.5, 1.4999, 3.0, -7.51, 0.0, 1e6 + 0.5])
def test_round_away_is_obspys(x: float) -> None:
    assert round_away(x) == obspy_round_away(x)


@pytest.mark.parametrize(
    ("a", "b"), [(1_500_000_400, 0), (10, 3_000_000_007), (1_700_000_000_123_456_789, 1)]
)
def test_seconds_is_utcdatetime_difference(a: int, b: int) -> None:
    assert seconds(a, b) == UTCDateTime(ns=a) - UTCDateTime(ns=b)
