"""What the ``Accept`` and ``Accept-Encoding`` headers ask for (``seiswindow.negotiate``)."""

from __future__ import annotations

import pytest

from seiswindow.encode import OutputFormat
from seiswindow.negotiate import (
    Negotiated,
    accepts_gzip,
    header,
    negotiate,
    preferred_format,
    quality_values,
)

MSEED = "application/vnd.fdsn.mseed"


def test_quality_values_read_each_element() -> None:
    assert quality_values("Text/HTML, application/json;q=0.5, */*; q=0.1") == [
        ("text/html", 1.0),
        ("application/json", 0.5),
        ("*/*", 0.1),
    ]
    assert quality_values("gzip;q=nope, , br") == [("gzip", 0.0), ("br", 1.0)]
    assert quality_values("") == []


def test_header_is_found_in_any_case() -> None:
    assert header({"ACCEPT-Encoding": "gzip"}, "accept-encoding") == "gzip"
    assert header({"Accept": "x"}, "Accept-Encoding") == ""


@pytest.mark.parametrize(
    ("value", "gzip"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accepts_gzip(value: str, gzip: bool) -> None:
    assert accepts_gzip({"Accept-Encoding": value}) is gzip


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, OutputFormat.JSON),
        (MSEED, OutputFormat.MINISEED),
        (f"application/json, {MSEED}", OutputFormat.JSON),  # equal quality: the first wins
        (f"application/json;q=0.5, {MSEED}", OutputFormat.MINISEED),
        (f"{MSEED};q=0.2, */*;q=0.8", OutputFormat.JSON),
        (f"{MSEED};q=0", OutputFormat.JSON),
        ("text/html", OutputFormat.JSON),
    ],
)
def test_preferred_format(accept: str | None, expected: OutputFormat) -> None:
    headers = {} if accept is None else {"accept": accept}
    assert preferred_format(headers) is expected


def test_negotiate_gives_both() -> None:
    assert negotiate({}) == Negotiated(OutputFormat.JSON, gzip=False)
    assert negotiate({"Accept": MSEED, "Accept-Encoding": "gzip"}) == Negotiated(
        OutputFormat.MINISEED, gzip=True
    )
