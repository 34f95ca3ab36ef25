"""Bad requests answer 400 with the FDSN error text, over a real socket; never a 5xx."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obspy import UTCDateTime
from obspy.clients.fdsn import Client
from obspy.clients.fdsn.header import FDSNBadRequestException

GOOD = {
    "net": "CI",
    "sta": "WBM",
    "loc": "--",
    "cha": "LHZ",
    "start": "2022-01-02T10:00:00",
    "end": "2022-01-02T10:01:00",
}
_ERROR = re.compile(
    r"^Error (?P<code>\d{3}): [A-Za-z ]+\n\n(?P<detail>.+)\n\n"
    r"Usage details are available from \S+\n\n"
    r"Request:\n(?P<url>\S+)\n\n"
    r"Request Submitted:\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\n\n"
    r"Service version:\n1\.1\.0\n$",
    re.DOTALL,
)


def call(url: str, *, data: bytes | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode("latin-1"), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("latin-1"), exc.headers.get("Content-Type", "")


def assert_fdsn_400(status: int, body: str, media: str, url: str, mentions: str) -> None:
    assert status == 400, body
    assert media.startswith("text/plain")
    match = _ERROR.match(body)
    assert match is not None, body
    parts = urllib.parse.urlsplit(url)  # the request's own path and query, no host
    assert match["url"] == parts.path + (f"?{parts.query}" if parts.query else "")
    assert mentions in match["detail"]


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"foo": "bar"}, "foo"),
        ({"start": "2022-01-02 10h00"}, "starttime"),
        ({"start": "2022-02-30T00:00:00"}, "starttime"),
        ({"end": "2022-01-02T09:00:00"}, "endtime"),
        ({"end": "2022-01-02T10:00:00"}, "endtime"),
        ({"format": "sac"}, "format"),
        ({"format": "json"}, "format"),
        ({"nodata": "200"}, "nodata"),
        ({"quality": "Z"}, "quality"),
        ({"minimumlength": "-5"}, "minimumlength"),
        ({"longestonly": "maybe"}, "longestonly"),
        ({"sta": "W%M"}, "station"),
        ({"cha": "LHZZ"}, "channel"),
        ({"start": None}, "starttime"),
    ],
)
def test_dataselect_get_400(scedc_url: str, change: dict[str, str | None], mentions: str) -> None:
    params = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    url = f"{scedc_url}/fdsnws/dataselect/1/query?{urllib.parse.urlencode(params)}"
    assert_fdsn_400(*call(url), url, mentions)


def test_repeated_parameter_400(scedc_url: str) -> None:
    url = f"{scedc_url}/fdsnws/dataselect/1/query?{urllib.parse.urlencode(GOOD)}&network=BK"
    assert_fdsn_400(*call(url), url, "network")


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"", "body"),
        (b"CI WBM -- LHZ 2022-01-02T10:00:00\n", "body"),
        (b"CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T09:00:00\n", "endtime"),
        (b"format=sac\nCI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00\n", "format"),
        (b"bogus=1\nCI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00\n", "bogus"),
        (b"\xff\xfe\n", "body"),
    ],
)
def test_dataselect_post_400(scedc_url: str, body: bytes, mentions: str) -> None:
    url = f"{scedc_url}/fdsnws/dataselect/1/query"
    assert_fdsn_400(*call(url, data=body), url, mentions)


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"level": "everything"}, "level"),
        ({"format": "json"}, "format"),
        ({"format": "text", "level": "response"}, "format"),
        ({"updatedafter": "2020-01-01"}, "updatedafter"),
        # no record index here: the channels' extents need starttime and endtime
        ({"includeavailability": "true", "level": "channel"}, "includeavailability"),
        ({"starttime": "2022-01-02", "endtime": "2021-01-01"}, "endtime"),
        ({"minlat": "100"}, "minlatitude"),
        ({"bogus": "1"}, "bogus"),
    ],
)
def test_station_400(scedc_url: str, params: dict[str, str], mentions: str) -> None:
    url = f"{scedc_url}/fdsnws/station/1/query?{urllib.parse.urlencode(params)}"
    assert_fdsn_400(*call(url), url, mentions)


def test_obspy_sees_a_bad_request(scedc_url: str) -> None:
    client = Client(scedc_url)
    t0 = UTCDateTime("2022-01-02T10:00:00")
    with pytest.raises(FDSNBadRequestException):
        client.get_waveforms("CI", "WBM", "", "LHZ", t0, t0 - 60)
    with pytest.raises(FDSNBadRequestException):
        client.get_stations(station="WBM", level="channel", format="xml", includeavailability=True)


def test_network_wildcards_on_a_per_network_layout_are_400(ncedc_url: str) -> None:
    url = f"{ncedc_url}/fdsnws/dataselect/1/query?{urllib.parse.urlencode({**GOOD, 'net': 'B?', 'sta': '*'})}"
    assert_fdsn_400(*call(url), url, "network")


_NAMES = st.sampled_from(
    [
        "net",
        "sta",
        "loc",
        "cha",
        "start",
        "end",
        "starttime",
        "endtime",
        "quality",
        "minimumlength",
        "longestonly",
        "format",
        "nodata",
        "level",
        "foo",
        "NET",
        "network",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "*",
            "--",
            "CI",
            "WBM",
            "LHZ",
            "B?",
            "2022-01-02T10:00:00",
            "2022-01-02T10:01:00",
            "true",
            "1e400",
            "-0",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.lists(st.tuples(_NAMES, _VALUES), max_size=8),
    service=st.sampled_from(["dataselect", "station"]),
)
def test_no_query_gets_a_5xx(scedc_url: str, params: list[tuple[str, str]], service: str) -> None:
    url = f"{scedc_url}/fdsnws/{service}/1/query?{urllib.parse.urlencode(params)}"
    status, body, _ = call(url)
    assert status in (200, 204, 400, 404, 413), (status, body)
    if status in (400, 413):
        assert _ERROR.match(body), body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_no_body_gets_a_5xx(scedc_url: str, body: bytes) -> None:
    status, text, _ = call(f"{scedc_url}/fdsnws/dataselect/1/query", data=body)
    assert status in (200, 204, 400, 413), (status, text)
