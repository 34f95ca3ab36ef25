"""The values of FDSN web-service parameters, parsed and checked: names and aliases, times,
booleans, bounded numbers, choices, ``nodata``, and the order of start and end. Each failure is a
:class:`~seiswindow.errors.RequestError` naming the parameter."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ..errors import RequestError
from ..nstime import format_time, parse_time

__all__ = [
    "check_order",
    "collect",
    "parse_bool",
    "parse_choice",
    "parse_float",
    "parse_nodata",
    "parse_time_param",
]

#: Parameter aliases of both services (FDSN web service specifications 1.1).
_ALIASES = {
    "start": "starttime",
    "end": "endtime",
    "net": "network",
    "sta": "station",
    "loc": "location",
    "cha": "channel",
    "minlat": "minlatitude",
    "maxlat": "maxlatitude",
    "minlon": "minlongitude",
    "maxlon": "maxlongitude",
    "lat": "latitude",
    "lon": "longitude",
}
_NODATA = {"204": 204, "404": 404}


def collect(items: Iterable[tuple[str, str]], known: frozenset[str], service: str) -> dict[str, str]:
    """Parameters by their long name.

    Raises:
        RequestError: a parameter is unknown, or given twice (under its name or an alias).
    """
    params: dict[str, str] = {}
    for raw_name, value in items:
        name = raw_name.strip().lower()
        name = _ALIASES.get(name, name)
        if name not in known:
            raise RequestError(f"unknown parameter {raw_name!r} for fdsnws-{service}", field=raw_name)
        if name in params:
            raise RequestError(f"parameter {name!r} given more than once", field=name)
        params[name] = value.strip()
    return params


def parse_time_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return parse_time(value, field=name)


def parse_bool(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise RequestError(f"{value!r} is not true or false", field=name)
    return lowered == "true"


def parse_float(params: dict[str, str], name: str, *, low: float, high: float) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RequestError(f"{value!r} is not a number", field=name) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise RequestError(f"{value!r} is out of range [{low:g}, {high:g}]", field=name)
    return number


def parse_choice(params: dict[str, str], name: str, choices: Sequence[str], default: str) -> str:
    value = params.get(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise RequestError(f"{value!r} is not one of {', '.join(choices)}", field=name)
    return value.lower()


def parse_nodata(params: dict[str, str]) -> int:
    value = params.get("nodata")
    if value is None:
        return 204
    if value not in _NODATA:
        raise RequestError(f"{value!r} is not 204 or 404", field="nodata")
    return _NODATA[value]


def check_order(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end <= start:
        raise RequestError(
            f"endtime {format_time(end)} is not after starttime {format_time(start)}",
            field="endtime",
        )
