"""Values that flow through seiswindow: what is asked (:class:`Window`) and what is
answered (:class:`WindowResult` of :class:`Segment` and :class:`Gap`).

Times are integer nanoseconds since the epoch (see :mod:`seiswindow.nstime`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import LimitExceeded, RequestError
from .nstime import NS_PER_S, as_ns, format_time

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FetchStats",
    "Gap",
    "Limits",
    "Nslc",
    "Segment",
    "Status",
    "TraceSpan",
    "Window",
    "WindowResult",
    "check_count",
    "normalize_location",
    "parse_windows",
]

_CODE = re.compile(r"[A-Z0-9]*")
# (name in the tutorial's JSON, max length, min length)
_CODE_RULES = {
    "Network": (2, 1),
    "Station": (5, 1),
    "Location": (2, 0),
    "Channel": (3, 3),
}
# The tutorial's request keys; matched case-insensitively so "network" works too.
_REQUEST_KEYS = ("Network", "Station", "Location", "Channel", "Starttime", "Endtime")


class Nslc(NamedTuple):
    """SEED codes of one channel: network, station, location ('' when blank), channel."""

    network: str
    station: str
    location: str
    channel: str

    def __str__(self) -> str:
        return ".".join(self)


def normalize_location(value: str) -> str:
    """The location code as stored: blank, spaces and ``--`` all mean the empty code."""
    stripped = value.strip()
    return "" if stripped == "--" else stripped


def _check_code(value: object, name: str, index: int | None) -> str:
    if value is None and name == "Location":
        value = ""
    if not isinstance(value, str):
        raise RequestError(f"expected a string, got {type(value).__name__}", field=name, index=index)
    code = normalize_location(value) if name == "Location" else value.strip()
    max_len, min_len = _CODE_RULES[name]
    # ASCII before upper-casing: str.upper() folds some letters into others ("ß" -> "SS",
    # "ı" -> "I", "ﬀ" -> "FF"), which would answer a station that was not asked for.
    if not code.isascii() or not _CODE.fullmatch(code := code.upper()):
        raise RequestError(
            f"{value!r} is not a SEED code (letters A-Z and digits only)", field=name, index=index
        )
    if not min_len <= len(code) <= max_len:
        span = f"{max_len}" if min_len == max_len else f"{min_len} to {max_len}"
        raise RequestError(f"{value!r} must have {span} characters", field=name, index=index)
    return code


@dataclass(frozen=True, slots=True)
class Window:
    """A request for the samples of one channel between two instants.

    ``start`` and ``end`` are nanoseconds; the window is trimmed as ObsPy's
    ``Stream.trim(start, end)`` does (nearest sample, both ends inclusive).
    """

    network: str
    station: str
    location: str
    channel: str
    start: int
    end: int

    @property
    def nslc(self) -> Nslc:
        return Nslc(self.network, self.station, self.location, self.channel)

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / NS_PER_S

    @classmethod
    def create(
        cls,
        network: object,
        station: object,
        location: object,
        channel: object,
        start: object,
        end: object,
        *,
        index: int | None = None,
    ) -> Window:
        """Validate codes and times and build a window.

        Codes are upper-cased; location blank/spaces/``--`` become ``''``. Times are ISO 8601
        strings, ``datetime``/``date`` (UTC), ObsPy ``UTCDateTime`` or integer nanoseconds
        (:func:`~seiswindow.nstime.as_ns`).

        Raises:
            RequestError: a code or time is malformed, or ``end`` is not after ``start``;
                the message names ``index`` and the field.
        """
        codes = [
            _check_code(value, name, index)
            for value, name in zip((network, station, location, channel), _REQUEST_KEYS[:4], strict=True)
        ]
        t0 = as_ns(start, field="Starttime", index=index)
        t1 = as_ns(end, field="Endtime", index=index)
        if t1 <= t0:
            raise RequestError(
                f"must be after Starttime ({format_time(t1)} <= {format_time(t0)})",
                field="Endtime",
                index=index,
            )
        return cls(codes[0], codes[1], codes[2], codes[3], t0, t1)

    @classmethod
    def from_request(cls, item: object, *, index: int | None = None) -> Window:
        """A window from one element of the tutorial's ``{"Windows": [...]}`` list.

        Raises:
            RequestError: ``item`` is not an object, lacks a key, or has a bad value.
        """
        if not isinstance(item, Mapping):
            raise RequestError(
                f"expected an object with keys {', '.join(_REQUEST_KEYS)}, got {type(item).__name__}",
                index=index,
            )
        folded = {str(k).lower(): v for k, v in item.items()}
        values = []
        for key in _REQUEST_KEYS:
            if key.lower() not in folded:
                if key == "Location":
                    values.append("")
                    continue
                raise RequestError("is required", field=key, index=index)
            value = folded[key.lower()]
            if key in ("Starttime", "Endtime") and not isinstance(value, str):
                raise RequestError(
                    f"expected an ISO 8601 time string, got {type(value).__name__}", field=key, index=index
                )
            values.append(value)
        return cls.create(*values, index=index)

    @classmethod
    def from_nslc(cls, nslc: str, start: object, end: object, *, index: int | None = None) -> Window:
        """A window from ``NET.STA.LOC.CHA`` (``CI.WBM..LHZ``, ``CI.WBM.--.LHZ``).

        Raises:
            RequestError: the string does not have four dot-separated codes, or a value is bad.
        """
        parts = nslc.split(".")
        if len(parts) != 4:
            raise RequestError(
                f"{nslc!r} is not NET.STA.LOC.CHA (e.g. CI.WBM..LHZ)", field="nslc", index=index
            )
        net, sta, loc, cha = parts
        return cls.create(net, sta, loc, cha, start, end, index=index)

    def __repr__(self) -> str:
        # Times as ISO strings (to the microsecond, as ObsPy prints them), not nanoseconds.
        return f"Window({self.nslc}, {format_time(self.start)}, {format_time(self.end)})"

    def to_request(self) -> dict[str, str]:
        """The tutorial's JSON form of this window."""
        return {
            "Network": self.network,
            "Station": self.station,
            "Location": self.location,
            "Channel": self.channel,
            "Starttime": format_time(self.start),
            "Endtime": format_time(self.end),
        }


