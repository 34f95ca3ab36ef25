"""The HTTP app: a FastAPI app on one :class:`~seiswindow.service.Service`.

Routes:

- ``POST /timewindows``: the tutorial's request, answered by
  :meth:`seiswindow.service.Service.timewindows` (options ``?format=miniseed``,
  ``?segments=true``; ``Accept`` and ``Accept-Encoding: gzip`` read by
  :mod:`seiswindow.negotiate`);
- ``GET /health`` and ``GET /limits``: version, archive, limits;
- ``GET /docs`` and ``/openapi.json``: the API, with the tutorial's request as example;
- the FDSN web services of :mod:`seiswindow.fdsn`, when that package is present.

:mod:`seiswindow.http` adds the local Lambda invocation and serves the app; the Lambda
handler runs this app for FDSN paths (:mod:`seiswindow.aws.fdsn`). This module imports
neither.

Every request body, on every route, is at most :attr:`Service.max_body_bytes`
(:class:`BodyLimit`): 413 as soon as the body is known to be longer.

Unknown routes are 404, a wrong method 405 (with ``Allow``), both as JSON error
objects; nothing answers with a stack trace (statuses of failures come from
:func:`seiswindow.errors.http_status`). The app only moves bytes between the socket and
the service.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi import Response as HttpResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .config import Settings
from .encode import JSON_MEDIA_TYPE, MSEED_MEDIA_TYPE
from .errors import LimitExceeded, http_status
from .extract import Extractor
from .negotiate import negotiate
from .service import Response, Service

__all__ = ["TUTORIAL_REQUEST", "BodyLimit", "create_app", "error_responses", "send"]

#: The request of the SCEDC tutorial (``request.json``), the example of the API docs.
TUTORIAL_REQUEST: dict[str, Any] = {
    "Windows": [
        {
            "Network": "CI",
            "Station": "BOM",
            "Channel": "BHZ",
            "Location": "  ",
            "Starttime": "2024-01-01T00:00:00",
            "Endtime": "2024-01-01T00:05:00",
        },
        {
            "Network": "CI",
            "Station": "BOM",
            "Channel": "BHN",
            "Location": "  ",
            "Starttime": "2024-01-01T00:00:00",
            "Endtime": "2024-01-01T00:05:00",
        },
    ]
}

_CODE = {"type": "string", "pattern": "^[A-Za-z0-9]*$"}
_TIME = {"type": "string", "description": "ISO 8601, UTC (`2024-01-01T00:00:00`, `...Z`, fractions)"}
_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["Windows"],
    "properties": {
        "Windows": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["Network", "Station", "Channel", "Starttime", "Endtime"],
                "properties": {
                    "Network": {**_CODE, "maxLength": 2},
                    "Station": {**_CODE, "maxLength": 5},
                    "Channel": {**_CODE, "minLength": 3, "maxLength": 3},
                    "Location": {"type": "string", "description": "blank, spaces or `--` for none"},
                    "Starttime": _TIME,
                    "Endtime": _TIME,
                },
            },
        },
        "Segments": {"type": "boolean", "default": False, "description": "one object per segment"},
        "Format": {"type": "string", "enum": ["json", "miniseed"], "default": "json"},
    },
}
_WINDOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "network": {"type": "string"},
        "station": {"type": "string"},
        "channel": {"type": "string"},
        "delta": {"type": ["number", "null"]},
        "location": {"type": "string"},
        "starttime": {"type": "string"},
        "endtime": {"type": "string"},
        "sampling_rate": {"type": ["number", "null"]},
        "data": {"type": "array", "items": {"type": ["number", "null"]}},
        "status": {"type": "string", "enum": ["ok", "partial", "nodata", "error"]},
        "message": {"type": "string"},
        "gaps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "start": {"type": "string"},
                    "end": {"type": "string"},
                    "samples": {"type": "integer"},
                },
            },
        },
        "segments": {"type": "array", "items": {"type": "object"}},
    },
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "index": {"type": ["integer", "null"]},
        "request_id": {"type": "string"},
    },
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses: the JSON error object."""
    what = {
        400: "malformed request; the message names the window index and field",
        413: "over a limit (windows, window length, answer size); the message says what to do",
        500: "unexpected failure; quote the request id",
    }
    return {
        code: {"description": what[code], "content": {JSON_MEDIA_TYPE: {"schema": _ERROR_SCHEMA}}}
        for code in codes
    }


class _BodyTooLarge(LimitExceeded):
    """The request body is over the app's limit (raised by the body's ``receive``)."""


