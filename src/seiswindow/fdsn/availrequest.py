"""fdsnws-availability 1.0 requests, parsed with no I/O: the query string (GET) or the body
(POST) of ``/extent`` and ``/query`` becomes a frozen :class:`AvailabilityRequest`.

Selections (codes, times, POST lines) are parsed as fdsnws-dataselect's and fdsnws-station's
are (:mod:`seiswindow.fdsn.request`); times may be left open, as the specification allows.
Each mistake raises :class:`~seiswindow.errors.RequestError` naming the parameter, answered
with HTTP 400 and the FDSN error text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..errors import RequestError
from .codes import CODE_PARAMS
from .params import collect, parse_bool, parse_choice, parse_float, parse_nodata
from .request import Selection, _body_request, _selection

__all__ = ["FORMATS", "QUALITIES", "AvailabilityRequest", "Endpoint", "OrderBy", "parse_availability"]


class Endpoint(StrEnum):
    """The two methods of the service."""

    EXTENT = "extent"  #: one line per channel (and quality, rate): earliest to latest
    QUERY = "query"  #: one line per continuous time span


class OrderBy(StrEnum):
    """How the answer's rows are sorted (``orderby``)."""

    NSLC = "nslc_time_quality_samplerate"
    LATEST_UPDATE = "latestupdate"
    LATEST_UPDATE_DESC = "latestupdate_desc"
    TIMESPAN_COUNT = "timespancount"  #: extent only
    TIMESPAN_COUNT_DESC = "timespancount_desc"  #: extent only


#: The answer formats of the specification.
FORMATS = ("text", "geocsv", "json", "request")
#: The SEED quality codes (B and * select any, as fdsnws-dataselect's B does).
QUALITIES = ("D", "R", "Q", "M")
_MERGE_OPTIONS = ("samplerate", "quality", "overlap")

_OPTIONS = (
    "quality",
    "merge",
    "mergegaps",
    "orderby",
    "limit",
    "includerestricted",
    "show",
    "format",
    "nodata",
)
_PARAMS = frozenset(("starttime", "endtime", *CODE_PARAMS, *_OPTIONS))


@dataclass(frozen=True, slots=True)
class AvailabilityRequest:
    """An fdsnws-availability request.

    Attributes:
        endpoint: ``extent`` or ``query``.
        selections: codes and times (None: open) of each channel group asked for.
        qualities: the qualities kept; empty: any.
        merge_samplerate: spans of one channel at different rates form one row (no rate column).
        merge_quality: spans of one channel of different qualities form one row (no quality column).
        merge_overlap: overlapping spans are joined (query only); else each is listed.
        merge_gaps: spans separated by at most this many seconds are joined (query only).
        order: how rows are sorted.
        limit: the most rows answered (None: all).
        include_restricted: accepted; the archive's data are all open.
        show_latest_update: the query answer carries each span's update time.
        format: text, geocsv, json or request.
        nodata: the status that says "no data" (204 or 404).
    """

    endpoint: Endpoint
    selections: tuple[Selection, ...]
    qualities: frozenset[str] = frozenset()
    merge_samplerate: bool = False
    merge_quality: bool = False
    merge_overlap: bool = False
    merge_gaps: float | None = None
    order: OrderBy = OrderBy.NSLC
    limit: int | None = None
    include_restricted: bool = False
    show_latest_update: bool = False
    format: str = "text"
    nodata: int = 204


