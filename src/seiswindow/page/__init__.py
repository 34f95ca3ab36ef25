"""The pages for people, served by the app with no asset from the internet (issue 14).

- ``GET /``: the waveform browser (``static/index.html``, ``static/page.js``): choose
  channels and a time span, see them plotted (uPlot, vendored under ``static/vendor/``),
  download what is shown; it only calls the app's own endpoints;
- ``GET /page/static/...``: its files;
- ``GET /redoc``: ReDoc from the script ``fastapi-offline`` ships, under a Content-Security-Policy
  that keeps the page on the app's origin (ReDoc's bundle hard-codes a logo on a CDN);
- ``GET /docs`` (Swagger UI) is ``fastapi-offline``'s own (:func:`seiswindow.webapp.create_app`).

``/`` and ``/redoc`` are sent with :data:`CSP`: a browser refuses anything from another origin
instead of trying the network.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, Response

from ..encode import JSON_MEDIA_TYPE
from ..errors import SeisWindowError
from ..model import Window
from ..service import Service
from .envelope import MAX_BINS, envelope

__all__ = ["CSP", "DOCS_STATIC_URL", "ENVELOPE_PATH", "STATIC", "STATIC_URL", "mount"]

#: The page's files, in the package (the wheel carries them).
STATIC = Path(__file__).parent / "static"
#: Where they are served.
STATIC_URL = "/page/static"
#: The envelope of a window for display (:mod:`seiswindow.page.envelope`).
ENVELOPE_PATH = "/page/api/envelope"
#: Where ``fastapi-offline`` serves Swagger UI's and ReDoc's scripts.
DOCS_STATIC_URL = "/static-offline-docs"
#: Same origin only; inline scripts and styles for Swagger UI's and ReDoc's bootstrap, blobs
#: for ReDoc's search worker and the page's downloads.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:"
)


def _guarded(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


def mount(app: FastAPI, service: Service) -> None:
    """Add ``/``, ``/page/static``, the envelope and ``/redoc`` to ``app`` (made by
    ``FastAPIOffline`` with ``redoc_url=None``); the envelope reads through ``service``'s
    extractor, and its failures are the service's JSON errors (status from
    :func:`seiswindow.errors.http_status`)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="page-static")

    @app.get(
        ENVELOPE_PATH,
        summary="Least and greatest sample per slice of a window, for plots (the page's)",
        response_class=Response,
    )
    async def envelope_route(
        net: str = Query(..., description="network code"),
        sta: str = Query(..., description="station code"),
        cha: str = Query(..., description="channel code"),
        start: str = Query(..., description="ISO 8601, UTC"),
        end: str = Query(..., description="ISO 8601, UTC"),
        loc: str = Query("", description="location code (blank or `--` for none)"),
        bins: int = Query(1000, ge=1, le=MAX_BINS, description="slices, about the plot's width in pixels"),
    ) -> Response:
        def answer() -> bytes:
            window = Window.create(net, sta, loc, cha, start, end)
            (result,) = service.extractor.extract([window])
            shape = envelope(result, start=window.start, end=window.end, bins=bins)
            return orjson.dumps(shape.to_json(result))

        try:
            return Response(await run_in_threadpool(answer), media_type=JSON_MEDIA_TYPE)
        except SeisWindowError as exc:
            failed = service.failure(exc, what=f"GET {ENVELOPE_PATH}")
            return Response(failed.whole(), status_code=failed.status, headers=dict(failed.headers))

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return _guarded(FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        _guarded(page)
        return page
