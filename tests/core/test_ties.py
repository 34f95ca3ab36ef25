"""Window bounds exactly half a sample from the data's samples, on one day file and across
midnight: the samples, the first sample's time and the count are ObsPy's
``(read(day1) + read(day2)).merge().trim(t0, t1)``, and no gap is reported where no sample
is missing.

The archive: two consecutive 100 Hz days whose samples sit at .005 s (so every whole
hundredth of a second is a tie), continuous across midnight, written by libmseed as
512-byte Steim2 records (:func:`seiswindow.demo_archive.write_day_file`), read from a
:class:`~seiswindow.store.MemoryStore`.

Why ties are hard: ObsPy snaps ``t0`` to a sample counting from the merged trace's first
sample and ``t1`` counting back from its last, in float seconds; at an exact tie the
float product lands a hair either side of ``k + 0.5``, so which sample a tie keeps depends
on where the trace ObsPy reads starts and ends, not only on the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from obspy import Stream, Trace, UTCDateTime, read

from seiswindow import Archive, Extractor, Status, Window, WindowResult
from seiswindow.archive import layout_named
from seiswindow.demo_archive import write_day_file
from seiswindow.model import Nslc
from seiswindow.nstime import NS_PER_S
from seiswindow.store import MemoryStore
from support.oracle import assert_matches_oracle

NSLC = Nslc("SY", "TIE", "", "HHZ")
DAYS = (date(2024, 1, 1), date(2024, 1, 2))
RATE = 100.0
PERIOD_NS = 10_000_000
HALF_NS = PERIOD_NS // 2
#: The first sample of each day is 5 ms after midnight: midnight itself is a tie.
OFFSET_NS = 5_000_000
MIDNIGHT = UTCDateTime("2024-01-02").ns
DAY1 = UTCDateTime("2024-01-01").ns
LAYOUT = layout_named("scedc")


class TieArchive:
    """The two day files (bytes by key, and on disk for ObsPy) and ObsPy's merged traces
    of each set of files a window can read."""

    def __init__(
        self, objects: dict[str, bytes], keys: tuple[str, str], merged: dict[tuple[int, ...], Trace]
    ) -> None:
        self.objects, self.keys, self.merged = objects, keys, merged

    def __repr__(self) -> str:  # hypothesis prints the fixtures of a failing example
        return f"TieArchive({', '.join(self.keys)})"


@pytest.fixture(scope="module")
def ties(tmp_path_factory: pytest.TempPathFactory) -> TieArchive:
    root = tmp_path_factory.mktemp("ties")
    objects: dict[str, bytes] = {}
    paths: list[Path] = []
    for day in DAYS:
        key = LAYOUT.key(NSLC, day)
        path = write_day_file(
            root / key,
            network=NSLC.network,
            station=NSLC.station,
            location=NSLC.location,
            channel=NSLC.channel,
            day=day,
            sampling_rate=RATE,
            start_offset_s=0.005,
        )
        objects[key] = path.read_bytes()
        paths.append(path)
    days = [read(str(p)) for p in paths]
    assert all(len(st_) == 1 for st_ in days)  # each day is one continuous trace
    merged = {
        (0,): days[0].copy().merge()[0],
        (1,): days[1].copy().merge()[0],
        (0, 1): (days[0] + days[1]).merge()[0],
    }
    assert merged[(0, 1)].stats.npts == 2 * 8_640_000  # continuous across midnight
    return TieArchive(objects, (LAYOUT.key(NSLC, DAYS[0]), LAYOUT.key(NSLC, DAYS[1])), merged)


@pytest.fixture(scope="module")
def extractor(ties: TieArchive) -> Iterator[Extractor]:
    with Extractor(Archive(MemoryStore(ties.objects), LAYOUT)) as extractor:
        yield extractor


def _files_read(merged: dict[tuple[int, ...], Trace], t0: int, t1: int) -> tuple[int, ...]:
    """The days whose file holds data within a sample period of the window: the files the
    tutorial's pipeline (and :func:`support.oracle.oracle`) reads."""
    days = []
    for i in (0, 1):
        trace = merged[(i,)]
        if trace.stats.endtime.ns + PERIOD_NS >= t0 and trace.stats.starttime.ns - PERIOD_NS <= t1:
            days.append(i)
    return tuple(days)


