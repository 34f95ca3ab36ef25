"""FDSN requests, parsed with no I/O: query strings (GET) and request bodies (POST) of
fdsnws-dataselect 1.1 and fdsnws-station 1.1 become frozen values.

Everything a client can get wrong is found here, before any byte is read from the archive:
unknown or repeated parameters, malformed codes and times, an end before the start, a
format or option this service does not offer. Each raises :class:`~seiswindow.errors.RequestError`
naming the parameter, which the routes answer with HTTP 400 and the FDSN error text.

Codes are parsed and matched by :mod:`seiswindow.fdsn.codes`; times are integer nanoseconds
(:mod:`seiswindow.nstime`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..errors import RequestError
from ..model import Nslc
from ..nstime import parse_time
from .codes import ANY, CODE_PARAMS, CodePattern, parse_codes
from .params import (
    check_order,
    collect,
    parse_bool,
    parse_choice,
    parse_float,
    parse_nodata,
    parse_time_param,
)

__all__ = [
    "DataselectRequest",
    "Level",
    "Selection",
    "StationRequest",
    "parse_dataselect",
    "parse_station",
]

_QUALITIES = ("D", "R", "Q", "M", "B")
#: The dataselect formats: miniSEED (``mseed`` is an alias other servers also take), and
#: ``manifest``, where the records lie in the archive (:mod:`seiswindow.manifest`).
_DATASELECT_FORMATS = ("miniseed", "mseed", "manifest")

_DATASELECT_OPTIONS = ("quality", "minimumlength", "longestonly", "format", "nodata")
_DATASELECT_PARAMS = frozenset(("starttime", "endtime", *CODE_PARAMS, *_DATASELECT_OPTIONS))

_STATION_TIMES = ("startbefore", "startafter", "endbefore", "endafter")
_STATION_BOX = ("minlatitude", "maxlatitude", "minlongitude", "maxlongitude")
_STATION_RADIUS = ("latitude", "longitude", "minradius", "maxradius")
_STATION_OPTIONS = (
    *_STATION_TIMES,
    *_STATION_BOX,
    *_STATION_RADIUS,
    "level",
    "format",
    "nodata",
    "includerestricted",
    "includeavailability",
    "matchtimeseries",
    "updatedafter",
)
_STATION_PARAMS = frozenset(("starttime", "endtime", *CODE_PARAMS, *_STATION_OPTIONS))


# -- what is asked -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    """Which channels, between which instants: one GET query, or one line of a POST body.

    ``start``/``end`` are nanoseconds, None when open (station requests only).
    """

    network: tuple[CodePattern, ...] = ANY
    station: tuple[CodePattern, ...] = ANY
    location: tuple[CodePattern, ...] = ANY
    channel: tuple[CodePattern, ...] = ANY
    start: int | None = None
    end: int | None = None

    def matches(self, nslc: Nslc) -> bool:
        """Whether the channel ``nslc`` is selected (times aside)."""
        return all(
            any(p.matches(code) for p in patterns)
            for patterns, code in zip(
                (self.network, self.station, self.location, self.channel), nslc, strict=True
            )
        )

    def matches_network(self, network: str) -> bool:
        """Whether network ``network`` is selected (stations, channels and times aside)."""
        return any(p.matches(network) for p in self.network)

    def matches_station(self, network: str, station: str) -> bool:
        """Whether station ``network.station`` is selected (channels and times aside)."""
        return self.matches_network(network) and any(p.matches(station) for p in self.station)

    def overlaps(self, start: int | None, end: int | None) -> bool:
        """Whether an epoch ``[start, end]`` (None: open) overlaps the selection's times."""
        if self.end is not None and start is not None and start > self.end:
            return False
        return not (self.start is not None and end is not None and end < self.start)

    @property
    def literal_channels(self) -> tuple[Nslc, ...] | None:
        """Every channel selected when no code has a wildcard, else None (must be listed)."""
        groups = (self.network, self.station, self.location, self.channel)
        if not all(p.is_literal for patterns in groups for p in patterns):
            return None
        return tuple(
            Nslc(n.text, s.text, loc.text, c.text)
            for n in self.network
            for s in self.station
            for loc in self.location
            for c in self.channel
        )

    @property
    def any_channel(self) -> bool:
        """Whether location and channel are unconstrained (``*``)."""
        return self.location == ANY and self.channel == ANY


