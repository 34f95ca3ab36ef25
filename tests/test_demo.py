"""Tests of seiswindow.demo, with ObsPy as the oracle for what libmseed wrote."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import obspy
import pytest
from obspy import UTCDateTime
from obspy.io.stationxml.core import validate_stationxml

from seiswindow import demo, demo_archive
from seiswindow.demo import (
    DEMO_CHANNELS,
    DEMO_DAYS,
    build_demo_archive,
    default_demo_root,
    write_day_file,
)

DAY1, DAY2 = date(2024, 1, 1), date(2024, 1, 2)
RATES = {"BHZ": 40.0, "BHN": 40.0, "BHE": 40.0, "LHZ": 1.0}
OFFSETS = {"BHZ": 0.0195, "BHN": 0.0195, "BHE": 0.0195, "LHZ": 0.0719}
WAVEFORM_KEYS = sorted(
    f"continuous_waveforms/2024/2024_00{d}/SYDEMO_{cha}___202400{d}.ms" for cha in RATES for d in (1, 2)
)
STATIONXML_KEY = "FDSNstationXML/SY/SY_DEMO.xml"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    build_demo_archive(root)
    return root


def _day_file(root: Path, cha: str, day: date) -> Path:
    doy = day.timetuple().tm_yday
    return root / f"continuous_waveforms/2024/2024_{doy:03d}/SYDEMO_{cha}___2024{doy:03d}.ms"


def _utc(day: date, seconds: float) -> UTCDateTime:
    return UTCDateTime(day.year, day.month, day.day) + seconds


def test_public_api_is_exactly_all() -> None:
    assert sorted(demo.__all__) == [
        "DEMO_CHANNELS",
        "DEMO_DAYS",
        "DEMO_FORMAT_VERSION",
        "DEMO_GAPS",
        "DEMO_LOCATION",
        "DEMO_NETWORK",
        "DEMO_STATION",
        "DemoChannel",
        "SignalModel",
        "build_demo_archive",
        "default_demo_root",
        "main",
        "write_day_file",
    ]
    assert all(hasattr(demo, name) for name in demo.__all__)


def test_archive_has_scedc_layout(archive: Path) -> None:
    paths = build_demo_archive(archive)
    assert sorted(p.relative_to(archive).as_posix() for p in paths) == sorted(
        [*WAVEFORM_KEYS, STATIONXML_KEY]
    )
    assert all(p.is_file() for p in paths)
    assert {(c.code, c.sampling_rate) for c in DEMO_CHANNELS} == set(RATES.items())
    assert DEMO_DAYS == (DAY1, DAY2)


@pytest.mark.parametrize("key", WAVEFORM_KEYS)
def test_every_file_is_scedc_like_miniseed2(archive: Path, key: str) -> None:
    path = archive / key
    cha = path.name[7:10]
    day = DAY1 if key.endswith("2024001.ms") else DAY2
    fs, offset = RATES[cha], OFFSETS[cha]

    st = obspy.read(str(path), format="MSEED", details=True)
    for tr in st:
        assert tr.id == f"SY.DEMO..{cha}"
        assert tr.stats.sampling_rate == fs
        assert tr.stats.mseed.record_length == 512
        assert tr.stats.mseed.encoding == "STEIM2"
        assert tr.stats.mseed.dataquality == "D"
        assert tr.data.dtype == np.int32
    assert abs(st[0].stats.starttime - _utc(day, offset)) < 1e-6
    assert abs(st[-1].stats.endtime - (_utc(day, 86400 + offset) - 1 / fs)) < 1e-6

    # Every record, not only those ObsPy summarises: a miniSEED 2 fixed header
    # (quality byte at 6) with blockette 1000 at byte 48 saying Steim2 (11) and
    # 2**9 = 512 bytes.
    raw = np.fromfile(path, dtype=np.uint8)
    assert raw.size % 512 == 0
    records = raw.reshape(-1, 512)
    assert (records[:, 6] == ord("D")).all()
    assert (records[:, 48:50] == [0x03, 0xE8]).all()
    assert (records[:, 52] == 11).all()
    assert (records[:, 54] == 9).all()


def test_bhz_day1_has_the_gap(archive: Path) -> None:
    st = obspy.read(str(_day_file(archive, "BHZ", DAY1)))
    gaps = st.get_gaps()
    assert len(gaps) == 1
    _, _, _, cha, last, nxt, duration, nsamples = gaps[0]
    assert cha == "BHZ"
    assert abs(last - _utc(DAY1, 36000 - 0.025 + 0.0195)) < 1e-6
    assert abs(nxt - _utc(DAY1, 36030 + 0.0195)) < 1e-6
    assert duration == pytest.approx(30.0, abs=1e-6)  # ObsPy: next - (last + delta)
    assert nsamples == 30 * 40


@pytest.mark.parametrize("cha", sorted(RATES))
def test_only_the_demo_gap_exists(archive: Path, cha: str) -> None:
    for day in DEMO_DAYS:
        st = obspy.read(str(_day_file(archive, cha, day)))
        expected = 1 if (cha, day) == ("BHZ", DAY1) else 0
        assert len(st.get_gaps()) == expected


@pytest.mark.parametrize("cha", ["BHN", "LHZ"])
def test_consecutive_days_merge_into_one_trace(archive: Path, cha: str) -> None:
    st = obspy.read(str(_day_file(archive, cha, DAY1))) + obspy.read(str(_day_file(archive, cha, DAY2)))
    assert st.get_gaps() == []
    st.merge()
    assert len(st) == 1
    assert st[0].stats.npts == 2 * 86400 * RATES[cha]
    assert not np.ma.isMaskedArray(st[0].data)


def test_stationxml_parses_and_validates(archive: Path) -> None:
    path = archive / STATIONXML_KEY
    valid, errors = validate_stationxml(str(path))
    assert valid, errors
    inv = obspy.read_inventory(str(path))
    channels = inv.select(network="SY", station="DEMO").get_contents()["channels"]
    assert sorted(channels) == sorted(f"SY.DEMO..{cha}" for cha in RATES)
    for cha, fs in RATES.items():
        (channel,) = inv.select(channel=cha)[0][0].channels
        assert channel.sample_rate == fs
        assert channel.start_date <= UTCDateTime(2024, 1, 1)
        assert channel.end_date >= UTCDateTime(2025, 1, 1)


def test_rebuild_is_skipped_when_marker_is_current(archive: Path) -> None:
    before = {p: p.stat().st_ino for p in build_demo_archive(archive)}
    assert {p: p.stat().st_ino for p in build_demo_archive(archive)} == before


def test_stale_marker_triggers_rebuild(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(archive, root)
    (root / ".seiswindow-demo").write_text("seiswindow demo archive format 0\n")
    before = {p: p.stat().st_ino for p in demo_archive._demo_paths(root)}
    paths = build_demo_archive(root)
    # Files are written beside their target and renamed in: new inodes.
    assert all(p.stat().st_ino != before[p] for p in paths if p.suffix == ".ms")
    assert (root / ".seiswindow-demo").read_text().endswith(f"{demo.DEMO_FORMAT_VERSION}\n")


def test_100hz_day_compresses_like_real_broadband(tmp_path: Path) -> None:
    path = write_day_file(
        tmp_path / "hhz.ms",
        network="SY",
        station="DEMO",
        location="00",
        channel="HHZ",
        day=date(2024, 3, 1),
        sampling_rate=100.0,
    )
    st = obspy.read(str(path))
    npts = sum(tr.stats.npts for tr in st)
    assert npts == 8_640_000
    assert 1.2 <= path.stat().st_size / npts <= 2.5


def test_grid_is_contiguous_when_offset_exceeds_the_period(tmp_path: Path) -> None:
    # 20 Hz, 0.07 s: the file holds [midnight + 0.07, next midnight + 0.07).
    st = obspy.Stream()
    for day in (date(2023, 12, 31), date(2024, 1, 1)):
        st += obspy.read(
            str(
                write_day_file(
                    tmp_path / f"{day}.ms",
                    network="SY",
                    station="DEMO",
                    location="",
                    channel="EHZ",
                    day=day,
                    sampling_rate=20.0,
                    start_offset_s=0.07,
                    signal=demo.SignalModel(event_peak_counts=0.0),
                )
            )
        )
    assert abs(st[0].stats.starttime - UTCDateTime(2023, 12, 31, 0, 0, 0.07)) < 1e-6
    assert abs(st[1].stats.endtime - UTCDateTime(2024, 1, 2, 0, 0, 0.02)) < 1e-6
    assert abs(st[1].stats.starttime - (st[0].stats.endtime + 0.05)) < 1e-6
    assert len(st.merge()) == 1


def test_same_seed_same_bytes_other_seed_other_samples(tmp_path: Path) -> None:
    def write(name: str, seed: int) -> Path:
        return write_day_file(
            tmp_path / name,
            network="SY",
            station="DEMO",
            location="",
            channel="LHZ",
            day=DAY1,
            sampling_rate=1.0,
            start_offset_s=0.0719,
            seed=seed,
        )

    a, b, c = write("a.ms", 7), write("b.ms", 7), write("c.ms", 8)
    assert a.read_bytes() == b.read_bytes()
    assert not np.array_equal(obspy.read(str(a))[0].data, obspy.read(str(c))[0].data)


def test_gaps_with_record_length_option(tmp_path: Path) -> None:
    path = write_day_file(
        tmp_path / "x" / "lhz.ms",
        network="SY",
        station="DEMO",
        location="",
        channel="LHZ",
        day=DAY2,
        sampling_rate=1.0,
        start_offset_s=0.5,
        gaps=[(0.0, 10.0), (3600.0, 3700.0), (3650.0, 3800.0), (86000.0, 90000.0)],
        record_length=4096,
    )
    st = obspy.read(str(path), details=True)
    assert {tr.stats.mseed.record_length for tr in st} == {4096}
    assert [(tr.stats.starttime, tr.stats.endtime) for tr in st] == [
        (_utc(DAY2, 10.5), _utc(DAY2, 3599.5)),
        (_utc(DAY2, 3800.5), _utc(DAY2, 85999.5)),
    ]


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"location": "001"}, "location"),
        ({"channel": "BH"}, "channel"),
        ({"station": "TOOLONG"}, "station"),
        ({"sampling_rate": 0.0}, "sampling_rate"),
        ({"start_offset_s": 1.5}, "start_offset_s"),
        ({"start_offset_s": -0.1}, "start_offset_s"),
        ({"record_length": 500}, "record_length"),
        ({"gaps": [(10.0, 5.0)]}, "gap"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_arguments_raise_before_writing(
    tmp_path: Path, override: dict[str, object], match: str
) -> None:
    kwargs: dict[str, object] = {
        "network": "SY",
        "station": "DEMO",
        "location": "",
        "channel": "LHZ",
        "day": DAY1,
        "sampling_rate": 1.0,
    } | override
    with pytest.raises(ValueError, match=match):
        write_day_file(tmp_path / "bad.ms", **kwargs)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_default_demo_root() -> None:
    assert default_demo_root({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == Path("/c/seiswindow/demo")
    assert default_demo_root({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == Path(
        "/h/.cache/seiswindow/demo"
    )
    assert default_demo_root({"HOME": "/h"}) == Path("/h/.cache/seiswindow/demo")


def test_main_lists_the_archive(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([str(archive)]) == 0
    out = capsys.readouterr().out
    assert all(key.split("/")[-1] in out for key in [*WAVEFORM_KEYS, STATIONXML_KEY])


def test_module_entry_point(archive: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "seiswindow.demo", str(archive)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "SYDEMO_BHZ___2024001.ms" in done.stdout
