"""fdsnws-station through ObsPy's own client; the oracle is ObsPy reading the archive's
StationXML files directly (``read_inventory`` and ``Inventory.select``)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fdsn_helpers import archive_channels
from obspy import Inventory, UTCDateTime, read_inventory
from obspy.clients.fdsn import Client
from obspy.clients.fdsn.header import FDSNNoDataException
from obspy.core.inventory import Channel

from seiswindow.archive import Archive, layout_named
from seiswindow.config import Settings
from seiswindow.extract import Extractor
from seiswindow.fdsn import router
from seiswindow.model import Nslc
from seiswindow.store import LocalStore
from support.serving import serving

STATIONS = ("CCA", "HEC", "WBM")
Key = tuple[str, str, str, str, int]


@pytest.fixture(scope="module")
def client(scedc_url: str) -> Client:
    return Client(scedc_url)


@pytest.fixture(scope="module")
def archive_inventory(shared_data: Path) -> Inventory:
    """Every StationXML file of the archive, read by ObsPy."""
    inventory = Inventory(networks=[])
    for path in sorted((shared_data / "scedc-pds/FDSNstationXML").rglob("*.xml")):
        inventory += read_inventory(str(path), format="STATIONXML")
    return inventory


def channels(inventory: Inventory) -> dict[Key, Channel]:
    return {
        (net.code, sta.code, cha.location_code, cha.code, cha.start_date.ns): cha
        for net in inventory
        for sta in net
        for cha in sta
    }


def normalized(node: Any) -> Any:
    """A copy without the empty ``extra`` dicts ObsPy attaches when it reads a document whose
    elements carry a namespace prefix (``fsx:Sensor``): not content, a reader artefact."""
    clone = copy.deepcopy(node)

    def strip(obj: Any) -> None:
        if isinstance(obj, dict):
            obj = list(obj.values())
        if isinstance(obj, list):
            for item in obj:
                strip(item)
        elif hasattr(obj, "__dict__") and not isinstance(obj, UTCDateTime):
            if "extra" in obj.__dict__ and not obj.__dict__["extra"]:
                del obj.__dict__["extra"]
            for value in obj.__dict__.values():
                strip(value)

    strip(clone)
    return clone


def without_response(channel: Channel) -> Channel:
    clone = normalized(channel)
    clone.response = None
    return clone


def select(inventory: Inventory, stations: tuple[str, ...] = STATIONS, **kwargs: Any) -> Inventory:
    """ObsPy's ``Inventory.select`` for each of ``stations``, combined."""
    out = Inventory(networks=[])
    for code in stations:
        out += inventory.select(station=code, **kwargs)
    return out


def station_get(url: str, params: dict[str, str]) -> tuple[int, bytes]:
    full = f"{url}/fdsnws/station/1/query?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(full, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_response_level(client: Client, archive_inventory: Inventory) -> None:
    ours = client.get_stations(network="CI", station=",".join(STATIONS), level="response")
    expected = channels(select(archive_inventory, network="CI"))
    assert {k[1] for k in expected} == set(STATIONS)
    got = channels(ours)
    assert got.keys() == expected.keys()
    for key, channel in expected.items():
        assert normalized(got[key]) == normalized(channel), key
        assert got[key].response.response_stages  # the full response came through


def test_channel_level(client: Client, archive_inventory: Inventory) -> None:
    ours = client.get_stations(network="CI", station="CCA,HEC,WBM", level="channel")
    expected = channels(select(archive_inventory, network="CI"))
    got = channels(ours)
    assert got.keys() == expected.keys()
    for key, channel in expected.items():
        assert without_response(got[key]) == without_response(channel), key
        assert got[key].response is None  # no Response element at channel level


