"""irisws-timeseries on the SCEDC bucket (moto through the counting proxy), over a real socket:
an IRIS URL answers what ObsPy makes of the same window, and IRIS's errors are answered
as IRIS answers them."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from obspy import UTCDateTime, read, read_inventory

from seiswindow.model import Window
from support.oracle import oracle

DAY_FILE = "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
START, END = "2022-01-02T01:00:00", "2022-01-02T01:10:00"
QUERY = f"/irisws/timeseries/1/query?net=CI&sta=CCA&loc=--&cha=BHN&start={START}&end={END}"


def _expected(shared_data: Path) -> list:
    """ObsPy's own processing of the window: demean, then IRIS's band-pass (4 poles, causal,
    the mean kept out of the filter and restored), on float64 samples."""
    window = Window.create("CI", "CCA", "", "BHN", START, END)
    stream = oracle([shared_data / DAY_FILE], window)
    for tr in stream:
        tr.data = tr.data.astype(np.float64)
        tr.detrend("demean")
        mean = tr.data.mean()
        tr.data = tr.data - mean
        tr.filter("bandpass", freqmin=0.1, freqmax=1.0, corners=4, zerophase=False)
        tr.data = tr.data + mean
    return list(stream)


def test_an_iris_url_answers_a_zip_of_sac_equal_to_obspy(live_url: str, shared_data: Path) -> None:
    reply = requests.get(f"{live_url}{QUERY}&demean=true&bp=0.1-1&format=sac.zip", timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    assert "attachment" in reply.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        names = archive.namelist()
        sacs = [read(io.BytesIO(archive.read(n)), format="SAC")[0] for n in names]
    expected = _expected(shared_data)
    assert len(sacs) == len(expected) == 1
    got, want = sacs[0], expected[0]
    assert got.id == want.id == "CI.CCA..BHN"
    assert abs(got.stats.starttime - want.stats.starttime) < 1e-6
    assert got.stats.npts == want.stats.npts and got.stats.sampling_rate == want.stats.sampling_rate
    # SAC holds float32: equal to ObsPy's float64 result within float32's precision.
    scale = float(np.max(np.abs(want.data)))
    np.testing.assert_allclose(got.data, want.data, rtol=0, atol=scale * 2e-7)
    # The header carries the station's coordinates and the component's orientation.
    inventory = read_inventory(str(shared_data / "scedc-pds/FDSNstationXML/CI/CI_CCA.xml"))
    coords = inventory.get_coordinates("CI.CCA..BHN", UTCDateTime(START))
    orientation = inventory.get_orientation("CI.CCA..BHN", UTCDateTime(START))
    sac = got.stats.sac
    assert sac.stla == pytest.approx(coords["latitude"], abs=1e-4)
    assert sac.stlo == pytest.approx(coords["longitude"], abs=1e-4)
    assert sac.stel == pytest.approx(coords["elevation"])
    assert sac.cmpaz == pytest.approx(orientation["azimuth"])
    assert sac.cmpinc == pytest.approx(orientation["dip"] + 90)


def test_output_is_format_s_older_name_and_duration_ends_the_window(live_url: str) -> None:
    by_end = requests.get(f"{live_url}{QUERY}&output=miniseed", timeout=60)
    by_duration = requests.get(
        f"{live_url}/irisws/timeseries/1/query?net=CI&sta=CCA&loc=--&cha=BHN&start={START}"
        "&duration=600&format=miniseed",
        timeout=60,
    )
    assert by_end.status_code == by_duration.status_code == 200
    assert by_end.content == by_duration.content
    assert read(io.BytesIO(by_end.content))[0].stats.npts == 600 * 40 + 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("&format=sac&bp=0.1", "bp"),
        ("&format=sac&taper=0.7", "taper"),
        ("&format=sac&lp=30", "lp"),  # above the Nyquist frequency of 40 Hz samples
        ("&format=docx", "format"),
        ("&format=sac&units=VEL", "units"),
        ("&format=sac&scale=2&divscale=3", "divscale"),
        ("&format=sac&colour=red", "colour"),
        ("", "format"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(live_url: str, query: str, field: str) -> None:
    reply = requests.get(f"{live_url}{QUERY}{query}", timeout=60)
    assert reply.status_code == 400, reply.text
    assert reply.text.startswith("Error 400: Bad Request")
    assert f"Parameter {field!r}" in reply.text


def test_no_data_is_204_or_404_as_asked(live_url: str) -> None:
    empty = "/irisws/timeseries/1/query?net=CI&sta=CCA&loc=--&cha=BHN&start=2022-03-01T00:00:00&duration=60"
    assert requests.get(f"{live_url}{empty}&format=sac", timeout=60).status_code == 204
    reply = requests.get(f"{live_url}{empty}&format=sac&nodata=404", timeout=60)
    assert reply.status_code == 404 and reply.text.startswith("Error 404")


def test_correct_without_stationxml_is_a_clear_400(live_url: str) -> None:
    # CI.FOX2 has day files but no StationXML in the bucket.
    reply = requests.get(
        f"{live_url}/irisws/timeseries/1/query?net=CI&sta=FOX2&loc=--&cha=LHZ"
        "&start=2022-01-02T23:00:00&duration=600&correct=true&format=sac",
        timeout=60,
    )
    assert reply.status_code == 400, reply.text
    assert "Parameter 'correct'" in reply.text and "FDSNstationXML/CI/CI_FOX2.xml" in reply.text


@pytest.mark.parametrize(
    ("fmt", "media", "check"),
    [
        ("plot", "image/png", lambda body: body[:8] == b"\x89PNG\r\n\x1a\n"),
        ("audio", "audio/wav", lambda body: body[:4] == b"RIFF" and body[8:12] == b"WAVE"),
        ("geocsv.slist", "text/csv", lambda body: body.startswith(b"# dataset: GeoCSV 2.0\n")),
        ("ascii1", "text/plain", lambda body: body.startswith(b"TIMESERIES CI_CCA__BHN_")),
        ("saca", "text/plain", lambda body: len(body.splitlines()) > 30),
    ],
)
def test_every_format_answers_over_http(live_url: str, fmt: str, media: str, check) -> None:  # type: ignore[no-untyped-def]
    reply = requests.get(f"{live_url}{QUERY}&demean&taper=0.05&format={fmt}", timeout=120)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].split(";")[0] == media
    assert reply.headers["x-window-status"] == "ok"
    assert check(reply.content)


def test_through_lambda_an_iris_url_answers_the_same_zip(live_url: str, service) -> None:  # type: ignore[no-untyped-def]
    from seiswindow.aws import LocalContext, handle_event

    query = QUERY.partition("?")[2] + "&demean=true&bp=0.1-1&format=sac.zip"
    event = {
        "version": "2.0",
        "rawPath": "/prod/irisws/timeseries/1/query",
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")),
        "requestContext": {"http": {"method": "GET", "path": "/prod/irisws/timeseries/1/query"}},
    }
    answer = handle_event(event, LocalContext(), service=service)
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    over_http = requests.get(f"{live_url}/irisws/timeseries/1/query?{query}", timeout=60).content

    def sac_data(body: bytes) -> np.ndarray:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return read(io.BytesIO(archive.read(archive.namelist()[0])), format="SAC")[0].data

    np.testing.assert_array_equal(sac_data(base64.b64decode(answer["body"])), sac_data(over_http))
