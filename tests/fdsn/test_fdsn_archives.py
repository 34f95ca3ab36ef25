"""FDSN dataselect and station on a service of several archives (issue 15): CI from the
SCEDC bucket, BK from the NCEDC bucket, CH from a local SDS tree (no StationXML), through
one server, with ObsPy's FDSN client; samples compared with ObsPy reading the files (and
ObsPy's SDS client for the SDS tree)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fdsn_helpers import assert_same_stream, write_station_table
from obspy import Stream, UTCDateTime
from obspy.clients.fdsn import Client
from obspy.clients.filesystem.sds import Client as SdsClient

from seiswindow.config import Settings, open_archives
from seiswindow.extract import Extractor
from seiswindow.fdsn.routes import router
from seiswindow.model import Nslc
from support.s3server import S3Proxy
from support.serving import serving
from support.trees import sds_tree

T0, T1 = UTCDateTime("2022-01-02T10:00:00"), UTCDateTime("2022-01-02T10:05:00")
BALST = (47.0, 8.0, 500.0)  # synthetic coordinates, for the station table


@pytest.fixture(scope="module")
def sds_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sds_tree(tmp_path_factory.mktemp("sds"))


@pytest.fixture(scope="module")
def multi_url(s3proxy: S3Proxy, sds_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    table = write_station_table(tmp_path_factory.mktemp("table") / "stations.txt", {("CH", "BALST"): BALST})
    settings = Settings(
        archive=f"s3://scedc-pds=CI;s3://ncedc-pds=BK;{sds_root}?layout=sds=CH",
        endpoint_url=s3proxy.url,
        stations=str(table),
    )
    extractor = Extractor(open_archives(settings), limits=settings.limits)
    app = FastAPI()
    app.include_router(router(extractor, settings))
    try:
        with serving(app) as url:
            yield url
    finally:
        extractor.close()


def test_dataselect_answers_ci_and_bk_from_their_buckets(
    multi_url: str, expected: Callable[..., Stream]
) -> None:
    client = Client(multi_url)
    ours = client.get_waveforms_bulk([("CI", "WBM", "", "LHZ", T0, T1), ("BK", "*", "00", "LHZ", T0, T1)])
    ours.trim(T0, T1)  # whole records come back; get_waveforms trims, the bulk call does not
    theirs = expected([Nslc("CI", "WBM", "", "LHZ")], T0, T1)
    theirs += expected(
        [Nslc("BK", s, "00", "LHZ") for s in ("RUSS", "THIS", "YUBA")], T0, T1, bucket="ncedc-pds"
    )
    assert_same_stream(ours, theirs)


def test_dataselect_answers_from_the_sds_tree(multi_url: str, sds_root: Path) -> None:
    t0, t1 = UTCDateTime("2025-11-10T23:50:00"), UTCDateTime("2025-11-11T00:01:00")
    ours = Client(multi_url).get_waveforms("CH", "BALST", "", "LHZ", t0, t1)
    assert_same_stream(ours, SdsClient(str(sds_root)).get_waveforms("CH", "BALST", "", "LHZ", t0, t1))


def test_station_answers_across_archives(multi_url: str) -> None:
    """CI from SCEDC's StationXML; CH, whose SDS archive has none, from the station table
    and what its day files tell (channels, sample rates), through one service."""
    client = Client(multi_url)
    ci = client.get_stations(
        network="CI", starttime=UTCDateTime("2022-01-01"), endtime=UTCDateTime("2022-01-03"), level="station"
    )
    assert {"WBM", "CCA"} <= {s.code for n in ci for s in n}
    ch = client.get_stations(
        network="CH", starttime=UTCDateTime("2025-11-09"), endtime=UTCDateTime("2025-11-12"), level="channel"
    )
    (balst,) = [s for n in ch for s in n]
    assert balst.code == "BALST" and (balst.latitude, balst.longitude) == BALST[:2]
    assert {(c.code, c.sample_rate) for c in balst} == {("LHE", 1.0), ("LHZ", 1.0)}


def test_availability_lists_each_channel_from_its_archive(multi_url: str, shared_data: Path) -> None:
    """BK.RUSS from the NCEDC bucket (its layout, its quality Q), CI.WBM from SCEDC's, in
    one answer from the listings (no index)."""
    import httpx
    from obspy import read

    answer = httpx.get(
        f"{multi_url}/fdsnws/availability/1/query",
        params={
            "net": "CI,BK",
            "sta": "WBM,RUSS",
            "cha": "LHZ",
            "start": "2022-01-02T06:00:00",
            "end": "2022-01-02T07:00:00",
        },
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    rows = {
        (r[0], r[1]): r
        for r in (line.split() for line in answer.text.splitlines() if line and line[0] != "#")
    }
    russ = read(
        str(shared_data / "ncedc-pds/continuous_waveforms/BK/2022/2022.002/RUSS.BK.LHZ.00.D.2022.002")
    )[0]
    wbm = read(str(shared_data / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"))[0]
    assert set(rows) == {("BK", "RUSS"), ("CI", "WBM")}
    assert rows[("BK", "RUSS")][4] == russ.stats.mseed.dataquality
    assert rows[("CI", "WBM")][4] == wbm.stats.mseed.dataquality
