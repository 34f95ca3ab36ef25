"""Route a Lambda event to its answer: the windows service, its description, or FDSN.

- a **direct invocation** (the event is the request, ``{"Windows": [...]}``, or that
  request as a JSON string) is answered with the answer's list; a bad request with the
  error object the HTTP API sends with its 4xx (the invocation itself succeeds: raising
  would report a function error for what is the caller's mistake);
- a **proxy event** (:func:`~.events.parse_event`): ``POST`` asks for windows (options
  from the query and the negotiated ``Accept``/``Accept-Encoding``), ``GET``/``HEAD``
  ``.../health`` and ``.../limits`` describe the service, another path is 404, another
  method 405 (with ``Allow``); paths with ``/fdsnws/`` are the FDSN web services
  (:mod:`.fdsn`).

Every failure is answered through :meth:`Service.failure`, so its status comes from
:func:`seiswindow.errors.http_status`.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import MethodNotAllowed, NoSuchRoute, RequestError, SeisWindowError
from ..negotiate import negotiate
from ..service import Response, Service, new_request_id
from .envelope import DIRECT, PROXY, direct_answer, proxy_answer
from .events import HttpEvent, parse_event
from .fdsn import answer_fdsn, is_fdsn

__all__ = ["handle_event"]

#: The methods a proxy event may use outside the FDSN paths.
_ALLOW = ("GET", "POST")


def handle_event(event: Any, context: Any, *, service: Service) -> Any:
    """Answer one Lambda event with ``service`` (the handler with its service given, so
    the local HTTP app and tests use their own)."""
    request_id = str(getattr(context, "aws_request_id", "") or new_request_id())
    http = parse_event(event)
    if http is None:
        return direct_answer(_direct(event, service, request_id))
    try:
        response = _route(http, service, request_id, context)
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


def _direct(event: Any, service: Service, request_id: str) -> Response:
    try:
        body = _direct_body(event)
    except RequestError as exc:
        return service.failure(exc, request_id=request_id)
    return service.timewindows(body, transport=DIRECT, request_id=request_id)


def _route(http: HttpEvent, service: Service, request_id: str, context: Any) -> Response:
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
        return service.timewindows(
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
