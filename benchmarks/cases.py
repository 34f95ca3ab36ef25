"""The benchmark cases: what is asked, of which bucket, through which front door.

Every case is a request in the tutorial's shape (``{"Windows": [...]}``), so both
systems receive exactly the same bytes. Cases marked ``rotate`` move their window by
:data:`ROTATE_STEP_S` at each repetition: a warm service (HTTP, Lambda) keeps what it
learnt of a file, and asking the very same window again would measure that cache, not
the search; the baseline pays the same whatever the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from seiswindow.model import Nslc

from .s3data import BENCH_BUCKET, DAY, GAPPY, HUNDRED_HZ

__all__ = ["CASES", "ROTATE_STEP_S", "Case", "Front", "case_named"]

#: How far a rotating window moves at each repetition (an odd step, so successive windows
#: land at unrelated places in the file).
ROTATE_STEP_S = 47 * 60 + 13
_SHARED_BUCKET = "scedc-pds"
_CCA = Nslc("CI", "CCA", "", "BHN")
_HEC = Nslc("CI", "HEC", "", "BHN")
_WBM = Nslc("CI", "WBM", "", "LHZ")
_THIS = Nslc("BK", "THIS", "00", "LHZ")


class Front(StrEnum):
    """The door a request goes through."""

    API = "api"  #: in process: the Python API (ours) or the tutorial's function (baseline)
    HTTP = "http"  #: a real HTTP server on 127.0.0.1 (uvicorn, or the runtime emulator)
    LAMBDA = "lambda"  #: the Lambda handler, with an API Gateway HTTP API (v2) event


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _window(nslc: Nslc, start: dt.datetime, seconds: float) -> dict[str, str]:
    """One window in the tutorial's JSON keys (a blank location is sent as two spaces,
    as in the tutorial's request)."""
    return {
        "Network": nslc.network,
        "Station": nslc.station,
        "Channel": nslc.channel,
        "Location": nslc.location or "  ",
        "Starttime": _iso(start),
        "Endtime": _iso(start + dt.timedelta(seconds=seconds)),
    }


def _at(day: dt.date, hour: int, minute: int = 0, second: float = 0.0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute) + dt.timedelta(seconds=second)


@dataclass(frozen=True)
class Case:
    """One benchmark case.

    Attributes:
        name: short identifier (``--case`` on the command line).
        title: what the results table says.
        bucket: the S3 bucket both systems read.
        windows: the request's windows.
        front: the door the request goes through.
        reps: timed repetitions per system.
        rotate: move the window(s) at each repetition (see the module docstring).
        across_days: the tutorial refuses this window; its baseline is the natural
            extension (every day file read into one stream).
    """

    name: str
    title: str
    bucket: str
    windows: tuple[dict[str, str], ...]
    front: Front = Front.API
    reps: int = 15
    rotate: bool = False
    across_days: bool = False

    def request(self, rep: int) -> dict[str, Any]:
        """The request of repetition ``rep`` (0-based)."""
        if not self.rotate or rep == 0:
            return {"Windows": [dict(w) for w in self.windows]}
        return {"Windows": [_rotated(w, rep) for w in self.windows]}


def _rotated(window: dict[str, str], rep: int) -> dict[str, str]:
    start = dt.datetime.fromisoformat(window["Starttime"])
    length = dt.datetime.fromisoformat(window["Endtime"]) - start
    midnight = dt.datetime(start.year, start.month, start.day)
    usable = 86_400 - 1200 - length.total_seconds()  # stay 10 min clear of both midnights
    offset = ((start - midnight).total_seconds() - 600 + rep * ROTATE_STEP_S) % usable + 600
    new_start = midnight + dt.timedelta(seconds=offset)
    return {**window, "Starttime": _iso(new_start), "Endtime": _iso(new_start + length)}


def _hundred_windows() -> tuple[dict[str, str], ...]:
    """25 five-minute windows spread over the day on each of four real channels (two
    40 Hz, two 1 Hz): an event gather of the kind the tutorial's request is for."""
    windows = []
    for k in range(25):
        start = _at(DAY, 0, 20) + dt.timedelta(seconds=k * 3300)
        for nslc in (_CCA, _HEC, _WBM, _THIS):
            windows.append(_window(nslc, start, 300))
    return tuple(windows)


_FIVE_MIN_100HZ = (_window(HUNDRED_HZ, _at(DAY, 10, 0, 0.0), 300),)

CASES: tuple[Case, ...] = (
    Case(
        "5min-40hz",
        "5-min window, 40 Hz day (CI.CCA..BHN, 3.8 MB file)",
        _SHARED_BUCKET,
        (_window(_CCA, _at(DAY, 10), 300),),
        rotate=True,
    ),
    Case(
        "5min-100hz",
        "5-min window, 100 Hz day (generated, 14 MB file)",
        BENCH_BUCKET,
        _FIVE_MIN_100HZ,
        rotate=True,
    ),
    Case(
        "1h-gaps",
        "1-hour window, 100 Hz day with 2 gaps in the hour (generated)",
        BENCH_BUCKET,
        (_window(GAPPY, _at(DAY, 10), 3600),),
        reps=9,
    ),
    Case(
        "whole-day",
        "whole day, 100 Hz (8.64 M samples)",
        BENCH_BUCKET,
        (_window(HUNDRED_HZ, _at(DAY, 0), 86_400 - 1e-6),),
        reps=3,
    ),
    Case(
        "midnight",
        "10-min window across midnight (CI.WBM..LHZ 2022-001/002)",
        _SHARED_BUCKET,
        (_window(_WBM, dt.datetime(2022, 1, 1, 23, 55), 600),),
        across_days=True,
    ),
    Case(
        "100-windows",
        "100 five-minute windows in one request (4 real channels)",
        _SHARED_BUCKET,
        _hundred_windows(),
        reps=3,
    ),
    Case(
        "http",
        "5-min window, 100 Hz, through HTTP (uvicorn / runtime emulator, 127.0.0.1)",
        BENCH_BUCKET,
        _FIVE_MIN_100HZ,
        front=Front.HTTP,
        rotate=True,
    ),
    Case(
        "lambda",
        "5-min window, 100 Hz, through the Lambda handler (API Gateway v2 event)",
        BENCH_BUCKET,
        _FIVE_MIN_100HZ,
        front=Front.LAMBDA,
        rotate=True,
    ),
)


def case_named(name: str) -> Case:
    """The case called ``name``.

    Raises:
        KeyError: no such case.
    """
    for case in CASES:
        if case.name == name:
            return case
    raise KeyError(f"no case {name!r}; cases: {', '.join(c.name for c in CASES)}")


def with_reps(case: Case, reps: int) -> Case:
    """``case`` with another number of repetitions."""
    return replace(case, reps=reps)
