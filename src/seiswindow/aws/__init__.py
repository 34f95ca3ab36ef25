"""The AWS Lambda entry point, ``seiswindow.aws.handler``, for every way Lambda is called.

- **direct invocation** (``aws lambda invoke``, the runtime interface emulator, a test
  event): the event is the request itself, ``{"Windows": [...]}``. The handler returns
  the answer's list, as the SCEDC tutorial's function does (the runtime serialises
  it). A bad request returns an *object* instead of a list, the same one the HTTP API
  sends with its 4xx: ``{"status": 400, "error": "window 0, field 'Station': ...",
  "field": "Station", "index": 0, "request_id": "..."}``; the invocation itself
  succeeds (raising would report a function error with a stack trace for what is the
  caller's mistake). A direct answer cannot be gzipped: past 6 MB it is that object
  with status 413.
- **API Gateway REST API** (payload 1.0), **HTTP API** (payload 2.0), **Lambda Function
  URL** and **Application Load Balancer** events get a proxy answer ``{"statusCode",
  "headers", "body", "isBase64Encoded"}`` (ALB: plus ``statusDescription``, and
  ``multiValueHeaders`` when the target group sends them). ``POST`` asks for windows,
  ``GET .../health`` and ``GET .../limits`` describe the service, any other method is
  405; paths with ``/fdsnws/`` are the FDSN web services, answered by the HTTP app
  through Mangum (FastAPI is imported for those requests only). A gzipped
  (``Accept-Encoding: gzip``, 1 KiB or more) or miniSEED answer goes base64-encoded. A
  REST API passes such bodies through only with binary media types configured (``*/*``).

The parts: :mod:`.events` reads the events, :mod:`.dispatch` routes them,
:mod:`.envelope` shapes the answers, :mod:`.fdsn` runs the FDSN routes, :mod:`.emulator`
is the local invocation the HTTP app serves.

The service (and so the S3 client and thread pools) is built once per container, at the
first event, from :meth:`Settings.from_env`, and reused by warm invocations. Neither
ObsPy nor FastAPI is imported on the path of requests for windows.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..config import Settings, open_service
from ..service import Service
from .dispatch import handle_event
from .emulator import LocalContext, invoke
from .events import HttpEvent, parse_event

if TYPE_CHECKING:
    from .results import ResultsBucket

__all__ = ["HttpEvent", "LocalContext", "default_service", "handle_event", "handler", "invoke", "parse_event"]

_SERVICE: Service | None = None
_RESULTS: ResultsBucket | None = None
_SERVICE_LOCK = threading.Lock()


def default_service() -> Service:
    """The container's service, built on first use from the environment.

    Raises:
        ConfigError: the environment names an invalid archive or limits (the Lambda
            fails visibly rather than answering from a wrong archive).
    """
    global _SERVICE, _RESULTS
    if _SERVICE is None:
        with _SERVICE_LOCK:
            if _SERVICE is None:
                settings = Settings.from_env()
                if settings.results:
                    from .results import ResultsBucket

                    _RESULTS = ResultsBucket(settings.results, endpoint_url=settings.endpoint_url)
                _SERVICE = open_service(settings)
    return _SERVICE


def handler(event: Any, context: Any) -> Any:
    """The Lambda handler (configure ``seiswindow.aws.handler``); see the module docstring.

    Raises:
        ConfigError: at the first event, when the environment is misconfigured.
    """
    service = default_service()
    return handle_event(event, context, service=service, results=_RESULTS)
