"""Minimal StationXML entries for stations that have day files but no StationXML file.

The archive's StationXML covers only some stations (SCEDC holds CI files only), yet
dataselect serves every day file. So that clients that discover stations first (ObsPy's
MassDownloader, ``get_stations`` then ``get_waveforms``) find the others, fdsnws-station
answers them with an entry built from what is known, and nothing else:

- codes and channels: the day files listed on the days of the request's time span
  (:class:`~seiswindow.fdsn.catalog.ChannelCatalog`, cached listings);
- channel epochs: from the start of the first day with a file to the end of the last one,
  among the days listed (so they depend on the span asked for);
- coordinates: the operator's station table (:mod:`~seiswindow.fdsn.stationtable`); the
  channel's are the station's unless the table is channel level, Depth 0 unless the table
  gives one;
- SampleRate: the header of the first record of the channel's first day file (one ranged
  read, cached per file); a channel whose file gives none is left out of channel-level
  answers (ObsPy drops a channel without a SampleRate), with a warning;
- a ``Comment`` saying so, and no Response (``level=response`` answers the channel without).

A station with no coordinates in the table gets no entry: StationXML requires Latitude,
Longitude and Elevation, and an invented value (0, 0) would mislead silently. It is logged
once, at INFO, and dataselect still serves its data.

The entries form one extra :class:`~seiswindow.fdsn.stationxml.Document` that the station
service filters exactly as the archive's files (codes, times, place, matchtimeseries, level).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..archive import Layout
from ..archives import Archives
from ..cache import Cache
from ..errors import ConfigError, DataError, LimitExceeded, NoSuchKey
from ..model import Nslc
from ..mseed import detect_record_length, parse_header
from ..nstime import day_start, format_time, utc_day
from ..store import Store
from .catalog import ChannelCatalog
from .request import Level, Selection, StationRequest
from .stationtable import StationTable, TableRow
from .stationxml import Document, tag

__all__ = ["COMMENT", "DayFileStations"]

_log = logging.getLogger(__name__)

#: What every built entry says about itself (Station and Channel ``Comment``).
COMMENT = (
    "Built by seiswindow from the archive's day files and the operator's station table: "
    "the archive has no StationXML for this station. Codes, epochs (days with files in the span "
    "asked for) and sample rate come from the day files, coordinates from the table (Depth 0 "
    "when it gives none); no response."
)
#: Bytes read from the start of a day file: a miniSEED 2 fixed header with its blockettes.
_PROBE_BYTES = 256
_NS_PER_DAY = 86_400 * 1_000_000_000

#: Whether the archive has a StationXML file of ``(network, station)``.
HasXml = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class _Channel:
    """A channel with day files in the span listed."""

    nslc: Nslc
    first: dt.date
    last: dt.date

    @property
    def start(self) -> int:
        return day_start(self.first)

    @property
    def end(self) -> int:
        return day_start(self.last) + _NS_PER_DAY


class DayFileStations:
    """Builds the entries of stations with day files, no StationXML and coordinates in a table.

    Args:
        store: the archive's store (sample rates are read through it).
        layout: names the day files.
        catalog: the day-file listings (shared with dataselect and matchtimeseries).
        table: the operator's station table.
        max_days: the most days a request's span may cover for these entries to be built
            (one listing per day and network); a longer or unbounded span gets none.
        max_stations: the most entries one request may build (more: 413).
        max_parallel: concurrent sample-rate reads.
        ttl: seconds a sample rate read from a file is kept.
        capacity: sample rates kept.
        clock: monotonic seconds, for the cache.
        archives: on a service of several archives, the archives and the networks they
            serve: a channel's day file is read from its network's archive (None: ``store``).
    """

    def __init__(
        self,
        store: Store,
        layout: Layout,
        catalog: ChannelCatalog,
        table: StationTable,
        *,
        max_days: int = 366,
        max_stations: int = 1000,
        max_parallel: int = 8,
        ttl: float = 3600.0,
        capacity: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        archives: Archives | None = None,
    ) -> None:
        self.store = store
        self.layout = layout
        self.archives = archives
        self.catalog = catalog
        self.table = table
        self.max_days = max_days
        self.max_stations = max_stations
        self.max_parallel = max_parallel
        self._rates: Cache[str, float] = Cache(maxsize=capacity, ttl=ttl, timer=clock)
        self._logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def document(self, request: StationRequest, *, has_xml: HasXml) -> Document | None:
        """The entries of the stations ``request`` may select that have day files on the
        days of its span, no StationXML (``has_xml``) and coordinates in the table; None
        when there are none or the span is unbounded or longer than ``max_days``.

        Raises:
            LimitExceeded: more than ``max_stations`` stations would be built.
            ArchiveError: the store could not be listed or read.
        """
        days = _days(request.selections, self.max_days)
        if not days:
            return None
        stations: dict[tuple[str, str], list[_Channel]] = {}
        for channel in self._channels(request.selections, days, has_xml):
            stations.setdefault((channel.nslc.network, channel.nslc.station), []).append(channel)
        placed = {
            codes: place for codes, channels in stations.items() if (place := self._place(codes, channels))
        }
        if len(placed) > self.max_stations:
            raise LimitExceeded(
                f"the request matches {len(placed)} stations without StationXML, at most "
                f"{self.max_stations}: narrow the codes or the time span",
                field="station",
            )
        if not placed:
            return None
        rates = self._rates_of([c for codes in placed for c in stations[codes]], request.level)
        if rates:
            # ObsPy drops a channel without SampleRate: one whose file gives none is left out.
            stations = {codes: [c for c in stations[codes] if rates[c.nslc] is not None] for codes in placed}
        root = ET.Element(tag("FDSNStationXML"), {"schemaVersion": "1.2"})
        ET.SubElement(root, tag("Source")).text = "seiswindow"
        networks: dict[str, ET.Element] = {}
        for (network, station), place in sorted(placed.items()):
            if not stations[(network, station)]:
                continue
            if network not in networks:
                networks[network] = ET.SubElement(root, tag("Network"), {"code": network})
            networks[network].append(self._station(place, stations[(network, station)], rates))
        return Document("seiswindow:day-files", root, {}) if networks else None

    # -- which channels ------------------------------------------------------------------

    def _channels(
        self, selections: tuple[Selection, ...], days: set[dt.date], has_xml: HasXml
    ) -> list[_Channel]:
        """The channels the selections take that have day files on their days, of stations
        without StationXML, with their first and last day.

        Raises:
            ArchiveError: the store could not be listed.
        """
        found: dict[Nslc, tuple[dt.date, dt.date]] = {}
        for selection in selections:
            assert selection.start is not None and selection.end is not None  # _days checks
            for day in sorted(d for d in days if utc_day(selection.start) <= d <= utc_day(selection.end)):
                for nslc in self._listed(day, selection):
                    if not selection.matches(nslc) or has_xml(nslc.network, nslc.station):
                        continue
                    first, last = found.get(nslc, (day, day))
                    found[nslc] = (min(first, day), max(last, day))
        return [_Channel(nslc, first, last) for nslc, (first, last) in sorted(found.items())]

    def _listed(self, day: dt.date, selection: Selection) -> list[Nslc]:
        """The channels with a day file on ``day`` in the networks ``selection`` can match.

        A layout that lists per network (NCEDC) cannot list "every network": a wildcard
        network is then resolved against the networks of the station table, the only
        ones whose stations could get an entry.

        Raises:
            ArchiveError: the store could not be listed.
        """
        if all(p.is_literal for p in selection.network):
            networks: list[str | None] = [*sorted({p.text for p in selection.network})]
        else:
            networks = [None]
        channels: list[Nslc] = []
        for network in networks:
            try:
                channels.extend(self.catalog.day_channels(day, network))
            except ConfigError:  # per-network listings only
                for code in sorted(self.table.networks()):
                    if selection.matches_network(code):
                        channels.extend(self.catalog.day_channels(day, code))
        return channels

    # -- what is known of them -----------------------------------------------------------

    def _place(self, codes: tuple[str, str], channels: list[_Channel]) -> TableRow | None:
        """The table's row for the station over its channels' epochs; None (logged once per
        station) when the table has none."""
        start = min(c.start for c in channels)
        end = max(c.end for c in channels)
        row = self.table.station(*codes, start, end)
        if row is None:
            with self._lock:
                first_time = codes not in self._logged
                self._logged.add(codes)
            if first_time:
                _log.info(
                    "station: %s.%s has day files but no StationXML and no coordinates in the station "
                    "table %s: not listed by fdsnws-station (StationXML needs coordinates); dataselect "
                    "serves its data",
                    *codes,
                    self.table.source,
                )
        return row

    def _rates_of(self, channels: list[_Channel], level: Level) -> dict[Nslc, float | None]:
        """Sample rates of the channels, read only when the answer shows channels.

        Raises:
            ArchiveError: the store could not be read.
        """
        if level.depth < Level.CHANNEL.depth or not channels:
            return {}
        sources = [self._source(c.nslc) for c in channels]
        keys = [layout.key(c.nslc, c.first) for c, (_, layout) in zip(channels, sources, strict=True)]
        with ThreadPoolExecutor(min(self.max_parallel, len(keys)), "seiswindow-rates") as pool:
            rates = list(pool.map(self._rate, keys, sources))
        return {c.nslc: rate for c, rate in zip(channels, rates, strict=True)}

    def _source(self, nslc: Nslc) -> tuple[Store, Layout]:
        """The store and layout of ``nslc``'s day files."""
        archive = self.archives.for_network(nslc.network) if self.archives is not None else None
        return (self.store, self.layout) if archive is None else (archive.store, archive.layout)

    def _rate(self, key: str, source: tuple[Store, Layout] | None = None) -> float | None:
        """The sample rate of the first record of the file at ``key`` (in ``source``, by
        default this archive; cached); None when the file vanished or does not start with
        a record that has one (logged).

        Raises:
            ArchiveError: the store could not be read.
        """
        store, layout = source or (self.store, self.layout)
        cached = self._rates.get(store.url + key)
        if cached is not None:
            return cached if cached > 0 else None
        try:
            data = store.get_range(key, start=0, end=_PROBE_BYTES).data
            reclen = detect_record_length(data) or layout.record_length
            rate = parse_header(data, offset=0, reclen=reclen).sampling_rate
        except (NoSuchKey, DataError) as exc:
            _log.warning("station: no sample rate from %s: %s", key, exc)
            rate = 0.0
        self._rates.put(store.url + key, rate)
        return rate if rate > 0 else None

    # -- elements ------------------------------------------------------------------------

    def _station(
        self, place: TableRow, channels: list[_Channel], rates: dict[Nslc, float | None]
    ) -> ET.Element:
        """The Station element: codes, epoch over its channels, coordinates, channels."""
        start = min(c.start for c in channels)
        end = max(c.end for c in channels)
        station = ET.Element(
            tag("Station"),
            {"code": place.station, "startDate": format_time(start), "endDate": format_time(end)},
        )
        _comment(station)
        for name, value in (
            ("Latitude", place.latitude),
            ("Longitude", place.longitude),
            ("Elevation", place.elevation),
        ):
            ET.SubElement(station, tag(name)).text = repr(value)
        site = ET.SubElement(station, tag("Site"))
        ET.SubElement(site, tag("Name")).text = place.site or f"{place.network}.{place.station}"
        ET.SubElement(station, tag("TotalNumberChannels")).text = str(len(channels))
        ET.SubElement(station, tag("SelectedNumberChannels")).text = str(len(channels))
        for channel in channels:
            row = self.table.channel(channel.nslc, channel.start, channel.end) or place
            station.append(_channel(channel, row, rates.get(channel.nslc)))
        return station


