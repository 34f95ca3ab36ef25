"""The page's envelope (``GET /page/api/envelope``) against the samples ``POST /timewindows``
answers for the same window, over a real socket: every slice's least and greatest sample, and
``None`` over the demo's 30 s gap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from seiswindow.nstime import parse_time

DEMO = {"Network": "SY", "Station": "DEMO", "Location": "", "Channel": "BHZ"}


def _samples(app_url: str, start: str, end: str) -> dict[str, Any]:
    body = {"Windows": [{**DEMO, "Starttime": start, "Endtime": end}]}
    (window,) = httpx.post(f"{app_url}/timewindows", json=body, timeout=60).json()
    return window


def _expected(window: dict[str, Any], t0: int, t1: int, bins: int) -> tuple[list[Any], list[Any], int]:
    """Slices recomputed in Python from the tutorial's JSON: sample i at starttime + i * delta."""
    first = parse_time(window["starttime"])
    lo: list[Any] = [None] * bins
    hi: list[Any] = [None] * bins
    step = round(window["delta"] * 1e9)
    inside = 0
    for i, value in enumerate(window["data"]):
        if value is None:
            continue
        slot = (first + i * step - t0) * bins // (t1 - t0)
        if 0 <= slot < bins:
            inside += 1
            lo[slot] = value if lo[slot] is None else min(lo[slot], value)
            hi[slot] = value if hi[slot] is None else max(hi[slot], value)
    return lo, hi, inside


@pytest.mark.parametrize("bins", [1, 7, 1000])
def test_envelope_is_the_min_and_max_of_the_samples(app_url: str, bins: int) -> None:
    start, end = "2024-01-01T09:50:00", "2024-01-01T10:10:00"
    got = httpx.get(
        f"{app_url}/page/api/envelope",
        params={
            "net": "SY",
            "sta": "DEMO",
            "loc": "",
            "cha": "BHZ",
            "start": start,
            "end": end,
            "bins": bins,
        },
        timeout=60,
    ).json()
    window = _samples(app_url, start, end)
    lo, hi, inside = _expected(window, parse_time(start), parse_time(end), bins)
    assert got["bins"] == bins and got["npts"] == sum(v is not None for v in window["data"])
    assert got["min"] == lo and got["max"] == hi
    assert got["gaps"] == window["gaps"] and len(got["gaps"]) == 1
    if bins == 1000:  # the 30 s hole: 25 slices of 1.2 s with no sample
        assert got["min"].count(None) >= 24
    # The window is ObsPy's (both ends inclusive); the slices are [start, end).
    assert sum(got["counts"]) == inside


def test_envelope_of_two_days_is_answered_in_slices(app_url: str) -> None:
    # 6.9 million samples reduced to 1,200 pairs: what the page plots for a long span.
    got = httpx.get(
        f"{app_url}/page/api/envelope",
        params={
            "net": "SY",
            "sta": "DEMO",
            "cha": "BHN",
            "start": "2024-01-01",
            "end": "2024-01-03",
            "bins": 1200,
        },
        timeout=120,
    ).json()
    assert got["npts"] > 6_900_000 and got["bins"] == 1200 and None not in got["min"]
    assert datetime.fromisoformat(got["starttime"]) == datetime(2024, 1, 1, tzinfo=UTC)


def test_envelope_over_the_sample_limit_is_a_413_as_json(app_url: str) -> None:
    # A month of 40 Hz: more samples than a request may decode (Limits.max_samples).
    query = {"net": "SY", "sta": "DEMO", "cha": "BHZ", "start": "2024-01-01", "end": "2024-02-01"}
    r = httpx.get(f"{app_url}/page/api/envelope", params=query, timeout=30)
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/json")
    assert "samples" in r.json()["error"] and r.json()["field"] == "Endtime"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bins": 0}, "bins"),
        ({"bins": 100_000}, "bins"),
        ({"end": "2023-12-31"}, "Endtime"),
        ({"cha": "B"}, "Channel"),
    ],
)
def test_envelope_refuses_bad_requests_as_json(app_url: str, params: dict[str, Any], field: str) -> None:
    query = {
        "net": "SY",
        "sta": "DEMO",
        "cha": "BHZ",
        "start": "2024-01-01",
        "end": "2024-01-01T01:00:00",
        **params,
    }
    r = httpx.get(f"{app_url}/page/api/envelope", params=query, timeout=30)
    assert r.status_code in (400, 422), r.text
    assert field.lower() in r.text.lower()
