"""Time inside seiswindow: integer nanoseconds since 1970-01-01T00:00:00 UTC.

libmseed counts time the same way (``nstime_t``), so record times pass through without
conversion or rounding. Strings are parsed and printed only at the edges, with the
functions here.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import re

from .errors import RequestError

__all__ = [
    "NS_PER_S",
    "as_ns",
    "day_start",
    "format_seconds",
    "format_time",
    "parse_time",
    "utc_day",
]

NS_PER_S = 1_000_000_000
_NS_PER_DAY = 86_400 * NS_PER_S
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
# Digital seismograms start in the 1960s; bounds keep day arithmetic near them in range.
_MIN_YEAR, _MAX_YEAR = 1900, 2500

# ISO 8601 as seismologists write it: calendar date or year-dayofyear (FDSN allows both),
# optional time, optional fraction up to nanoseconds, optional UTC designator.
_ISO = re.compile(
    r"^\s*(?P<year>\d{4})-(?:(?P<month>\d{2})-(?P<day>\d{2})|(?P<doy>\d{3}))"
    r"(?:[T ](?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d{1,9})\d*)?)?)?)?"
    r"\s*(?P<tz>Z|[+-]00(?::?00)?)?\s*$",
    re.IGNORECASE | re.ASCII,
)


def as_ns(value: object, *, field: str = "time", index: int | None = None) -> int:
    """A time as a user of the Python API has it, in integer nanoseconds: an ISO 8601 string
    (see :func:`parse_time`), integer nanoseconds, a ``datetime`` (naive ones are UTC, aware
    ones converted), a ``date`` (its midnight, UTC), or an ObsPy ``UTCDateTime`` (its ``ns``;
    ObsPy itself is not imported).

    >>> as_ns(_dt.datetime(2022, 1, 1, 0, 0, 0, 500)) == parse_time("2022-01-01T00:00:00.0005")
    True

    Raises:
        RequestError: none of these, or a time outside the era of seismograms (1900-2500).
    """
    if isinstance(value, str):
        return parse_time(value, field=field, index=index)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    ns = getattr(value, "ns", None)  # ObsPy's UTCDateTime keeps its time as integer ns
    if isinstance(ns, numbers.Integral) and not isinstance(ns, bool):
        return _in_era(int(ns), field=field, index=index)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        midnight = day_start(value.date())
        of_day = (value.hour * 3600 + value.minute * 60 + value.second) * NS_PER_S + value.microsecond * 1000
        return _in_era(midnight + of_day, field=field, index=index)
    if isinstance(value, _dt.date):
        return _in_era(day_start(value), field=field, index=index)
    raise RequestError(
        f"expected a time (ISO 8601 string, datetime, ObsPy UTCDateTime or integer nanoseconds), "
        f"got {type(value).__name__}",
        field=field,
        index=index,
    )


def _in_era(ns: int, *, field: str, index: int | None) -> int:
    if not _MIN_NS <= ns < _MAX_NS:
        raise RequestError(
            f"{ns} ns since 1970 is outside the years {_MIN_YEAR}-{_MAX_YEAR}",
            field=field,
            index=index,
        )
    return ns


def parse_time(text: object, *, field: str = "time", index: int | None = None) -> int:
    """Parse an ISO 8601 UTC time (``2024-01-01T00:00:00``, ``...Z``, ``.123456``,
    ``2024-001T00:00``, a bare date) into integer nanoseconds.

    Raises:
        RequestError: ``text`` is not a string or not a valid UTC time; the message names
            ``field`` and ``index``.
    """
    if not isinstance(text, str):
        raise RequestError(
            f"expected an ISO 8601 time string, got {type(text).__name__}", field=field, index=index
        )
    match = _ISO.match(text)
    if match is None:
        raise RequestError(
            f"cannot parse time {text!r}; use ISO 8601 UTC, e.g. 2024-01-01T00:00:00",
            field=field,
            index=index,
        )
    g = match.groupdict()
    try:
        year = int(g["year"])
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise ValueError(f"year {year} is outside {_MIN_YEAR}-{_MAX_YEAR}")
        if g["doy"] is not None:
            date = _dt.date(year, 1, 1) + _dt.timedelta(days=int(g["doy"]) - 1)
            if date.year != year:
                raise ValueError("day of year out of range")
        else:
            date = _dt.date(year, int(g["month"]), int(g["day"]))
        hour, minute, second = (int(g[k] or 0) for k in ("hour", "minute", "second"))
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError("hour, minute or second out of range")
    except ValueError as exc:
        raise RequestError(f"invalid time {text!r}: {exc}", field=field, index=index) from None
    frac = g["frac"] or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    seconds = (date.toordinal() - _EPOCH_ORDINAL) * 86_400 + hour * 3600 + minute * 60 + second
    return seconds * NS_PER_S + nanos


def format_time(ns: int) -> str:
    """Format nanoseconds as ObsPy prints a ``UTCDateTime``: microseconds and ``Z``.

    >>> format_time(1640995200071859500)
    '2022-01-01T00:00:00.071860Z'
    """
    # To the microsecond with ties to even, as UTCDateTime does (Python's round()):
    # .0000005 prints .000000, .0000015 prints .000002.
    micros, rest = divmod(ns, 1000)
    if rest > 500 or (rest == 500 and micros % 2):
        micros += 1
    seconds, micro = divmod(micros, 1_000_000)
    return f"{format_seconds(seconds * NS_PER_S)}.{micro:06d}Z"


def format_seconds(ns: int) -> str:
    """The whole seconds of the instant ``ns`` (UTC; no fraction, no zone designator).

    >>> format_seconds(1640995200999999999)
    '2022-01-01T00:00:00'
    """
    stamp = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=ns // NS_PER_S)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}"


def utc_day(ns: int) -> _dt.date:
    """The UTC calendar day holding the instant ``ns``."""
    return _dt.date.fromordinal(ns // _NS_PER_DAY + _EPOCH_ORDINAL)


def day_start(day: _dt.date) -> int:
    """Nanoseconds at 00:00:00 UTC of ``day``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY


_MIN_NS = day_start(_dt.date(_MIN_YEAR, 1, 1))
_MAX_NS = day_start(_dt.date(_MAX_YEAR + 1, 1, 1))
