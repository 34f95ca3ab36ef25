"""One place maps errors to HTTP status (``seiswindow.errors.http_status``), for any
exception, and the service answers every failure through it."""

from __future__ import annotations

import json

import pytest

from seiswindow.errors import (
    ArchiveError,
    ConfigError,
    DataError,
    LimitExceeded,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchRoute,
    RequestError,
    http_status,
)
from seiswindow.service import Service


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (LimitExceeded("big"), 413),
        (RequestError("bad", field="Station", index=0), 400),
        (NoSuchKey("a/key"), 404),
        (NoSuchRoute("no such resource: /x"), 404),
        (MethodNotAllowed("no", allow=("GET",)), 405),
        (ArchiveError("down"), 502),
        (DataError("corrupt"), 500),
        (ConfigError("wrong"), 500),
        (RuntimeError("anything else"), 500),
        (KeyError("x"), 500),
    ],
)
def test_http_status(error: BaseException, status: int) -> None:
    assert http_status(error) == status


def test_failure_answers(service: Service) -> None:
    bad = service.failure(RequestError("bad", field="Station", index=2), request_id="r1")
    assert bad.status == 400 and bad.headers["X-Request-Id"] == "r1"
    assert json.loads(bad.body) == {
        "status": 400,
        "error": "window 2, field 'Station': bad",
        "field": "Station",
        "index": 2,
        "request_id": "r1",
    }
    refused = service.failure(
        MethodNotAllowed("method PUT not allowed", allow=("GET",)), headers={"Allow": "GET"}
    )
    assert refused.status == 405 and refused.headers["Allow"] == "GET"
    assert json.loads(refused.body)["error"] == "method PUT not allowed"
    hidden = service.failure(RuntimeError("secret"))
    assert hidden.status == 500 and json.loads(hidden.body)["error"] == "internal error"
