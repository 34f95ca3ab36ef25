"""Stations with day files but no StationXML (BK.THIS, CI.FOX2, CI.NCH in the sample) are
listed by fdsnws-station when the operator's station table gives their coordinates.

Oracles: the station table the test writes (coordinates), the day files on disk (which days,
hence epochs) and ObsPy reading them (sample rates); ObsPy's own client and readers parse
the answers."""

from __future__ import annotations

import datetime as dt
import io
import logging
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from fdsn_helpers import SYNTHETIC_SITE, SYNTHETIC_STATIONS, archive_channels, serve_fdsn, write_station_table
from obspy import Inventory, UTCDateTime, read, read_inventory
from obspy.clients.fdsn import Client
from obspy.clients.fdsn.header import FDSNNoDataException

from seiswindow.archive import layout_named
from seiswindow.config import Settings, open_station_table
from seiswindow.errors import ConfigError
from seiswindow.fdsn import ChannelCatalog, StationService, parse_station
from seiswindow.fdsn.dayfiles import DayFileStations
from seiswindow.fdsn.stationtable import parse_station_table
from seiswindow.model import Nslc
from support.memstore import MemoryStore
from support.s3server import S3Proxy

T0 = UTCDateTime("2022-01-01T00:00:00")
T1 = UTCDateTime("2022-01-03T00:00:00")
CODES = {"network": "BK,CI", "station": "THIS,FOX2,NCH"}


def expected_channels(shared_data: Path) -> dict[Nslc, list[dt.date]]:
    """The channels of the three stations and the days they have files on in [T0, T1], from disk."""
    days = [T0.date + dt.timedelta(days=k) for k in range(3)]
    found: dict[Nslc, list[dt.date]] = {}
    for day in days:
        for nslc in archive_channels(shared_data, "scedc-pds", day):
            if (nslc.network, nslc.station) in SYNTHETIC_STATIONS:
                found.setdefault(nslc, []).append(day)
    return found


def rate_of(shared_data: Path, nslc: Nslc, day: dt.date) -> float:
    """ObsPy's sample rate of the channel's day file."""
    path = shared_data / "scedc-pds" / layout_named("scedc").key(nslc, day)
    return float(read(str(path), headonly=True)[0].stats.sampling_rate)


def test_station_level_lists_them_with_the_table_coordinates(scedc_table_url: str, shared_data: Path) -> None:
    inventory = Client(scedc_table_url).get_stations(starttime=T0, endtime=T1, level="station", **CODES)
    found = {(net.code, sta.code): sta for net in inventory for sta in net}
    assert set(found) == set(SYNTHETIC_STATIONS)
    channels = expected_channels(shared_data)
    for codes, station in found.items():
        lat, lon, elevation = SYNTHETIC_STATIONS[codes]
        assert (station.latitude, station.longitude, station.elevation) == (lat, lon, elevation)
        assert station.site.name == SYNTHETIC_SITE
        days = [d for nslc, ds in channels.items() if (nslc.network, nslc.station) == codes for d in ds]
        assert station.start_date == UTCDateTime(min(days))
        assert station.end_date == UTCDateTime(max(days) + dt.timedelta(days=1))


def test_channel_level_has_rates_epochs_and_says_how_it_was_built(
    scedc_table_url: str, shared_data: Path
) -> None:
    inventory = Client(scedc_table_url).get_stations(starttime=T0, endtime=T1, level="channel", **CODES)
    got = {
        Nslc(net.code, sta.code, cha.location_code, cha.code): (sta, cha)
        for net in inventory
        for sta in net
        for cha in sta
    }
    expected = expected_channels(shared_data)
    assert set(got) == set(expected)
    for nslc, (station, channel) in got.items():
        days = expected[nslc]
        lat, lon, elevation = SYNTHETIC_STATIONS[(nslc.network, nslc.station)]
        assert channel.sample_rate == rate_of(shared_data, nslc, days[0])
        assert (channel.latitude, channel.longitude, channel.elevation, channel.depth) == (
            lat,
            lon,
            elevation,
            0.0,
        )
        assert channel.start_date == UTCDateTime(days[0])
        assert channel.end_date == UTCDateTime(days[-1] + dt.timedelta(days=1))
        assert "seiswindow" in channel.comments[0].value and "station table" in station.comments[0].value
        assert channel.response is None or not channel.response.response_stages


