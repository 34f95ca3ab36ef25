"""ObsPy's MassDownloader, unmodified, against the services on a real socket.

MassDownloader reads the station WADL: when it lists ``matchtimeseries`` it asks for the
channels with data (``level=channel&format=text&matchtimeseries=true``) and trusts the
answer to pick channels by its priorities, then downloads miniSEED per chunk with
``get_waveforms_bulk`` and StationXML per station with ``get_stations_bulk``. It groups
channel-days into bulk requests of ~25 MB by its estimate and merges a channel's adjacent chunks
into one line (here two days): the sample's partial data fits the default limits.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fdsn_helpers import day_files
from obspy import Stream, UTCDateTime, read, read_inventory
from obspy.clients.fdsn import Client
from obspy.clients.fdsn.mass_downloader import MassDownloader, RectangularDomain, Restrictions

from seiswindow.model import Nslc

T0 = UTCDateTime("2022-01-01T00:00:00")
T1 = UTCDateTime("2022-01-03T00:00:00")
#: The sample stations with StationXML (CI.CCA, CI.HEC, CI.WBM, CI.YAQ) lie in this box.
DOMAIN = {"minlatitude": 33.0, "maxlatitude": 36.5, "minlongitude": -119.0, "maxlongitude": -115.5}
#: The channels of those stations with day files in [T0, T1], per station; CI.YAQ has none.
WITH_DATA = {
    ("CI", "CCA"): Nslc("CI", "CCA", "", "BHN"),
    ("CI", "HEC"): Nslc("CI", "HEC", "", "BHN"),
    ("CI", "WBM"): Nslc("CI", "WBM", "", "LHZ"),
}
#: With the station table (synthetic coordinates inside DOMAIN), the stations that have day
#: files but no StationXML too.
WITHOUT_XML = {
    ("BK", "THIS"): Nslc("BK", "THIS", "00", "LHZ"),
    ("CI", "FOX2"): Nslc("CI", "FOX2", "", "LHZ"),
    ("CI", "NCH"): Nslc("CI", "NCH", "", "LHZ"),
}


def has_samples(paths: list[Path], start: UTCDateTime, end: UTCDateTime) -> bool:
    """Whether ObsPy reads a sample in ``[start, end)`` from the files: a chunk is [start, end),
    so a file starting exactly at the next midnight (BK.THIS) puts none in it."""
    traces = [tr for path in paths for tr in read(str(path), headonly=True)]
    return any(tr.stats.starttime < end and tr.stats.endtime >= start for tr in traces)


@pytest.mark.parametrize("table", [False, True], ids=["stationxml", "with-station-table"])
def test_massdownloader_saves_complete_days_of_channels_with_data(
    table: bool,
    request: pytest.FixtureRequest,
    shared_data: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(request.getfixturevalue("scedc_table_url" if table else "scedc_url"))
    with_data = {**WITH_DATA, **(WITHOUT_XML if table else {})}
    assert "matchtimeseries" in client.services["station"]  # so MassDownloader trusts the answer
    restrictions = Restrictions(
        starttime=T0,
        endtime=T1,
        chunklength_in_sec=86_400,
        reject_channels_with_gaps=False,
        minimum_length=0.0,
    )
    mseed, stationxml = tmp_path / "waveforms", tmp_path / "stations"
    with caplog.at_level(logging.INFO, logger="obspy.clients.fdsn.mass_downloader"):
        MassDownloader(providers=[client]).download(
            RectangularDomain(**DOMAIN),
            restrictions,
            mseed_storage=str(mseed),
            stationxml_storage=str(stationxml),
            print_report=False,
        )
    saved = sorted(p.name for p in mseed.iterdir()) if mseed.is_dir() else []
    # One file per channel and day with data: WBM both days, CCA and HEC the second only.
    expected_files = []
    for nslc in with_data.values():
        for day in (T0, T0 + 86_400):
            end = day + 86_400
            if has_samples(day_files(shared_data, "scedc-pds", nslc, day, end), day, end):
                expected_files.append(
                    f"{'.'.join(nslc)}__{day.strftime('%Y%m%dT%H%M%SZ')}__{end.strftime('%Y%m%dT%H%M%SZ')}.mseed"
                )
    assert saved == sorted(expected_files), caplog.text
    for name in saved:
        net, sta, loc, cha = name.split("__")[0].split(".")
        start = UTCDateTime(name.split("__")[1])
        end = UTCDateTime(name.split("__")[2].removesuffix(".mseed"))
        nslc = Nslc(net, sta, loc, cha)
        # A chunk is [start, end): samples from the next midnight on are the next chunk's.
        last = UTCDateTime(ns=end.ns - 1)
        theirs = Stream()
        for path in day_files(shared_data, "scedc-pds", nslc, start, last):
            theirs += read(str(path))
        theirs.merge().trim(start, last, nearest_sample=False)
        ours = read(str(mseed / name)).merge().trim(start, last, nearest_sample=False)
        # Complete: every sample ObsPy reads from the archive's files in the chunk, bit for bit.
        assert len(ours) == len(theirs) == 1, name
        assert ours[0].stats.npts == theirs[0].stats.npts, name
        assert abs(ours[0].stats.starttime - theirs[0].stats.starttime) < ours[0].stats.delta / 2
        assert (ours[0].data == theirs[0].data).all(), name
    # StationXML of the stations with data, holding the channel picked, with its response
    # (the entries built from the table have none, and say so).
    assert sorted(p.name for p in stationxml.iterdir()) == sorted(f"{n}.{s}.xml" for n, s in with_data)
    for (net, sta), nslc in with_data.items():
        inventory = read_inventory(str(stationxml / f"{net}.{sta}.xml"))
        channels = inventory.select(location=nslc.location, channel=nslc.channel)
        assert channels.get_contents()["channels"], (net, sta)
        if (net, sta) in WITHOUT_XML:
            assert all("station table" in ch.comments[0].value for n in channels for s in n for ch in s)
        else:
            assert all(ch.response is not None for n in channels for s in n for ch in s)
