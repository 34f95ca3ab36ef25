"""The AWS Lambda entry point, ``seiswindow.aws.handler``, for every way Lambda is called.

Event shapes, told apart as AWS documents them:

- **direct invocation** (``aws lambda invoke``, the runtime interface emulator, a test
  event): the event is the request itself, ``{"Windows": [...]}``. The handler returns
  the answer's list, as the SCEDC tutorial's function does (the runtime serialises
  it). A bad request returns an *object* instead of a list, the same one the HTTP API
  sends with its 4xx: ``{"status": 400, "error": "window 0, field 'Station': ...",
  "field": "Station", "index": 0, "request_id": "..."}``; the invocation itself
  succeeds (raising would report a function error with a stack trace for what is the
  caller's mistake). A direct answer cannot be gzipped: past 6 MB it is that object
  with status 413.
- **API Gateway REST API** (payload 1.0: ``httpMethod``, ``path``, ``headers``,
  ``multiValueHeaders``, ``body``, ``isBase64Encoded``), **HTTP API** (payload 2.0:
  ``version``, ``routeKey``, ``rawPath``, ``requestContext.http``), **Lambda Function
  URL** (the 2.0 shape, ``requestContext.domainName`` ending in ``.on.aws``) and
  **Application Load Balancer** (``requestContext.elb``) events get a proxy answer
  ``{"statusCode", "headers", "body", "isBase64Encoded"}`` (ALB: plus
  ``statusDescription``, and ``multiValueHeaders`` when the target group sends them).
  ``POST`` asks for windows, ``GET .../health`` and ``GET .../limits`` describe the
  service, any other method is 405; paths with ``/fdsnws/`` are the FDSN web services,
  answered by the HTTP app (FastAPI is imported for those requests only). A base64 body
  is decoded. ``isBase64Encoded`` is a boolean, or the string ``"true"`` or ``"false"``
  (read as what it says); anything else is a 400 naming it. A body that is a JSON value
  instead of a string (a hand-written ``"body": {"Windows": [...]}``) is the request
  itself (and cannot be base64). A gzipped (``Accept-Encoding: gzip``, 1 KiB or more)
  or miniSEED answer goes base64-encoded. A REST API passes such bodies through only
  with binary media types configured (``*/*``).

The service (and so the S3 client and thread pools) is built once per container, at the
first event, from :meth:`Settings.from_env`, and reused by warm invocations. Neither
ObsPy nor FastAPI is imported on the path of requests for windows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import threading
import time
import urllib.parse
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from .config import Settings
from .encode import Envelope
from .errors import RequestError
from .service import Response, Service, new_request_id

__all__ = ["HttpEvent", "LocalContext", "default_service", "handle_event", "handler", "invoke", "parse_event"]

_SERVICE: Service | None = None
_SERVICE_LOCK = threading.Lock()


def default_service() -> Service:
    """The container's service, built on first use from the environment.

    Raises:
        ConfigError: the environment names an invalid archive or limits (the Lambda
            fails visibly rather than answering from a wrong archive).
    """
    global _SERVICE
    if _SERVICE is None:
        with _SERVICE_LOCK:
            if _SERVICE is None:
                _SERVICE = Service.from_settings(Settings.from_env())
    return _SERVICE


def handler(event: Any, context: Any) -> Any:
    """The Lambda handler (configure ``seiswindow.aws.handler``); see the module docstring.

    Raises:
        ConfigError: at the first event, when the environment is misconfigured.
    """
    return handle_event(event, context, service=default_service())


# -- events -----------------------------------------------------------------------------


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


def _event_body(event: Mapping[str, Any]) -> tuple[str | None, bool, str]:
    """``(body, base64, problem)`` of a proxy event.

    ``isBase64Encoded`` is a boolean in AWS's events; the strings ``"true"`` and ``"false"``
    (hand-written events) mean what they say, anything else is a problem (``bool("false")``
    would be true). A body that is a JSON value rather than a string (``"body":
    {"Windows": [...]}``, also hand-written) is the request itself.
    """
    flag = event.get("isBase64Encoded")
    problem = ""
    if flag is None or isinstance(flag, bool):
        encoded = bool(flag)
    elif isinstance(flag, str) and flag.strip().lower() in ("true", "false"):
        encoded = flag.strip().lower() == "true"
    else:
        encoded, problem = False, f"expected true or false, got {flag!r}"
    raw = event.get("body")
    if raw is None or isinstance(raw, str):
        return raw, encoded, problem
    try:
        body = orjson.dumps(raw).decode()
    except orjson.JSONEncodeError as exc:
        return None, False, f"the body is neither a string nor a JSON value: {exc}"
    if encoded:
        problem = "the body is a JSON value, not a string, so it cannot be base64; set it false"
    return body, False, problem


def parse_event(event: object) -> HttpEvent | None:
    """The HTTP request of an API Gateway, Function URL or ALB event; None for any other
    event (a direct invocation)."""
    if not isinstance(event, Mapping):
        return None
    context = event.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    body, encoded, problem = _event_body(event)
    http = context.get("http")
    if event.get("version") == "2.0" and isinstance(http, Mapping):
        domain = str(context.get("domainName", ""))
        return HttpEvent(
            kind="url" if ".lambda-url." in domain else "http",
            method=str(http.get("method", "")).upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            headers={k.lower(): v for k, v in _single(event.get("headers")).items()},
            query=_single(event.get("queryStringParameters")),
            body=body,
            base64_body=encoded,
            body_problem=problem,
        )
    if "httpMethod" not in event:
        return None
    alb = "elb" in context
    multi = isinstance(event.get("multiValueHeaders"), Mapping)
    headers = _multi(event.get("multiValueHeaders"), sep=", ") if multi else _single(event.get("headers"))
    multi_query = event.get("multiValueQueryStringParameters")
    if isinstance(multi_query, Mapping):  # a repeated parameter: the last one wins
        query = {str(k): str(v[-1]) for k, v in multi_query.items() if isinstance(v, list) and v}
    else:
        query = _single(event.get("queryStringParameters"))
    if alb:  # the load balancer passes the query string as it came, still URL-encoded
        query = {urllib.parse.unquote_plus(k): urllib.parse.unquote_plus(v) for k, v in query.items()}
    return HttpEvent(
        kind="alb" if alb else "rest",
        method=str(event.get("httpMethod", "")).upper(),
        path=str(event.get("path") or "/"),
        headers={k.lower(): v for k, v in headers.items()},
        query=query,
        body=body,
        base64_body=encoded,
        multi_value=alb and multi,
        body_problem=problem,
    )


def handle_event(event: Any, context: Any, *, service: Service) -> Any:
    """Answer one Lambda event with ``service`` (the handler with its service given, so
    the local HTTP app and tests use their own)."""
    request_id = str(getattr(context, "aws_request_id", "") or new_request_id())
    http = parse_event(event)
    if http is None:
        return _direct(event, service, request_id)
    return _proxy_answer(_route(http, service, request_id), http)


def _direct(event: Any, service: Service, request_id: str) -> Any:
    if isinstance(event, (str, bytes)):  # a payload that is the request as a JSON string
        body = event.encode() if isinstance(event, str) else event
    else:
        try:
            body = orjson.dumps(event)
        except orjson.JSONEncodeError as exc:
            return orjson.loads(
                service.error(400, f"the event is not JSON: {exc}", request_id=request_id).body
            )
    response = service.timewindows(body, envelope=Envelope.LAMBDA_DIRECT, request_id=request_id)
    return orjson.loads(response.body)


def _route(http: HttpEvent, service: Service, request_id: str) -> Response:
    if "/fdsnws/" in http.path:
        try:
            return _fdsn(http, service)
        except RequestError as exc:
            return service.error(400, str(exc), request_id=request_id, field=exc.field)
    if http.method == "POST":
        try:
            body = http.body_bytes()
        except RequestError as exc:
            return service.error(400, str(exc), request_id=request_id, field=exc.field)
        return service.timewindows(
            body,
            query=http.query,
            headers=http.headers,
            envelope=Envelope.LAMBDA_PROXY,
            request_id=request_id,
        )
    if http.method in ("GET", "HEAD"):
        path = http.path.rstrip("/")
        if path.endswith("/health"):
            return service.health(request_id=request_id)
        if path.endswith("/limits"):
            return service.limits_response(request_id=request_id)
        return service.error(404, f"no such resource: {http.path}", request_id=request_id)
    return service.error(
        405,
        f"method {http.method} not allowed; POST the windows",
        request_id=request_id,
        headers={"Allow": "GET, POST"},
    )


# -- FDSN web services, through the HTTP app ----------------------------------------------

_APPS: weakref.WeakKeyDictionary[Service, Any] = weakref.WeakKeyDictionary()
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/vnd.sun.wadl+xml")


def _fdsn_app(service: Service) -> Any:
    """The HTTP app on ``service``'s extractor, built at its first FDSN request (FastAPI is
    imported only then: requests for windows never pay for it)."""
    with _SERVICE_LOCK:
        app = _APPS.get(service)
        if app is None:
            from .http import create_app

            # FDSN answers are miniSEED, base64 in the proxy answer: 4 bytes per 3.
            limits = service.extractor.limits
            settings = Settings(
                archive=service.extractor.archive.url,
                limits=dataclasses.replace(limits, max_response_bytes=limits.max_response_bytes * 3 // 4),
            )
            app = _APPS[service] = create_app(settings, extractor=service.extractor)
        return app


def _fdsn(http: HttpEvent, service: Service) -> Response:
    """Answer an FDSN request by running the HTTP app for it, as one ASGI call.

    The part of the path before ``/fdsnws/`` (an API Gateway stage, a base path) becomes
    the ASGI ``root_path``, so URLs the app prints (WADL) carry it.
    """
    import asyncio

    root, _, rest = http.path.partition("/fdsnws/")
    query = urllib.parse.urlencode(dict(http.query))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": http.method,
        "scheme": "https",
        "path": f"{root}/fdsnws/{rest}",
        "raw_path": f"{root}/fdsnws/{rest}".encode(),
        "root_path": root,
        "query_string": query.encode(),
        # ASGI headers are bytes; API Gateway passes any UTF-8 a client sent.
        "headers": [
            (k.encode("utf-8", "replace"), v.encode("utf-8", "replace")) for k, v in http.headers.items()
        ],
        "server": (http.headers.get("host", "lambda"), 443),
        "client": ("127.0.0.1", 0),
    }
    request_body = http.body_bytes()
    status, headers, chunks = 500, {}, []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # the client stays connected until the answer is complete
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": request_body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", []):
                headers[name.decode("latin-1").title()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    asyncio.run(_fdsn_app(service)(scope, receive, send))
    media = headers.get("Content-Type", "")
    binary = not media.startswith(_TEXT_TYPES)
    return Response(status, headers, b"".join(chunks), base64=binary)


def _proxy_answer(response: Response, http: HttpEvent) -> dict[str, Any]:
    if response.base64:
        body = base64.b64encode(response.body).decode("ascii")
    else:
        body = response.body.decode("utf-8")
    answer: dict[str, Any] = {"statusCode": response.status}
    if http.kind == "alb":
        answer["statusDescription"] = f"{response.status} {HTTPStatus(response.status).phrase}"
    if http.multi_value:
        answer["multiValueHeaders"] = {k: [v] for k, v in response.headers.items()}
    else:
        answer["headers"] = dict(response.headers)
    answer["body"] = body
    answer["isBase64Encoded"] = response.base64
    return answer


# -- the local invoke path --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The parts of Lambda's context object a handler may read, for local invocations."""

    aws_request_id: str = field(default_factory=new_request_id)
    function_name: str = "function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:000000000000:function:function"
    deadline: float = field(default_factory=lambda: time.monotonic() + 900.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def invoke(payload: bytes, *, service: Service, request_id: str | None = None) -> tuple[int, bytes]:
    """Invoke the function with ``payload`` as the Lambda runtime interface emulator does
    at ``POST /2015-03-31/functions/function/invocations``: the payload is the event,
    the answer is the handler's return value serialised as the Python runtime does
    (``json.dumps`` separators and escapes).

    Returns:
        ``(status, body)``: 200, except where the emulator would answer 200 with an error
        inside: a payload that is not JSON is 400 with the runtime's
        ``Runtime.UnmarshalError`` object, and a bad request 4xx with the handler's error
        object (see the module docstring), so ``curl --fail`` notices.
    """
    context = LocalContext(aws_request_id=request_id or new_request_id())
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested too deep
        error = {
            "errorMessage": f"Unable to unmarshal input: {exc}",
            "errorType": "Runtime.UnmarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
        return 400, json.dumps(error).encode()
    result = handle_event(event, context, service=service)
    status = 200
    if isinstance(result, dict) and "error" in result and isinstance(result.get("status"), int):
        status = result["status"]
    return status, json.dumps(result).encode()