def test_response_level_answers_the_channels_without_a_response(scedc_table_url: str) -> None:
    inventory = Client(scedc_table_url).get_stations(
        network="CI", station="FOX2", starttime=T0, endtime=T1, level="response"
    )
    channels = [cha for net in inventory for sta in net for cha in sta]
    assert [c.code for c in channels] == ["LHZ"]
    assert channels[0].response is None or not channels[0].response.response_stages


def fetch_text(base: str, **params: str) -> Inventory:
    query = urllib.parse.urlencode({**params, "format": "text"})
    with urllib.request.urlopen(f"{base}/fdsnws/station/1/query?{query}", timeout=30) as answer:
        assert answer.status == 200
        return read_inventory(io.BytesIO(answer.read()), format="STATIONTXT")


@pytest.mark.parametrize("level", ["station", "channel"])
def test_text_format_is_read_by_obspy(scedc_table_url: str, shared_data: Path, level: str) -> None:
    inventory = fetch_text(scedc_table_url, starttime=str(T0), endtime=str(T1), level=level, **CODES)
    found = {(net.code, sta.code): sta for net in inventory for sta in net}
    assert set(found) == set(SYNTHETIC_STATIONS)
    for codes, station in found.items():
        assert (station.latitude, station.longitude, station.elevation) == SYNTHETIC_STATIONS[codes]
    if level == "channel":
        rates = {
            Nslc(net.code, sta.code, cha.location_code, cha.code): cha.sample_rate
            for net in inventory
            for sta in net
            for cha in sta
        }
        expected = expected_channels(shared_data)
        assert rates == {nslc: rate_of(shared_data, nslc, days[0]) for nslc, days in expected.items()}


def test_box_and_radius_filters_apply(scedc_table_url: str) -> None:
    client = Client(scedc_table_url)
    fox2 = SYNTHETIC_STATIONS[("CI", "FOX2")]
    box = client.get_stations(
        starttime=T0,
        endtime=T1,
        minlatitude=fox2[0] - 0.1,
        maxlatitude=fox2[0] + 0.1,
        minlongitude=fox2[1] - 0.1,
        maxlongitude=fox2[1] + 0.1,
    )
    assert [(n.code, s.code) for n in box for s in n] == [("CI", "FOX2")]
    nch = SYNTHETIC_STATIONS[("CI", "NCH")]
    around = client.get_stations(starttime=T0, endtime=T1, latitude=nch[0], longitude=nch[1], maxradius=0.1)
    assert [(n.code, s.code) for n in around for s in n] == [("CI", "NCH")]
    with pytest.raises(FDSNNoDataException):  # a box none of them is in (nor any StationXML station)
        client.get_stations(
            starttime=T0, endtime=T1, minlatitude=40.0, maxlatitude=41.0, minlongitude=-120, maxlongitude=-119
        )


def test_matchtimeseries_keeps_them(scedc_table_url: str) -> None:
    inventory = Client(scedc_table_url).get_stations(
        starttime=T0, endtime=T1, level="channel", matchtimeseries=True, **CODES
    )
    assert {(n.code, s.code) for n in inventory for s in n} == set(SYNTHETIC_STATIONS)


def test_a_span_without_their_files_lists_none_of_them(scedc_table_url: str) -> None:
    with pytest.raises(FDSNNoDataException):
        Client(scedc_table_url).get_stations(
            starttime=UTCDateTime("2022-02-01"), endtime=UTCDateTime("2022-02-02"), **CODES
        )


