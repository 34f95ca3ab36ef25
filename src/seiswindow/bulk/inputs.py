"""The windows of a bulk job, from what seismologists have at hand.

Four inputs, told apart by their content (or named with ``kind``):

- the tutorial's request JSON, ``{"Windows": [{...}, ...]}``;
- FDSN dataselect POST text: optional ``key=value`` lines, then ``NET STA LOC CHA START END``
  lines (FDSN wildcards allowed, ``--`` for a blank location);
- a CSV (or whitespace-separated list) of windows ``net,sta,loc,cha,start,end``, with an
  optional first line naming the columns;
- a pick list: a CSV whose header names the columns ``network, station, location, channel``
  (a channel pattern such as ``HH?`` allowed), ``time`` (the pick), and optionally ``phase``,
  ``event`` and per-row ``before``/``after`` offsets in seconds; each pick becomes the window
  ``time - before … time + after``.

Parsing does no I/O: each row becomes a :class:`Row` (a FDSN :class:`Selection` and, for a
pick, its :class:`Pick`); :func:`resolve` turns rows into :class:`JobWindow` values, wildcards
resolved to the channels the archive holds. Every window gets a stable id
(:func:`window_id`): the same input gives the same ids on every run, which is how a job
resumes.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import orjson

from ..errors import RequestError
from ..fdsn.codes import CODE_PARAMS, parse_codes
from ..fdsn.request import Selection, parse_dataselect
from ..model import Nslc, Window, parse_windows
from ..nstime import NS_PER_S, parse_time

__all__ = ["InputKind", "JobWindow", "Pick", "Row", "read_input", "resolve", "window_id"]


class InputKind(StrEnum):
    """What an input file holds."""

    AUTO = "auto"
    JSON = "json"
    FDSN = "fdsn"
    CSV = "csv"
    PICKS = "picks"


@dataclass(frozen=True, slots=True)
class Pick:
    """The pick a window was cut around: its time (ns), phase and event id (may be blank)."""

    time: int
    phase: str = ""
    event: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """One window asked by the input, its codes possibly patterns; ``source`` says where
    it was read (``line 3``, ``window 0``) for messages."""

    source: str
    selection: Selection
    pick: Pick | None = None


@dataclass(frozen=True, slots=True)
class JobWindow:
    """One window of a job: the window, its stable id, where it was read, its pick.

    ``group`` and ``group_size`` tie together the windows of one input row (the channels
    ``HH?`` resolved to, cut around one pick): a writer of multi-component examples (a
    SeisBench data set) writes a group once it has its ``group_size`` windows. ``group`` is
    as stable as ``id``.
    """

    window: Window
    id: str
    source: str
    pick: Pick | None = None
    group: str = ""
    group_size: int = 1


#: Column names of a pick list's header (any case) → the field each names.
_PICK_COLUMNS = {
    "network": "network", "net": "network",
    "station": "station", "sta": "station",
    "location": "location", "loc": "location",
    "channel": "channel", "cha": "channel",
    "time": "time", "pick_time": "time", "picktime": "time", "phase_time": "time", "arrival_time": "time",
    "phase": "phase", "phase_hint": "phase", "phase_label": "phase",
    "event": "event", "event_id": "event", "eventid": "event", "evid": "event",
    "before": "before", "after": "after",
}  # fmt: skip
_PICK_REQUIRED = ("network", "station", "channel", "time")
#: Header names of a windows CSV, in the columns' order (as ``seiswindow bulk`` has read them).
_WINDOW_COLUMNS = (
    ("net", "network"),
    ("sta", "station"),
    ("loc", "location"),
    ("cha", "channel"),
    ("start", "starttime", "start_time"),
    ("end", "endtime", "end_time"),
)


def window_id(window: Window, pick: Pick | None = None) -> str:
    """A stable id of a window: a hash of its codes and times, and of its pick's event,
    phase and time when it has one (two phases of one event cutting the same window are
    two windows). 16 hex digits (64 bits)."""
    parts = [str(window.nslc), str(window.start), str(window.end)]
    if pick is not None:
        parts += [pick.event, pick.phase, str(pick.time)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def read_input(
    text: str,
    *,
    kind: InputKind = InputKind.AUTO,
    before: float | None = None,
    after: float | None = None,
) -> list[Row]:
    """The rows of an input (see the module's docstring).

    Args:
        text: the input's text.
        kind: what it holds; ``auto`` tells from the content.
        before: seconds before each pick (a pick list's ``before`` column wins).
        after: seconds after each pick (a pick list's ``after`` column wins).

    Raises:
        RequestError: the input is malformed; the message names the line (or window) and field.
    """
    text = text.removeprefix("\ufeff")
    if kind is InputKind.AUTO:
        kind = _sniff(text)
    if kind is InputKind.JSON:
        rows = _json_rows(text)
    elif kind is InputKind.FDSN:
        rows = _fdsn_rows(text)
    elif kind is InputKind.PICKS:
        rows = _pick_rows(text, before=before, after=after)
    else:
        rows = _csv_rows(text)
    if not rows:
        raise RequestError("the input holds no window")
    return rows


def resolve(rows: Iterable[Row], channels: Callable[[Selection], Sequence[Nslc]]) -> list[JobWindow]:
    """The windows of ``rows``, patterns resolved by ``channels`` (e.g.
    :meth:`~seiswindow.fdsn.catalog.ChannelCatalog.channels`), in the input's order; a
    window asked twice (the same id) is kept once.

    Raises:
        RequestError: a pattern matches no channel in its span (the message names its row).
        ArchiveError: the archive could not be listed.
    """
    windows: list[JobWindow] = []
    seen: set[str] = set()
    for row in rows:
        start, end = row.selection.start, row.selection.end
        assert start is not None and end is not None  # every row has both
        found = row.selection.literal_channels or tuple(channels(row.selection))
        if not found:
            raise RequestError(f"{row.source}: no channel of the archive matches {_describe(row.selection)}")
        kept: list[tuple[Window, str]] = []
        for nslc in found:
            try:
                window = Window.create(*nslc, start, end)
            except RequestError as exc:
                raise RequestError(f"{row.source}: {exc.detail}", field=exc.field) from None
            wid = window_id(window, row.pick)
            if wid not in seen:
                seen.add(wid)
                kept.append((window, wid))
        group = _group_id(row)
        windows.extend(JobWindow(w, wid, row.source, row.pick, group, len(kept)) for w, wid in kept)
    return windows


def _group_id(row: Row) -> str:
    """A stable id of an input row: its codes as asked (patterns too), times and pick."""
    pick = row.pick
    parts = [_describe(row.selection), str(row.selection.start), str(row.selection.end)]
    if pick is not None:
        parts += [pick.event, pick.phase, str(pick.time)]
    return hashlib.sha256("|".join(["row", *parts]).encode()).hexdigest()[:16]


# -- the four inputs --------------------------------------------------------------------------


def _sniff(text: str) -> InputKind:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return InputKind.JSON
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line and "," not in line:
            return InputKind.FDSN
        header = {f.strip().lower() for f in next(csv.reader([line]))}
        if header & {k for k, v in _PICK_COLUMNS.items() if v == "time"}:
            return InputKind.PICKS
        return InputKind.CSV
    return InputKind.CSV


def _json_rows(text: str) -> list[Row]:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"invalid JSON: {exc}") from None
    return [Row(f"window {i}", _literal(w.nslc, w.start, w.end)) for i, w in enumerate(parse_windows(body))]


def _fdsn_rows(text: str) -> list[Row]:
    request = parse_dataselect([], text)
    return [Row(f"selection {i + 1}", s) for i, s in enumerate(request.selections)]


def _csv_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
        if first and _is_window_header(fields):
            first = False
            continue
        first = False
        if len(fields) != 6:
            raise RequestError(f"line {number}: expected NET STA LOC CHA START END, got {len(fields)} fields")
        rows.append(Row(f"line {number}", _selection(number, fields[:4], fields[4], fields[5])))
    return rows


def _pick_rows(text: str, *, before: float | None, after: float | None) -> list[Row]:
    lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if not raw.lstrip().startswith("#")]
    lines = [(n, raw) for n, raw in lines if raw.strip()]
    if not lines:
        return []
    columns = _pick_header(lines[0][0], next(csv.reader([lines[0][1]])))
    rows: list[Row] = []
    for number, fields in zip(
        (n for n, _ in lines[1:]), csv.reader(raw for _, raw in lines[1:]), strict=True
    ):
        if len(fields) != len(columns):
            raise RequestError(
                f"line {number}: expected {len(columns)} fields as the header, got {len(fields)}"
            )
        values = {name: value.strip() for name, value in zip(columns, fields, strict=True) if name}
        rows.append(_pick_row(number, values, before=before, after=after))
    return rows


def _pick_header(number: int, fields: list[str]) -> list[str]:
    columns = [_PICK_COLUMNS.get(f.strip().lower(), "") for f in fields]
    missing = [name for name in _PICK_REQUIRED if name not in columns]
    if missing:
        raise RequestError(
            f"line {number}: the pick list's header names no column {', '.join(missing)} "
            f"(columns: network, station, location, channel, time, phase, event, before, after)",
            field=missing[0],
        )
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if twice:
        raise RequestError(f"line {number}: the header names column {twice[0]!r} twice", field=twice[0])
    return columns


def _pick_row(number: int, values: dict[str, str], *, before: float | None, after: float | None) -> Row:
    time = _time(number, values["time"], "time")
    lead = _offset(number, values, "before", before)
    lag = _offset(number, values, "after", after)
    if lead + lag <= 0:
        raise RequestError(
            f"line {number}: the window around the pick is empty (before + after = 0)", field="after"
        )
    codes = [values["network"], values["station"], values.get("location", ""), values["channel"]]
    selection = _selection(number, codes, time - lead, time + lag)
    return Row(f"line {number}", selection, Pick(time, values.get("phase", ""), values.get("event", "")))


def _offset(number: int, values: dict[str, str], name: str, default: float | None) -> int:
    """Seconds ``before`` or ``after`` the pick, in ns: the row's own, else the option's."""
    raw = values.get(name, "")
    if not raw:
        if default is None:
            raise RequestError(
                f"line {number}: no offset {name} the pick: give --{name} or a {name!r} column", field=name
            )
        raw = repr(default)
    try:
        seconds = Decimal(raw)
    except InvalidOperation:
        raise RequestError(f"line {number}: {raw!r} is not a number of seconds", field=name) from None
    if not seconds.is_finite() or seconds < 0:
        raise RequestError(f"line {number}: {raw!r} must be a number of seconds >= 0", field=name)
    return int(seconds * NS_PER_S)


# -- helpers ----------------------------------------------------------------------------------


def _is_window_header(fields: list[str]) -> bool:
    return len(fields) == 6 and all(
        f.lower() in names for f, names in zip(fields, _WINDOW_COLUMNS, strict=True)
    )


def _time(number: int, value: str, name: str) -> int:
    try:
        return parse_time(value, field=name)
    except RequestError as exc:
        raise RequestError(f"line {number}: {exc.detail}", field=name) from None


def _selection(number: int, codes: Sequence[str], start: str | int, end: str | int) -> Selection:
    """A selection of ``codes`` (patterns allowed; ``--`` or blank: blank location)."""
    t0 = start if isinstance(start, int) else _time(number, start, "starttime")
    t1 = end if isinstance(end, int) else _time(number, end, "endtime")
    if t1 <= t0:
        raise RequestError(f"line {number}: the window ends before it starts", field="endtime")
    parsed = {}
    for name, value in zip(CODE_PARAMS, codes, strict=True):
        value = value.strip()
        if name == "location" and value in ("", "--"):
            value = "--"
        elif not value:
            raise RequestError(f"line {number}: the {name} code is blank", field=name)
        try:
            parsed[name] = parse_codes(value, name)
        except RequestError as exc:
            raise RequestError(f"line {number}: {exc.detail}", field=name) from None
    return Selection(**parsed, start=t0, end=t1)


def _literal(nslc: Nslc, start: int, end: int) -> Selection:
    n, s, loc, c = (parse_codes(code or "--", name) for code, name in zip(nslc, CODE_PARAMS, strict=True))
    return Selection(n, s, loc, c, start=start, end=end)


def _describe(selection: Selection) -> str:
    groups = (selection.network, selection.station, selection.location, selection.channel)
    return ".".join(",".join(p.text for p in patterns) for patterns in groups)