def parse_availability(
    endpoint: Endpoint, query: Iterable[tuple[str, str]], body: str | None = None
) -> AvailabilityRequest:
    """An fdsnws-availability request to ``endpoint`` from its query string items, and its
    body when POSTed (options as ``key=value`` lines first, then
    ``NET STA LOC CHA START END`` lines; ``*`` for an open time).

    Raises:
        RequestError: an unknown or repeated parameter, a malformed code, time, number or
            choice, an end not after the start, a parameter of ``/query`` given to
            ``/extent`` (``mergegaps``, ``show``, ``merge=overlap``) or of ``/extent`` to
            ``/query`` (``orderby=timespancount``).
    """
    if body is None:
        params = collect(query, _PARAMS, "availability")
        selections: tuple[Selection, ...] = (_selection(params, times_required=False),)
    else:
        params, selections = _body_request(body, query, _PARAMS, "availability", open_times=True)
    merge = _merge(params, endpoint)
    return AvailabilityRequest(
        endpoint=endpoint,
        selections=selections,
        qualities=_qualities(params),
        merge_samplerate="samplerate" in merge,
        merge_quality="quality" in merge,
        merge_overlap="overlap" in merge,
        merge_gaps=_merge_gaps(params, endpoint),
        order=_order(params, endpoint),
        limit=_limit(params),
        include_restricted=parse_bool(params, "includerestricted", False),
        show_latest_update=_show(params, endpoint),
        format=parse_choice(params, "format", FORMATS, "text"),
        nodata=parse_nodata(params),
    )


def _merge(params: dict[str, str], endpoint: Endpoint) -> set[str]:
    """Raises:
    RequestError: an unknown merge option, or ``overlap`` for ``/extent``.
    """
    value = params.get("merge", "")
    options = {part.strip().lower() for part in value.split(",") if part.strip()}
    for option in sorted(options):
        if option not in _MERGE_OPTIONS:
            raise RequestError(f"{option!r} is not one of {', '.join(_MERGE_OPTIONS)}", field="merge")
    if "overlap" in options and endpoint is Endpoint.EXTENT:
        raise RequestError("merge=overlap is a /query option: an extent has no spans", field="merge")
    return options


def _merge_gaps(params: dict[str, str], endpoint: Endpoint) -> float | None:
    """Raises:
    RequestError: not a non-negative number, or given to ``/extent``.
    """
    if "mergegaps" in params and endpoint is Endpoint.EXTENT:
        raise RequestError("mergegaps is a /query option: an extent has no gaps", field="mergegaps")
    return parse_float(params, "mergegaps", low=0.0, high=math.inf)


def _qualities(params: dict[str, str]) -> frozenset[str]:
    """Raises:
    RequestError: a quality that is not D, R, Q, M, B or ``*``.
    """
    found: set[str] = set()
    for part in params.get("quality", "").split(","):
        code = part.strip().upper()
        if code in ("", "*", "B"):
            return frozenset()
        if code not in QUALITIES:
            raise RequestError(
                f"{part.strip()!r} is not one of {', '.join(QUALITIES)}, B or *", field="quality"
            )
        found.add(code)
    return frozenset(found)


def _order(params: dict[str, str], endpoint: Endpoint) -> OrderBy:
    """Raises:
    RequestError: an unknown order, or a time span count order for ``/query``.
    """
    order = OrderBy(parse_choice(params, "orderby", [o.value for o in OrderBy], OrderBy.NSLC.value))
    if endpoint is Endpoint.QUERY and order in (OrderBy.TIMESPAN_COUNT, OrderBy.TIMESPAN_COUNT_DESC):
        raise RequestError(f"orderby={order.value} is an /extent option", field="orderby")
    return order


def _limit(params: dict[str, str]) -> int | None:
    """Raises:
    RequestError: not a positive integer.
    """
    value = params.get("limit")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise RequestError(f"{value!r} is not a positive integer", field="limit")
    return int(value)


def _show(params: dict[str, str], endpoint: Endpoint) -> bool:
    """Raises:
    RequestError: ``show`` other than ``latestupdate``, or given to ``/extent`` (whose
    answer always shows it).
    """
    value = params.get("show")
    if value is None:
        return False
    if endpoint is Endpoint.EXTENT:
        raise RequestError("show is a /query option: an extent always shows its update time", field="show")
    if value.lower() != "latestupdate":
        raise RequestError(f"{value!r} is not latestupdate", field="show")
    return True
