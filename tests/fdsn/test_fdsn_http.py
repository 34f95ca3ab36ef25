"""HTTP details of the query paths over a real socket: the methods they take (OPTIONS,
HEAD, a refused method), and the ``Host`` header, which is the client's to choose and so
appears in no answer: not in error texts, nor the WADL, nor StationXML's ``ModuleURI``."""

from __future__ import annotations

import http.client
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from fdsn_helpers import serve_fdsn

from support.s3server import S3Proxy

#: Hosts a client may send: one that Starlette would take as the authority, one it refuses.
HOSTILE = ("evil.example:8443", "evil.example<script>")
STATION_NS = "{http://www.fdsn.org/xml/station/1}"
WADL_NS = "{http://wadl.dev.java.net/2009/02}"
WINDOW = "net=CI&sta=WBM&loc=--&cha=LHZ&start=2022-01-02T10:00:00&end=2022-01-02T10:01:00"


def exchange(
    base: str, method: str, target: str, *, host: str | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request; ``host`` replaces the
    ``Host`` header."""
    parts = urllib.parse.urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        headers = {} if host is None else {"Host": host}
        connection.request(method, target, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


# -- methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["dataselect", "station"])
def test_options_names_post(scedc_url: str, service: str) -> None:
    status, headers, body = exchange(scedc_url, "OPTIONS", f"/fdsnws/{service}/1/query")
    assert status in (200, 204) and body == b""
    assert {m.strip() for m in headers["allow"].split(",")} == {"GET", "POST", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("service", ["dataselect", "station"])
def test_a_refused_method_is_405_naming_every_allowed_one(scedc_url: str, service: str) -> None:
    status, headers, body = exchange(scedc_url, "PUT", f"/fdsnws/{service}/1/query", body=b"x")
    assert status == 405
    assert {m.strip() for m in headers["allow"].split(",")} == {"GET", "POST", "HEAD", "OPTIONS"}
    assert body.decode().startswith("Error 405: Method Not Allowed\n\n")


@pytest.mark.parametrize(
    "target",
    [
        f"/fdsnws/dataselect/1/query?{WINDOW}",
        "/fdsnws/station/1/query?net=CI&sta=WBM",
        "/fdsnws/dataselect/1/query?sta=W.M",
    ],
)
def test_head_is_get_without_the_body(scedc_url: str, target: str) -> None:
    get_status, get_headers, get_body = exchange(scedc_url, "GET", target)
    status, headers, body = exchange(scedc_url, "HEAD", target)
    assert (status, body) == (get_status, b"")
    assert headers["content-type"] == get_headers["content-type"]
    assert int(headers["content-length"]) == len(get_body) > 0


# -- the Host header ------------------------------------------------------------------------------


def assert_nowhere(host: str, body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    assert "evil.example" not in text, text
    assert host not in text


@pytest.mark.parametrize("host", HOSTILE)
@pytest.mark.parametrize(
    ("method", "target", "status"),
    [
        ("GET", f"/fdsnws/dataselect/1/query?{WINDOW}&sta=W.M", 400),
        ("GET", "/fdsnws/dataselect/1/query?sta=W.M", 400),
        ("GET", "/fdsnws/station/1/query?level=everything", 400),
        ("GET", "/fdsnws/station/1/query?net=ZZ&nodata=404", 404),
        (
            "GET",
            "/fdsnws/dataselect/1/query?net=CI&sta=NONE&start=2022-01-02&end=2022-01-02T01:00&nodata=404",
            404,
        ),
        ("PUT", "/fdsnws/station/1/query", 405),
    ],
)
def test_error_texts_do_not_repeat_the_host(
    scedc_url: str, host: str, method: str, target: str, status: int
) -> None:
    got, _, body = exchange(scedc_url, method, target, host=host)
    assert got == status, body
    assert_nowhere(host, body)
    text = body.decode()
    path = target.split("?", 1)[0]
    assert f"\n\nRequest:\n{target}\n\n" in text  # the request's own path and query
    assert f"available from {path.rsplit('/', 1)[0]}/application.wadl\n" in text


@pytest.mark.parametrize("host", HOSTILE)
@pytest.mark.parametrize("service", ["dataselect", "station"])
def test_the_wadl_does_not_repeat_the_host(scedc_url: str, host: str, service: str) -> None:
    status, _, body = exchange(scedc_url, "GET", f"/fdsnws/{service}/1/application.wadl", host=host)
    assert status == 200
    assert_nowhere(host, body)
    resources = ET.fromstring(body).find(f"{WADL_NS}resources")
    assert resources is not None and resources.get("base") == f"/fdsnws/{service}/1/"


@pytest.mark.parametrize("host", HOSTILE)
def test_stationxml_module_uri_does_not_repeat_the_host(scedc_url: str, host: str) -> None:
    target = "/fdsnws/station/1/query?net=CI&sta=WBM&level=channel"
    status, _, body = exchange(scedc_url, "GET", target, host=host)
    assert status == 200
    assert_nowhere(host, body)
    assert ET.fromstring(body).findtext(f"{STATION_NS}ModuleURI") == target
    status, _, body = exchange(
        scedc_url, "POST", "/fdsnws/station/1/query", host=host, body=b"CI WBM * LHZ * *\n"
    )
    assert status == 200
    assert_nowhere(host, body)


def test_a_configured_public_url_is_used_instead(s3proxy: S3Proxy) -> None:
    with serve_fdsn("scedc-pds", s3proxy.url, public_url="https://seis.example.org") as url:
        target = "/fdsnws/station/1/query?net=CI&sta=WBM"
        status, _, body = exchange(url, "GET", target, host=HOSTILE[0])
        assert status == 200
        assert ET.fromstring(body).findtext(f"{STATION_NS}ModuleURI") == f"https://seis.example.org{target}"
        status, _, body = exchange(url, "GET", "/fdsnws/station/1/query?level=x", host=HOSTILE[0])
        assert status == 400
        assert_nowhere(HOSTILE[0], body)
        assert "\nRequest:\nhttps://seis.example.org/fdsnws/station/1/query?level=x\n" in body.decode()
