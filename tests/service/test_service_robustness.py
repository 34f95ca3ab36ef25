"""Odd input at every front door is a 4xx with a message, never a 500 or a stack trace."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from service_helpers import event

from seiswindow import ConfigError, Limits, Settings
from seiswindow.aws import LocalContext, handle_event
from seiswindow.config import open_service
from seiswindow.service import Service

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_deeply_nested_json_is_a_400_at_both_routes(live_url: str) -> None:
    for path in ("/timewindows", "/2015-03-31/functions/function/invocations"):
        answer = httpx.post(live_url + path, content=DEEP, timeout=60)
        assert answer.status_code == 400, (path, answer.text[:200])
        assert "Traceback" not in answer.text


def test_a_body_over_the_cap_is_refused_before_it_is_read_whole(live_url: str) -> None:
    window = {
        "Network": "CI",
        "Station": "WBM",
        "Channel": "LHZ",
        "Location": "",
        "Starttime": "2022-01-01T00:00:00",
        "Endtime": "2022-01-01T00:01:00",
    }
    body = json.dumps({"Windows": [window] * 20_000}).encode()  # ~3 MB
    answer = httpx.post(live_url + "/timewindows", content=body, timeout=60)
    assert answer.status_code == 413 and answer.json()["field"] == "body"


def test_too_many_windows_is_a_413_naming_the_limit(live_url: str) -> None:
    window = {
        "Network": "CI",
        "Station": "WBM",
        "Channel": "LHZ",
        "Starttime": "2022-01-01T00:00:00",
        "Endtime": "2022-01-01T00:01:00",
    }
    answer = httpx.post(live_url + "/timewindows", json={"Windows": [window] * 501}, timeout=60)
    assert answer.status_code == 413 and "at most 500" in answer.json()["error"]


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59", "0001-01-01T00:00:00", "２０２２-01-01T00:00:00"])
def test_times_outside_the_era_of_seismograms_are_a_400(live_url: str, start: str) -> None:
    window = {
        "Network": "CI",
        "Station": "WBM",
        "Channel": "LHZ",
        "Starttime": start,
        "Endtime": "2022-01-02",
    }
    answer = httpx.post(live_url + "/timewindows", json={"Windows": [window]}, timeout=60)
    assert answer.status_code == 400 and answer.json()["field"] == "Starttime"


def test_fdsn_through_lambda_bad_base64_and_odd_headers(service: Service) -> None:
    rest = event("apigw-rest-v1")
    rest["queryStringParameters"] = rest["multiValueQueryStringParameters"] = None
    rest.update(httpMethod="POST", path="/fdsnws/dataselect/1/query", body="!!!", isBase64Encoded=True)
    answer = handle_event(rest, LocalContext(), service=service)
    assert answer["statusCode"] == 400 and "base64" in json.loads(answer["body"])["error"]
    rest.update(httpMethod="GET", path="/fdsnws/dataselect/1/version", body=None, isBase64Encoded=False)
    rest["headers"] = {"x-note": "é€ ✓"}
    rest["multiValueHeaders"] = None
    answer = handle_event(rest, LocalContext(), service=service)
    assert answer["statusCode"] == 200


def test_fdsn_byte_limit_counts_the_base64_of_a_lambda_answer(settings: Settings) -> None:
    """An answer that fits raw over HTTP can be too large once base64-encoded inside a
    Lambda proxy answer: the handler refuses it with 413 rather than fail in AWS."""
    line = "CI CCA -- BHN 2022-01-02T10:00:00 2022-01-02T10:10:00\n"
    limits = Limits(max_response_bytes=36_000)  # the records are ~29 kB: under it raw, over it as base64
    small = open_service(
        Settings(archive=settings.archive, endpoint_url=settings.endpoint_url, limits=limits)
    )
    try:
        rest = event("apigw-rest-v1")
        rest["queryStringParameters"] = rest["multiValueQueryStringParameters"] = None
        rest.update(httpMethod="POST", path="/fdsnws/dataselect/1/query", body=line, isBase64Encoded=False)
        answer = handle_event(rest, LocalContext(), service=small)
        assert answer["statusCode"] == 413, answer["body"][:300]
        ok = handle_event(
            dict(rest, body=line.replace("10:10:00", "10:02:00")), LocalContext(), service=small
        )
        assert ok["statusCode"] == 200 and len(ok["body"]) <= 36_000
        assert len(base64.b64decode(ok["body"])) > 0
    finally:
        small.close()


def test_non_finite_limits_are_refused() -> None:
    with pytest.raises(ConfigError, match="finite"):
        Settings.from_env({"SEISWINDOW_MAX_WINDOW_SECONDS": "nan"})


def test_cli_bad_files_exit_2_without_a_traceback(tmp_path: Path) -> None:
    for name, content in (("deep.json", DEEP), ("latin.txt", b"\xff\xfe CI WBM -- LHZ")):
        (tmp_path / name).write_bytes(content)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "seiswindow.cli",
                "bulk",
                str(tmp_path / name),
                "--archive",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