def obspy_trim(merged: dict[tuple[int, ...], Trace], t0: int, t1: int) -> Stream:
    """``(read(day1) + read(day2)).merge().trim(t0, t1)`` of the files the window reads
    (the merge is done once per set of files; trim works on a shallow copy)."""
    files = _files_read(merged, t0, t1)
    if not files:
        return Stream()
    trace = merged[files]
    stream = Stream([Trace(trace.data, header=trace.stats.copy())])
    try:
        return stream.trim(UTCDateTime(ns=t0), UTCDateTime(ns=t1))
    except ValueError:  # the bounds, moved onto samples, cross: "startime is larger than endtime"
        return Stream()


def _extract(extractor: Extractor, t0: int, t1: int) -> WindowResult:
    (result,) = extractor.extract([Window.create(NSLC.network, NSLC.station, "", NSLC.channel, t0, t1)])
    return result


def _assert_obspy_and_no_gap(result: WindowResult, expected: Stream) -> None:
    assert_matches_oracle(result, expected)
    assert result.gaps == (), result.gaps
    if not len(expected):  # the window holds no sample: no data, not a gap
        assert result.status is Status.NODATA, result.message
        return
    assert result.span is not None
    assert result.span.start == expected[0].stats.starttime.ns  # the first sample's time, exactly
    assert result.npts == expected[0].stats.npts
    assert result.status is Status.OK, result.message


def _sample(k: int, day: int = 0) -> int:
    """Time of sample ``k`` of day ``day`` (0 or 1)."""
    return DAY1 + day * 86_400 * NS_PER_S + OFFSET_NS + k * PERIOD_NS


def test_the_issue_window_across_midnight_is_obspys(ties: TieArchive, extractor: Extractor) -> None:
    t0, t1 = UTCDateTime("2024-01-01T23:55:00").ns, UTCDateTime("2024-01-02T00:05:00.55").ns
    expected = obspy_trim(ties.merged, t0, t1)
    assert expected[0].stats.npts == 60_055  # 23:55:00.005 ... 00:05:00.545
    _assert_obspy_and_no_gap(_extract(extractor, t0, t1), expected)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01-01T12:00:00", "2024-01-01T12:00:00.55"),
        ("2024-01-01T00:00:00", "2024-01-02T00:00:00"),  # a whole day, midnight to midnight
        ("2024-01-02T00:00:00", "2024-01-03T00:00:00"),
        ("2024-01-01T23:59:59.99", "2024-01-02T00:00:00.01"),  # the two samples at midnight
        ("2024-01-02T00:00:00", "2024-01-02T00:00:00.01"),  # one sample, after midnight
        ("2024-01-01T23:59:59.99", "2024-01-02T00:00:00"),  # one sample, before midnight
    ],
)
def test_windows_at_ties_are_obspys(ties: TieArchive, extractor: Extractor, start: str, end: str) -> None:
    t0, t1 = UTCDateTime(start).ns, UTCDateTime(end).ns
    _assert_obspy_and_no_gap(_extract(extractor, t0, t1), obspy_trim(ties.merged, t0, t1))


_half = st.sampled_from([-HALF_NS, HALF_NS])
#: A sample of day 1 at least 10 s from either midnight (one day file is read).
_inside_day = st.integers(1_000, 8_640_000 - 1_000)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=_inside_day, length=st.integers(0, 3_000), a=_half, b=_half)
@example(k=4_319_999, length=55, a=HALF_NS, b=-HALF_NS)  # 12:00:00 -> 12:00:00.55
def test_ties_on_one_day_are_obspys(
    ties: TieArchive, extractor: Extractor, k: int, length: int, a: int, b: int
) -> None:
    t0, t1 = _sample(k) + a, _sample(min(k + length, 8_640_000 - 1_000)) + b
    if t1 <= t0:  # not a window
        return
    _assert_obspy_and_no_gap(_extract(extractor, t0, t1), obspy_trim(ties.merged, t0, t1))


