"""Service discovery as ObsPy's ``Client`` does it (WADL, version), base URLs with a path
prefix, and the package's public API."""

from __future__ import annotations

import urllib.request
import xml.etree.ElementTree as ET

from fdsn_helpers import serve_fdsn
from obspy import UTCDateTime
from obspy.clients.fdsn import Client

import seiswindow.fdsn
from support.s3server import S3Proxy

WADL = "{http://wadl.dev.java.net/2009/02}"


def test_client_discovers_both_services(scedc_url: str) -> None:
    client = Client(scedc_url)
    assert {"dataselect", "station"} <= set(client.services)
    assert "event" not in client.services  # its WADL answers 404, as ObsPy expects
    assert client.get_webservice_version("dataselect") == [1, 1, 0]
    assert client.get_webservice_version("station") == [1, 1, 0]
    # ObsPy learnt exactly the parameters we accept (it drops nodata itself)
    assert set(client.services["dataselect"]) == {
        "starttime",
        "endtime",
        "network",
        "station",
        "location",
        "channel",
        "quality",
        "minimumlength",
        "longestonly",
        "format",
    }
    assert {"level", "format", "minlatitude", "latitude", "maxradius", "startbefore", "endafter"} <= set(
        client.services["station"]
    )
    assert "updatedafter" not in client.services["station"]


def wadl_base(url: str) -> str | None:
    with urllib.request.urlopen(url) as answer:
        assert answer.headers["Content-Type"].startswith("application/xml")
        root = ET.fromstring(answer.read())
    resources = root.find(f"{WADL}resources")
    assert resources is not None
    return resources.get("base")


def test_wadl_names_the_path_the_client_used(scedc_url: str) -> None:
    """Without a configured public URL the base is the request's own path: the Host
    header is the client's to choose, so it is not repeated (ObsPy reads only the path)."""
    for service in ("dataselect", "station"):
        assert wadl_base(f"{scedc_url}/fdsnws/{service}/1/application.wadl") == f"/fdsnws/{service}/1/"


def test_wadl_names_the_configured_public_url(s3proxy: S3Proxy) -> None:
    with serve_fdsn("scedc-pds", s3proxy.url, public_url="https://seis.example.org/") as url:
        for service in ("dataselect", "station"):
            base = wadl_base(f"{url}/fdsnws/{service}/1/application.wadl")
            assert base == f"https://seis.example.org/fdsnws/{service}/1/"
        assert "dataselect" in Client(url).services  # ObsPy still talks to the URL it was given


def test_base_url_with_a_path_prefix(s3proxy: S3Proxy) -> None:
    with serve_fdsn("scedc-pds", s3proxy.url, prefix="/seis/archive") as url:
        assert url.endswith("/seis/archive")
        client = Client(url)
        t0 = UTCDateTime("2022-01-02T10:00:00")
        stream = client.get_waveforms("CI", "WBM", "", "LHZ", t0, t0 + 60)
        assert [tr.id for tr in stream] == ["CI.WBM..LHZ"]
        inventory = client.get_stations(station="WBM", channel="LHZ", level="channel")
        assert inventory.get_contents()["channels"] == ["CI.WBM..LHZ"]


def test_behind_a_proxy_that_strips_its_prefix(s3proxy: S3Proxy) -> None:
    """With ``root_path``, requests arrive without the prefix, and the WADL names the path
    the client used, prefix included."""
    with serve_fdsn("scedc-pds", s3proxy.url, root_path="/behind/proxy") as url:
        assert wadl_base(f"{url}/fdsnws/station/1/application.wadl") == "/behind/proxy/fdsnws/station/1/"


def test_public_api_is_exactly_all() -> None:
    public = {name for name in vars(seiswindow.fdsn) if not name.startswith("_")}
    modules = {
        "catalog",
        "codes",
        "dataselect",
        "meta",
        "params",
        "request",
        "routes",
        "station",
        "stationxml",
        "stationtable",
        "dayfiles",
        "stationplace",
        "routedcatalog",
        "availrequest",
        "availability",
        "availformat",
        "annotations",
    }
    assert public - modules == set(seiswindow.fdsn.__all__)
    assert callable(seiswindow.fdsn.router)
