"""The FastAPI layer of the FDSN services: HTTP in, parsed requests to the services,
bytes out. It touches no archive bytes and decides nothing the services decide.

Every answer's status is known before its first byte: errors (as FDSN error text), no data
(204, or 404 when asked), or 200 with a body the service has gathered or, for a large answer
whose bound fits the limit, streams file by file (:mod:`seiswindow.fdsn.dataselect`).

The handlers are coroutines, so nothing that takes CPU or waits on the store runs in them:
parsing (a POST body may hold thousands of lines), wildcard resolution, S3 reads and
StationXML filtering all run in worker threads, and ``/health`` and other requests keep
being answered while one request works.

URLs the answers name (the error text's request and documentation, the WADL's base, the
StationXML ``ModuleURI``) are built from the configured public URL, or are the request's own
path; never from the ``Host`` header, which the client chooses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..config import Settings, open_station_table
from ..encode import MSEED_MEDIA_TYPE
from ..errors import LimitExceeded, RequestError, SeisWindowError, http_status
from ..extract import Extractor
from ..nstime import format_time
from ..streambody import ClosingStreamingResponse
from .availability import AvailabilityService
from .availformat import AVAILABILITY_VERSION, MEDIA_TYPES, availability_wadl, render
from .availrequest import Endpoint, parse_availability
from .catalog import ChannelCatalog
from .dataselect import DataselectService
from .dayfiles import DayFileStations
from .meta import VERSION, dataselect_wadl, error_text, station_wadl
from .request import parse_dataselect, parse_station
from .routedcatalog import RoutedCatalog
from .station import StationService

__all__ = ["MSEED_MEDIA_TYPE", "router"]

_log = logging.getLogger(__name__)


#: The largest POST body read (a bulk request of some thousand lines).
_MAX_BODY_BYTES = 1 << 20
#: What a query path answers to (HEAD as GET, without the body).
_QUERY_METHODS = ("GET", "POST", "HEAD", "OPTIONS")

_Handler = Callable[[Request], Awaitable[Response]]


def router(
    extractor: Extractor,
    settings: Settings,
    *,
    prefix: str = "",
    max_bytes: int | None = None,
    station_root: str = "FDSNstationXML",
    public_url: str | None = None,
) -> APIRouter:
    """The routes of fdsnws-dataselect 1, fdsnws-station 1 and fdsnws-availability 1 under
    ``<prefix>/fdsnws/``.

    Args:
        extractor: reads the archive (shared with the rest of the application).
        settings: the service settings; ``settings.limits.max_response_bytes`` is the
            largest dataselect answer unless ``max_bytes`` is given; ``settings.stations``
            names the station table, read here, once.
        prefix: a path prefix, e.g. ``/seis`` for ``http://host/seis/fdsnws/...`` (a
            proxy that strips its own prefix needs none if it sets the ASGI ``root_path``:
            the URLs named in answers are built from the request's full path).
        max_bytes: the largest dataselect answer in bytes (413 above it).
        station_root: the key prefix of the archive's StationXML files.
        public_url: scheme and host the service is reached at (e.g.
            ``https://seis.example.org``), put in front of the request's path in the URLs
            answers name; None: those URLs are the path alone (the ``Host`` header is not
            trusted).

    Raises:
        ConfigError: the station table cannot be read or parsed.
    """
    archive = extractor.archive
    archives = extractor.archives
    catalog = ChannelCatalog(archive.store, archive.layout) if len(archives) == 1 else RoutedCatalog(archives)
    dataselect = DataselectService(
        extractor, catalog, max_bytes=max_bytes or settings.limits.max_response_bytes
    )
    table = open_station_table(settings)
    if table is None:
        _log.info(
            "station: no station table (SEISWINDOW_STATIONS, seiswindow serve --stations): stations "
            "with day files but no StationXML are not listed by fdsnws-station (no coordinates); "
            "dataselect serves their data"
        )
        day_files = None
    else:
        day_files = DayFileStations(archive.store, archive.layout, catalog, table, archives=archives)
    availability = AvailabilityService(
        archive.store, archive.layout, catalog, extractor.index, archives=archives
    )
    # Each archive that publishes StationXML answers station requests with it; the others
    # are said to have none, and their stations are listed from the station table.
    with_xml = [a for a in archives if a.layout.has_station_xml]
    for each in archives:
        if not each.layout.has_station_xml:
            _log.info(
                "station: %s (%s layout) publishes no StationXML: its stations are listed only from "
                "the station table (SEISWINDOW_STATIONS), with what its day files tell",
                each.url,
                each.layout.name,
            )
    first, *others = with_xml or [archive]
    station = StationService(
        first.store,
        root=station_root,
        layout=first.layout,
        catalog=catalog,
        day_files=day_files,
        siblings=[StationService(a.store, root=station_root, layout=a.layout) for a in others],
        availability=availability,
    )
    api = APIRouter(prefix=f"{prefix.rstrip('/')}/fdsnws", tags=["FDSN web services"])

    origin = (public_url or "").rstrip("/")

    def guarded(service: str, handler: _Handler) -> _Handler:
        """``handler`` with this package's errors answered as FDSN error text."""

        async def endpoint(request: Request) -> Response:
            submitted = time.time_ns()
            try:
                return await handler(request)
            except SeisWindowError as exc:
                return _error(request, origin, http_status(exc), _describe(exc), submitted)

        endpoint.__name__ = f"{service}_{handler.__name__}"
        endpoint.__doc__ = handler.__doc__
        return endpoint

    async def dataselect_query(request: Request) -> Response:
        """fdsnws-dataselect query: miniSEED records of the archive (GET or POST), or with
        ``format=manifest`` where they lie (JSON)."""
        submitted = time.time_ns()
        body = await _body(request) if request.method == "POST" else None
        parsed = await run_in_threadpool(parse_dataselect, request.query_params.multi_items(), body)
        if parsed.manifest:
            doc = await run_in_threadpool(lambda: dataselect.manifest(parsed, request_time=submitted))
            if doc is None:
                return _no_data(request, origin, parsed.nodata, submitted)
            return Response(orjson.dumps(doc), media_type="application/json")
        answer = await run_in_threadpool(dataselect.answer, parsed)
        if answer.empty:
            return _no_data(request, origin, parsed.nodata, submitted)
        # A streamed answer's length is not known before it is sent (chunked transfer).
        size = answer.size
        headers = {} if size is None else {"Content-Length": str(size)}
        if request.method == "HEAD":  # the status and headers of GET, and no record read
            await run_in_threadpool(answer.close)
            return StreamingResponse(iter(()), media_type=MSEED_MEDIA_TYPE, headers=headers)
        return ClosingStreamingResponse(answer.chunks(), media_type=MSEED_MEDIA_TYPE, headers=headers)

    async def station_query(request: Request) -> Response:
        """fdsnws-station query: StationXML or text from the archive's StationXML (GET or POST)."""
        submitted = time.time_ns()
        body = await _body(request) if request.method == "POST" else None
        parsed = await run_in_threadpool(parse_station, request.query_params.multi_items(), body)
        module_uri = _own_url(request, origin, query=True)
        answer = await run_in_threadpool(station.answer, parsed, module_uri=module_uri)
        if answer is None:
            return _no_data(request, origin, parsed.nodata, submitted)
        return Response(answer.body, media_type=answer.media_type)

    def availability_handler(endpoint: Endpoint) -> _Handler:
        async def availability_query(request: Request) -> Response:
            """fdsnws-availability: time spans of the archive's data, from the record index and
            the listing (GET or POST)."""
            submitted = time.time_ns()
            body = await _body(request) if request.method == "POST" else None
            items = request.query_params.multi_items()
            parsed = await run_in_threadpool(parse_availability, endpoint, items, body)
            rows = await run_in_threadpool(availability.answer, parsed)
            if not rows:
                return _no_data(request, origin, parsed.nodata, submitted)
            text = render(parsed, rows, created=submitted)
            return Response(text, media_type=MEDIA_TYPES[parsed.format])

        availability_query.__name__ = endpoint.value
        return availability_query

    _availability_routes(api, origin, guarded, availability_handler)

    for service, query, wadl in (
        ("dataselect", dataselect_query, dataselect_wadl),
        ("station", station_query, station_wadl),
    ):
        base = f"/{service}/1"
        for method in ("GET", "POST"):  # one route per method: OpenAPI operation ids stay unique
            api.add_api_route(
                f"{base}/query",
                guarded(service, query),
                methods=[method],
                response_class=Response,
                operation_id=f"fdsnws_{service}_query_{method.lower()}",
            )
        # HEAD is GET without the body (same status and length); OPTIONS and the methods a
        # query path refuses name every method it takes, POST included.
        api.add_api_route(f"{base}/query", guarded(service, query), methods=["HEAD"], include_in_schema=False)
        api.add_api_route(
            f"{base}/query",
            _methods(origin),
            methods=["OPTIONS", "PUT", "DELETE", "PATCH"],
            include_in_schema=False,
        )
        api.add_api_route(f"{base}/version", _version, methods=["GET"], response_class=PlainTextResponse)
        api.add_api_route(
            f"{base}/application.wadl", _wadl_route(wadl, origin), methods=["GET"], response_class=Response
        )
        api.add_api_route(f"{base}/", _index(service), methods=["GET"], response_class=PlainTextResponse)
    return api


def _availability_routes(
    api: APIRouter,
    origin: str,
    guarded: Callable[[str, _Handler], _Handler],
    handler: Callable[[Endpoint], _Handler],
) -> None:
    """``/availability/1/{extent,query}`` (GET, POST, HEAD), ``version``, ``application.wadl``."""
    base = "/availability/1"
    for endpoint in Endpoint:
        path = f"{base}/{endpoint.value}"
        for method in ("GET", "POST"):
            api.add_api_route(
                path,
                guarded("availability", handler(endpoint)),
                methods=[method],
                response_class=Response,
                operation_id=f"fdsnws_availability_{endpoint.value}_{method.lower()}",
            )
        api.add_api_route(
            path, guarded("availability", handler(endpoint)), methods=["HEAD"], include_in_schema=False
        )
        api.add_api_route(
            path, _methods(origin), methods=["OPTIONS", "PUT", "DELETE", "PATCH"], include_in_schema=False
        )

    async def availability_version() -> PlainTextResponse:
        """The fdsnws-availability version."""
        return PlainTextResponse(AVAILABILITY_VERSION)

    api.add_api_route(
        f"{base}/version", availability_version, methods=["GET"], response_class=PlainTextResponse
    )
    api.add_api_route(
        f"{base}/application.wadl",
        _wadl_route(availability_wadl, origin),
        methods=["GET"],
        response_class=Response,
    )

    async def availability_index() -> PlainTextResponse:
        """What the service is and where its description is."""
        return PlainTextResponse(
            f"fdsnws-availability {AVAILABILITY_VERSION} (seiswindow): "
            "extent, query, version, application.wadl\n"
        )

    api.add_api_route(f"{base}/", availability_index, methods=["GET"], response_class=PlainTextResponse)


async def _version() -> PlainTextResponse:
    """The service version."""
    return PlainTextResponse(VERSION)


def _wadl_route(render: Callable[[str], str], origin: str) -> _Handler:
    async def application_wadl(request: Request) -> Response:
        """The WADL of the service, as FDSN clients discover it."""
        base = _own_url(request, origin, query=False).rsplit("/", 1)[0] + "/"
        return Response(render(base), media_type="application/xml")

    return application_wadl


def _methods(origin: str) -> _Handler:
    async def query_methods(request: Request) -> Response:
        """The methods a query path takes: OPTIONS answers them, other methods are refused."""
        allow = {"Allow": ", ".join(_QUERY_METHODS)}
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=allow)
        detail = f"Method {request.method} is not allowed here: use {', '.join(_QUERY_METHODS)}."
        response = _error(request, origin, 405, detail, time.time_ns())
        response.headers.update(allow)
        return response

    return query_methods