def test_time_and_channel_filters(client: Client, archive_inventory: Inventory) -> None:
    t0, t1 = UTCDateTime("2022-01-02"), UTCDateTime("2022-01-03")
    ours = client.get_stations(
        network="C?", station="*", channel="LH?,BHN,EHZ", starttime=t0, endtime=t1, level="channel"
    )
    expected = archive_inventory.select(channel="LH?", starttime=t0, endtime=t1) + archive_inventory.select(
        channel="BHN", starttime=t0, endtime=t1
    )
    assert channels(ours).keys() == channels(expected).keys()
    assert not any(k[3] == "EHZ" for k in channels(ours))  # WBM's EHZ epochs ended in 2015 and 2017


def test_endbefore(client: Client, archive_inventory: Inventory) -> None:
    limit = UTCDateTime("2016-01-01")
    ours = client.get_stations(station="WBM", endbefore=limit, level="channel")
    expected = {
        k
        for k, c in channels(archive_inventory.select(station="WBM")).items()
        if c.end_date and c.end_date < limit
    }
    assert set(channels(ours)) == expected and len(expected) == 1


def test_station_level(client: Client, archive_inventory: Inventory) -> None:
    ours = client.get_stations(network="CI", station="CCA,HEC,WBM")
    (network,) = ours.networks
    assert [s.code for s in network] == list(STATIONS)
    assert network.selected_number_of_stations == 3
    for station in network:
        (reference,) = archive_inventory.select(station=station.code)[0].stations
        assert station.channels == []
        assert station.selected_number_of_channels == len(reference.channels)
        mine, theirs = normalized(station), normalized(reference)
        for s in (mine, theirs):
            s.channels, s.selected_number_of_channels = [], None
        assert mine == theirs


def test_network_level(client: Client, archive_inventory: Inventory) -> None:
    ours = client.get_stations(network="CI", station="CCA,WBM", level="network")
    (network,) = ours.networks
    reference = archive_inventory.select(station="CCA")[0]
    assert (network.code, network.start_date, network.description) == (
        reference.code,
        reference.start_date,
        reference.description,
    )
    assert network.stations == []
    assert network.selected_number_of_stations == 2


def test_prefixed_namespace_is_rewritten_as_default(
    scedc_url: str, client: Client, archive_inventory: Inventory
) -> None:
    # CI_YAQ.xml writes every element as fsx:..., the others use a default namespace.
    ours = client.get_stations(station="YAQ", level="response")
    assert normalized(channels(ours)) == normalized(channels(archive_inventory.select(station="YAQ")))
    status, body = station_get(scedc_url, {"sta": "YAQ,CCA", "level": "channel"})
    assert status == 200
    assert b'<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1"' in body
    assert b"fsx:" not in body and b"ns0:" not in body


def test_text_format(client: Client, archive_inventory: Inventory) -> None:
    ours = client.get_stations(network="CI", station="CCA,HEC,WBM", level="channel", format="text")
    expected = channels(select(archive_inventory))
    got = channels(ours)
    assert got.keys() == expected.keys()
    for key, ref in expected.items():
        mine = got[key]
        for name in (
            "latitude",
            "longitude",
            "elevation",
            "depth",
            "azimuth",
            "dip",
            "sample_rate",
            "end_date",
        ):
            assert getattr(mine, name) == getattr(ref, name), (key, name)
        sensitivity = ref.response.instrument_sensitivity
        if sensitivity is not None and sensitivity.value is not None:
            assert mine.response.instrument_sensitivity.value == sensitivity.value
    stations = client.get_stations(network="CI", station="CCA,HEC,WBM", level="station", format="text")
    assert [(s.code, s.latitude, s.longitude, s.elevation, s.start_date) for s in stations[0]] == [
        (s.code, s.latitude, s.longitude, s.elevation, s.start_date)
        for n in select(archive_inventory)
        for s in n
    ]
    # CI_YAQ.xml's Network has no start date: it joins the dated CI epoch of the other files
    networks = client.get_stations(network="CI", level="network", format="text")
    assert [n.code for n in networks] == ["CI"]
    assert networks[0].total_number_of_stations == len({s.code for n in archive_inventory for s in n}) == 4