@dataclass(frozen=True, slots=True)
class DataselectRequest:
    """An fdsnws-dataselect query.

    Attributes:
        selections: what to return; every selection has a start and an end.
        quality: the SEED quality asked for (D, R, Q, M or B); see ``docs/fdsn.md``.
        minimum_length: drop continuous segments shorter than this, in seconds.
        longest_only: keep only the longest continuous segment of each channel.
        nodata: the status that says "no data" (204 or 404).
        manifest: answer where the records lie (``format=manifest``), not the records.
    """

    selections: tuple[Selection, ...]
    quality: str = "B"
    minimum_length: float = 0.0
    longest_only: bool = False
    nodata: int = 204
    manifest: bool = False


class Level(StrEnum):
    """How deep a station answer goes."""

    NETWORK = "network"
    STATION = "station"
    CHANNEL = "channel"
    RESPONSE = "response"

    @property
    def depth(self) -> int:
        return list(Level).index(self)


@dataclass(frozen=True, slots=True)
class StationRequest:
    """An fdsnws-station query.

    Attributes:
        selections: codes and (optional) times; an epoch is kept when it overlaps them.
        level: network, station, channel or response.
        format: ``xml`` (StationXML) or ``text`` (FDSN station text).
        nodata: the status that says "nothing matched" (204 or 404).
        start_before, start_after, end_before, end_after: more epoch constraints (ns).
        box: (min latitude, max latitude, min longitude, max longitude) in degrees.
        radius: (latitude, longitude, min radius, max radius) in degrees.
        include_restricted: whether epochs with ``restrictedStatus="closed"`` are kept.
        match_timeseries: keep only channels with day files in the selection's time span
            (then every selection has a start and an end).
        include_availability: give each channel (XML, channel level and below) the extent
            of its data in the selections' span (``DataAvailability``).
    """

    selections: tuple[Selection, ...]
    level: Level = Level.STATION
    format: str = "xml"
    nodata: int = 204
    start_before: int | None = None
    start_after: int | None = None
    end_before: int | None = None
    end_after: int | None = None
    box: tuple[float, float, float, float] | None = None
    radius: tuple[float, float, float, float] | None = None
    include_restricted: bool = True
    match_timeseries: bool = False
    include_availability: bool = False

    def epoch_ok(self, start: int | None, end: int | None) -> bool:
        """Whether an epoch passes the ``startbefore``/``startafter``/``endbefore``/``endafter``
        constraints (an open end is later than any time; an open start passes neither
        start constraint)."""
        return (
            _earlier(start, self.start_before)
            and _later(start, self.start_after, open_passes=False)
            and _earlier(end, self.end_before)
            and _later(end, self.end_after, open_passes=True)
        )


def _earlier(time: int | None, limit: int | None) -> bool:
    """Whether ``time`` is before ``limit`` (None: no limit); an open time never is."""
    return limit is None or (time is not None and time < limit)


def _later(time: int | None, limit: int | None, *, open_passes: bool) -> bool:
    """Whether ``time`` is after ``limit`` (None: no limit); an open time is when
    ``open_passes``."""
    if limit is None:
        return True
    return open_passes if time is None else time > limit


# -- parameters ----------------------------------------------------------------------------


def _selection(params: dict[str, str], *, times_required: bool) -> Selection:
    codes = {name: parse_codes(params[name], name) for name in CODE_PARAMS if params.get(name)}
    start, end = parse_time_param(params, "starttime"), parse_time_param(params, "endtime")
    if times_required:
        for name, value in (("starttime", start), ("endtime", end)):
            if value is None:
                raise RequestError(f"{name} is required", field=name)
    check_order(start, end)
    return Selection(**codes, start=start, end=end)


# -- POST bodies ---------------------------------------------------------------------------


