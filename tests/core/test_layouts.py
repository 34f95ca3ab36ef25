"""The SDS, GeoNet and EarthScope layouts on real files laid out in them (tests/support/
trees.py), read through S3 (moto) and as local directories: samples equal ObsPy's, with
ObsPy's own SDS client as the oracle of the SDS tree (records spilling over midnight
included) and ObsPy reading the station-day object and selecting the channel for EarthScope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from obspy import UTCDateTime
from obspy.clients.filesystem.sds import Client as SdsClient

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.model import Nslc
from seiswindow.store import LocalStore, S3Store
from support.oracle import assert_matches_oracle, oracle
from support.trees import BALST_TWO_CHANNELS, earthscope_tree, geonet_tree, sds_tree, selected, upload_tree


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str) -> dict[str, Path]:
    """The three trees, built once, each also uploaded to a bucket of its own."""
    roots = {}
    for name, build in (("sds", sds_tree), ("geonet", geonet_tree), ("earthscope", earthscope_tree)):
        root = tmp_path_factory.mktemp(name)
        build(root)
        upload_tree(moto_endpoint, f"{name}-tree", root)
        roots[name] = root
    return roots


def _extractor(request: pytest.FixtureRequest, trees: dict[str, Path], layout: str) -> Iterator[Extractor]:
    if request.param == "s3":
        store = S3Store(f"{layout}-tree", endpoint_url=request.getfixturevalue("s3").url)
        archive = Archive(store, layout_named(layout))
    else:
        archive = Archive(LocalStore(trees[layout]), layout_named(layout))
    with Extractor(archive) as extractor:
        yield extractor


@pytest.fixture(params=["s3", "local"])
def sds(request: pytest.FixtureRequest, trees: dict[str, Path]) -> Iterator[Extractor]:
    yield from _extractor(request, trees, "sds")


@pytest.fixture(params=["s3", "local"])
def geonet(request: pytest.FixtureRequest, trees: dict[str, Path]) -> Iterator[Extractor]:
    yield from _extractor(request, trees, "geonet")


@pytest.fixture(params=["s3", "local"])
def earthscope(request: pytest.FixtureRequest, trees: dict[str, Path]) -> Iterator[Extractor]:
    yield from _extractor(request, trees, "earthscope")


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("CI.WBM..LHZ", "2022-01-01T23:58:00", "2022-01-02T00:03:00"),  # across midnight
        ("CI.WBM..LHZ", "2022-01-02T00:00:00", "2022-01-02T00:00:40"),  # in the spilled record
        ("CI.WBM..LHZ", "2022-01-01T12:00:00", "2022-01-01T12:10:00"),
        ("CH.BALST..LHE", "2025-11-10T23:59:00", "2025-11-11T00:01:00"),  # spilled, no day 315
        ("CH.BALST..LHZ", "2025-11-11T00:00:10", "2025-11-11T00:03:00"),  # spilled records only
        ("CH.BALST..LHZ", "2025-11-10T08:00:00.3", "2025-11-10T08:30:00"),
    ],
)
def test_sds_equals_obspys_sds_client(
    sds: Extractor, trees: dict[str, Path], code: str, start: str, end: str
) -> None:
    net, sta, loc, cha = code.split(".")
    window = Window.create(net, sta, loc, cha, start, end)
    (result,) = sds.extract([window])
    expected = SdsClient(str(trees["sds"])).get_waveforms(
        net, sta, loc, cha, UTCDateTime(start), UTCDateTime(end)
    )
    assert len(expected) == 1, expected
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, expected)


def test_sds_tree_has_a_record_across_midnight_filed_under_its_first_day(trees: dict[str, Path]) -> None:
    """What the spill tests rely on: day 1's file ends after midnight."""
    day1 = trees["sds"] / "2022/CI/WBM/LHZ.D/CI.WBM..LHZ.D.2022.001"
    from obspy import read

    assert read(str(day1))[-1].stats.endtime > UTCDateTime("2022-01-02")


@pytest.mark.parametrize(
    ("code", "start", "end", "days"),
    [
        ("BK.THIS.00.LHZ", "2022-01-02T10:00:00", "2022-01-02T10:30:00", ["002"]),
        ("CI.WBM..LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00", ["001", "002"]),
    ],
)
def test_geonet_equals_obspy(
    geonet: Extractor, trees: dict[str, Path], code: str, start: str, end: str, days: list[str]
) -> None:
    net, sta, loc, cha = code.split(".")
    window = Window.create(net, sta, loc, cha, start, end)
    (result,) = geonet.extract([window])
    files = [trees["geonet"] / f"waveforms/miniseed/2022/2022.{d}/{code}.D.2022.{d}" for d in days]
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle(files, window))


@pytest.mark.parametrize(
    ("channel", "start", "end"),
    [
        ("LHE", "2025-11-10T10:00:00", "2025-11-10T10:20:00"),
        ("LHZ", "2025-11-10T10:00:00", "2025-11-10T10:20:00"),
        ("LHZ", "2025-11-10T23:50:00", "2025-11-11T00:02:00"),  # records past midnight
    ],
)
def test_earthscope_station_day_keeps_only_the_windows_channel(
    earthscope: Extractor, trees: dict[str, Path], channel: str, start: str, end: str
) -> None:
    window = Window.create("CH", "BALST", "", channel, start, end)
    (result,) = earthscope.extract([window])
    path = trees["earthscope"] / "miniseed/CH/2025/314/BALST.CH.2025.314"
    expected = selected(path, channel).trim(UTCDateTime(start), UTCDateTime(end))
    assert result.status is Status.OK, result.message
    assert "other channels" not in result.message
    assert_matches_oracle(result, expected)


