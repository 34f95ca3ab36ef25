"""One request, every front door: the Lambda handler (direct invocation and the recorded
API Gateway REST, HTTP API, Function URL and ALB events), the HTTP app's /timewindows and
its runtime-interface-emulator route, over real sockets, on the shared data in moto S3.
Every answer is the same, and equals what ObsPy (the tutorial's pipeline) gives."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_helpers import (
    REQUEST,
    assert_tutorial_answer,
    event,
    proxy_body,
    tutorial_answer,
)

from seiswindow.aws import LocalContext, handle_event
from seiswindow.http import INVOCATIONS_PATH
from seiswindow.service import Service

PROXY_EVENTS = ["apigw-rest-v1", "apigw-http-v2", "function-url", "alb"]


@pytest.fixture(scope="module")
def expected(shared_data: Path) -> list[dict[str, Any] | None]:
    return tutorial_answer(shared_data, "scedc-pds", REQUEST)


@pytest.fixture(scope="module")
def direct_answer(service: Service) -> list[dict[str, Any]]:
    answer = handle_event(event("direct"), LocalContext(), service=service)
    assert isinstance(answer, list)
    return answer


def test_direct_invocation_answers_the_tutorials_list(
    direct_answer: list[dict[str, Any]], expected: list[dict[str, Any] | None]
) -> None:
    assert_tutorial_answer(direct_answer, expected)
    statuses = [w["status"] for w in direct_answer]
    # WBM across midnight and THIS are whole; CCA whole; FOX2 starts late; BOM is absent.
    assert statuses == ["ok", "ok", "partial", "ok", "nodata"]
    fox2 = direct_answer[2]
    assert fox2["gaps"] and fox2["gaps"][0]["start"] == "2022-01-02T22:50:00.000000Z"
    assert fox2["gaps"][0]["samples"] > 0


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_proxy_events_answer_the_same(
    name: str, service: Service, direct_answer: list[dict[str, Any]]
) -> None:
    answer = handle_event(event(name), LocalContext(), service=service)
    assert set(answer) >= {"statusCode", "headers", "body", "isBase64Encoded"}
    assert answer["statusCode"] == 200, answer["body"][:500]
    assert answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(proxy_body(answer)) == direct_answer


def test_function_url_event_body_is_base64_decoded(service: Service) -> None:
    recorded = event("function-url")
    assert recorded["isBase64Encoded"] is True  # as recorded: the body is base64
    answer = handle_event(recorded, LocalContext(), service=service)
    assert answer["statusCode"] == 200
    assert len(json.loads(proxy_body(answer))) == len(REQUEST["Windows"])


def test_rest_event_with_a_base64_body(service: Service, direct_answer: list[dict[str, Any]]) -> None:
    ev = event("apigw-rest-v1")
    ev["body"] = base64.b64encode(ev["body"].encode()).decode()
    ev["isBase64Encoded"] = True
    answer = handle_event(ev, LocalContext(), service=service)
    assert json.loads(proxy_body(answer)) == direct_answer


def test_alb_answer_is_gzipped_base64_with_a_status_description(service: Service) -> None:
    recorded = event("alb")
    assert recorded["headers"]["accept-encoding"] == "gzip"  # as AWS's sample event has it
    answer = handle_event(recorded, LocalContext(), service=service)
    assert answer["statusDescription"] == "200 OK"
    assert answer["isBase64Encoded"] is True
    assert answer["headers"]["Content-Encoding"] == "gzip"
    assert base64.b64decode(answer["body"])[:2] == b"\x1f\x8b"


def test_alb_multivalue_headers_answered_as_multivalue(
    service: Service, direct_answer: list[dict[str, Any]]
) -> None:
    recorded = event("alb-multivalue")
    # segments=false&segments=true: the last value wins, as in the other shapes.
    assert recorded["multiValueQueryStringParameters"]["segments"] == ["false", "true"]
    answer = handle_event(recorded, LocalContext(), service=service)
    assert "headers" not in answer
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    windows = json.loads(proxy_body(answer))
    for ours, plain in zip(windows, direct_answer, strict=True):
        assert "data" not in ours
        joined = [x for seg in ours["segments"] for x in seg["data"]]
        assert joined == plain["data"]


def test_http_timewindows_answers_the_same(live_url: str, direct_answer: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{live_url}/timewindows", json=REQUEST, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == direct_answer


def test_http_invocations_route_answers_as_the_emulator(
    live_url: str, direct_answer: list[dict[str, Any]]
) -> None:
    # curl -d sends application/x-www-form-urlencoded; the emulator ignores it, so do we.
    r = httpx.post(
        f"{live_url}{INVOCATIONS_PATH}",
        content=json.dumps(REQUEST).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json() == direct_answer
    # Serialised as the Python runtime does (json.dumps separators).
    assert r.content.startswith(b'[{"network": "CI", "station": "WBM"')


def test_the_tutorials_curl_command(
    live_url: str, tmp_path: Path, direct_answer: list[dict[str, Any]]
) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is needed to run the tutorial's command")
    (tmp_path / "request.json").write_text(json.dumps(REQUEST, indent=4))
    subprocess.run(
        [
            curl,
            "-sS",
            "-X",
            "POST",
            "-d",
            "@request.json",
            f"{live_url}{INVOCATIONS_PATH}",
            "-o",
            "output.json",
        ],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    assert json.loads((tmp_path / "output.json").read_text()) == direct_answer


def test_an_api_gateway_event_posted_to_the_emulator_gets_a_proxy_answer(
    live_url: str, direct_answer: list[dict[str, Any]]
) -> None:
    r = httpx.post(f"{live_url}{INVOCATIONS_PATH}", json=event("apigw-http-v2"), timeout=60)
    assert r.status_code == 200
    answer = r.json()
    assert answer["statusCode"] == 200
    assert json.loads(proxy_body(answer)) == direct_answer


@pytest.mark.parametrize("path", ["/timewindows", INVOCATIONS_PATH])
def test_a_utf8_bom_is_accepted_at_both_routes(
    live_url: str, path: str, expected: list[dict[str, Any] | None]
) -> None:
    # Windows editors save request.json with a BOM; the runtime interface emulator reads it
    # (json.loads detects it), so /timewindows must too.
    body = b"\xef\xbb\xbf" + json.dumps(REQUEST, indent=4).encode()
    r = httpx.post(f"{live_url}{path}", content=body, timeout=60)
    assert r.status_code == 200, r.text[:300]
    assert_tutorial_answer(r.json(), expected)


def test_a_utf8_bom_is_accepted_in_a_proxy_event(
    service: Service, expected: list[dict[str, Any] | None]
) -> None:
    ev = event("apigw-http-v2")
    ev["body"] = "\ufeff" + json.dumps(REQUEST)
    answer = handle_event(ev, LocalContext(), service=service)
    assert answer["statusCode"] == 200, answer["body"][:300]
    assert_tutorial_answer(json.loads(proxy_body(answer)), expected)
