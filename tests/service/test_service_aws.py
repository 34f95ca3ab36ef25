"""The Lambda handler beyond the happy path: the container's service built from the
environment, errors of each event shape, sizes as they travel, and an import path free of
ObsPy and FastAPI."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import REQUEST, assert_tutorial_answer, event, proxy_body, tutorial_answer

from seiswindow import aws
from seiswindow.aws import LocalContext, handle_event, invoke, parse_event
from seiswindow.service import Service

WHOLE_DAY_40HZ = {
    "Windows": [
        {
            "Network": "CI",
            "Station": "CCA",
            "Channel": "BHN",
            "Starttime": "2022-01-02T00:00:00",
            "Endtime": "2022-01-02T23:59:59",
        }
    ]
}


@pytest.fixture
def from_env(monkeypatch: pytest.MonkeyPatch, s3proxy: Any) -> Iterator[None]:
    """A Lambda environment naming the moto bucket; the container's service reset around."""
    monkeypatch.setenv("SEISWINDOW_ARCHIVE", "s3://scedc-pds")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3proxy.url)
    monkeypatch.setattr(aws, "_SERVICE", None)
    yield
    if aws._SERVICE is not None:
        aws._SERVICE.close()


def test_handler_builds_one_service_per_container(from_env: None) -> None:
    first = aws.handler(event("direct"), LocalContext())
    service = aws._SERVICE
    assert service is not None
    second = aws.handler(event("apigw-http-v2"), LocalContext())
    assert aws._SERVICE is service
    assert isinstance(first, list) and json.loads(proxy_body(second)) == first


def test_direct_bad_request_returns_the_error_object(service: Service) -> None:
    bad = {"Windows": [REQUEST["Windows"][0], {**REQUEST["Windows"][1], "Starttime": "yesterday"}]}
    answer = handle_event(bad, LocalContext(aws_request_id="req-1"), service=service)
    assert answer == {
        "status": 400,
        "error": answer["error"],
        "field": "Starttime",
        "index": 1,
        "request_id": "req-1",
    }
    assert "window 1" in answer["error"] and "yesterday" in answer["error"]


def test_direct_answer_over_6mb_is_413_not_gzip(service: Service) -> None:
    answer = handle_event(WHOLE_DAY_40HZ, LocalContext(), service=service)
    assert isinstance(answer, dict) and answer["status"] == 413
    assert "HTTP API" in answer["error"]


def test_proxy_answer_over_6mb_gzipped_is_measured_in_base64(service: Service) -> None:
    # The whole 40 Hz day gzips to ~5.4 MB: it would pass raw over HTTP, but base64 in a
    # Lambda answer makes it ~7.3 MB, over Lambda's 6 MB.
    ev = event("apigw-http-v2")
    ev["body"] = json.dumps(WHOLE_DAY_40HZ)
    ev["headers"]["accept-encoding"] = "gzip, deflate, br"
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 413, answer["body"][:300]
    assert "gzipped answer" in json.loads(answer["body"])["error"]
    assert len(json.dumps(answer)) < 6 * 1024 * 1024


def test_proxy_gzip_answer_within_limit(service: Service, shared_data: Path) -> None:
    two_hours = {"Windows": [{**WHOLE_DAY_40HZ["Windows"][0], "Endtime": "2022-01-02T02:00:00"}]}
    ev = event("apigw-rest-v1")
    ev["body"] = json.dumps(two_hours)
    ev["headers"]["Accept-Encoding"] = "gzip"
    ev["multiValueHeaders"]["Accept-Encoding"] = ["gzip"]
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert len(json.dumps(answer)) <= 6 * 1024 * 1024
    [window] = json.loads(proxy_body(answer))
    [expected] = tutorial_answer(shared_data, "scedc-pds", two_hours)
    assert window["data"] == expected["data"]


@pytest.mark.parametrize("name", ["apigw-rest-v1", "apigw-http-v2", "function-url", "alb"])
def test_proxy_errors_in_every_shape(name: str, service: Service) -> None:
    ev = event(name)
    ev["body"], ev["isBase64Encoded"] = '{"Windows": [{"Network": "CI"}]}', False
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["field"] == "Station"
    ev["body"], ev["isBase64Encoded"] = "not base64!", True
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 400 and "base64" in json.loads(answer["body"])["error"]


def test_proxy_methods(service: Service) -> None:
    ev = event("apigw-http-v2")
    ev["requestContext"]["http"]["method"] = "GET"
    ev["rawPath"] = "/default/health"
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "ok"
    rest = event("apigw-rest-v1")
    rest["httpMethod"] = "DELETE"
    answer = handle_event(rest, LocalContext(), service=service)
    assert answer["statusCode"] == 405 and answer["headers"]["Allow"] == "GET, POST"
    rest["httpMethod"], rest["path"] = "GET", "/elsewhere"
    assert handle_event(rest, LocalContext(), service=service)["statusCode"] == 404


