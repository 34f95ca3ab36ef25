"""Wildcards resolved against day listings, cached per day; and the dataselect service on a
local archive with a gap (``minimumlength``, ``longestonly``), ObsPy as the oracle."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from fdsn_helpers import archive_channels
from obspy import Stream, UTCDateTime, read

from seiswindow.archive import layout_named
from seiswindow.config import Archive
from seiswindow.errors import RequestError
from seiswindow.extract import Extractor
from seiswindow.fdsn.catalog import ChannelCatalog
from seiswindow.fdsn.dataselect import DataselectService
from seiswindow.fdsn.request import Selection, parse_dataselect
from seiswindow.model import Nslc
from seiswindow.store import Chunk, LocalStore, ObjectInfo, Store


class CountingStore(Store):
    """A local store that counts the listings asked of it."""

    def __init__(self, root: Path) -> None:
        self.inner = LocalStore(root)
        self.url = self.inner.url
        self.listed: list[str] = []

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        return self.inner.get_range(key, start=start, end=end)

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self.inner.get_suffix(key, length=length)

    def get(self, key: str) -> Chunk:
        return self.inner.get(key)

    def stat(self, key: str) -> ObjectInfo:
        return self.inner.stat(key)

    def list(self, prefix: str) -> list[str]:
        self.listed.append(prefix)
        return self.inner.list(prefix)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def selection(query: str, start: str, end: str) -> Selection:
    net, sta, loc, cha = query.split(".")
    params = [("net", net), ("sta", sta), ("loc", loc or "--"), ("cha", cha), ("start", start), ("end", end)]
    return parse_dataselect(params).selections[0]


def test_wildcards_resolve_to_what_the_day_holds(shared_data: Path) -> None:
    store = CountingStore(shared_data / "scedc-pds")
    catalog = ChannelCatalog(store, layout_named("scedc"))
    day = dt.date(2022, 1, 2)
    on_disk = archive_channels(shared_data, "scedc-pds", day)
    found = catalog.channels(selection("*.*.*.LH?", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert found == [n for n in on_disk if n.channel.startswith("LH")]
    assert store.listed == ["continuous_waveforms/2022/2022_002/"]
    found = catalog.channels(selection("CI.??A.*.*", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert found == [Nslc("CI", "CCA", "", "BHN")]
    assert store.listed[1:] == ["continuous_waveforms/2022/2022_002/CI"]


def test_a_window_over_midnight_lists_both_days_once(shared_data: Path) -> None:
    store = CountingStore(shared_data / "scedc-pds")
    catalog = ChannelCatalog(store, layout_named("scedc"), clock=Clock(1_800_000_000.0))
    query = selection("CI.WBM.*.*", "2022-01-01T23:00:00", "2022-01-02T01:00:00")
    for _ in range(3):
        assert catalog.channels(query) == [Nslc("CI", "WBM", "", "LHZ")]
    assert store.listed == ["continuous_waveforms/2022/2022_001/CI", "continuous_waveforms/2022/2022_002/CI"]


def test_recent_days_are_listed_again_sooner(shared_data: Path) -> None:
    store = CountingStore(shared_data / "scedc-pds")
    today = dt.datetime(2022, 1, 2, 12, tzinfo=dt.UTC).timestamp()
    clock = Clock(today)
    catalog = ChannelCatalog(store, layout_named("scedc"), ttl_recent=60, ttl_past=3600, clock=clock)
    old = selection("CI.*.*.*", "2021-12-30T10:00:00", "2021-12-30T11:00:00")
    recent = selection("CI.*.*.*", "2022-01-02T10:00:00", "2022-01-02T11:00:00")
    catalog.channels(old), catalog.channels(recent)
    clock.now += 120
    catalog.channels(old), catalog.channels(recent)
    assert store.listed == [
        "continuous_waveforms/2021/2021_364/CI",
        "continuous_waveforms/2022/2022_002/CI",
        "continuous_waveforms/2022/2022_002/CI",
    ]


@pytest.mark.parametrize("networks", ["CI,BK", "BK,CI"])
def test_each_literal_network_is_listed(shared_data: Path, networks: str) -> None:
    """``net=CI,BK`` with a wildcard station: both networks' day prefixes are listed, and
    the channels found are those whose files the day holds in either network."""
    store = CountingStore(shared_data / "scedc-pds")
    catalog = ChannelCatalog(store, layout_named("scedc"))
    on_disk = archive_channels(shared_data, "scedc-pds", dt.date(2022, 1, 2))
    wanted = [n for n in on_disk if n.network in ("BK", "CI") and n.channel == "LHZ"]
    assert {n.network for n in wanted} == {"BK", "CI"}  # the data hold both
    found = catalog.channels(selection(f"{networks}.*.*.LHZ", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert found == wanted
    prefix = "continuous_waveforms/2022/2022_002/"
    assert sorted(store.listed) == [f"{prefix}BK", f"{prefix}CI"]


def test_literal_codes_need_no_listing(shared_data: Path) -> None:
    store = CountingStore(shared_data / "scedc-pds")
    catalog = ChannelCatalog(store, layout_named("scedc"))
    found = catalog.channels(selection("CI.NOPE.--.BHZ", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert found == [Nslc("CI", "NOPE", "", "BHZ")]  # a missing file is no data, later
    assert store.listed == []


def test_per_network_layout_refuses_network_wildcards(shared_data: Path) -> None:
    store = CountingStore(shared_data / "ncedc-pds")
    catalog = ChannelCatalog(store, layout_named("ncedc"))
    found = catalog.channels(selection("BK.*.00.LHZ", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert [n.station for n in found] == ["RUSS", "THIS", "YUBA"]
    with pytest.raises(RequestError) as caught:
        catalog.channels(selection("B?.*.00.LHZ", "2022-01-02T10:00:00", "2022-01-02T11:00:00"))
    assert caught.value.field == "network"


# -- minimumlength and longestonly on a file with a gap -----------------------------------------


WBM2 = "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"


@pytest.fixture
def gapped_archive(shared_data: Path, tmp_path: Path) -> Path:
    """A copy of the WBM day file with records 40 to 59 removed: two continuous runs."""
    data = (shared_data / "scedc-pds" / WBM2).read_bytes()
    target = tmp_path / WBM2
    target.parent.mkdir(parents=True)
    target.write_bytes(data[: 40 * 512] + data[60 * 512 :])
    shutil.copytree(shared_data / "scedc-pds" / "FDSNstationXML", tmp_path / "FDSNstationXML")
    return tmp_path


def answer_stream(archive: Path, params: list[tuple[str, str]]) -> Stream:
    with Extractor(Archive(LocalStore(archive), layout_named("scedc"))) as extractor:
        service = DataselectService(
            extractor, ChannelCatalog(extractor.archive.store, extractor.archive.layout), max_bytes=10**8
        )
        answer = service.answer(parse_dataselect(params))
    return Stream() if answer.empty else read(io.BytesIO(b"".join(answer.chunks())))


def test_longestonly_and_minimumlength(gapped_archive: Path) -> None:
    t0, t1 = UTCDateTime("2022-01-02T00:00:00"), UTCDateTime("2022-01-02T12:00:00")
    runs = read(str(gapped_archive / WBM2)).trim(t0, t1)
    assert len(runs) == 2  # the oracle sees the gap
    short, long_ = sorted(runs, key=lambda tr: tr.stats.endtime - tr.stats.starttime)
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", str(t0)[:-1]), ("end", str(t1)[:-1])]

    everything = answer_stream(gapped_archive, params).trim(t0, t1)
    assert len(everything) == 2

    longest = answer_stream(gapped_archive, [*params, ("longestonly", "true")]).trim(t0, t1)
    assert len(longest) == 1
    assert longest[0].stats.starttime == long_.stats.starttime and (longest[0].data == long_.data).all()

    durations = [tr.stats.endtime - tr.stats.starttime for tr in (short, long_)]
    between = sum(durations) / 2
    kept = answer_stream(gapped_archive, [*params, ("minimumlength", str(between))]).trim(t0, t1)
    assert [tr.stats.starttime for tr in kept] == [long_.stats.starttime]
    too_long = durations[1] + 10
    assert len(answer_stream(gapped_archive, [*params, ("minimumlength", str(too_long))])) == 0
