"""Every error seiswindow raises, under one base class.

The hierarchy::

    SeisWindowError
    ├── RequestError          a request is malformed (HTTP 400); names window index and field
    │   └── LimitExceeded     a request is well formed but over a configured limit (HTTP 413)
    ├── ConfigError           the service configuration is invalid (raised at start-up)
    ├── NoSuchKey             the archive has no object at a key (a day file is missing)
    ├── ArchiveError          the archive could not be read (after retries, within the time budget)
    └── DataError             bytes read from the archive are not valid miniSEED

``RequestError`` and ``LimitExceeded`` are about the whole request. ``NoSuchKey``,
``ArchiveError`` and ``DataError`` are caught per window by the extractor and become
that window's status (``nodata`` / ``error`` / ``partial``): one bad window never
fails the others. The mapping to HTTP status codes lives in one place,
:func:`http_status`.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ConfigError",
    "DataError",
    "LimitExceeded",
    "NoSuchKey",
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

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description of the error."""
        return {"error": str(self), "field": self.field, "index": self.index}


class LimitExceeded(RequestError):
    """A request is over a configured limit (windows, window length, response size)."""


class ConfigError(SeisWindowError, ValueError):
    """The configuration (archive URL, layout, limits) is invalid."""


class NoSuchKey(SeisWindowError, LookupError):
    """The archive holds no object at this key (a missing day file means no data)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no such object: {key}")


class ArchiveError(SeisWindowError, OSError):
    """The archive could not be read, after retries and within the time budget."""


class DataError(SeisWindowError):
    """Bytes read from the archive are not valid miniSEED (corrupt or truncated)."""


def http_status(error: SeisWindowError) -> int:
    """The HTTP status that answers a request failing with ``error``."""
    if isinstance(error, LimitExceeded):
        return 413
    if isinstance(error, RequestError):
        return 400
    if isinstance(error, NoSuchKey):
        return 404
    if isinstance(error, ArchiveError):
        return 502
    return 500
