"""Lambda events: the HTTP request inside an API Gateway, Function URL or ALB event.

Event shapes, told apart as AWS documents them:

- **API Gateway REST API** (payload 1.0: ``httpMethod``, ``path``, ``headers``,
  ``multiValueHeaders``, ``body``, ``isBase64Encoded``) and **Application Load Balancer**
  (the same, with ``requestContext.elb``; its query string still URL-encoded);
- **HTTP API** (payload 2.0: ``version``, ``routeKey``, ``rawPath``,
  ``requestContext.http``) and **Lambda Function URL** (the 2.0 shape,
  ``requestContext.domainName`` with ``.lambda-url.``);
- anything else is a **direct invocation** (:func:`parse_event` says None): the event is
  the request itself.

``isBase64Encoded`` is a boolean, or the string ``"true"`` or ``"false"`` (read as what it
says); anything else is a problem told as a 400 when the body is needed. A body that is a
JSON value instead of a string (a hand-written ``"body": {"Windows": [...]}``) is the
request itself (and cannot be base64).
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import RequestError

__all__ = ["HttpEvent", "parse_event"]


@dataclass(frozen=True, slots=True)
class HttpEvent:
    """The HTTP request inside a proxy event.

    ``kind`` is ``rest`` (API Gateway REST API), ``http`` (HTTP API), ``url`` (Function
    URL) or ``alb``; header names are lower-cased; repeated values are joined by commas.
    ``body_problem`` says why the body cannot be read (a bad ``isBase64Encoded``), told
    as a 400 when the body is needed.
    """

    kind: str
    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: str | None
    base64_body: bool
    multi_value: bool = False
    body_problem: str = ""

    def body_bytes(self) -> bytes:
        """The request body.

        Raises:
            RequestError: the body claims to be base64 and is not, or ``isBase64Encoded``
                is not a boolean.
        """
        if self.body_problem:
            raise RequestError(self.body_problem, field="isBase64Encoded")
        if self.body is None:
            return b""
        if self.base64_body:
            try:
                return base64.b64decode(self.body, validate=True)
            except (binascii.Error, ValueError):
                raise RequestError(
                    "the body is marked base64 but is not valid base64", field="body"
                ) from None
        return self.body.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class _Body:
    """The body of a proxy event as it came: text, whether it is base64, what is wrong."""

    text: str | None
    base64: bool
    problem: str = ""


def parse_event(event: object) -> HttpEvent | None:
    """The HTTP request of an API Gateway, Function URL or ALB event; None for any other
    event (a direct invocation)."""
    if not isinstance(event, Mapping):
        return None
    context = _mapping(event.get("requestContext"))
    if event.get("version") == "2.0" and isinstance(context.get("http"), Mapping):
        return _payload_v2(event, context)
    if "httpMethod" in event:
        return _payload_v1(event, context)
    return None


# -- the two payload versions ----------------------------------------------------------


def _payload_v2(event: Mapping[str, Any], context: Mapping[str, Any]) -> HttpEvent:
    """An HTTP API or Function URL event (payload 2.0)."""
    http = context["http"]
    domain = str(context.get("domainName", ""))
    body = _event_body(event)
    return HttpEvent(
        kind="url" if ".lambda-url." in domain else "http",
        method=str(http.get("method", "")).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        headers=_lower(_single(event.get("headers"))),
        query=_single(event.get("queryStringParameters")),
        body=body.text,
        base64_body=body.base64,
        body_problem=body.problem,
    )


def _payload_v1(event: Mapping[str, Any], context: Mapping[str, Any]) -> HttpEvent:
    """A REST API or ALB event (payload 1.0)."""
    alb = "elb" in context
    multi = isinstance(event.get("multiValueHeaders"), Mapping)
    headers = _multi(event.get("multiValueHeaders"), sep=", ") if multi else _single(event.get("headers"))
    body = _event_body(event)
    return HttpEvent(
        kind="alb" if alb else "rest",
        method=str(event.get("httpMethod", "")).upper(),
        path=str(event.get("path") or "/"),
        headers=_lower(headers),
        query=_v1_query(event, url_encoded=alb),
        body=body.text,
        base64_body=body.base64,
        multi_value=alb and multi,
        body_problem=body.problem,
    )


def _v1_query(event: Mapping[str, Any], *, url_encoded: bool) -> dict[str, str]:
    """The query of a 1.0 event: a repeated parameter's last value wins; the load
    balancer passes the query string as it came, still URL-encoded."""
    multi_query = event.get("multiValueQueryStringParameters")
    if isinstance(multi_query, Mapping):
        query = {str(k): str(v[-1]) for k, v in multi_query.items() if isinstance(v, list) and v}
    else:
        query = _single(event.get("queryStringParameters"))
    if url_encoded:
        query = {urllib.parse.unquote_plus(k): urllib.parse.unquote_plus(v) for k, v in query.items()}
    return query


# -- the parts -------------------------------------------------------------------------


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _single(values: object) -> dict[str, str]:
    """``headers``/``queryStringParameters`` (one value each) as a plain dict."""
    if not isinstance(values, Mapping):
        return {}
    return {str(k): str(v) for k, v in values.items() if v is not None}


def _multi(values: object, *, sep: str) -> dict[str, str]:
    """``multiValue...`` (a list per name) joined into one value per name."""
    if not isinstance(values, Mapping):
        return {}
    return {str(k): sep.join(str(x) for x in v) for k, v in values.items() if isinstance(v, list) and v}


def _base64_flag(flag: object) -> tuple[bool, str]:
    """``(base64, problem)`` of ``isBase64Encoded``: a boolean in AWS's events; the strings
    ``"true"`` and ``"false"`` (hand-written events) mean what they say, anything else is a
    problem (``bool("false")`` would be true)."""
    if flag is None or isinstance(flag, bool):
        return bool(flag), ""
    if isinstance(flag, str) and flag.strip().lower() in ("true", "false"):
        return flag.strip().lower() == "true", ""
    return False, f"expected true or false, got {flag!r}"


def _event_body(event: Mapping[str, Any]) -> _Body:
    """The body of a proxy event. A body that is a JSON value rather than a string
    (``"body": {"Windows": [...]}``, hand-written) is the request itself."""
    encoded, problem = _base64_flag(event.get("isBase64Encoded"))
    raw = event.get("body")
    if raw is None or isinstance(raw, str):
        return _Body(raw, encoded, problem)
    try:
        text = orjson.dumps(raw).decode()
    except orjson.JSONEncodeError as exc:
        return _Body(None, False, f"the body is neither a string nor a JSON value: {exc}")
    if encoded:
        problem = "the body is a JSON value, not a string, so it cannot be base64; set it false"
    return _Body(text, False, problem)
