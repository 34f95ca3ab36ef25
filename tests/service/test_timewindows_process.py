"""The processing steps and IRIS's formats on /timewindows (body field and query), the same
chain as irisws-timeseries; the tutorial's contract otherwise unchanged."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import requests
from obspy import read

from seiswindow.aws import LocalContext, handle_event
from seiswindow.model import Window
from seiswindow.service import Service
from support.oracle import oracle

DAY_FILE = "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = {
    "Network": "CI",
    "Station": "CCA",
    "Channel": "BHN",
    "Location": "--",
    "Starttime": "2022-01-02T01:00:00",
    "Endtime": "2022-01-02T01:05:00",
}
FOX2 = {
    "Network": "CI",
    "Station": "FOX2",
    "Channel": "LHZ",
    "Starttime": "2022-01-02T23:00:00",
    "Endtime": "2022-01-02T23:05:00",
}


def _obspy(shared_data: Path, *, lp: float | None = None) -> np.ndarray:
    """ObsPy's demean (and IRIS's mean-keeping low-pass) of the CCA window."""
    window = Window.create("CI", "CCA", "", "BHN", CCA["Starttime"], CCA["Endtime"])
    (tr,) = oracle([shared_data / DAY_FILE], window)
    tr.data = tr.data.astype(np.float64)
    tr.detrend("demean")
    if lp is not None:
        mean = tr.data.mean()
        tr.data = tr.data - mean
        tr.filter("lowpass", freq=lp, corners=4, zerophase=False)
        tr.data = tr.data + mean
    return tr.data


def test_process_in_the_body_answers_processed_json(live_url: str, shared_data: Path) -> None:
    body = {"Windows": [CCA], "Process": ["demean", "lp=1"]}
    reply = requests.post(f"{live_url}/timewindows", json=body, timeout=60)
    assert reply.status_code == 200, reply.text
    (window,) = reply.json()
    assert window["status"] == "ok"
    expected = _obspy(shared_data, lp=1.0)
    np.testing.assert_allclose(window["data"], expected, rtol=0, atol=np.abs(expected).max() * 1e-12)


def test_query_steps_and_a_sac_format_answer_a_sac_file(live_url: str, shared_data: Path) -> None:
    reply = requests.post(
        f"{live_url}/timewindows?format=sac&demean=true", json={"Windows": [CCA]}, timeout=60
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-window-status"] == "ok"
    assert reply.headers["content-disposition"].endswith('.SAC"')
    trace = read(io.BytesIO(reply.content), format="SAC")[0]
    np.testing.assert_allclose(trace.data, _obspy(shared_data), rtol=0, atol=1e-3)


def test_a_window_without_response_fails_alone(live_url: str) -> None:
    body = {"Windows": [CCA, FOX2], "Process": "correct=true&units=VEL&freqlimits=0.01-0.02-8-10"}
    as_json = requests.post(f"{live_url}/timewindows", json=body, timeout=60).json()
    assert [w["status"] for w in as_json] == ["ok", "error"]
    assert "CI_FOX2.xml" in as_json[1]["message"] and as_json[1]["data"] == []
    assert 1e-9 < max(abs(v) for v in as_json[0]["data"]) < 1e-2  # m/s, not counts
    geocsv = requests.post(f"{live_url}/timewindows?format=geocsv", json=body, timeout=60)
    assert geocsv.status_code == 200 and geocsv.headers["x-window-status"] == "ok,error"
    assert "# field_unit: UTC, M/S" in geocsv.text and "CI_FOX2" not in geocsv.text


def test_bad_processing_is_a_400_naming_the_field(live_url: str) -> None:
    for body, query, field in (
        ({"Windows": [CCA], "Process": ["bandpass=1"]}, "", "Process"),
        ({"Windows": [CCA], "Process": 3}, "", "Process"),
        ({"Windows": [CCA]}, "?taper=0.9", "taper"),
        ({"Windows": [CCA]}, "?format=pdf", "format"),
    ):
        reply = requests.post(f"{live_url}/timewindows{query}", json=body, timeout=60)
        assert reply.status_code == 400, (body, query, reply.text)
        assert reply.json()["field"] == field


def test_through_lambda_a_file_travels_base64_and_direct_invocation_refuses_it(service: Service) -> None:
    event = {
        "version": "2.0",
        "rawPath": "/timewindows",
        "rawQueryString": "format=sac.zip&decimate=10",
        "queryStringParameters": {"format": "sac.zip", "decimate": "10"},
        "requestContext": {"http": {"method": "POST", "path": "/timewindows"}},
        "body": json.dumps({"Windows": [CCA]}),
    }
    answer = handle_event(event, LocalContext(), service=service)
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"])[:2] == b"PK"
    direct = handle_event({"Windows": [CCA], "Format": "sac"}, LocalContext(), service=service)
    assert direct["status"] == 400 and direct["field"] == "Format"