def _index(service: str) -> Callable[[], Awaitable[PlainTextResponse]]:
    async def index() -> PlainTextResponse:
        """What the service is and where its description is."""
        return PlainTextResponse(
            f"fdsnws-{service} {VERSION} (seiswindow): query, version, application.wadl\n"
        )

    index.__name__ = f"{service}_index"
    return index


async def _body(request: Request) -> str:
    """The POST body as text, read up to ``_MAX_BODY_BYTES``.

    Raises:
        LimitExceeded: the body is larger.
        RequestError: the body is not UTF-8 text.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            raise LimitExceeded(f"the request body is over {_MAX_BODY_BYTES} bytes", field="body")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("the request body is not UTF-8 text", field="body") from None


def _describe(error: SeisWindowError) -> str:
    """What went wrong, naming the parameter."""
    if isinstance(error, RequestError) and error.field is not None:
        return f"Parameter {error.field!r}: {error.detail}"
    return str(error)


def _own_url(request: Request, origin: str, *, query: bool) -> str:
    """The request's URL: ``origin`` (the configured public URL, or nothing) and the
    request's own path (the ASGI ``root_path`` included), never its ``Host`` header."""
    url = origin + quote(request.scope["path"], safe="/:@!$&'()*+,;=-._~%")
    query_string = request.scope.get("query_string", b"").decode("latin-1")
    return f"{url}?{query_string}" if query and query_string else url


def _error(request: Request, origin: str, status: int, detail: str, submitted: int) -> Response:
    url = _own_url(request, origin, query=False)
    text = error_text(
        status,
        detail,
        url=_own_url(request, origin, query=True),
        submitted=format_time(submitted),
        documentation=url.rsplit("/", 1)[0] + "/application.wadl",
    )
    return PlainTextResponse(text, status_code=status)


def _no_data(request: Request, origin: str, nodata: int, submitted: int) -> Response:
    if nodata == 204:
        return Response(status_code=204)
    return _error(request, origin, 404, "No data matches the request.", submitted)
