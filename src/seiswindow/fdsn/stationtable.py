"""The operator's station table: coordinates of stations the archive has no StationXML for.

The table is an FDSN station text file, as any fdsnws-station prints it with ``format=text``
at station level (``#Network | Station | Latitude | Longitude | Elevation | SiteName |
StartTime | EndTime``) or channel level (17 columns, with location, channel, depth, azimuth,
dip). It is parsed once, at start, with the standard library's csv module; a table that
cannot be parsed is a :class:`~seiswindow.errors.ConfigError` then, not a surprise later.

Why a table and not the bucket's own index: SCEDC's channel index
(``continuous_waveforms/index/``) has latitude and longitude but no elevation, and StationXML
1.2 requires an Elevation on every Station and Channel (docs/fdsn.md, "Stations without
StationXML"). Nothing here invents a value: a row must give latitude, longitude and elevation.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import ConfigError, RequestError
from ..model import Nslc
from ..nstime import parse_time

__all__ = ["StationTable", "TableRow", "parse_station_table"]

_STATION_COLUMNS = (
    "network",
    "station",
    "latitude",
    "longitude",
    "elevation",
    "sitename",
    "starttime",
    "endtime",
)
_CHANNEL_COLUMNS = (
    "network",
    "station",
    "location",
    "channel",
    "latitude",
    "longitude",
    "elevation",
    "depth",
    "azimuth",
    "dip",
    "sensordescription",
    "scale",
    "scalefreq",
    "scaleunits",
    "samplerate",
    "starttime",
    "endtime",
)
_LEVELS = {_STATION_COLUMNS: "station", _CHANNEL_COLUMNS: "channel"}
_CODE_LENGTHS = {"network": (1, 2), "station": (1, 5), "location": (0, 2), "channel": (3, 3)}


@dataclass(frozen=True, slots=True)
class TableRow:
    """One line of the table: a station epoch, or a channel epoch (``channel`` not None).

    Times are nanoseconds; None is an open start or end.
    """

    network: str
    station: str
    latitude: float
    longitude: float
    elevation: float
    site: str = ""
    location: str | None = None
    channel: str | None = None
    depth: float | None = None
    azimuth: float | None = None
    dip: float | None = None
    start: int | None = None
    end: int | None = None

    def overlaps(self, start: int, end: int) -> bool:
        """Whether the row's epoch overlaps ``[start, end)``."""
        return (self.start is None or self.start < end) and (self.end is None or self.end > start)


@dataclass(frozen=True, slots=True)
class StationTable:
    """The parsed table.

    Attributes:
        rows: every row, in the file's order.
        level: ``station`` or ``channel``, as the header says.
        source: where it was read from (for messages).
    """

    rows: tuple[TableRow, ...]
    level: str
    source: str

    def station(self, network: str, station: str, start: int, end: int) -> TableRow | None:
        """The first row of ``network.station`` whose epoch overlaps ``[start, end)`` (at
        channel level, a channel row: its coordinates stand for the station's), or None."""
        for row in self.rows:
            if row.network == network and row.station == station and row.overlaps(start, end):
                return row
        return None

    def channel(self, nslc: Nslc, start: int, end: int) -> TableRow | None:
        """The first channel row of ``nslc`` whose epoch overlaps ``[start, end)``, or None
        (always None for a station-level table)."""
        for row in self.rows:
            if (
                row.channel == nslc.channel
                and row.location == nslc.location
                and row.network == nslc.network
                and row.station == nslc.station
                and row.overlaps(start, end)
            ):
                return row
        return None

    def networks(self) -> set[str]:
        """The network codes of the table."""
        return {row.network for row in self.rows}


