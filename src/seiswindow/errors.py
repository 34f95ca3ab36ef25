"""Every error seiswindow raises, under one base class.

The hierarchy::

    SeisWindowError
    ├── RequestError          a request is malformed (HTTP 400); names window index and field
    │   ├── LimitExceeded     a request is well formed but over a configured limit (HTTP 413)
    │   └── NoResponse        processing needs an instrument response the archive lacks (HTTP 400)
    ├── ConfigError           the service configuration is invalid (raised at start-up)
    ├── NoSuchKey             the archive has no object at a key (a day file is missing)
    ├── NoSuchRoute           a front-end has nothing at the path asked (HTTP 404)
    ├── MethodNotAllowed      a front-end answers the path, not with that method (HTTP 405)
    ├── ArchiveError          the archive could not be read (after retries, within the time budget)
    ├── NotInstalled          a request needs an optional extra this installation lacks (HTTP 501)
    └── DataError             bytes read from the archive are not valid miniSEED

``RequestError`` and ``LimitExceeded`` are about the whole request. ``NoSuchKey``,
``ArchiveError`` and ``DataError`` are caught per window by the extractor and become
that window's status (``nodata`` / ``error`` / ``partial``): one bad window never
fails the others. ``NoSuchRoute`` and ``MethodNotAllowed`` are raised by the front-ends'
own routing (the Lambda handler's). The mapping to HTTP status codes lives in one place,
:func:`http_status`, for any exception (anything not listed here is a 500).
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ConfigError",
    "DataError",
    "LimitExceeded",
    "MethodNotAllowed",
    "NoResponse",
    "NoSuchKey",
    "NoSuchRoute",
    "NotInstalled",
    "RequestError",
    "SeisWindowError",
    "http_status",
]


class SeisWindowError(Exception):
    """Base class of every error raised by seiswindow."""


class RequestError(SeisWindowError, ValueError):
    """A request (or one window of it) is malformed.

    Attributes:
        field: the offending field (``"Station"``, ``"Starttime"``, ``"Windows"``...), or None.
        index: the 0-based index of the offending window in the request, or None.
        detail: the message without the location prefix.
    """

    def __init__(self, detail: str, *, field: str | None = None, index: int | None = None) -> None:
        self.detail = detail
        self.field = field
        self.index = index
        where = []
        if index is not None:
            where.append(f"window {index}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {detail}" if where else detail)


class LimitExceeded(RequestError):
    """A request is over a configured limit (windows, window length, response size)."""


class NoResponse(RequestError):
    """Processing asked for the instrument response (``correct``, ``scale=AUTO``) of a
    channel whose StationXML the archive lacks, or holds no response for at that time."""


class ConfigError(SeisWindowError, ValueError):
    """The configuration (archive URL, layout, limits) is invalid."""


class NoSuchKey(SeisWindowError, LookupError):
    """The archive holds no object at this key (a missing day file means no data)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no such object: {key}")


class NoSuchRoute(SeisWindowError, LookupError):
    """A front-end has nothing at the path asked."""


class MethodNotAllowed(SeisWindowError):
    """A front-end answers the path asked, but not with the method used.

    Attributes:
        allow: the methods that path answers (for an ``Allow`` header).
    """

    def __init__(self, message: str, *, allow: tuple[str, ...]) -> None:
        self.allow = allow
        super().__init__(message)


class ArchiveError(SeisWindowError, OSError):
    """The archive could not be read, after retries and within the time budget."""


class NotInstalled(SeisWindowError):
    """A request needs an optional dependency this installation lacks (processing and the
    IRIS formats need the ``process`` extra: ObsPy, matplotlib)."""


class DataError(SeisWindowError):
    """Bytes read from the archive are not valid miniSEED (corrupt or truncated)."""


def http_status(error: BaseException) -> int:
    """The HTTP status that answers a request failing with ``error`` (any exception:
    those not of this module are 500)."""
    if isinstance(error, LimitExceeded):
        return 413
    if isinstance(error, RequestError):
        return 400
    if isinstance(error, (NoSuchKey, NoSuchRoute)):
        return 404
    if isinstance(error, MethodNotAllowed):
        return 405
    if isinstance(error, ArchiveError):
        return 502
    if isinstance(error, NotInstalled):
        return 501
    return 500