def test_box_and_radius(client: Client, archive_inventory: Inventory) -> None:
    (cca,) = archive_inventory.select(station="CCA")[0].stations
    box = {"minlatitude": cca.latitude - 0.01, "maxlatitude": cca.latitude + 0.01}
    box |= {"minlongitude": cca.longitude - 0.01, "maxlongitude": cca.longitude + 0.01}
    ours = client.get_stations(**box)
    assert [s.code for s in ours[0]] == [s.code for s in archive_inventory.select(**box)[0]] == ["CCA"]
    circle = {"latitude": cca.latitude, "longitude": cca.longitude, "maxradius": 1.0}
    expected = sorted(s.code for n in archive_inventory.select(**circle) for s in n)
    assert sorted(s.code for n in client.get_stations(**circle) for s in n) == expected
    assert "CCA" in expected and len(expected) < 4


def test_bulk_post(client: Client, archive_inventory: Inventory) -> None:
    t0, t1 = UTCDateTime("2022-01-02"), UTCDateTime("2022-01-03")
    ours = client.get_stations_bulk(
        [("CI", "CCA", "*", "BHN", t0, t1), ("CI", "WBM", "", "LHZ", t0, t1)], level="channel"
    )
    assert sorted(k[1] + "." + k[3] for k in channels(ours)) == ["CCA.BHN", "WBM.LHZ"]
    assert channels(ours).keys() <= channels(archive_inventory).keys()


def test_nothing_matches(client: Client, scedc_url: str) -> None:
    with pytest.raises(FDSNNoDataException):
        client.get_stations(station="NOPE")
    with pytest.raises(FDSNNoDataException):
        client.get_stations(network="XX")
    with pytest.raises(FDSNNoDataException):  # YAQ closed in 1998
        client.get_stations(station="YAQ", starttime=UTCDateTime("2022-01-01"))
    with pytest.raises(FDSNNoDataException):
        client.get_stations(station="CCA", channel="HHZ", level="channel")
    status, body = station_get(scedc_url, {"sta": "NOPE", "nodata": "404"})
    assert status == 404 and body.startswith(b"Error 404: Not Found\n\n")


# -- matchtimeseries -----------------------------------------------------------------------


def test_matchtimeseries_keeps_the_channels_with_day_files(
    client: Client, archive_inventory: Inventory, shared_data: Path
) -> None:
    """The oracle: the archive's StationXML (ObsPy) cut to the channels whose day files are on
    disk in the span; CI.YAQ (StationXML, no day file) and channels without files go."""
    t0, t1 = UTCDateTime("2022-01-01T12:00:00"), UTCDateTime("2022-01-02T12:00:00")
    on_disk = set(archive_channels(shared_data, "scedc-pds", t0.date)) | set(
        archive_channels(shared_data, "scedc-pds", t1.date)
    )
    expected = {
        key
        for key, cha in channels(archive_inventory.select(network="CI", starttime=t0, endtime=t1)).items()
        if Nslc(*key[:4]) in on_disk
    }
    assert expected and len(expected) < len(channels(archive_inventory))
    got = client.get_stations(network="CI", starttime=t0, endtime=t1, level="channel", matchtimeseries=True)
    assert set(channels(got)) == expected
    text = client.get_stations(
        network="CI", starttime=t0, endtime=t1, level="channel", format="text", matchtimeseries=True
    )
    assert {k[:4] for k in channels(text)} == {k[:4] for k in expected}
    stations = client.get_stations(
        network="CI", starttime=t0, endtime=t1, level="station", matchtimeseries=True
    )
    assert sorted(s.code for n in stations for s in n) == sorted({k[1] for k in expected})
    # A span before the archive's first day file matches no channel.
    with pytest.raises(FDSNNoDataException):
        client.get_stations(
            network="CI",
            starttime=UTCDateTime("2021-12-30"),
            endtime=UTCDateTime("2021-12-31"),
            level="channel",
            matchtimeseries=True,
        )


