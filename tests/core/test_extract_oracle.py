"""Every sample file, many windows: our samples equal ObsPy's ``read().merge().trim()``
bit for bit, start times within 1 µs — through S3 (moto) and from a local directory."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime, read

from seiswindow import Status, Window
from seiswindow.archive import layout_named
from support.oracle import assert_matches_oracle, oracle
from support.s3server import default_data_root

SCEDC = default_data_root() / "scedc-pds"
NCEDC = default_data_root() / "ncedc-pds"
SCEDC_FILES = sorted(SCEDC.glob("continuous_waveforms/*/*/*.ms"))
NCEDC_FILES = sorted(NCEDC.glob("continuous_waveforms/*/*/*/*"))


def _channel_files(root: Path, path: Path, layout: str) -> tuple[Window, list[Path]]:
    """The codes and day of ``path``, and every file of the same channel (for the oracle)."""
    key = path.relative_to(root).as_posix()
    parsed = layout_named(layout).parse_key(key)
    assert parsed is not None, key
    nslc, _ = parsed
    every = SCEDC_FILES if layout == "scedc" else NCEDC_FILES
    same = []
    for other in every:
        theirs = layout_named(layout).parse_key(other.relative_to(root).as_posix())
        if theirs and theirs[0] == nslc:
            same.append(other)
    dummy = Window(*nslc, 0, 1)
    return dummy, same


def _windows_for(path: Path) -> list[tuple[str, str, str]]:
    """(name, start, end) windows from what ObsPy says the file holds."""
    trace = read(str(path), headonly=True)[0]
    t0, t1 = trace.stats.starttime, trace.stats.endtime
    day = t0.replace(hour=0, minute=0, second=0, microsecond=0)
    mid = t0 + (t1 - t0) / 2
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")  # noqa: E731
    return [
        ("start-of-day", iso(day), iso(day + 300)),
        ("end-of-day", iso(day + 86400 - 300), iso(day + 86400)),
        ("whole-day", iso(day), iso(day + 86400)),
        ("5-min-middle", iso(mid), iso(mid + 300)),
        ("sub-second", iso(mid + 0.123456), iso(mid + 20.987654)),
        ("before-data", iso(t0 - 3600), iso(t0 + 600.5)),
        ("after-data", iso(t1 - 600.25), iso(t1 + 3600)),
    ]


CASES = [
    pytest.param(path, name, start, end, id=f"{path.name}-{name}")
    for path in SCEDC_FILES
    for name, start, end in _windows_for(path)
]
NCEDC_CASES = [
    pytest.param(path, name, start, end, id=f"{path.name}-{name}")
    for path in NCEDC_FILES
    for name, start, end in _windows_for(path)
]


@pytest.mark.parametrize(("path", "name", "start", "end"), CASES)
def test_scedc_windows_equal_obspy(scedc, path: Path, name: str, start: str, end: str) -> None:
    dummy, files = _channel_files(SCEDC, path, "scedc")
    window = Window.create(*dummy.nslc, start, end)
    (result,) = scedc.extract([window])
    assert_matches_oracle(result, oracle(files, window))


@pytest.mark.parametrize(("path", "name", "start", "end"), NCEDC_CASES)
def test_ncedc_windows_equal_obspy(ncedc, path: Path, name: str, start: str, end: str) -> None:
    dummy, files = _channel_files(NCEDC, path, "ncedc")
    window = Window.create(*dummy.nslc, start, end)
    (result,) = ncedc.extract([window])
    assert_matches_oracle(result, oracle(files, window))


WBM = sorted(SCEDC.glob("continuous_waveforms/2022/*/CIWBM__LHZ___*.ms"))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022-01-01T23:55:00", "2022-01-02T00:05:00"),
        ("2022-01-02T23:59:59.5", "2022-01-03T00:00:00.5"),
        ("2022-01-01T12:00:00", "2022-01-03T12:00:00"),  # three day files
        ("2022-01-01T23:59:00", "2022-01-02T00:00:00"),  # ends at midnight: next file's first sample
        ("2022-01-01T00:00:00", "2022-01-03T00:00:00"),
    ],
)
def test_across_midnight_is_one_segment(scedc, start: str, end: str) -> None:
    window = Window.create("CI", "WBM", "", "LHZ", start, end)
    (result,) = scedc.extract([window])
    expected = oracle(WBM, window)
    assert_matches_oracle(result, expected)
    assert len(result.segments) == 1
    assert result.status is Status.OK, result.message


def test_partial_day_files_report_the_uncovered_part(scedc) -> None:
    """FOX2 holds only ~22:55-23:59: a window from 22:00 is partial, with a leading gap."""
    window = Window.create("CI", "FOX2", "", "LHZ", "2022-01-02T22:00:00", "2022-01-02T23:30:00")
    (result,) = scedc.extract([window])
    files = sorted(SCEDC.glob("continuous_waveforms/2022/*/CIFOX2_LHZ___*.ms"))
    expected = oracle(files, window)
    assert_matches_oracle(result, expected)
    assert result.status is Status.PARTIAL
    lead = result.gaps[0]
    assert lead.start == window.start and lead.end == expected[0].stats.starttime.ns
    # ObsPy, asked to pad the window, puts this many masked samples before the first real one.
    padded = expected.copy()
    padded.trim(UTCDateTime(ns=window.start), UTCDateTime(ns=window.end), pad=True)
    mask = np.ma.getmaskarray(padded[0].data)
    assert lead.samples == int(np.argmin(mask)) > 0


def test_many_windows_keep_their_order(scedc) -> None:
    windows = [
        Window.create("CI", sta, "", cha, f"2022-01-02T{h:02d}:00:00", f"2022-01-02T{h:02d}:01:00")
        for h in range(1, 24, 3)
        for sta, cha in (("CCA", "BHN"), ("HEC", "BHN"), ("WBM", "LHZ"), ("NOPE", "BHZ"))
    ]
    results = scedc.extract(windows)
    assert [r.window for r in results] == windows
    for result in results:
        if result.window.station == "NOPE":
            assert result.status is Status.NODATA
            assert "CINOPE_BHZ___2022002.ms" in result.message
        else:
            assert result.status is Status.OK
            files = sorted(
                SCEDC.glob(
                    f"continuous_waveforms/2022/*/CI{result.window.station:_<5}{result.window.channel}___*.ms"
                )
            )
            assert_matches_oracle(result, oracle(files, result.window))


def test_stopping_early_cancels_the_reads_not_begun(shared_data) -> None:
    """A consumer that stops after the first window (as the service does when it knows the
    answer is too large) leaves no read of the other windows queued."""
    from seiswindow import Archive, Extractor
    from seiswindow.archive import layout_named
    from seiswindow.store import LocalStore

    class CountingStore(LocalStore):
        calls = 0

        def get_range(self, key: str, *, start: int, end: int):  # type: ignore[no-untyped-def]
            type(self).calls += 1
            return super().get_range(key, start=start, end=end)

    store = CountingStore(shared_data / "scedc-pds")
    windows = [
        Window.create("CI", "CCA", "", "BHN", f"2022-01-02T{h:02d}:00:00", f"2022-01-02T{h:02d}:01:00")
        for h in range(1, 24)
    ] * 20
    with Extractor(Archive(store, layout_named("scedc")), max_workers=1) as extractor:
        results = extractor.iter_extract(windows)
        next(results)
        results.close()
        time.sleep(0.5)  # time enough for queued reads to run, were they still queued
        after_close = CountingStore.calls
    assert after_close < 50  # the first windows' reads, not the 460 windows' ~2000
