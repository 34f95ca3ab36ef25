"""Times as integer nanoseconds: parsed and printed as ObsPy's ``UTCDateTime`` does (the
oracle), days and their starts."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from obspy import UTCDateTime

from seiswindow.errors import RequestError
from seiswindow.nstime import NS_PER_S, day_start, format_seconds, format_time, parse_time, utc_day

#: The era the parser admits (1900-2500), in nanoseconds.
_FIRST_NS = UTCDateTime("1900-01-01").ns
_LAST_NS = UTCDateTime("2500-12-31T23:59:59.999999").ns
nanoseconds = st.integers(_FIRST_NS, _LAST_NS)


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2500, 12, 31)),
    st.sampled_from(["", "Z"]),
    st.integers(0, 6),
)
def test_times_parse_and_print_as_obspy(moment: dt.datetime, suffix: str, digits: int) -> None:
    text = (
        moment.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{moment.microsecond:06d}"[: digits + 1] if digits else "")
        + suffix
    )
    expected = UTCDateTime(text)
    assert parse_time(text) == expected.ns
    assert format_time(expected.ns) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2024-001T00:00",
        "2024-366T23:59:59.5",
        "2022-01-01",
        "2022-01-01T10",
        "2022-01-01T10:30",
        "2022-01-01 10:30:00",
        "1965-06-30T12:00:00.25Z",
        "2022-01-01T00:00:00.000001",
    ],
)
def test_the_forms_seismologists_write_parse_as_obspy(text: str) -> None:
    assert parse_time(text) == UTCDateTime(text).ns


@given(st.integers(0, NS_PER_S - 1), st.integers(1, 9))
def test_fractions_keep_their_nanoseconds(nanos: int, digits: int) -> None:
    """ObsPy rounds a parsed fraction to the microsecond (through a float, whatever its
    precision); seiswindow keeps every digit, as libmseed's nanoseconds do."""
    fraction = f"{nanos:09d}"[:digits]
    text = f"2022-01-02T03:04:05.{fraction}"
    parsed = parse_time(text)
    assert parsed == UTCDateTime("2022-01-02T03:04:05").ns + int(fraction.ljust(9, "0"))
    assert abs(parsed - UTCDateTime(text).ns) <= 500


@given(nanoseconds)
# exact half microseconds: ObsPy rounds them to even (hypothesis found 500)
@example(500)
@example(1500)
@example(-1500)
@example(1640995200071860500)
def test_nanoseconds_print_rounded_to_microseconds_as_obspy(ns: int) -> None:
    assert format_time(ns) == str(UTCDateTime(ns=ns))


def test_half_microseconds_round_up_as_obspy() -> None:
    for ns in (1640995200071859500, 1640995200071859499, 1640995200999999600, -500, -501):
        assert format_time(ns) == str(UTCDateTime(ns=ns))


# ObsPy's datetime and strftime round to the microsecond: the oracle is asked about the
# microsecond the instant is in, which is in the same second and day.


@given(nanoseconds)
def test_whole_seconds_print_as_obspy(ns: int) -> None:
    assert format_seconds(ns) == UTCDateTime(ns=ns - ns % 1000).strftime("%Y-%m-%dT%H:%M:%S")


@given(nanoseconds)
def test_a_day_holds_its_instants(ns: int) -> None:
    day = utc_day(ns)
    assert day == UTCDateTime(ns=ns - ns % 1000).datetime.date()
    assert day_start(day) <= ns < day_start(day + dt.timedelta(days=1))
    assert day_start(day) == UTCDateTime(day.isoformat()).ns


@pytest.mark.parametrize(
    "text",
    [
        "1899-12-31T23:59:59",
        "2501-01-01",
        "2023-366T00:00:00",
        "2022-02-30",
        "2022-01-01T24:00:00",
        "2022-01-01T00:60:00",
        "2022-01-01T00:00:00+01:00",
        "01/02/2022",
        "２０２２-01-01T00:00:00",
    ],
)
def test_what_is_not_a_utc_time_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(RequestError, match="starttime"):
        parse_time(text, field="starttime")


def test_a_time_must_be_a_string() -> None:
    with pytest.raises(RequestError, match="got int"):
        parse_time(1640995200, field="starttime")