def test_fdsn_dataselect_through_the_lambda(service: Service, shared_data) -> None:
    """FDSN requests routed to the function (REST API with a stage) are answered by the HTTP
    app: the archive's own records, base64 in the proxy answer, as ObsPy reads them."""
    import base64

    from obspy import UTCDateTime, read

    from seiswindow import Window
    from support.oracle import oracle

    rest = event("apigw-rest-v1")
    rest["httpMethod"], rest["path"] = "POST", "/prod/fdsnws/dataselect/1/query"
    rest["body"] = "CI WBM -- LHZ 2022-01-01T23:59:00 2022-01-02T00:01:00\n"
    rest["isBase64Encoded"] = False
    rest["queryStringParameters"] = rest["multiValueQueryStringParameters"] = None
    answer = handle_event(rest, LocalContext(), service=service)
    assert answer["statusCode"] == 200, answer["body"][:300]
    assert answer["isBase64Encoded"] and answer["headers"]["Content-Type"] == "application/vnd.fdsn.mseed"
    stream = read(io.BytesIO(base64.b64decode(answer["body"])))
    stream.merge().trim(UTCDateTime("2022-01-01T23:59:00"), UTCDateTime("2022-01-02T00:01:00"))
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-01T23:59:00", "2022-01-02T00:01:00")
    files = sorted((shared_data / "scedc-pds").glob("continuous_waveforms/2022/*/CIWBM__LHZ___*.ms"))
    expected = oracle(files, window)
    assert len(stream) == 1 and (stream[0].data == expected[0].data).all()
    rest["httpMethod"], rest["path"], rest["body"] = "GET", "/prod/fdsnws/dataselect/1/version", None
    answer = handle_event(rest, LocalContext(), service=service)
    assert answer["statusCode"] == 200 and answer["body"].strip() == "1.1.0"


def test_event_shapes_are_told_apart() -> None:
    kinds = {
        name: parse_event(event(name)) for name in ["apigw-rest-v1", "apigw-http-v2", "function-url", "alb"]
    }
    assert {k: v.kind for k, v in kinds.items() if v} == {
        "apigw-rest-v1": "rest",
        "apigw-http-v2": "http",
        "function-url": "url",
        "alb": "alb",
    }
    assert parse_event(event("direct")) is None
    assert parse_event([REQUEST["Windows"][0]]) is None
    alb = event("alb")
    alb["queryStringParameters"] = {"segments": "tr%75e"}  # ALB leaves the query URL-encoded
    parsed = parse_event(alb)
    assert parsed is not None and parsed.query["segments"] == "true"


def test_invoke_as_the_emulator(service: Service) -> None:
    status, body = invoke(json.dumps(REQUEST).encode(), service=service)
    assert status == 200 and isinstance(json.loads(body), list)
    status, body = invoke(b"{not json", service=service, request_id="r")
    doc = json.loads(body)
    assert status == 400
    assert doc["errorType"] == "Runtime.UnmarshalError" and doc["requestId"] == "r"
    assert doc["errorMessage"].startswith("Unable to unmarshal input:")
    status, body = invoke(json.dumps({"Windows": []}).encode(), service=service)
    assert status == 400 and json.loads(body)["field"] == "Windows"


def test_direct_event_as_a_json_string(service: Service) -> None:
    answer = handle_event(json.dumps(REQUEST), LocalContext(), service=service)
    assert isinstance(answer, list) and len(answer) == len(REQUEST["Windows"])


def test_import_path_has_neither_obspy_nor_fastapi() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import seiswindow.aws; "
        "print(round((time.perf_counter() - t) * 1000)); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'obspy', 'fastapi', 'starlette', 'uvicorn', 'pydantic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    millis, heavy = out.stdout.split("\n")[:2]
    assert heavy == "[]", heavy
    cumulative = {
        line.split("|")[2].strip(): int(line.split("|")[1])
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and line.split("|")[1].strip().isdigit()
    }
    print(
        f"import seiswindow.aws: {millis} ms wall, {cumulative.get('seiswindow.aws', 0) / 1000:.0f} ms cumulative"
    )
    assert "seiswindow.aws" in cumulative


def test_base64_request_body_of_the_function_url(service: Service) -> None:
    ev = event("function-url")
    assert json.loads(base64.b64decode(ev["body"])) == REQUEST


@pytest.mark.parametrize("name", ["apigw-rest-v1", "apigw-http-v2", "function-url", "alb"])
@pytest.mark.parametrize("flag", ["false", "False", " true "])
def test_is_base64_encoded_as_a_string_means_what_it_says(
    name: str, flag: str, service: Service, shared_data: Path
) -> None:
    ev = event(name)
    text = json.dumps(REQUEST)
    encoded = flag.strip().lower() == "true"
    ev["body"] = base64.b64encode(text.encode()).decode() if encoded else text
    ev["isBase64Encoded"] = flag
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 200, answer["body"][:300]
    assert_tutorial_answer(json.loads(proxy_body(answer)), tutorial_answer(shared_data, "scedc-pds", REQUEST))


@pytest.mark.parametrize("flag", [1, 0, "yes", "", [], {"b": True}])
def test_is_base64_encoded_neither_boolean_nor_true_false_is_a_400(flag: object, service: Service) -> None:
    ev = event("apigw-http-v2")
    ev["body"], ev["isBase64Encoded"] = json.dumps(REQUEST), flag
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 400
    doc = json.loads(answer["body"])
    assert doc["field"] == "isBase64Encoded" and repr(flag) in doc["error"]


@pytest.mark.parametrize("name", ["apigw-rest-v1", "apigw-http-v2", "function-url", "alb"])
def test_a_body_given_as_a_json_object_is_the_request(name: str, service: Service, shared_data: Path) -> None:
    # A hand-written test event ("body": {"Windows": [...]}) is read as the request itself.
    ev = event(name)
    ev["body"], ev["isBase64Encoded"] = REQUEST, False
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 200, answer["body"][:300]
    assert_tutorial_answer(json.loads(proxy_body(answer)), tutorial_answer(shared_data, "scedc-pds", REQUEST))
    # ... but it cannot claim to be base64.
    ev["isBase64Encoded"] = True
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 400
    doc = json.loads(answer["body"])
    assert doc["field"] == "isBase64Encoded" and "JSON value" in doc["error"]