def _split_body(body: str) -> tuple[list[tuple[str, str]], list[tuple[int, list[str]]]]:
    """``key=value`` lines and selection lines (with their line numbers) of a POST body.

    Raises:
        RequestError: a line is neither.
    """
    options: list[tuple[str, str]] = []
    lines: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(body.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line:
            if lines:
                raise RequestError(
                    f"line {number}: parameters must come before the selection lines", field="body"
                )
            name, _, value = line.partition("=")
            options.append((name, value))
            continue
        fields = line.split()
        if len(fields) != 6:
            raise RequestError(
                f"line {number}: expected 'NET STA LOC CHA STARTTIME ENDTIME', got {line!r}", field="body"
            )
        lines.append((number, fields))
    return options, lines


def _line_selection(number: int, fields: list[str], *, open_times: bool) -> Selection:
    try:
        codes = {name: parse_codes(value, name) for name, value in zip(CODE_PARAMS, fields[:4], strict=True)}
        times: list[int | None] = []
        for name, value in zip(("starttime", "endtime"), fields[4:], strict=True):
            if value == "*" and open_times:
                times.append(None)
            else:
                times.append(parse_time(value, field=name))
        check_order(times[0], times[1])
    except RequestError as exc:
        raise RequestError(f"line {number}: {exc.detail}", field=exc.field) from None
    return Selection(**codes, start=times[0], end=times[1])


def _body_request(
    body: str, query: Iterable[tuple[str, str]], known: frozenset[str], service: str, *, open_times: bool
) -> tuple[dict[str, str], tuple[Selection, ...]]:
    """Options and selections of a POST request; options may also be in the query string.

    Raises:
        RequestError: the body is malformed, has no selection line, or sets selection
            parameters as options.
    """
    options, lines = _split_body(body)
    params = collect([*query, *options], known, service)
    misplaced = sorted(set(params) & {"starttime", "endtime", *CODE_PARAMS})
    if misplaced:
        raise RequestError(
            f"{', '.join(misplaced)}: in a POST request, give codes and times on the selection lines",
            field=misplaced[0],
        )
    if not lines:
        raise RequestError("the request body has no 'NET STA LOC CHA STARTTIME ENDTIME' line", field="body")
    return params, tuple(_line_selection(n, f, open_times=open_times) for n, f in lines)


# -- the two services ----------------------------------------------------------------------


def parse_dataselect(query: Iterable[tuple[str, str]], body: str | None = None) -> DataselectRequest:
    """An fdsnws-dataselect request from its query string items, and its body when POSTed.

    Raises:
        RequestError: an unknown or repeated parameter, a missing or malformed time, an end
            not after the start, a malformed code, or an unsupported format or option value.
    """
    if body is None:
        params = collect(query, _DATASELECT_PARAMS, "dataselect")
        selections: tuple[Selection, ...] = (_selection(params, times_required=True),)
    else:
        params, selections = _body_request(body, query, _DATASELECT_PARAMS, "dataselect", open_times=False)
    # "mseed" is what other servers also take (and some clients send) for miniSEED.
    manifest = parse_choice(params, "format", _DATASELECT_FORMATS, "miniseed") == "manifest"
    quality = params.get("quality", "B").upper()
    if quality not in _QUALITIES:
        raise RequestError(f"{params['quality']!r} is not one of {', '.join(_QUALITIES)}", field="quality")
    minimum = parse_float(params, "minimumlength", low=0.0, high=math.inf) or 0.0
    longest_only = parse_bool(params, "longestonly", False)
    if manifest and (minimum > 0 or longest_only):
        # They choose among a channel's segments: a manifest lists every record's bytes.
        field = "minimumlength" if minimum > 0 else "longestonly"
        raise RequestError("is not offered with format=manifest", field=field)
    return DataselectRequest(
        selections=selections,
        quality=quality,
        minimum_length=minimum,
        longest_only=longest_only,
        nodata=parse_nodata(params),
        manifest=manifest,
    )


def parse_station(query: Iterable[tuple[str, str]], body: str | None = None) -> StationRequest:
    """An fdsnws-station request from its query string items, and its body when POSTed.

    Raises:
        RequestError: an unknown or repeated parameter, a malformed value, an end not after
            the start, an option this service does not offer (``updatedafter``),
            ``matchtimeseries=true`` without a start and an
            end, or ``format=text`` with ``level=response``.
    """
    if body is None:
        params = collect(query, _STATION_PARAMS, "station")
        selections: tuple[Selection, ...] = (_selection(params, times_required=False),)
    else:
        params, selections = _body_request(body, query, _STATION_PARAMS, "station", open_times=True)
    _refuse_unsupported(params)
    level, fmt = _level_and_format(params)
    return StationRequest(
        selections=selections,
        level=level,
        format=fmt,
        nodata=parse_nodata(params),
        start_before=parse_time_param(params, "startbefore"),
        start_after=parse_time_param(params, "startafter"),
        end_before=parse_time_param(params, "endbefore"),
        end_after=parse_time_param(params, "endafter"),
        box=_box(params),
        radius=_radius(params),
        include_restricted=parse_bool(params, "includerestricted", True),
        match_timeseries=_match_timeseries(params, selections),
        include_availability=parse_bool(params, "includeavailability", False),
    )


def _match_timeseries(params: dict[str, str], selections: tuple[Selection, ...]) -> bool:
    """Whether ``matchtimeseries=true``.

    Raises:
        RequestError: not true or false, or true with a selection open in time (the day
            files of its span are listed, so it needs one).
    """
    if not parse_bool(params, "matchtimeseries", False):
        return False
    if any(s.start is None or s.end is None for s in selections):
        raise RequestError(
            "matchtimeseries=true needs starttime and endtime: the day files of that span are looked up",
            field="matchtimeseries",
        )
    return True


def _refuse_unsupported(params: dict[str, str]) -> None:
    """Raises:
    RequestError: ``updatedafter``.
    """
    if "updatedafter" in params:
        raise RequestError(
            "updatedafter is not supported: the archive's StationXML carries no update times",
            field="updatedafter",
        )


def _level_and_format(params: dict[str, str]) -> tuple[Level, str]:
    """Raises:
    RequestError: an unknown level or format, or ``format=text`` with ``level=response``.
    """
    level = Level(parse_choice(params, "level", [lv.value for lv in Level], Level.STATION.value))
    fmt = parse_choice(params, "format", ("xml", "text"), "xml")
    if fmt == "text" and level is Level.RESPONSE:
        raise RequestError("format=text has no response level; use format=xml", field="format")
    return level, fmt


def _box(params: dict[str, str]) -> tuple[float, float, float, float] | None:
    """``(min latitude, max latitude, min longitude, max longitude)``, the ones not given
    at their widest; None when none is given.

    Raises:
        RequestError: a value is not a number in range, or the latitudes are reversed.
    """
    values = [
        parse_float(
            params, name, low=-90.0 if "lat" in name else -180.0, high=90.0 if "lat" in name else 180.0
        )
        for name in _STATION_BOX
    ]
    if all(v is None for v in values):
        return None
    widest = (-90.0, 90.0, -180.0, 180.0)
    min_lat, max_lat, min_lon, max_lon = (d if v is None else v for v, d in zip(values, widest, strict=True))
    if min_lat > max_lat:
        raise RequestError("minlatitude is larger than maxlatitude", field="minlatitude")
    return min_lat, max_lat, min_lon, max_lon


def _radius(params: dict[str, str]) -> tuple[float, float, float, float] | None:
    """``(latitude, longitude, min radius, max radius)``, the ones not given at their
    defaults (0, 0, 0, 180); None when none is given.

    Raises:
        RequestError: a value is not a number in range, or the radii are reversed.
    """
    if not any(name in params for name in _STATION_RADIUS):
        return None
    given = (
        parse_float(params, "latitude", low=-90.0, high=90.0),
        parse_float(params, "longitude", low=-180.0, high=180.0),
        parse_float(params, "minradius", low=0.0, high=180.0),
        parse_float(params, "maxradius", low=0.0, high=180.0),
    )
    lat, lon, rmin, rmax = (d if v is None else v for v, d in zip(given, (0.0, 0.0, 0.0, 180.0), strict=True))
    if rmin > rmax:
        raise RequestError("minradius is larger than maxradius", field="minradius")
    return lat, lon, rmin, rmax


def _bound(name: str) -> float:
    """The largest magnitude of a latitude or longitude parameter."""
    return 90.0 if "lat" in name else 180.0
