"""FDSN test fixtures: the FDSN router alone in a FastAPI app, served by uvicorn on
127.0.0.1 over a real socket, reading the shared data from moto through the counting proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fdsn_helpers import SYNTHETIC_STATIONS, day_files, serve_fdsn, write_station_table
from obspy import Stream, UTCDateTime

from seiswindow.model import Nslc, Window
from support.oracle import oracle
from support.s3server import S3Proxy


@pytest.fixture(scope="session")
def scedc_url(s3proxy: S3Proxy) -> Iterator[str]:
    """Base URL of the FDSN services on the SCEDC bucket (moto behind the proxy)."""
    with serve_fdsn("scedc-pds", s3proxy.url) as url:
        yield url


@pytest.fixture(scope="session")
def ncedc_url(s3proxy: S3Proxy) -> Iterator[str]:
    """Base URL of the FDSN services on the NCEDC bucket."""
    with serve_fdsn("ncedc-pds", s3proxy.url) as url:
        yield url


@pytest.fixture(scope="session")
def station_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station table (FDSN station text, station level) of the sample stations with day files
    but no StationXML (BK.THIS, CI.FOX2, CI.NCH), with synthetic coordinates."""
    return write_station_table(tmp_path_factory.mktemp("table") / "stations.txt", SYNTHETIC_STATIONS)


@pytest.fixture(scope="session")
def scedc_table_url(s3proxy: S3Proxy, station_table: Path) -> Iterator[str]:
    """Base URL of the FDSN services on the SCEDC bucket, with the station table."""
    with serve_fdsn("scedc-pds", s3proxy.url, stations=str(station_table)) as url:
        yield url


@pytest.fixture
def fresh_scedc_url(s3: S3Proxy) -> Iterator[str]:
    """A server with cold caches (what one request costs from nothing), proxy counters cleared."""
    with serve_fdsn("scedc-pds", s3.url) as url:
        s3.reset()
        yield url


@pytest.fixture
def expected(shared_data: Path) -> Callable[..., Stream]:
    """ObsPy reading the day files of channels directly, merging and trimming to a window."""

    def build(channels: list[Nslc], t0: UTCDateTime, t1: UTCDateTime, bucket: str = "scedc-pds") -> Stream:
        stream = Stream()
        for nslc in channels:
            window = Window(*nslc, t0.ns, t1.ns)
            stream += oracle(day_files(shared_data, bucket, nslc, t0, t1), window)
        return stream

    return build