class BodyLimit:
    """ASGI middleware: refuse every request body over ``max_bytes``, whatever the route.

    The limit is checked while the body is read, not after: a declared ``Content-Length``
    over it fails the first read without reading anything, and a chunked body fails the
    read that takes it over. The failure is :class:`~seiswindow.errors.LimitExceeded`
    raised to whoever reads: a route that answers its own errors (FDSN error text) answers
    it; otherwise this middleware answers 413 with ``refuse``'s body. Any answer that starts
    before the body was read to its end (this limit, a route's own, a route that does not
    read) says ``Connection: close``, so the server does not drain the rest of the body to
    reuse the connection.

    Args:
        app: the ASGI app to guard.
        max_bytes: the largest body read.
        refuse: the JSON 413 answer, given the error.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, refuse: Callable[[LimitExceeded], Response]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        message = f"the request body is over {limit} bytes; split the request"
        declared = _content_length(scope)
        over = declared is not None and declared > limit
        # A request without Content-Length or Transfer-Encoding has no body to read.
        unread = declared != 0 and (declared is not None or _has_header(scope, b"transfer-encoding"))
        seen = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal seen, over, unread
            if over:  # declared too long, or already refused: read nothing more
                raise _BodyTooLarge(message, field="body")
            event = await receive()
            if event["type"] == "http.request":
                seen += len(event.get("body", b""))
                unread = bool(event.get("more_body", False))
                if seen > limit:
                    over = True
                    raise _BodyTooLarge(message, field="body")
            return event

        async def closing_send(event: Message) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
                if over or unread:
                    event = {**event, "headers": [*event.get("headers", []), (b"connection", b"close")]}
            await send(event)

        try:
            await self.app(scope, bounded_receive, closing_send)
        except _BodyTooLarge as exc:
            if started:
                raise
            answer = self.refuse(exc)
            await closing_send(
                {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        *((k.lower().encode(), v.encode()) for k, v in answer.headers.items()),
                        (b"content-length", str(len(answer.body)).encode()),
                    ],
                }
            )
            await closing_send({"type": "http.response.body", "body": answer.body})


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in scope.get("headers", []))


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None without one (chunked) or when it is not a number
    (the server refuses such requests before the app sees them)."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def send(response: Response) -> HttpResponse:
    """The framework's answer for a service :class:`Response`."""
    return HttpResponse(
        content=response.body,
        status_code=response.status,
        headers=dict(response.headers),
        media_type=response.media_type,
    )


def _include_fdsn(app: FastAPI, extractor: Extractor, settings: Settings) -> None:
    """Mount the FDSN web services when :mod:`seiswindow.fdsn` exists (an error inside
    it is not hidden: only its absence is tolerated)."""
    if importlib.util.find_spec(f"{__package__}.fdsn") is None:
        return
    fdsn = importlib.import_module(f"{__package__}.fdsn")
    factory = getattr(fdsn, "router", None)
    if factory is not None:
        app.include_router(factory(extractor, settings))


def create_app(settings: Settings | None = None, *, extractor: Extractor | None = None) -> FastAPI:
    """The HTTP app (without the local Lambda invocation: :func:`seiswindow.http.create_app`
    adds it).

    Args:
        settings: archive and limits; default :meth:`Settings.from_env`.
        extractor: an extractor to serve from (the app does not close it); default:
            one on the settings' archive, closed when the app shuts down.

    Raises:
        ConfigError: the settings name an invalid archive.
    """
    if extractor is None:
        settings = settings or Settings.from_env()
        service = Service.from_settings(settings)
    else:
        settings = settings or Settings(archive=extractor.archive.url, limits=extractor.limits)
        service = Service(extractor)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="seiswindow",
        version=__version__,
        summary="Time windows of seismic waveforms from cloud archives, as the SCEDC tutorial's Lambda.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.post(
        "/timewindows",
        summary="Samples of each window, as the tutorial's JSON (or miniSEED)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON_MEDIA_TYPE: {"schema": _REQUEST_SCHEMA, "example": TUTORIAL_REQUEST}},
            }
        },
        responses={
            200: {
                "description": "one object per window, in request order (or miniSEED records)",
                "content": {
                    JSON_MEDIA_TYPE: {"schema": {"type": "array", "items": _WINDOW_SCHEMA}},
                    MSEED_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            },
            204: {"description": "miniSEED asked and no window has a sample"},
            **error_responses(400, 413, 500),
        },
        response_class=HttpResponse,
    )
    async def timewindows(
        request: Request,
        fmt: str | None = Query(None, alias="format", description="`json` (default) or `miniseed`"),
        segments: str | None = Query(None, description="`true`: one object per contiguous segment"),
    ) -> HttpResponse:
        body = await request.body()  # bounded by BodyLimit
        # Parsing and checking need no archive: a bad request is answered at once, not after
        # the extractions queued in the thread pool.
        asked = negotiate(request.headers)
        prepared = service.prepare(
            body, query=dict(request.query_params), default_format=asked.format, gzip=asked.gzip
        )
        if isinstance(prepared, Response):
            return send(prepared)
        return send(await run_in_threadpool(service.answer, prepared))

    @app.get("/health", summary="Version, archive and limits", response_class=HttpResponse)
    async def health() -> HttpResponse:
        return send(service.health())

    @app.get("/limits", summary="What one request may ask for", response_class=HttpResponse)
    async def limits() -> HttpResponse:
        return send(service.limits_response())

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> HttpResponse:
        # 404 for unknown routes, 405 (with Allow) for a wrong method: JSON like every error.
        return send(service.error(exc.status_code, str(exc.detail), headers=exc.headers))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> HttpResponse:
        return send(service.failure(exc, what=f"{request.method} {request.url.path}"))

    _include_fdsn(app, service.extractor, settings)
    # One limit for every route, the FDSN ones included, checked while the body is read.
    app.add_middleware(
        BodyLimit,
        max_bytes=service.max_body_bytes,
        refuse=lambda exc: service.error(http_status(exc), exc.detail, field=exc.field),
    )
    return app