class Status(StrEnum):
    """How much of a window was answered."""

    OK = "ok"  #: every sample of the window is there
    PARTIAL = "partial"  #: some samples: gaps, overlaps, data not covering the window, bad records
    NODATA = "nodata"  #: no sample at all (no day file, or files without data in the window)
    ERROR = "error"  #: the archive could not be read or its data were invalid

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Segment:
    """Contiguous samples: ``samples[i]`` was taken at ``start + i / sampling_rate``."""

    start: int
    sampling_rate: float
    samples: np.ndarray[Any, Any]

    @property
    def npts(self) -> int:
        return int(self.samples.shape[0])

    @property
    def end(self) -> int:
        """Time of the last sample, computed as ObsPy computes ``Stats.endtime``."""
        if self.npts == 0 or self.sampling_rate <= 0:
            return self.start
        return self.start + int(round(float(self.npts - 1) * (1.0 / self.sampling_rate) * 1e9))

    @property
    def delta(self) -> float:
        return 1.0 / self.sampling_rate if self.sampling_rate > 0 else 0.0

    def __repr__(self) -> str:
        return (
            f"Segment(start={format_time(self.start)}, end={format_time(self.end)}, "
            f"sampling_rate={self.sampling_rate:g}, npts={self.npts})"
        )


@dataclass(frozen=True, slots=True)
class TraceSpan:
    """The samples' grid ObsPy's ``Stream.merge().trim(start, end)`` would hold for a
    window: ``npts`` samples from ``start`` at ``sampling_rate``, those that no segment
    holds being masked. It differs from the segments' own extent when the window starts or
    ends inside a gap of the data (or lies wholly in one)."""

    start: int
    npts: int
    sampling_rate: float

    def __repr__(self) -> str:
        start = format_time(self.start)
        return f"TraceSpan(start={start}, npts={self.npts}, sampling_rate={self.sampling_rate:g})"


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing samples inside the window (or overlapping ones, when ``samples < 0``).

    ``start`` is the time of the last sample before the gap (the window start for a gap
    at the beginning), ``end`` the time of the first sample after it (the window end for a
    gap at the end); ``samples`` is the number of samples missing between them, as ObsPy's
    ``Stream.get_gaps()`` counts them (negative for an overlap).
    """

    start: int
    end: int
    samples: int

    def __repr__(self) -> str:
        return f"Gap(start={format_time(self.start)}, end={format_time(self.end)}, samples={self.samples})"


def _seconds(value: Decimal) -> str:
    """Seconds in plain decimal notation, every digit kept (``172800.000000001``, ``172800``)."""
    return f"{value.normalize():f}"


def check_count(
    count: int, max_windows: int, *, field: str = "Windows", advice: str = "split the request"
) -> None:
    """The one check of a request's window count (the windows service, FDSN dataselect's
    channel windows after wildcards are expanded).

    Raises:
        LimitExceeded: ``count`` windows are more than ``max_windows``; names ``field``.
    """
    if count > max_windows:
        raise LimitExceeded(
            f"{count} windows asked, at most {max_windows} per request; {advice}",
            field=field,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask for. Defaults suit a workstation; where the answer travels
    through Lambda, its transport bounds it to Lambda's 6 MB (``seiswindow.aws.envelope``).

    A request is bounded by the samples it would return (``max_samples``, estimated from
    each channel's band code, see :func:`estimated_rate`), not by days: three days of a
    1 Hz channel are 260,000 samples, three minutes of a 1 kHz one 180,000.
    ``max_window_seconds`` is an optional bound in time besides (none by default).
    """

    max_windows: int = 500
    #: Samples a request may return at most, as estimated before reading (int32 samples:
    #: 200 MB decoded at the default).
    max_samples: int = 50_000_000
    max_window_seconds: float = math.inf
    #: The largest answer, as it travels: sized for a workstation or a server. An answer that
    #: travels through Lambda is bounded further by its transport (6 MB less the envelope).
    max_response_bytes: int = 1 << 30

    def check(self, windows: list[Window]) -> None:
        """Raises:
        LimitExceeded: too many windows, a window longer than allowed, or more samples
            than ``max_samples`` (the message says the estimate and how it was made).
        """
        check_count(len(windows), self.max_windows)
        self.check_samples(windows)
        # Decimal, exact: the window in nanoseconds against the limit as configured (its
        # shortest repr), so a window 1 ns too long is refused and the message shows that ns.
        if not math.isfinite(self.max_window_seconds):  # no bound in time
            return
        most = Decimal(repr(self.max_window_seconds))
        for i, window in enumerate(windows):
            duration = Decimal(window.end - window.start).scaleb(-9)
            if duration > most:
                raise LimitExceeded(
                    f"window of {_seconds(duration)} s, at most {_seconds(most)} s; ask for shorter windows",
                    field="Endtime",
                    index=i,
                )

    def check_samples(self, windows: Sequence[Window], *, field: str = "Endtime") -> None:
        """Raises:
        LimitExceeded: the windows would return more than ``max_samples`` samples, as
            estimated from their channels' band codes; names the window that crosses it.
        """
        total = 0
        for i, window in enumerate(windows):
            rate = estimated_rate(window.channel)
            total += estimated_samples(window)
            if total > self.max_samples:
                raise LimitExceeded(
                    f"the request would return up to {total:,} samples (window {i}, "
                    f"{window.nslc} for {window.duration_s:g} s, is estimated at up to {rate:g} Hz "
                    f"from its band code {window.channel[:1]!r}), at most {self.max_samples:,} per "
                    "request; ask for shorter windows or fewer channels, or split the request",
                    field=field,
                    index=i,
                )