def test_without_a_table_they_are_absent_and_the_log_says_why(
    s3proxy: S3Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="seiswindow"),
        serve_fdsn("scedc-pds", s3proxy.url) as url,
        pytest.raises(FDSNNoDataException),
    ):
        Client(url).get_stations(starttime=T0, endtime=T1, **CODES)
    assert "no station table" in caplog.text and "not listed" in caplog.text


def test_a_station_missing_from_the_table_is_not_listed_and_logged_once(
    s3proxy: S3Proxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    only_fox2 = {("CI", "FOX2"): SYNTHETIC_STATIONS[("CI", "FOX2")]}
    table = write_station_table(tmp_path / "stations.txt", only_fox2)
    with (
        caplog.at_level(logging.INFO, logger="seiswindow"),
        serve_fdsn("scedc-pds", s3proxy.url, stations=str(table)) as url,
    ):
        for _ in range(2):
            inventory = Client(url).get_stations(starttime=T0, endtime=T1, **CODES)
            assert {(n.code, s.code) for n in inventory for s in n} == {("CI", "FOX2")}
    lines = [
        r.getMessage() for r in caplog.records if "no coordinates in the station table" in r.getMessage()
    ]
    assert sorted(line.split()[1] for line in lines) == ["BK.THIS", "CI.NCH"]
    assert all(r.levelno == logging.INFO for r in caplog.records if "no coordinates" in r.getMessage())


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"CI|FOX2|34.0|-117.0|10.0|x|2000-01-01T00:00:00|\n",  # no header
        b"#Network | Description | StartTime | EndTime | TotalStations\nCI|x|2000-01-01||1\n",
        b"#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime\n"
        b"CI|FOX2||-117.0|10.0|x|2000-01-01T00:00:00|\n",  # no latitude
        b"#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime\n"
        b"CI|FOX2|95.0|-117.0|10.0|x|2000-01-01T00:00:00|\n",  # out of range
        b"#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime\n"
        b"CI|FOX2|34.0|-117.0|10.0|x|2000-01-01T00:00:00\n",  # a field short
        b"#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime\n"
        b"CI|FOX2|34.0|-117.0|10.0|x|yesterday|\n",
        b"\xff\xfe not utf-8",
    ],
)
def test_a_bad_table_is_a_config_error_at_start(s3proxy: S3Proxy, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "stations.txt"
    path.write_bytes(content)
    with (
        pytest.raises(ConfigError, match="station table"),
        serve_fdsn("scedc-pds", s3proxy.url, stations=str(path)),
    ):
        pass


def test_an_unreadable_table_is_a_config_error_at_start(s3proxy: S3Proxy, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    with (
        pytest.raises(ConfigError, match="cannot be read"),
        serve_fdsn("scedc-pds", s3proxy.url, stations=missing),
    ):
        pass
    settings = Settings(endpoint_url=s3proxy.url, stations="s3://scedc-pds/no/such/table.txt")
    with pytest.raises(ConfigError, match="cannot be read"):
        open_station_table(settings)


def test_the_table_is_named_by_the_environment(station_table: Path) -> None:
    settings = Settings.from_env({"SEISWINDOW_STATIONS": str(station_table)})
    assert settings.stations == str(station_table)
    table = open_station_table(settings)
    assert table is not None and {(r.network, r.station) for r in table.rows} == set(SYNTHETIC_STATIONS)
    assert open_station_table(Settings()) is None


def test_one_small_read_per_channel_then_none(s3: S3Proxy, station_table: Path, shared_data: Path) -> None:
    """Sample rates cost one ranged read of a day file's first bytes per channel, once; the
    second request is answered from the cached listings and rates."""
    with serve_fdsn("scedc-pds", s3.url, stations=str(station_table)) as url:
        s3.reset()
        Client(url, _discover_services=False).get_stations(starttime=T0, endtime=T1, level="channel", **CODES)
        reads = [r for r in s3.records if r.method == "GET" and "continuous_waveforms/20" in r.path]
        layout = layout_named("scedc")
        expected_keys = {layout.key(nslc, days[0]) for nslc, days in expected_channels(shared_data).items()}
        assert sorted(r.key for r in reads) == sorted(expected_keys)
        assert all(r.range is not None and r.body_bytes <= 256 for r in reads)
        s3.reset()
        Client(url, _discover_services=False).get_stations(starttime=T0, endtime=T1, level="channel", **CODES)
        assert s3.records == []


def test_a_request_without_a_span_does_not_list_the_archive(scedc_table_url: str) -> None:
    with pytest.raises(FDSNNoDataException):
        Client(scedc_table_url).get_stations(level="station", **CODES)


def test_a_channel_level_table_gives_each_channel_its_place(
    s3proxy: S3Proxy, tmp_path: Path, shared_data: Path
) -> None:
    header = (
        "#Network | Station | Location | Channel | Latitude | Longitude | Elevation | Depth | Azimuth | Dip | "
        "SensorDescription | Scale | ScaleFreq | ScaleUnits | SampleRate | StartTime | EndTime"
    )
    row = "BK|THIS|00|LHZ|35.5|-118.5|300.0|2.5|0.0|-90.0|synthetic||||1.0|2000-01-01T00:00:00|"
    table = tmp_path / "channels.txt"
    table.write_text(f"{header}\n{row}\n", encoding="utf-8")
    with serve_fdsn("scedc-pds", s3proxy.url, stations=str(table)) as url:
        inventory = Client(url).get_stations(network="BK", starttime=T0, endtime=T1, level="channel")
    [channel] = [cha for net in inventory for sta in net for cha in sta]
    assert (channel.latitude, channel.longitude, channel.elevation) == (35.5, -118.5, 300.0)
    assert (channel.depth, channel.azimuth, channel.dip) == (2.5, 0.0, -90.0)
    assert (inventory[0][0].latitude, inventory[0][0].longitude) == (35.5, -118.5)


def test_ncedc_wildcard_networks_are_resolved_against_the_table(
    s3proxy: S3Proxy, tmp_path: Path, shared_data: Path
) -> None:
    table = write_station_table(
        tmp_path / "stations.txt", {("BK", "THIS"): SYNTHETIC_STATIONS[("BK", "THIS")]}
    )
    with serve_fdsn("ncedc-pds", s3proxy.url, stations=str(table)) as url:
        inventory = Client(url).get_stations(network="*", starttime=T0, endtime=T1, level="channel")
    got = {Nslc(n.code, s.code, c.location_code, c.code): c for n in inventory for s in n for c in s}
    assert list(got) == [Nslc("BK", "THIS", "00", "LHZ")]  # RUSS and YUBA: no coordinates
    path = (
        shared_data
        / "ncedc-pds"
        / layout_named("ncedc").key(Nslc("BK", "THIS", "00", "LHZ"), dt.date(2022, 1, 2))
    )
    assert (
        got[Nslc("BK", "THIS", "00", "LHZ")].sample_rate
        == read(str(path), headonly=True)[0].stats.sampling_rate
    )


def test_a_channel_whose_file_gives_no_sample_rate_is_left_out(
    shared_data: Path, station_table: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = layout_named("scedc")
    root = shared_data / "scedc-pds"
    objects = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    fox2 = layout.key(Nslc("CI", "FOX2", "", "LHZ"), dt.date(2022, 1, 2))
    objects[fox2] = b"\x00" * 512 + objects[fox2][512:]  # its first record is gone
    store = MemoryStore(objects)
    catalog = ChannelCatalog(store, layout)
    table = parse_station_table(station_table.read_bytes(), source="t")
    service = StationService(
        store, layout=layout, catalog=catalog, day_files=DayFileStations(store, layout, catalog, table)
    )
    params = [("starttime", str(T0)), ("endtime", str(T1)), *CODES.items()]
    answer = service.answer(parse_station([*params, ("level", "channel")], None), module_uri="x")
    assert answer is not None
    inventory = read_inventory(io.BytesIO(answer.body))
    assert {(n.code, s.code) for n in inventory for s in n} == {("BK", "THIS"), ("CI", "NCH")}
    assert f"no sample rate from {fox2}" in caplog.text
