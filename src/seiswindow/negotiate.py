"""Content negotiation for the front-ends: what the ``Accept`` and ``Accept-Encoding``
headers of a request ask for.

The HTTP app and the Lambda handler (proxy events) both read their headers here and hand
the service the decided values (:class:`Negotiated`): the service itself never reads a
header.

- ``Accept``: miniSEED (``application/vnd.fdsn.mseed``) when it is preferred to JSON
  (``application/json``, ``application/*``, ``*/*``) by its quality; JSON otherwise, and
  without the header. This is the *default* format: ``?format=`` and the body's
  ``"Format"`` win over it.
- ``Accept-Encoding``: gzip when ``gzip`` or ``*`` has a non-zero quality.

>>> negotiate({"Accept": "application/vnd.fdsn.mseed", "accept-encoding": "gzip;q=0"})
Negotiated(format=<OutputFormat.MINISEED: 'miniseed'>, gzip=False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .encode import OutputFormat

__all__ = ["Negotiated", "accepts_gzip", "header", "negotiate", "preferred_format", "quality_values"]

#: ``Accept`` tokens that a JSON answer satisfies.
_JSON_TOKENS = (OutputFormat.JSON.media_type, "application/*", "*/*")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What a request's headers ask of its answer.

    Attributes:
        format: the format to answer in unless the request's options name one.
        gzip: the client accepts a gzipped body.
    """

    format: OutputFormat = OutputFormat.JSON
    gzip: bool = False


def header(headers: Mapping[str, str], name: str) -> str:
    """The first value of header ``name`` (any case), or ``""``."""
    name = name.lower()
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _quality(params: Iterable[str]) -> float:
    """The ``q`` of an element's parameters (1 without one, 0 when it is not a number)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def quality_values(value: str) -> list[tuple[str, float]]:
    """``(token, q)`` of each element of an ``Accept``-like header, tokens lower-cased.

    >>> quality_values("text/html, application/json;q=0.5")
    [('text/html', 1.0), ('application/json', 0.5)]
    """
    out = []
    for element in value.split(","):
        token, *params = (p.strip() for p in element.split(";"))
        if token:
            out.append((token.lower(), _quality(params)))
    return out


def accepts_gzip(headers: Mapping[str, str]) -> bool:
    """The client said ``Accept-Encoding: gzip`` (or ``*``) with a non-zero quality."""
    value = header(headers, "accept-encoding")
    return any(token in ("gzip", "*") and q > 0 for token, q in quality_values(value))


def preferred_format(headers: Mapping[str, str]) -> OutputFormat:
    """The format an ``Accept`` header prefers; JSON unless miniSEED is asked for first."""
    best, best_q = OutputFormat.JSON, 0.0
    for token, q in quality_values(header(headers, "accept")):
        if q <= best_q:
            continue
        if token == OutputFormat.MINISEED.media_type:
            best, best_q = OutputFormat.MINISEED, q
        elif token in _JSON_TOKENS:
            best, best_q = OutputFormat.JSON, q
    return best


def negotiate(headers: Mapping[str, str]) -> Negotiated:
    """What ``headers`` (a request's, any case) ask of the answer."""
    return Negotiated(format=preferred_format(headers), gzip=accepts_gzip(headers))
