"""The options of a request for windows, besides its windows: the answer's format and shape.

A request names them as body keys (``"Format"``, ``"Segments"``, any case) or as query
parameters, which win; without either, the format is what the front end negotiated from
``Accept``. Formats: ``json`` (the tutorial's answer, default), ``miniseed`` (``mseed``),
``manifest`` (where each window's records lie, :mod:`seiswindow.manifest`), and IRIS's
file formats (``sac``, ``geocsv``, ``plot``...: :mod:`seiswindow.formats`). Processing
steps (``"Process"`` in the body, or IRIS's parameters in the query: ``demean``, ``bp``...)
are parsed into a :class:`~seiswindow.process.Chain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .encode import OutputFormat
from .errors import RequestError
from .formats import FORMAT_NAMES, Format, parse_format
from .process import PROCESS_PARAMETERS, Chain, parse_chain, process_items

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
    #: The processing asked (IRIS's steps, in order; empty: the samples as recorded).
    chain: Chain = field(default_factory=Chain)
    #: A format other than JSON, miniSEED and the manifest (SAC, GeoCSV, plot...): the
    #: answer is that file.
    file: Format | None = None


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise RequestError(f"expected true or false, got {value!r}", field=name)


def _format(value: object, name: str) -> tuple[OutputFormat, Format | None]:
    if isinstance(value, str) and value.strip().lower() in _FORMATS:
        return _FORMATS[value.strip().lower()], None
    if isinstance(value, str) and value.strip().lower() in FORMAT_NAMES:
        return OutputFormat.JSON, parse_format(value, name)
    known = ", ".join([*_FORMATS, *(n for n in FORMAT_NAMES if n not in _FORMATS)])
    raise RequestError(f"expected one of {known}, got {value!r}", field=name)


def parse_options(
    document: object,
    query: Mapping[str, str] | None = None,
    *,
    default_format: OutputFormat = OutputFormat.JSON,
) -> Options:
    """The answer's format, shape and processing: query parameters win over body keys
    (``Format``, ``Segments``, ``Process``, any case), which win over ``default_format``
    (what the front-end negotiated from ``Accept``).

    Raises:
        RequestError: an option has a bad value (the message names it).
    """
    fmt: tuple[OutputFormat, Format | None] = (default_format, None)
    segments = False
    steps: list[tuple[str, str]] = []
    if isinstance(document, Mapping):
        folded = {str(k).lower(): (k, v) for k, v in document.items()}
        if "format" in folded:
            fmt = _format(folded["format"][1], str(folded["format"][0]))
        if "segments" in folded:
            segments = _flag(folded["segments"][1], str(folded["segments"][0]))
        if "process" in folded:
            steps = process_items(folded["process"][1], field=str(folded["process"][0]))
    query_steps = []
    for key, value in (query or {}).items():
        if key.lower() == "format":
            fmt = _format(value, key)
        elif key.lower() == "segments":
            segments = _flag(value, key)
        elif key.lower() in PROCESS_PARAMETERS:
            query_steps.append((key, value))
    # The query's steps replace the body's, as its other options win over the body's keys.
    chain = parse_chain(query_steps or steps)
    return Options(fmt[0], segments, chain, fmt[1])


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
