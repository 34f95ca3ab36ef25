"""The handler the image runs answers the recorded events of ``deploy/aws/events`` (the ones
``make invoke-local`` sends) in a fresh process, as a cold Lambda would, and it answers
every route the template sends it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import EVENTS, REPO, dockerfile_cmd, load_template

from seiswindow.aws import LocalContext, handle_event
from seiswindow.config import Settings, open_service
from seiswindow.model import parse_windows

#: Runs in a new interpreter: resolve the Dockerfile's CMD the way the Lambda runtime
#: does (module path, attribute), call it once per event, print the answers as JSON.
_COLD_START = """
import importlib, json, sys
from seiswindow.aws import LocalContext
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
answers = {}
for path in sys.argv[2:]:
    with open(path) as f:
        answers[path] = handler(json.load(f), LocalContext(aws_request_id="recorded"))
print(json.dumps(answers))
"""


def _environment(archive: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SEISWINDOW_")}
    return {**keep, "SEISWINDOW_ARCHIVE": str(archive)}


@pytest.fixture(scope="module")
def cold_answers(shared_data: Path) -> dict[str, Any]:
    """The answers of a fresh process to every recorded event, on the shared SCEDC files."""
    (handler,) = dockerfile_cmd()
    paths = sorted(str(p) for p in EVENTS.glob("*.json"))
    result = subprocess.run(
        [sys.executable, "-c", _COLD_START, handler, *paths],
        capture_output=True,
        text=True,
        env=_environment(shared_data / "scedc-pds"),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers: dict[str, Any] = json.loads(result.stdout)
    return {Path(path).name: answer for path, answer in answers.items()}


def test_direct_invocation_answers_the_tutorials_list(cold_answers: dict[str, Any]) -> None:
    request = json.loads((EVENTS / "request.json").read_text())
    answer = cold_answers["request.json"]
    assert isinstance(answer, list) and len(answer) == len(request["Windows"])
    for window, asked in zip(answer, parse_windows(request), strict=True):
        assert (window["network"], window["station"], window["channel"]) == (
            asked.network,
            asked.station,
            asked.channel,
        )
        assert window["status"] == "ok", window["message"]
        expected = round((asked.end - asked.start) * window["sampling_rate"] / 1e9) + 1
        assert len(window["data"]) == expected and None not in window["data"]


def test_http_api_event_answers_the_same_list(cold_answers: dict[str, Any]) -> None:
    answer = cold_answers["http-api-timewindows.json"]
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("application/json")
    body = answer["body"]
    if answer["isBase64Encoded"]:
        body = base64.b64decode(body).decode()
    assert json.loads(body) == cold_answers["request.json"]


def test_health_event_names_the_configured_archive(cold_answers: dict[str, Any], shared_data: Path) -> None:
    answer = cold_answers["http-api-health.json"]
    assert answer["statusCode"] == 200
    archive = json.loads(answer["body"])["archive"]["url"]
    assert Path(archive).resolve() == (shared_data / "scedc-pds").resolve()


def test_events_are_the_shapes_lambda_sends() -> None:
    request = json.loads((EVENTS / "request.json").read_text())
    assert set(request) == {"Windows"}
    for window in request["Windows"]:
        assert set(window) == {"Network", "Station", "Channel", "Location", "Starttime", "Endtime"}
    for path in EVENTS.glob("http-api-*.json"):
        event = json.loads(path.read_text())
        method, route = event["routeKey"].split(" ", 1)
        assert event["version"] == "2.0" and event["requestContext"]["http"]["method"] == method
        assert event["rawPath"] == route == event["requestContext"]["http"]["path"]


# -- every route of the template reaches an answer of the handler ------------------------

#: A concrete request for each route of the template ({proxy+} filled in).
_ROUTE_REQUESTS = {
    ("POST", "/timewindows"): ("/timewindows", (EVENTS / "request.json").read_text()),
    ("GET", "/health"): ("/health", None),
    ("GET", "/limits"): ("/limits", None),
    ("GET", "/fdsnws/{proxy+}"): ("/fdsnws/dataselect/1/version", None),
    ("POST", "/fdsnws/{proxy+}"): (
        "/fdsnws/dataselect/1/query",
        "CI WBM -- LHZ 2022-01-01T23:59:00 2022-01-02T00:01:00\n",
    ),
    ("GET", "/irisws/{proxy+}"): ("/irisws/timeseries/1/version", None),
}


def _template_routes() -> list[tuple[str, str]]:
    events = load_template()["Resources"]["Function"]["Properties"]["Events"]
    return sorted((e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values())


def _http_api_event(method: str, path: str, body: str | None, route: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "http-api-health.json").read_text())
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    if body is not None:
        event["headers"]["content-type"] = "text/plain" if "/fdsnws/" in path else "application/json"
        event["body"] = body
    return event


def test_route_table_covers_the_template() -> None:
    assert sorted(_ROUTE_REQUESTS) == _template_routes()


@pytest.mark.parametrize(
    "route",
    list(_ROUTE_REQUESTS),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_handler_answers_each_template_route(route: tuple[str, str], shared_data: Path) -> None:
    method, template_path = route
    path, body = _ROUTE_REQUESTS[route]
    service = open_service(Settings(archive=str(shared_data / "scedc-pds")))
    try:
        answer = handle_event(
            _http_api_event(method, path, body, template_path), LocalContext(), service=service
        )
    finally:
        service.close()
    assert answer["statusCode"] == 200, answer["body"][:500]
    if path.startswith("/fdsnws/dataselect/1/query"):
        assert answer["isBase64Encoded"] and answer["headers"]["Content-Type"] == "application/vnd.fdsn.mseed"