def test_earthscope_channel_not_in_the_object_is_nodata(earthscope: Extractor) -> None:
    window = Window.create("CH", "BALST", "", "LHN", "2025-11-10T10:00:00", "2025-11-10T10:20:00")
    (result,) = earthscope.extract([window])
    assert result.status is Status.NODATA, result.message
    assert result.segments == ()


@pytest.mark.parametrize("name", ["sds", "geonet"])
def test_keys_parse_back(name: str) -> None:
    layout = layout_named(name)
    nslc, day = Nslc("NZ", "WEL", "10", "HHZ"), dt.date(2024, 2, 29)
    assert layout.parse_key(layout.key(nslc, day)) == (nslc, day)
    blank = Nslc("CI", "WBM", "", "LHZ")
    assert layout.parse_key(layout.key(blank, day)) == (blank, day)
    assert layout.key(nslc, day).startswith(layout.day_prefix(day, "NZ"))


def test_layout_keys_as_the_archives_name_them() -> None:
    nslc, day = Nslc("IU", "ANMO", "00", "BHZ"), dt.date(2022, 1, 2)
    assert layout_named("sds").key(nslc, day) == "2022/IU/ANMO/BHZ.D/IU.ANMO.00.BHZ.D.2022.002"
    assert (
        layout_named("geonet").key(nslc, day) == "waveforms/miniseed/2022/2022.002/IU.ANMO.00.BHZ.D.2022.002"
    )
    assert layout_named("earthscope").key(nslc, day) == "miniseed/IU/2022/002/ANMO.IU.2022.002"


# -- a station-day object read through the record index ------------------------------------

EARTHSCOPE_KEY = "miniseed/CH/2025/314/BALST.CH.2025.314"


@pytest.fixture(params=["s3", "local"])
def indexed_earthscope(
    request: pytest.FixtureRequest, trees: dict[str, Path], tmp_path: Path
) -> Iterator[tuple[Extractor, Path]]:
    """An extractor on the EarthScope tree with a record index of its object (every
    record's start listed, as ``seiswindow index build`` writes it)."""
    from seiswindow.indexbuild import build_index
    from seiswindow.tsindex import IndexStore

    if request.param == "s3":
        store: S3Store | LocalStore = S3Store(
            "earthscope-tree", endpoint_url=request.getfixturevalue("s3").url
        )
    else:
        store = LocalStore(trees["earthscope"])
    db = IndexStore(tmp_path / "index.sqlite")
    report = build_index(store, [EARTHSCOPE_KEY], db)
    assert not report.failed, report
    with Extractor(Archive(store, layout_named("earthscope")), index=db) as extractor:
        yield extractor, trees["earthscope"] / EARTHSCOPE_KEY


@pytest.mark.parametrize(
    ("channel", "start", "end"),
    [
        ("LHE", "2025-11-10T10:00:00", "2025-11-10T10:20:00"),
        ("LHZ", "2025-11-10T10:00:00.4", "2025-11-10T10:20:00"),
        ("LHZ", "2025-11-10T23:50:00", "2025-11-11T00:02:00"),  # records past midnight
        ("LHE", "2025-11-10T00:00:00", "2025-11-10T00:05:00"),  # before the channel's first sample
    ],
)
def test_indexed_station_day_reads_only_the_span_and_equals_obspy(
    indexed_earthscope: tuple[Extractor, Path], channel: str, start: str, end: str
) -> None:
    extractor, path = indexed_earthscope
    window = Window.create("CH", "BALST", "", channel, start, end)
    (result,) = extractor.extract([window])
    expected = selected(path, channel).trim(UTCDateTime(start), UTCDateTime(end))
    assert_matches_oracle(result, expected)
    # The same answer as reading the object whole (status, gaps, message), in a small part
    # of its bytes.
    with Extractor(Archive(extractor.archive.store, extractor.archive.layout)) as whole:
        (unindexed,) = whole.extract([window])
    assert (result.status, result.gaps, result.message) == (
        unindexed.status,
        unindexed.gaps,
        unindexed.message,
    )
    assert result.status in (Status.OK, Status.PARTIAL), result.message
    assert result.stats.bytes < path.stat().st_size / 10, result.stats


def test_an_index_that_disagrees_with_the_object_is_not_used(tmp_path: Path) -> None:
    """The object rewritten after indexing, same size (the channels one after the other, as
    ObsPy's file has them): the records are not where the index says, so the object is read
    whole, and the answer is still ObsPy's."""
    from seiswindow.indexbuild import build_index
    from seiswindow.tsindex import IndexStore

    path = earthscope_tree(tmp_path / "tree")
    store = LocalStore(tmp_path / "tree")
    db = IndexStore(tmp_path / "index.sqlite")
    assert not build_index(store, [EARTHSCOPE_KEY], db).failed
    interleaved = path.read_bytes()
    path.write_bytes(BALST_TWO_CHANNELS.read_bytes())
    assert path.stat().st_size == len(interleaved) and path.read_bytes() != interleaved
    window = Window.create("CH", "BALST", "", "LHZ", "2025-11-10T10:00:00", "2025-11-10T10:20:00")
    with Extractor(Archive(store, layout_named("earthscope")), index=db) as extractor:
        (result,) = extractor.extract([window])
    expected = selected(path, "LHZ").trim(UTCDateTime(ns=window.start), UTCDateTime(ns=window.end))
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, expected)
    assert result.stats.bytes >= len(interleaved)  # checked against the index, then read whole