def test_matchtimeseries_over_a_post_body(scedc_url: str, shared_data: Path) -> None:
    body = b"level=channel\nmatchtimeseries=true\nCI * * BH? 2022-01-02T00:00:00 2022-01-02T01:00:00\n"
    request = urllib.request.Request(f"{scedc_url}/fdsnws/station/1/query", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        got = read_inventory(answer, format="STATIONXML")
    on_disk = {
        n for n in archive_channels(shared_data, "scedc-pds", dt.date(2022, 1, 2)) if n.channel[:2] == "BH"
    }
    assert {Nslc(*k[:4]) for k in channels(got)} == on_disk


@pytest.mark.parametrize(
    "query",
    [
        "matchtimeseries=true&level=channel",  # no span to look up
        "matchtimeseries=true&starttime=2022-01-01",
    ],
)
def test_matchtimeseries_needs_a_span(scedc_url: str, query: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{scedc_url}/fdsnws/station/1/query?{query}")
    assert caught.value.code == 400
    assert "matchtimeseries" in caught.value.read().decode()


def test_matchtimeseries_over_too_many_days_is_413(scedc_url: str) -> None:
    query = "matchtimeseries=true&network=CI&starttime=2020-01-01&endtime=2022-01-02"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{scedc_url}/fdsnws/station/1/query?{query}")
    assert caught.value.code == 413


# -- text format when the StationXML leaves fields out ----------------------------------------


def orientation_columns(text: str) -> dict[tuple[str, ...], tuple[str, str]]:
    """Azimuth and Dip columns of channel text lines, by codes and start."""
    rows = [line.split("|") for line in text.splitlines() if line and not line.startswith("#")]
    return {(*row[:4], row[15]): (row[8], row[9]) for row in rows}


def test_text_channel_without_azimuth_and_dip(shared_data: Path, tmp_path: Path) -> None:
    """Azimuth and Dip are optional in StationXML: the text line leaves them empty, as ObsPy's
    own writer does and its parser (``float_or_none``) reads as None; the line stays one that
    ``read_inventory`` parses without a warning, every other field as in the StationXML."""
    source = (shared_data / "scedc-pds/FDSNstationXML/CI/CI_WBM.xml").read_text()
    stripped = re.sub(r"\s*<(Azimuth|Dip)[^>]*>[^<]*</\1>", "", source)
    assert stripped != source and "<Azimuth" not in stripped and "<Dip" not in stripped
    path = tmp_path / "FDSNstationXML/CI/CI_WBM.xml"
    path.parent.mkdir(parents=True)
    path.write_text(stripped)
    reference = channels(read_inventory(str(path), format="STATIONXML"))
    assert all(c.azimuth is None and c.dip is None for c in reference.values())
    with Extractor(Archive(LocalStore(tmp_path), layout_named("scedc"))) as extractor:
        app = FastAPI()
        app.include_router(router(extractor, Settings(archive=str(tmp_path))))
        with serving(app) as url:
            status, body = station_get(url, {"net": "CI", "sta": "WBM", "level": "channel", "format": "text"})
    assert status == 200, body
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ObsPy drops a channel it cannot parse, with a warning
        got = channels(read_inventory(io.BytesIO(body), format="STATIONTXT"))
    assert got.keys() == reference.keys()
    # The columns themselves are what ObsPy's writer prints for the same channels.
    written = io.StringIO()
    read_inventory(str(path), format="STATIONXML").write(written, format="STATIONTXT", level="channel")
    assert orientation_columns(body.decode()) == orientation_columns(written.getvalue())
    for key, ref in reference.items():
        mine = got[key]
        assert mine.azimuth is None and mine.dip is None
        for name in ("latitude", "longitude", "elevation", "depth", "sample_rate", "end_date"):
            assert getattr(mine, name) == getattr(ref, name), (key, name)
