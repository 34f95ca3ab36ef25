"""The options of a request for windows, besides its windows: the answer's format and shape.

A request names them as body keys (``"Format"``, ``"Segments"``, any case) or as query
parameters, which win; without either, the format is what the front end negotiated from
``Accept``. Formats: ``json`` (the tutorial's answer, default), ``miniseed`` (``mseed``),
``manifest`` (where each window's records lie, :mod:`seiswindow.manifest`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .encode import OutputFormat
from .errors import RequestError

__all__ = ["Options", "advice", "parse_options"]

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")
_FORMATS = {
    "json": OutputFormat.JSON,
    "miniseed": OutputFormat.MINISEED,
    "mseed": OutputFormat.MINISEED,
    "manifest": OutputFormat.MANIFEST,
}


@dataclass(frozen=True, slots=True)
class Options:
    """How to answer a request for windows."""

    format: OutputFormat = OutputFormat.JSON
    segments: bool = False


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise RequestError(f"expected true or false, got {value!r}", field=name)


def _format(value: object, name: str) -> OutputFormat:
    if isinstance(value, str) and value.strip().lower() in _FORMATS:
        return _FORMATS[value.strip().lower()]
    raise RequestError(f"expected one of {', '.join(sorted(_FORMATS))}, got {value!r}", field=name)


def parse_options(
    document: object,
    query: Mapping[str, str] | None = None,
    *,
    default_format: OutputFormat = OutputFormat.JSON,
) -> Options:
    """The answer's format and shape: query parameters win over body keys (``Format``,
    ``Segments``, any case), which win over ``default_format`` (what the front-end
    negotiated from ``Accept``).

    Raises:
        RequestError: an option has a bad value (the message names it).
    """
    fmt = default_format
    segments = False
    if isinstance(document, Mapping):
        folded = {str(k).lower(): (k, v) for k, v in document.items()}
        if "format" in folded:
            fmt = _format(folded["format"][1], str(folded["format"][0]))
        if "segments" in folded:
            segments = _flag(folded["segments"][1], str(folded["segments"][0]))
    for key, value in (query or {}).items():
        if key.lower() == "format":
            fmt = _format(value, key)
        elif key.lower() == "segments":
            segments = _flag(value, key)
    return Options(fmt, segments)


def advice(options: Options, *, gzip: bool, binary: bool) -> str:
    """What to tell a client whose answer in ``options`` outgrew its limit (``gzip``: it
    was gzipped; ``binary``: the transport carries gzip and miniSEED)."""
    tips = ["ask for fewer or shorter windows"]
    if options.format is OutputFormat.JSON:
        if not binary:
            tips.append("or call the HTTP API, which can gzip the answer or send miniSEED")
        else:
            if not gzip:
                tips.append("send 'Accept-Encoding: gzip' (JSON shrinks about 3x)")
            tips.append(
                "ask for miniSEED ('?format=miniseed' or 'Accept: application/vnd.fdsn.mseed'), "
                "about 4x smaller than JSON"
            )
    if len(tips) > 1:
        tips[-1] = "or " + tips[-1].removeprefix("or ")
    return ", ".join(tips)
