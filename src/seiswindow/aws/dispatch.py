"""Route a Lambda event to its answer: the windows service, its description, or FDSN.

- a **direct invocation** (the event is the request, ``{"Windows": [...]}``, or that
  request as a JSON string) is answered with the answer's list; a bad request with the
  error object the HTTP API sends with its 4xx (the invocation itself succeeds: raising
  would report a function error for what is the caller's mistake);
- a **proxy event** (:func:`~.events.parse_event`): ``POST`` asks for windows (options
  from the query and the negotiated ``Accept``/``Accept-Encoding``), ``GET``/``HEAD``
  ``.../health`` and ``.../limits`` describe the service, another path is 404, another
  method 405 (with ``Allow``); paths with ``/fdsnws/`` are the FDSN web services and
  paths with ``/irisws/`` IRIS's timeseries (:mod:`.fdsn`).

Every failure is answered through :meth:`Service.failure`, so its status comes from
:func:`seiswindow.errors.http_status`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import MethodNotAllowed, NoSuchRoute, RequestError, SeisWindowError
from ..negotiate import negotiate
from ..service import WHOLE, Response, Service, Transport, new_request_id
from .envelope import DIRECT, PROXY, direct_answer, proxy_answer
from .events import HttpEvent, parse_event
from .fdsn import answer_fdsn, is_fdsn

if TYPE_CHECKING:
    from .results import ResultsBucket

__all__ = ["handle_event"]

#: The methods a proxy event may use outside the FDSN paths.
_ALLOW = ("GET", "POST")


def handle_event(event: Any, context: Any, *, service: Service, results: ResultsBucket | None = None) -> Any:
    """Answer one Lambda event with ``service`` (the handler with its service given, so
    the local HTTP app and tests use their own); with ``results``, answers too large for
    Lambda are handed over through that bucket instead of 413 (:mod:`.results`)."""
    request_id = str(getattr(context, "aws_request_id", "") or new_request_id())
    http = parse_event(event)
    if http is None:
        return direct_answer(_direct(event, service, request_id, results))
    try:
        response = _route(http, service, request_id, context, results)
    except SeisWindowError as exc:
        allow = exc.allow if isinstance(exc, MethodNotAllowed) else ()
        headers = {"Allow": ", ".join(allow)} if allow else None
        response = service.failure(exc, request_id=request_id, headers=headers)
    return proxy_answer(response, http)


def _direct_body(event: Any) -> bytes:
    """The request of a direct invocation, as JSON bytes.

    Raises:
        RequestError: the event is not a JSON value.
    """
    if isinstance(event, str):  # a payload that is the request as a JSON string
        return event.encode()
    if isinstance(event, bytes):
        return event
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError as exc:
        raise RequestError(f"the event is not JSON: {exc}") from None


def _direct(event: Any, service: Service, request_id: str, results: ResultsBucket | None) -> Response:
    try:
        body = _direct_body(event)
    except RequestError as exc:
        return service.failure(exc, request_id=request_id)
    return _windows(service, results, body, transport=DIRECT, request_id=request_id)


def _windows(
    service: Service, results: ResultsBucket | None, body: bytes, *, transport: Transport, **options: Any
) -> Response:
    """The answer to a request for windows; one too large for Lambda goes through ``results``.

    The answer is first made for Lambda; only when that is 413 for its size is it made again
    bounded by the limits alone and stored (reading twice is the price of the rare large
    answer, paid by no other).
    """
    if results is None:
        return service.timewindows(body, transport=transport, **options)
    prepared = service.prepare(body, transport=transport, **options)
    if isinstance(prepared, Response):
        return prepared
    response = service.answer(prepared)
    if response.status != 413:
        return response
    whole = service.answer(dataclasses.replace(prepared, transport=WHOLE))
    if whole.status != 200:
        return whole
    try:
        return results.hand_over(whole, request_id=prepared.request_id)
    except Exception as exc:  # botocore's errors have no common base worth naming here
        return service.failure(exc, request_id=prepared.request_id)


def _route(
    http: HttpEvent, service: Service, request_id: str, context: Any, results: ResultsBucket | None = None
) -> Response:
    """The answer to a proxy event.

    Raises:
        RequestError: the body cannot be read.
        NoSuchRoute: no such resource.
        MethodNotAllowed: not with this method.
    """
    if is_fdsn(http.path):
        return answer_fdsn(http, service, context)
    if http.method == "POST":
        asked = negotiate(http.headers)
        return _windows(
            service,
            results,
            http.body_bytes(),
            query=http.query,
            default_format=asked.format,
            gzip=asked.gzip,
            transport=PROXY,
            request_id=request_id,
        )
    if http.method in ("GET", "HEAD"):
        path = http.path.rstrip("/")
        if path.endswith("/health"):
            return service.health(request_id=request_id)
        if path.endswith("/limits"):
            return service.limits_response(request_id=request_id)
        raise NoSuchRoute(f"no such resource: {http.path}")
    raise MethodNotAllowed(f"method {http.method} not allowed; POST the windows", allow=_ALLOW)