def _comment(element: ET.Element) -> None:
    comment = ET.SubElement(element, tag("Comment"))
    ET.SubElement(comment, tag("Value")).text = COMMENT


def _channel(channel: _Channel, row: TableRow, rate: float | None) -> ET.Element:
    """The Channel element, its children in the schema's order; coordinates of ``row`` (the
    channel's row of a channel-level table, else the station's), Depth 0 when not given."""
    nslc = channel.nslc
    element = ET.Element(
        tag("Channel"),
        {
            "code": nslc.channel,
            "locationCode": nslc.location,
            "startDate": format_time(channel.start),
            "endDate": format_time(channel.end),
        },
    )
    _comment(element)
    numbers: list[tuple[str, float | None]] = [
        ("Latitude", row.latitude),
        ("Longitude", row.longitude),
        ("Elevation", row.elevation),
        ("Depth", row.depth if row.depth is not None else 0.0),
        ("Azimuth", row.azimuth),
        ("Dip", row.dip),
        ("SampleRate", rate),
    ]
    for name, value in numbers:
        if value is not None:
            ET.SubElement(element, tag(name)).text = repr(value)
    return element


def _days(selections: tuple[Selection, ...], max_days: int) -> set[dt.date]:
    """The UTC days of the selections' spans; empty when one is unbounded or they cover
    more than ``max_days`` days (listing them would cost too much)."""
    days: set[dt.date] = set()
    for selection in selections:
        if selection.start is None or selection.end is None:
            return set()
        first, last = utc_day(selection.start), utc_day(selection.end)
        if (last - first).days + 1 > max_days:
            return set()
        days.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
    return days if len(days) <= max_days else set()
