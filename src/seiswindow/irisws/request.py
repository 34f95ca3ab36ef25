"""A ``irisws-timeseries`` query parsed and checked, with no I/O.

IRIS's parameters (https://service.iris.edu/irisws/timeseries/1/): one channel by
``net sta loc cha`` (no wildcards; ``loc=--`` for a blank location), ``starttime`` and
``endtime`` or ``duration`` (seconds), ``format`` (or its older name ``output``), the
processing steps of :mod:`seiswindow.process.steps` in the order given, ``audiosamplerate``
for WAV, ``nodata`` (204, the default, or 404). Every failure is a
:class:`~seiswindow.errors.RequestError` naming the parameter: an unknown parameter too, so a
misspelt option is never silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import RequestError
from ..formats import Format, parse_format
from ..model import Window
from ..nstime import NS_PER_S, parse_time
from ..process import PROCESS_PARAMETERS, Chain, parse_chain

__all__ = ["TimeseriesRequest", "parse_timeseries"]

_ALIASES = {
    "net": "network",
    "sta": "station",
    "loc": "location",
    "cha": "channel",
    "start": "starttime",
    "end": "endtime",
    "output": "format",
}
_KNOWN = frozenset(
    ["network", "station", "location", "channel", "starttime", "endtime", "duration", "format"]
    + ["nodata", "audiosamplerate", "audiocompress", "antialiasplot"]
)
#: What IRIS's query offers except JSON (which ``/timewindows`` answers).
IRIS_FORMATS = tuple(f for f in Format if f is not Format.JSON)


@dataclass(frozen=True, slots=True)
class TimeseriesRequest:
    """One channel's window, its processing and the answer's format."""

    window: Window
    chain: Chain
    format: Format
    nodata: int = 204
    audio_rate: int = 1000


def _collect(items: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    params: dict[str, str] = {}
    processing: list[tuple[str, str]] = []
    for raw, value in items:
        lowered = raw.strip().lower()
        if lowered in PROCESS_PARAMETERS:
            processing.append((lowered, value))
            continue
        name = _ALIASES.get(lowered, lowered)
        if name not in _KNOWN:
            raise RequestError(f"unknown parameter {raw!r} for irisws-timeseries", field=raw)
        if name in params:
            raise RequestError(f"parameter {name!r} given more than once", field=name)
        params[name] = value.strip()
    return params, processing


def _required(params: dict[str, str], name: str) -> str:
    if name not in params:
        raise RequestError("is required", field=name)
    return params[name]


def _end(params: dict[str, str], start: int) -> int:
    if "duration" in params:
        if "endtime" in params:
            raise RequestError("give endtime or duration, not both", field="duration")
        try:
            seconds = float(params["duration"])
        except ValueError:
            raise RequestError(f"expected seconds, got {params['duration']!r}", field="duration") from None
        if not math.isfinite(seconds) or seconds <= 0:
            raise RequestError(
                f"expected a positive number of seconds, got {params['duration']!r}", field="duration"
            )
        return start + round(seconds * NS_PER_S)
    return parse_time(_required(params, "endtime"), field="endtime")


def _off(params: dict[str, str], name: str) -> None:
    """An option IRIS has that is not offered here: refused when turned on."""
    if params.get(name, "false").lower() not in ("false", "0", "no"):
        raise RequestError("is not supported by this service (only false)", field=name)


def parse_timeseries(items: Iterable[tuple[str, str]]) -> TimeseriesRequest:
    """The request a query string makes.

    Raises:
        RequestError: a parameter is unknown, repeated, missing or malformed (named).
    """
    params, processing = _collect(items)
    start = parse_time(_required(params, "starttime"), field="starttime")
    end = _end(params, start)
    if end <= start:
        raise RequestError("must be after starttime", field="endtime")
    codes = []
    for name in ("network", "station", "location", "channel"):
        value = _required(params, name) if name != "location" else params.get(name, "")
        if any(c in value for c in "*?,"):
            raise RequestError("wildcards and lists are not accepted (one channel)", field=name)
        codes.append(value)
    try:
        window = Window.create(codes[0], codes[1], codes[2], codes[3], start, end)
    except RequestError as exc:
        raise RequestError(exc.detail, field=(exc.field or "").lower() or None) from None
    fmt = parse_format(_required(params, "format"), "format", allowed=IRIS_FORMATS)
    nodata = params.get("nodata", "204")
    if nodata not in ("204", "404"):
        raise RequestError(f"expected 204 or 404, got {nodata!r}", field="nodata")
    _off(params, "audiocompress")
    _off(params, "antialiasplot")
    rate = 1000
    if "audiosamplerate" in params:
        text = params["audiosamplerate"]
        if not text.isdigit() or not 1 <= int(text) <= 192_000:
            raise RequestError(
                f"expected a rate in Hz from 1 to 192000, got {text!r}", field="audiosamplerate"
            )
        rate = int(text)
    return TimeseriesRequest(window, parse_chain(processing), fmt, int(nodata), rate)
