"""Range reads, measured at the S3 server: bytes served and sequential round trips.

Rounds are counted by causality, not by timing: the proxy holds requests until none has
arrived for `HOLD_S` and answers the held ones as one batch (`S3Proxy.hold_s`), so requests
of one batch were under way together and a request that needed an answer is in a later one.
A slow machine can only make the count larger, never smaller, and only by leaving more than
`HOLD_S` between two requests the client sends without waiting for anything.
"""

from __future__ import annotations

import pytest
from pymseed import MS3Record

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.store import S3Store
from support.s3server import default_data_root

CCA_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = default_data_root() / "scedc-pds" / CCA_KEY
# Well above the gap between two requests a client sends together, even on a loaded
# machine (0.2 s once counted a fourth round with two other test runs beside it).
HOLD_S = 0.4


def _bytes_of_records_holding(path, start: str, end: str) -> int:
    """Bytes of the records of ``path`` that hold a sample of the window (libmseed's own
    selection of records overlapping a window)."""
    data = path.read_bytes()
    return sum(r.reclen for r in MS3Record.from_buffer(data, starttime=start + "Z", endtime=end + "Z"))


def _extractor(url: str) -> Extractor:
    return Extractor(Archive(S3Store("scedc-pds", endpoint_url=url), layout_named("scedc")))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022-01-02T10:00:00", "2022-01-02T10:05:00"),
        ("2022-01-02T03:17:31", "2022-01-02T03:22:31"),
        ("2022-01-02T19:42:05.5", "2022-01-02T19:47:05.5"),
        ("2022-01-02T23:50:00", "2022-01-02T23:55:00"),
    ],
)
def test_five_minutes_of_a_40hz_day_is_three_round_trips(s3, start: str, end: str) -> None:
    s3.hold_s = HOLD_S
    with _extractor(s3.url) as extractor:
        (result,) = extractor.extract([Window.create("CI", "CCA", "", "BHN", start, end)])
    assert result.status is Status.OK, result.message
    served = s3.total_bytes(path_filter=CCA_KEY)
    holding = _bytes_of_records_holding(CCA, start, end)
    assert s3.rounds() <= 3
    assert served <= 1.5 * holding, (served, holding)
    assert served < CCA.stat().st_size / 100
    # What the extractor says it read is what the server served.
    assert result.stats.bytes == served
    assert result.stats.requests == s3.count(path_contains="CICCA")


def test_a_warm_cache_skips_the_first_round(s3) -> None:
    with _extractor(s3.url) as extractor:
        extractor.extract(
            [Window.create("CI", "CCA", "", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")]
        )
        s3.reset()
        s3.hold_s = HOLD_S
        (result,) = extractor.extract(
            [Window.create("CI", "CCA", "", "BHN", "2022-01-02T10:05:00", "2022-01-02T10:10:00")]
        )
    assert result.status is Status.OK
    assert s3.rounds() <= 2
    assert s3.total_bytes() <= 1.5 * _bytes_of_records_holding(
        CCA, "2022-01-02T10:05:00", "2022-01-02T10:10:00"
    )


def test_whole_day_reads_each_byte_about_once(s3) -> None:
    with _extractor(s3.url) as extractor:
        (result,) = extractor.extract(
            [Window.create("CI", "CCA", "", "BHN", "2022-01-02T00:00:00", "2022-01-03T00:00:00")]
        )
    assert result.npts == 3456000
    assert s3.total_bytes(path_filter=CCA_KEY) <= CCA.stat().st_size + 2048


@pytest.mark.parametrize("station", ["CCA", "HEC"])
@pytest.mark.parametrize("seconds", [300, 3600])
def test_random_windows_stay_within_three_rounds(s3, station: str, seconds: int) -> None:
    """Steim2 compresses unevenly (interpolating over the day misses by up to 165 records
    in CCA): windows anywhere in the day still cost three rounds and ≤ 1.5× the bytes."""
    import random

    from obspy import UTCDateTime

    rng = random.Random(f"{station}{seconds}")
    key = f"continuous_waveforms/2022/2022_002/CI{station}__BHN___2022002.ms"
    path = default_data_root() / "scedc-pds" / key
    s3.hold_s = HOLD_S
    for _ in range(8):
        start = UTCDateTime("2022-01-02") + rng.uniform(0, 86400 - seconds)
        end = start + seconds
        with _extractor(s3.url) as extractor:  # a cold cache each time
            s3.reset()
            (result,) = extractor.extract([Window.create("CI", station, "", "BHN", start.ns, end.ns)])
        assert result.status is Status.OK
        holding = _bytes_of_records_holding(path, str(start)[:-1], str(end)[:-1])
        assert s3.rounds() == 3
        assert s3.total_bytes() <= 1.5 * holding


def test_windows_of_one_file_share_its_first_round(s3) -> None:
    """Twenty windows of one day file asked at once read its first and last records once."""
    windows = [
        Window.create("CI", "CCA", "", "BHN", f"2022-01-02T{h:02d}:10:00", f"2022-01-02T{h:02d}:15:00")
        for h in range(1, 21)
    ]
    with _extractor(s3.url) as extractor:
        results = extractor.extract(windows)
    assert all(r.status is Status.OK for r in results)
    heads = [r for r in s3.records if r.range == "bytes=0-511"]
    tails = [r for r in s3.records if r.range == "bytes=-512"]
    assert len(heads) == 1 and len(tails) == 1


def test_a_long_lived_extractor_keeps_reading_ranges(s3) -> None:
    """A warm process learns record times window after window; past the cap of what it
    keeps, it forgets the oldest and still finds windows with ranged reads, never by
    reading the whole file."""
    with _extractor(s3.url) as extractor:
        for k in range(60):
            start = 600 + k * 1400  # spread over the day, 23 minutes apart
            t0 = f"2022-01-02T{start // 3600:02d}:{start % 3600 // 60:02d}:{start % 60:02d}"
            end = start + 300
            t1 = f"2022-01-02T{end // 3600:02d}:{end % 3600 // 60:02d}:{end % 60:02d}"
            (result,) = extractor.extract([Window.create("CI", "CCA", "", "BHN", t0, t1)])
            assert result.status is Status.OK, (k, result.message)
    assert all(r.range is not None for r in s3.records)  # no whole-file GET
    assert max(r.body_bytes for r in s3.records) < 64 * 1024