#: Samples counted from day 1's last one back (0 is 23:59:59.995) and from day 2's first on;
#: negative ones are on the other side of midnight (a window on one day, its neighbour read).
_before_midnight = st.integers(-600, 60_000)
_after_midnight = st.integers(-600, 60_000)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(back=_before_midnight, on=_after_midnight, a=_half, b=_half)
@example(back=29_999, on=30_054, a=HALF_NS, b=-HALF_NS)  # the issue's 23:55:00 -> 00:05:00.55
@example(back=0, on=0, a=HALF_NS, b=HALF_NS)  # 00:00:00 -> 00:00:00.01: the sample after midnight
@example(back=0, on=0, a=-HALF_NS, b=HALF_NS)  # 23:59:59.99 -> 00:00:00.01: the two either side
def test_ties_across_midnight_are_obspys(
    ties: TieArchive, extractor: Extractor, back: int, on: int, a: int, b: int
) -> None:
    t0, t1 = _sample(8_640_000 - 1 - back) + a, _sample(on, day=1) + b
    if t1 <= t0:  # not a window
        return
    _assert_obspy_and_no_gap(_extract(extractor, t0, t1), obspy_trim(ties.merged, t0, t1))


@pytest.fixture(scope="module")
def one_day_missing(ties: TieArchive) -> Iterator[dict[int, Extractor]]:
    """Extractors on archives that lack day 1 (key 0) or day 2 (key 1)."""
    with (
        Extractor(Archive(MemoryStore({ties.keys[1]: ties.objects[ties.keys[1]]}), LAYOUT)) as without_1,
        Extractor(Archive(MemoryStore({ties.keys[0]: ties.objects[ties.keys[0]]}), LAYOUT)) as without_2,
    ):
        yield {0: without_1, 1: without_2}


@pytest.mark.parametrize(
    ("missing", "start", "end", "lost"),
    [
        # The window begins at a tie before the data: 23:59:00.005 ... 23:59:59.995 are missing.
        (0, "2024-01-01T23:59:00", "2024-01-02T00:01:00", 6_000),
        (0, "2024-01-01T23:59:00.009", "2024-01-02T00:01:00", 6_000),
        (0, "2024-01-01T23:59:00.01", "2024-01-02T00:01:00", 5_999),
        (0, "2024-01-01T23:59:00.011", "2024-01-02T00:01:00", 5_999),
        (1, "2024-01-01T23:59:00", "2024-01-02T00:01:00", 6_000),  # 00:00:00.005 ... 00:00:59.995
        (1, "2024-01-01T23:59:00", "2024-01-02T00:00:59.991", 6_000),
        (1, "2024-01-01T23:59:00", "2024-01-02T00:00:59.99", 5_999),
        (1, "2024-01-01T23:59:00", "2024-01-02T00:00:59.989", 5_999),
        (0, "2024-01-02T00:00:00", "2024-01-02T00:01:00", 0),  # the sample before midnight is out
        (1, "2024-01-01T23:59:00", "2024-01-02T00:00:00", 0),  # the sample after midnight is out
    ],
)
def test_a_missing_day_counts_the_samples_it_holds(
    ties: TieArchive,
    one_day_missing: dict[int, Extractor],
    missing: int,
    start: str,
    end: str,
    lost: int,
) -> None:
    """With a day file missing the window's samples are ObsPy's of the other file, and the
    gap is the samples ObsPy returns with both files and we cannot (counted by hand here:
    the grid instants the window holds, a tie at either end keeping the sample inside)."""
    t0, t1 = UTCDateTime(start).ns, UTCDateTime(end).ns
    result = _extract(one_day_missing[missing], t0, t1)
    present = 1 - missing
    kept = Stream([Trace(ties.merged[(present,)].data, header=ties.merged[(present,)].stats.copy())])
    kept.trim(UTCDateTime(ns=t0), UTCDateTime(ns=t1))
    assert_matches_oracle(result, kept)
    both = obspy_trim(ties.merged, t0, t1)
    assert both[0].stats.npts == kept[0].stats.npts + lost  # ObsPy with both files agrees
    assert sum(g.samples for g in result.gaps) == lost, result.gaps
    assert result.status is (Status.PARTIAL if lost else Status.OK), result.message