def parse_station_table(data: bytes, *, source: str) -> StationTable:
    """Parse an FDSN station text file (station or channel level) into a table.

    Raises:
        ConfigError: the data is not UTF-8, has no station or channel header, a line has
            the wrong number of fields, a code, number or time is malformed, a required
            coordinate is missing, or no row is left.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"station table {source}: not UTF-8 text") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines or not lines[0][1].lstrip().startswith("#"):
        raise ConfigError(
            f"station table {source}: no header line (an fdsnws-station format=text answer at "
            "station or channel level starts with '#Network | Station | ...')"
        )
    header = tuple(field.strip().lstrip("#").strip().lower() for field in lines[0][1].split("|"))
    level = _LEVELS.get(header)
    if level is None:
        raise ConfigError(
            f"station table {source}: the header is neither the station nor the channel level of "
            f"the FDSN station text format: {lines[0][1].strip()!r}"
        )
    rows = tuple(_rows(lines[1:], header, level, source))
    if not rows:
        raise ConfigError(f"station table {source}: no station in it")
    return StationTable(rows, level, source)


def _rows(
    lines: Iterable[tuple[int, str]], header: tuple[str, ...], level: str, source: str
) -> Iterable[TableRow]:
    """The table's rows, comment lines skipped.

    Raises:
        ConfigError: a line is malformed.
    """
    for number, line in lines:
        if line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader(io.StringIO(line), delimiter="|"))]
        if len(fields) != len(header):
            raise ConfigError(
                f"station table {source}, line {number}: {len(fields)} fields, "
                f"the {level} level has {len(header)}"
            )
        values = dict(zip(header, fields, strict=True))
        try:
            yield _row(values, level)
        except (ValueError, RequestError) as exc:
            detail = exc.detail if isinstance(exc, RequestError) else str(exc)
            raise ConfigError(f"station table {source}, line {number}: {detail}") from None


def _row(values: dict[str, str], level: str) -> TableRow:
    """One row from its named fields.

    Raises:
        ValueError: a code or number is malformed or missing.
        RequestError: a time is malformed.
    """
    codes = {name: _code(name, values[name]) for name in _CODE_LENGTHS if name in values}
    start = parse_time(values["starttime"], field="StartTime") if values["starttime"] else None
    end = parse_time(values["endtime"], field="EndTime") if values["endtime"] else None
    if start is not None and end is not None and end <= start:
        raise ValueError("EndTime is not after StartTime")
    row = TableRow(
        network=codes["network"],
        station=codes["station"],
        latitude=_number(values["latitude"], "Latitude", low=-90.0, high=90.0),
        longitude=_number(values["longitude"], "Longitude", low=-180.0, high=180.0),
        elevation=_number(values["elevation"], "Elevation"),
        start=start,
        end=end,
    )
    if level == "station":
        return replace(row, site=values["sitename"])
    return replace(
        row,
        location=codes["location"],
        channel=codes["channel"],
        depth=_optional(values["depth"], "Depth"),
        azimuth=_optional(values["azimuth"], "Azimuth", low=0.0, high=360.0),
        dip=_optional(values["dip"], "Dip", low=-90.0, high=90.0),
    )


def _code(name: str, value: str) -> str:
    """A SEED code of the length its kind allows (``--`` is a blank location).

    Raises:
        ValueError: it is not.
    """
    value = "" if name == "location" and value == "--" else value.upper()
    low, high = _CODE_LENGTHS[name]
    if not (low <= len(value) <= high and (value.isalnum() or value == "") and value.isascii()):
        raise ValueError(f"{name} code {value!r} is not {low}-{high} letters or digits")
    return value


def _number(text: str, name: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    """A required finite number in ``[low, high]``.

    Raises:
        ValueError: it is missing, not a number, or out of range.
    """
    if not text:
        raise ValueError(f"{name} is missing (a station without coordinates cannot be described)")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} {text} is out of range")
    return value


def _optional(text: str, name: str, *, low: float = -math.inf, high: float = math.inf) -> float | None:
    """An optional number (empty: None).

    Raises:
        ValueError: it is given and malformed or out of range.
    """
    return _number(text, name, low=low, high=high) if text else None
