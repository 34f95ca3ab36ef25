"""The FastAPI router of ``/irisws/timeseries/1/``: a URL written for IRIS works on this
service by changing its host.

Answers: the window's file (``Content-Disposition`` names it) with 200; no sample in the
window: 204, or 404 with ``nodata=404``; a bad parameter or a step that cannot apply (a
corner above Nyquist, no instrument response for ``correct``): 400 with FDSN error text
naming the parameter; an archive that cannot be read: 502. The handler only moves bytes:
parsing, reading and processing run in worker threads.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import ArchiveError, LimitExceeded, SeisWindowError, http_status
from ..fdsn.meta import error_text
from ..formats import Format
from ..model import Status
from ..nstime import format_time
from ..timeseries import Product, Timeseries, require_extra
from .request import TimeseriesRequest, parse_timeseries

__all__ = ["router"]

_VERSION = "1.0.0"
_DOCUMENTATION = "https://service.iris.edu/irisws/timeseries/1/"


def router(timeseries: Timeseries, *, max_bytes: int, prefix: str = "") -> APIRouter:
    """``<prefix>/irisws/timeseries/1/query`` (GET) and ``.../version``.

    Args:
        timeseries: extracts, processes and writes the windows.
        max_bytes: the largest answer (413 above it).
    """
    api = APIRouter(prefix=f"{prefix.rstrip('/')}/irisws/timeseries/1", tags=["irisws-timeseries"])

    def answer(request: TimeseriesRequest) -> Product:
        if request.chain or request.format is not Format.MINISEED:
            require_extra(request.format)
        results = timeseries.results([request.window], request.chain)
        product = timeseries.render(
            results, request.format, chain=request.chain, audio_rate=request.audio_rate
        )
        if product.rendered is None and Status.ERROR in product.statuses:
            raise ArchiveError(product.results[0].message or "the archive could not be read")
        if product.rendered is not None and len(product.rendered.body) > max_bytes:
            raise LimitExceeded(
                f"the answer is {len(product.rendered.body)} bytes, at most {max_bytes}: ask for a shorter "
                "window or decimate",
                field="endtime",
            )
        return product

    @api.get("/query", response_class=Response, summary="A channel's window, processed, in IRIS's formats")
    async def query(request: Request) -> Response:
        submitted = time.time_ns()
        try:
            parsed = await run_in_threadpool(parse_timeseries, request.query_params.multi_items())
            product = await run_in_threadpool(answer, parsed)
        except SeisWindowError as exc:
            return _error(request, http_status(exc), _describe(exc), submitted)
        rendered = product.rendered
        if rendered is None:
            if parsed.nodata == 404:
                return _error(request, 404, "No data matches the request.", submitted)
            return Response(status_code=204)
        headers = {
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "X-Window-Status": ",".join(str(s) for s in product.statuses),
        }
        return Response(rendered.body, media_type=rendered.media_type, headers=headers)

    @api.get("/version", response_class=PlainTextResponse, summary="The service version")
    async def version() -> PlainTextResponse:
        return PlainTextResponse(_VERSION)

    return api


def _describe(error: SeisWindowError) -> str:
    from ..errors import RequestError

    if isinstance(error, RequestError) and error.field is not None:
        return f"Parameter {error.field!r}: {error.detail}"
    return str(error)


def _error(request: Request, status: int, detail: str, submitted: int) -> PlainTextResponse:
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = request.scope["path"] + (f"?{query}" if query else "")
    text = error_text(status, detail, url=url, submitted=format_time(submitted), documentation=_DOCUMENTATION)
    return PlainTextResponse(text, status_code=status)
