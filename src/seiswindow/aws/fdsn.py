"""The FDSN web services through Lambda: the HTTP app's FDSN routes, run by Mangum.

A proxy event whose path holds ``/fdsnws/`` (or ``/irisws/``, IRIS's timeseries) is answered
by the same FastAPI app that ``seiswindow serve`` runs (:func:`seiswindow.webapp.create_app`),
built once per service at the first such request: FastAPI and Mangum are imported then, never on the path of
requests for windows. Mangum runs the ASGI call; the event it is handed is the request
that :mod:`.events` parsed already (:class:`_ParsedRequest`), so every event shape, a
hand-written ``isBase64Encoded`` and an ALB's URL-encoded query read alike on both paths.

The part of the path before ``/fdsnws/`` (an API Gateway stage, a base path) becomes the
ASGI ``root_path``, so URLs the app prints (WADL) carry it. FDSN answers are miniSEED,
base64 in the proxy answer (4 bytes per 3): the app's answer limit is three quarters of
the service's, so that what it sends fits once encoded.
"""

from __future__ import annotations

import dataclasses
import threading
import urllib.parse
import weakref
from typing import Any

from ..config import Settings
from ..service import Response, Service
from .envelope import LAMBDA_MAX_BYTES
from .events import HttpEvent

__all__ = ["answer_fdsn", "is_fdsn"]

_APPS: weakref.WeakKeyDictionary[Service, Any] = weakref.WeakKeyDictionary()
_APPS_LOCK = threading.Lock()
#: Media types that travel as text in a proxy answer; any other is base64.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/vnd.sun.wadl+xml")
#: The key of the event handed to Mangum: the parsed request and its body.
_KEY = "seiswindow.request"


#: The path segments of the services the HTTP app answers through Lambda: the FDSN web
#: services, and IRIS's timeseries (:mod:`seiswindow.irisws`).
_MARKERS = ("/fdsnws/", "/irisws/")


def is_fdsn(path: str) -> bool:
    """The path is one of the FDSN web services (or IRIS's timeseries, answered alike)."""
    return any(marker in path for marker in _MARKERS)


def _app(service: Service) -> Any:
    """The HTTP app on ``service``'s extractor, built at its first FDSN request."""
    with _APPS_LOCK:
        app = _APPS.get(service)
        if app is None:
            from ..webapp import create_app

            limits = service.extractor.limits
            settings = Settings(
                archive=service.extractor.archive.url,
                # base64 grows miniSEED by 4/3 on its way through Lambda's 6 MB
                limits=dataclasses.replace(
                    limits, max_response_bytes=min(limits.max_response_bytes, LAMBDA_MAX_BYTES) * 3 // 4
                ),
            )
            app = _APPS[service] = create_app(settings, extractor=service.extractor)
        return app


class _ParsedRequest:
    """Mangum's handler for an event :mod:`.events` has parsed: ``{_KEY: (http, body)}``.

    Its ASGI scope is the request's, with the path before ``/fdsnws/`` as ``root_path``;
    its answer is the app's status, headers (names title-cased, as the windows answers
    name them) and body, for :func:`answer_fdsn` to make a :class:`Response` of.
    """

    def __init__(self, event: dict[str, Any], context: Any, config: Any) -> None:
        self.http: HttpEvent = event[_KEY][0]
        self._body: bytes = event[_KEY][1]
        self.context = context
        self.config = config

    @classmethod
    def infer(cls, event: dict[str, Any], context: Any, config: Any) -> bool:
        return _KEY in event

    @property
    def body(self) -> bytes:
        return self._body

    @property
    def scope(self) -> dict[str, Any]:
        http = self.http
        marker = next((m for m in _MARKERS if m in http.path), _MARKERS[0])
        root, _, rest = http.path.partition(marker)
        path = f"{root}{marker}{rest}"
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "http_version": "1.1",
            "method": http.method,
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "root_path": root,
            "query_string": urllib.parse.urlencode(dict(http.query)).encode(),
            # ASGI headers are bytes; API Gateway passes any UTF-8 a client sent.
            "headers": [
                (k.encode("utf-8", "replace"), v.encode("utf-8", "replace")) for k, v in http.headers.items()
            ],
            "server": (http.headers.get("host", "lambda"), 443),
            "client": ("127.0.0.1", 0),
            "aws.context": self.context,
        }

    def __call__(self, response: Any) -> dict[str, Any]:
        headers = {
            bytes(name).decode("latin-1").title(): bytes(value).decode("latin-1")
            for name, value in response["headers"]
        }
        return {"status": int(response["status"]), "headers": headers, "body": bytes(response["body"])}


def answer_fdsn(http: HttpEvent, service: Service, context: Any) -> Response:
    """Answer an FDSN request by running the HTTP app for it.

    Raises:
        RequestError: the event's body cannot be read (bad base64).
    """
    import asyncio  # here, not at the top: it costs the windows path's cold start

    from mangum import Mangum

    body = http.body_bytes()
    # A loop of this call's own, as asyncio.run makes: the handler may run in any thread
    # (the local emulator calls it from a worker thread), which has none.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        adapter = Mangum(_app(service), lifespan="off", custom_handlers=[_ParsedRequest])
        answer = adapter({_KEY: (http, body)}, context)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    media = answer["headers"].get("Content-Type", "")
    return Response(
        answer["status"], answer["headers"], answer["body"], base64=not media.startswith(_TEXT_TYPES)
    )
