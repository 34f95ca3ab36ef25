"""The HTTP app: a FastAPI app on one :class:`~seiswindow.service.Service`.

Routes:

- ``POST /timewindows``: the tutorial's request, answered by
  :meth:`seiswindow.service.Service.timewindows` (options ``?format=miniseed`` or one of IRIS's
  formats, ``?segments=true``, IRIS's processing steps ``?demean=true&bp=0.1-1``; ``Accept``
  and ``Accept-Encoding: gzip`` read by :mod:`seiswindow.negotiate`);
- ``GET /health`` and ``GET /limits``: version, archive, limits;
- ``GET /docs`` (Swagger UI), ``/redoc`` and ``/openapi.json``: the API, with the tutorial's
  request as example; their scripts are served by the app (``fastapi-offline``), no CDN;
- ``GET /``: the waveform browser of :mod:`seiswindow.page` (and its files under ``/page/static``);
- the FDSN web services of :mod:`seiswindow.fdsn`, when that package is present;
- ``GET /irisws/timeseries/1/query``: IRIS's timeseries service (:mod:`seiswindow.irisws`).

:mod:`seiswindow.http` adds the local Lambda invocation and serves the app; the Lambda
handler runs this app for FDSN paths (:mod:`seiswindow.aws.fdsn`). This module imports
neither.

Every request body, on every route, is at most :attr:`Service.max_body_bytes`
(:class:`~seiswindow.bodylimit.BodyLimit`): 413 as soon as the body is known to be longer.

Unknown routes are 404, a wrong method 405 (with ``Allow``), both as JSON error
objects; nothing answers with a stack trace (statuses of failures come from
:func:`seiswindow.errors.http_status`). The app only moves bytes between the socket and
the service.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi import Response as HttpResponse
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ._version import version
from .bodylimit import BodyLimit
from .config import Settings, open_service
from .encode import JSON_MEDIA_TYPE, MSEED_MEDIA_TYPE
from .errors import http_status
from .extract import Extractor
from .formats import FORMAT_NAMES, Format
from .irisws.routes import router as irisws_router
from .negotiate import negotiate
from .page import mount as mount_pages
from .service import HTTP, Response, Service
from .streambody import ClosingStreamingResponse

__all__ = ["TUTORIAL_REQUEST", "create_app", "error_responses", "send"]

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
        "Format": {
            "type": "string",
            # Each format once, by its own name (the aliases — mseed, png, wav, ascii... — are
            # accepted too): what the page offers as download buttons.
            "enum": [*(f.value for f in Format), "manifest"],
            "default": "json",
            "description": "json, miniseed, one of IRIS timeseries' formats (sac, geocsv, plot...; "
            f"also their aliases: {', '.join(sorted(set(FORMAT_NAMES) - {f.value for f in Format}))}), "
            "or manifest (where each window's records lie in the archive)",
        },
        "Process": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'IRIS timeseries\' processing steps in order, e.g. ["demean", "bp=0.1-1"]',
        },
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


def send(response: Response) -> HttpResponse:
    """The framework's answer for a service :class:`Response`: streamed (its pieces made in
    a worker thread as the client reads them) when the service streams it."""
    if response.chunks is not None:
        return ClosingStreamingResponse(
            response.chunks,
            status_code=response.status,
            headers=dict(response.headers),
            media_type=response.media_type,
        )
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
        service = open_service(settings)
    else:
        settings = settings or Settings(archive=extractor.archive.url, limits=extractor.limits)
        service = Service(extractor)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    # Swagger UI and ReDoc from files of the package fastapi-offline, not from a CDN: /docs
    # and /redoc work on a machine with no internet (issue 14).
    app = FastAPIOffline(
        redoc_url=None,  # seiswindow.page's, under a Content-Security-Policy
        title="seiswindow",
        version=version(),
        summary="Time windows of seismic waveforms from cloud archives, as the SCEDC tutorial's Lambda.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.settings = settings

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
        fmt: str | None = Query(
            None, alias="format", description="`json` (default), `miniseed`, or an IRIS format (`sac`...)"
        ),
        segments: str | None = Query(None, description="`true`: one object per contiguous segment"),
    ) -> HttpResponse:
        body = await request.body()  # bounded by BodyLimit
        # Parsing and checking need no archive: a bad request is answered at once, not after
        # the extractions queued in the thread pool.
        asked = negotiate(request.headers)
        prepared = service.prepare(
            body,
            query=dict(request.query_params),
            default_format=asked.format,
            gzip=asked.gzip,
            transport=HTTP,
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
    app.include_router(irisws_router(service.timeseries, max_bytes=settings.limits.max_response_bytes))
    mount_pages(app, service)
    # One limit for every route, the FDSN ones included, checked while the body is read.
    app.add_middleware(
        BodyLimit,
        max_bytes=service.max_body_bytes,
        refuse=lambda exc: service.error(http_status(exc), exc.detail, field=exc.field),
    )
    return app