#: The highest sample rate of each SEED band code (the first letter of a channel code;
#: SEED manual, appendix A): what a request is estimated at before anything is read.
BAND_MAX_RATE: dict[str, float] = {
    "F": 5000.0, "G": 5000.0, "D": 1000.0, "C": 1000.0, "E": 250.0, "H": 250.0,
    "S": 80.0, "B": 80.0, "M": 10.0, "L": 1.0, "V": 0.1, "U": 0.01, "W": 0.001,
    "R": 0.001, "P": 0.0001, "T": 0.00001, "Q": 0.000001,
}  # fmt: skip
#: Band codes with no rate of their own (administrative, opaque, irregular, unknown).
UNKNOWN_BAND_RATE = 5000.0


def estimated_rate(channel: str) -> float:
    """The highest sample rate the channel's band code allows (:data:`BAND_MAX_RATE`)."""
    return BAND_MAX_RATE.get(channel[:1].upper(), UNKNOWN_BAND_RATE)


def estimated_samples(window: Window) -> int:
    """The most samples ``window`` may return, at :func:`estimated_rate`."""
    return math.floor((window.end - window.start) / NS_PER_S * estimated_rate(window.channel)) + 1


@dataclass(frozen=True, slots=True)
class FetchStats:
    """What answering a window cost: S3/local requests made and bytes received."""

    requests: int = 0
    bytes: int = 0

    def __add__(self, other: FetchStats) -> FetchStats:
        return FetchStats(self.requests + other.requests, self.bytes + other.bytes)


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The answer to one window: status, message, the segments found and the gaps between."""

    window: Window
    status: Status
    segments: tuple[Segment, ...] = ()
    gaps: tuple[Gap, ...] = ()
    message: str = ""
    stats: FetchStats = field(default_factory=FetchStats)
    #: The merged, trimmed trace's grid (see :class:`TraceSpan`); None without data.
    span: TraceSpan | None = None

    @property
    def sampling_rate(self) -> float | None:
        return self.segments[0].sampling_rate if self.segments else None

    @property
    def npts(self) -> int:
        return sum(seg.npts for seg in self.segments)

    def __repr__(self) -> str:
        parts = [repr(self.window), f"status={self.status.value}", f"npts={self.npts}"]
        if self.segments:
            parts.append(f"segments={list(self.segments)!r}")
        if self.gaps:
            parts.append(f"gaps={list(self.gaps)!r}")
        if self.message:
            parts.append(f"message={self.message!r}")
        return f"WindowResult({', '.join(parts)})"


def parse_windows(body: object, *, max_windows: int | None = None) -> list[Window]:
    """The windows of a request in the tutorial's shape: ``{"Windows": [{...}, ...]}``
    (a bare list of window objects is accepted too).

    Raises:
        RequestError: the body is not of that shape, or a window is malformed (the message
            names the window's index and field).
        LimitExceeded: more than ``max_windows`` windows.
    """
    if isinstance(body, Mapping):
        folded = {str(k).lower(): v for k, v in body.items()}
        if "windows" not in folded:
            raise RequestError('the request must be an object with a "Windows" list', field="Windows")
        items = folded["windows"]
    else:
        items = body
    if not isinstance(items, list):
        raise RequestError(f"expected a list of windows, got {type(items).__name__}", field="Windows")
    if not items:
        raise RequestError("the list of windows is empty", field="Windows")
    if max_windows is not None:  # before checking each one
        check_count(len(items), max_windows)
    return [Window.from_request(item, index=i) for i, item in enumerate(items)]
