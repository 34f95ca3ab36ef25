"""Lambda events read into the HTTP request they carry (``seiswindow.aws.events``)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from service_helpers import REQUEST, event

from seiswindow.aws.events import HttpEvent, parse_event
from seiswindow.errors import RequestError


def _parsed(ev: dict[str, Any]) -> HttpEvent:
    parsed = parse_event(ev)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize("ev", [None, [], "text", {"Windows": []}, {"version": "2.0"}])
def test_other_events_are_direct_invocations(ev: object) -> None:
    assert parse_event(ev) is None


def test_payload_v2_of_the_http_api_and_a_function_url() -> None:
    http = _parsed(event("apigw-http-v2"))
    assert http.kind == "http" and http.method == "POST" and not http.multi_value
    assert all(name == name.lower() for name in http.headers)
    url = event("function-url")
    url["requestContext"]["domainName"] = "abc.lambda-url.us-west-2.on.aws"
    url["rawPath"] = ""
    parsed = _parsed(url)
    assert parsed.kind == "url" and parsed.path == url["requestContext"]["http"]["path"]


def test_payload_v1_headers_and_query() -> None:
    rest = event("apigw-rest-v1")
    rest["multiValueHeaders"] = {"Accept": ["application/json", "text/plain"], "X-Empty": []}
    rest["multiValueQueryStringParameters"] = {"format": ["miniseed", "json"]}
    http = _parsed(rest)
    assert http.kind == "rest" and not http.multi_value
    assert http.headers == {"accept": "application/json, text/plain"}
    assert http.query == {"format": "json"}  # a repeated parameter: the last one wins
    rest["multiValueHeaders"] = rest["multiValueQueryStringParameters"] = None
    rest["headers"], rest["queryStringParameters"] = {"Host": "h", "X-None": None}, {"segments": "true"}
    http = _parsed(rest)
    assert http.headers == {"host": "h"} and http.query == {"segments": "true"}


def test_alb_query_is_url_decoded_and_multi_value_kept() -> None:
    alb = event("alb-multivalue")
    alb["multiValueQueryStringParameters"] = {"se%67ments": ["tr%75e"]}
    http = _parsed(alb)
    assert http.kind == "alb" and http.multi_value and http.query == {"segments": "true"}


@pytest.mark.parametrize(("flag", "encoded"), [(None, False), (False, False), (True, True), (" TRUE ", True)])
def test_base64_flag(flag: object, encoded: bool) -> None:
    rest = event("apigw-rest-v1")
    text = '{"Windows": []}'
    rest["body"] = base64.b64encode(text.encode()).decode() if encoded else text
    rest["isBase64Encoded"] = flag
    http = _parsed(rest)
    assert http.base64_body is encoded and http.body_bytes() == text.encode()


def test_bad_base64_flag_or_body_is_told_when_the_body_is_read() -> None:
    rest = event("apigw-rest-v1")
    rest["isBase64Encoded"] = "yes"
    with pytest.raises(RequestError, match="expected true or false") as caught:
        _parsed(rest).body_bytes()
    assert caught.value.field == "isBase64Encoded"
    rest["isBase64Encoded"], rest["body"] = True, "!!!"
    with pytest.raises(RequestError, match="not valid base64"):
        _parsed(rest).body_bytes()


def test_a_json_value_body_is_the_request() -> None:
    rest = event("apigw-rest-v1")
    rest["body"], rest["isBase64Encoded"] = REQUEST, False
    assert _parsed(rest).body_bytes().startswith(b'{"Windows":')
    rest["isBase64Encoded"] = True
    with pytest.raises(RequestError, match="cannot be base64"):
        _parsed(rest).body_bytes()
    rest["body"] = {"n": float("nan"), "big": 1 << 70}
    with pytest.raises(RequestError, match="neither a string nor a JSON value"):
        _parsed(rest).body_bytes()


def test_no_body() -> None:
    rest = event("apigw-rest-v1")
    rest["body"] = None
    assert _parsed(rest).body_bytes() == b""
