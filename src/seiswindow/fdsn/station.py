"""fdsnws-station from the archive's StationXML files (``FDSNstationXML/<NET>/<NET>_<STA>.xml``
on SCEDC, ``<NET>.<STA>.xml`` on NCEDC: the layout names them).

Which stations exist is learnt by listing ``FDSNstationXML/<NET>/`` (or ``FDSNstationXML/``
when the network code has wildcards); only the files of stations the request can match
are read. Their elements are filtered by codes, epochs, coordinates and restriction,
cut to the requested level, merged into one document (one ``Network`` element per network
epoch), and written as StationXML or FDSN station text. ObsPy stays out of this path:
ElementTree and :mod:`seiswindow.fdsn.stationxml` do the work.

Time selection follows what FDSN services do and ObsPy's ``Inventory.select`` does: an
epoch is kept when it overlaps ``[starttime, endtime]`` (an open end never ends), at every
level. ``startbefore``/``startafter``/``endbefore``/``endafter`` apply to the epochs of the
requested level (channels for ``channel`` and ``response``); the network and station
elements above them are kept when they hold a match.
"""

from __future__ import annotations

import copy
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..archive import Layout, ScedcLayout
from ..cache import Cache
from ..errors import DataError, LimitExceeded, NoSuchKey, RequestError
from ..model import Nslc
from ..nstime import format_time
from ..store import Store
from .availability import AvailabilityService
from .catalog import ChannelCatalog, span_days
from .dayfiles import DayFileStations
from .request import Level, Selection, StationRequest
from .stationplace import place_ok
from .stationxml import Document, epoch, find, parse_document, tag, text_lines, to_bytes

__all__ = ["StationAnswer", "StationService"]

_log = logging.getLogger(__name__)

#: Listings kept (one per network prefix): the old dict was unbounded; networks are few.
_MAX_LISTINGS = 4096

XML_MEDIA_TYPE = "application/xml"
TEXT_MEDIA_TYPE = "text/plain"

#: Whether a channel has day files in a selection's time span (``matchtimeseries``).
_HasData = Callable[[Nslc, Selection], bool]


@dataclass(frozen=True, slots=True)
class StationAnswer:
    """A station answer: the body and its media type."""

    body: bytes
    media_type: str


class StationService:
    """Answers station requests from the StationXML files of one archive.

    Args:
        store: the archive's store.
        root: the key prefix of the StationXML tree.
        layout: names the StationXML files under ``root`` (None: SCEDC's ``NET_STA.xml``).
        max_files: the most StationXML files one request may read (more: 413).
        ttl: seconds listings and parsed files are kept.
        capacity: parsed files kept.
        clock: monotonic seconds, for the caches.
        catalog: the day files of the archive's waveforms, for ``matchtimeseries=true``
            (None: refused).
        max_match_days: the most days a ``matchtimeseries=true`` selection may span (one
            listing per day and network; more: 413).
        day_files: builds entries of stations with day files but no StationXML, from the
            operator's station table (None: such stations are not listed).
        siblings: the station services of the other archives of a service on several
            archives: their StationXML files answer too (read each through its own store).
        availability: with a record index, ``matchtimeseries=true`` keeps the channels that
            have samples in the span (the index's spans, and the first-to-last-sample extent
            of day files not indexed) instead of those with a day file on its days.
    """

    def __init__(
        self,
        store: Store,
        *,
        root: str = "FDSNstationXML",
        layout: Layout | None = None,
        max_files: int = 1000,
        max_parallel: int = 8,
        ttl: float = 600.0,
        capacity: int = 128,
        clock: Callable[[], float] = time.monotonic,
        catalog: ChannelCatalog | None = None,
        max_match_days: int = 366,
        day_files: DayFileStations | None = None,
        siblings: Sequence[StationService] = (),
        availability: AvailabilityService | None = None,
    ) -> None:
        self.store = store
        self.siblings = tuple(siblings)
        self.availability = availability
        self.day_files = day_files
        self.catalog = catalog
        self.max_match_days = max_match_days
        self.root = root.strip("/")
        self.max_files = max_files
        self.max_parallel = max_parallel
        self.ttl = ttl
        self.capacity = capacity
        self.layout = layout or ScedcLayout()
        self._listings: Cache[str, tuple[tuple[str, str, str], ...]] = Cache(
            maxsize=_MAX_LISTINGS, ttl=ttl, timer=clock
        )
        self._documents: Cache[str, Document] = Cache(maxsize=capacity, ttl=ttl, timer=clock)

    # -- public ------------------------------------------------------------------------

    def answer(self, request: StationRequest, *, module_uri: str) -> StationAnswer | None:
        """The StationXML (or text) answering ``request``, or None when nothing matches:
        the archive's StationXML files, and the entries ``day_files`` builds for stations
        without one (filtered alike).

        Args:
            request: the parsed request.
            module_uri: the request's URL, written in ``ModuleURI``.

        Raises:
            LimitExceeded: the request would read more than ``max_files`` files, or match
                time series over more than ``max_match_days`` days.
            RequestError: ``matchtimeseries=true`` and no catalog to match against.
            ArchiveError: the archive could not be read.
        """
        has_data = self._has_data(request)
        documents = self._documents_for(request)
        for sibling in self.siblings:
            documents.extend(sibling._documents_for(request))
        if self.day_files is not None:
            built = self.day_files.document(request, has_xml=self._has_xml)
            documents = documents if built is None else [*documents, built]
        text = request.format == "text"
        # The text format's channel lines carry the instrument sensitivity, inside Response.
        depth = Level.RESPONSE if text and request.level is Level.CHANNEL else request.level
        networks = _select(documents, request, depth, has_data)
        if not networks:
            return None
        if request.include_availability and not text and depth.depth >= Level.CHANNEL.depth:
            self._add_availability(networks, request)
        if text:
            lines = text_lines(networks, request.level.value)
            return StationAnswer(("\n".join(lines) + "\n").encode("utf-8"), TEXT_MEDIA_TYPE)
        root = _document(documents, networks, module_uri)
        prefixes: dict[str, str] = {}
        for document in documents:
            for uri, prefix in document.prefixes.items():
                prefixes.setdefault(uri, prefix)
        return StationAnswer(to_bytes(root, prefixes=prefixes), XML_MEDIA_TYPE)

    def _has_data(self, request: StationRequest) -> _HasData | None:
        """The ``matchtimeseries`` test of channels, None when not asked for.

        Raises:
            LimitExceeded: a selection spans more than ``max_match_days`` days.
            RequestError: no catalog to match against.
        """
        if not request.match_timeseries:
            return None
        catalog = self.catalog
        if catalog is None:
            raise RequestError(
                "matchtimeseries=true: this service has no waveform archive", field="matchtimeseries"
            )
        for selection in request.selections:
            assert selection.start is not None and selection.end is not None  # parse_station checks
            days = span_days(selection.start, selection.end)
            if days > self.max_match_days:
                raise LimitExceeded(
                    f"matchtimeseries=true over {days} days, at most {self.max_match_days}: "
                    "ask for a shorter span",
                    field="endtime",
                )

        availability = self.availability
        if availability is not None and availability.index is not None:

            def has_samples(nslc: Nslc, selection: Selection) -> bool:
                assert selection.start is not None and selection.end is not None
                return availability.holds(nslc, selection.start, selection.end)

            return has_samples

        def has_data(nslc: Nslc, selection: Selection) -> bool:
            assert selection.start is not None and selection.end is not None
            return catalog.holds(nslc, selection.start, selection.end)

        return has_data

    def _add_availability(self, networks: list[ET.Element], request: StationRequest) -> None:
        """Give every channel of ``networks`` a ``DataAvailability`` ``Extent``: its first
        and last sample in the request's span (the union of its selections' times), from
        the record index and the listing (:mod:`seiswindow.fdsn.availability`); a channel
        without data in the span gets none.

        Raises:
            RequestError: no waveform archive, or a time is open and there is no index.
            ArchiveError: the index or the store cannot be read.
        """
        availability = self.availability
        starts = [s.start for s in request.selections]
        ends = [s.end for s in request.selections]
        start = None if None in starts else min(t for t in starts if t is not None)
        end = None if None in ends else max(t for t in ends if t is not None)
        if availability is None or (availability.index is None and (start is None or end is None)):
            raise RequestError(
                "includeavailability=true needs starttime and endtime: without a record index the "
                "extents are read from the day files of the span",
                field="includeavailability",
            )
        for network in networks:
            for station in network.findall(tag("Station")):
                for channel in station.findall(tag("Channel")):
                    nslc = Nslc(
                        network.get("code", ""),
                        station.get("code", ""),
                        channel.get("locationCode", "").strip(),
                        channel.get("code", ""),
                    )
                    found = availability.extent(nslc, start, end)
                    if found is not None:
                        _insert_availability(channel, *found)

    # -- which files -------------------------------------------------------------------

    def _documents_for(self, request: StationRequest) -> list[Document]:
        keys = sorted(
            {
                key
                for selection in request.selections
                for key, network, station in self._candidates(selection)
                if selection.matches_station(network, station)
            }
        )
        if len(keys) > self.max_files:
            raise LimitExceeded(
                f"the request matches {len(keys)} stations, at most {self.max_files}: narrow the codes",
                field="station",
            )
        if not keys:
            return []
        with ThreadPoolExecutor(min(self.max_parallel, len(keys)), "seiswindow-station") as pool:
            documents = list(pool.map(self._document, keys))
        return [d for d in documents if d is not None]

    def _has_xml(self, network: str, station: str) -> bool:
        """Whether the archive has a StationXML file of ``network.station`` (a cached listing).

        Raises:
            ArchiveError: the store could not be listed.
        """
        return any(s == station for _, _, s in self._listing(f"{self.root}/{network}/")) or any(
            sibling._has_xml(network, station) for sibling in self.siblings
        )

    def _candidates(self, selection: Selection) -> tuple[tuple[str, str, str], ...]:
        if all(p.is_literal for p in selection.network):
            prefixes = [f"{self.root}/{p.text}/" for p in selection.network]
        else:
            prefixes = [f"{self.root}/"]
        return tuple(item for prefix in prefixes for item in self._listing(prefix))

    def _listing(self, prefix: str) -> tuple[tuple[str, str, str], ...]:
        """``(key, network, station)`` of the StationXML files under ``prefix`` (cached).

        Raises:
            ArchiveError: the store could not be listed.
        """
        cached = self._listings.get(prefix)
        if cached is not None:
            return cached
        items = []
        for key in self.store.list(prefix):
            codes = self.layout.parse_station_xml_key(key, root=self.root)
            if codes is not None:
                items.append((key, *codes))
        listing = tuple(items)
        self._listings.put(prefix, listing)
        return listing

    def _document(self, key: str) -> Document | None:
        """The parsed file at ``key`` (cached); None when it vanished or is not StationXML.

        Raises:
            ArchiveError: the store could not be read.
        """
        cached = self._documents.get(key)
        if cached is not None:
            return cached
        try:
            document = parse_document(key, self.store.get(key).data)
        except NoSuchKey:
            return None
        except DataError as exc:
            _log.warning("station: %s left out: %s", key, exc)
            return None
        self._documents.put(key, document)
        return document


# -- filtering -----------------------------------------------------------------------------


#: What a ``DataAvailability`` element follows in a node (StationXML ``BaseNodeType``).
_BEFORE_AVAILABILITY = ("Description", "Identifier", "Comment")


def _insert_availability(channel: ET.Element, start: int, end: int) -> None:
    """Put ``<DataAvailability><Extent start end/></DataAvailability>`` where the schema
    wants it: after the channel's Description, Identifiers and Comments."""
    for old in channel.findall(tag("DataAvailability")):
        channel.remove(old)
    element = ET.Element(tag("DataAvailability"))
    ET.SubElement(element, tag("Extent"), start=format_time(start), end=format_time(end))
    before = {tag(name) for name in _BEFORE_AVAILABILITY}
    position = 0
    while position < len(channel) and channel[position].tag in before:
        position += 1
    channel.insert(position, element)


def _copy_without(element: ET.Element, *names: str) -> ET.Element:
    """A copy of ``element`` and its children, except children named ``names``."""
    skipped = {tag(name) for name in names}
    clone = ET.Element(element.tag, dict(element.attrib))
    clone.text, clone.tail = element.text, element.tail
    clone.extend(copy.deepcopy(child) for child in element if child.tag not in skipped)
    return clone


def _set_count(element: ET.Element, name: str, count: int) -> None:
    found = element.find(tag(name))
    if found is not None:
        found.text = str(count)


def _open(element: ET.Element, request: StationRequest) -> bool:
    return request.include_restricted or element.get("restrictedStatus") != "closed"


@dataclass(slots=True)
class _Merged:
    """One network epoch of the answer, gathered from one or more files."""

    element: ET.Element
    start: int | None
    stations: list[ET.Element]
    count: int


def _select(
    documents: list[Document], request: StationRequest, depth: Level, has_data: _HasData | None
) -> list[ET.Element]:
    """Network elements (copies) holding what ``request`` selects, cut at ``depth``.

    Each file holds one station, so a network appears in many files: its elements are
    merged by code and start date (compared as times: files write the same date in
    different ways). An element without a start date joins the earliest dated epoch of
    its code, as it says nothing that would set it apart. With ``has_data``, only channels
    it accepts are kept, and stations and networks holding one.
    """
    merged = _merge(_gather(documents, request, depth, has_data))
    networks = []
    for _, item in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        item.element.extend(sorted(item.stations, key=lambda s: (s.get("code", ""), s.get("startDate", ""))))
        _set_count(item.element, "SelectedNumberStations", item.count)
        networks.append(item.element)
    return networks


def _gather(
    documents: list[Document], request: StationRequest, depth: Level, has_data: _HasData | None
) -> list[_Merged]:
    """The selected network epochs of every file, unmerged; a network with a malformed
    date is left out (and logged)."""
    found: list[_Merged] = []
    for document in documents:
        for network in document.root.iter(tag("Network")):
            try:
                selected = _select_network(network, request, depth, has_data)
                start, _ = epoch(network)
            except DataError as exc:
                _log.warning("station: %s: network left out: %s", document.key, exc)
                continue
            if selected is not None:
                clone, stations, count = selected
                found.append(_Merged(clone, start, stations, count))
    return found


def _merge(found: list[_Merged]) -> dict[tuple[str, int | None], _Merged]:
    """Network epochs by (code, start), the undated joining the earliest dated one."""
    merged: dict[tuple[str, int | None], _Merged] = {}
    for item in sorted(found, key=lambda m: m.start is None):  # dated epochs first
        code = item.element.get("code", "")
        key = (code, item.start)
        if item.start is None:
            dated = sorted((k for k in merged if k[0] == code and k[1] is not None), key=lambda k: k[1] or 0)
            key = dated[0] if dated else key
        if key not in merged:
            merged[key] = _Merged(item.element, item.start, [], 0)
        merged[key].stations.extend(item.stations)
        merged[key].count += item.count
    return merged


def _select_network(
    network: ET.Element, request: StationRequest, depth: Level, has_data: _HasData | None
) -> tuple[ET.Element, list[ET.Element], int] | None:
    """The network's copy, the copies of its selected stations (empty above station level)
    and their number; None when no station is selected.

    Raises:
        DataError: a date is malformed.
    """
    code = network.get("code", "")
    start, end = epoch(network)
    if not _open(network, request) or (depth is Level.NETWORK and not request.epoch_ok(start, end)):
        return None
    if not any(s.matches_network(code) and s.overlaps(start, end) for s in request.selections):
        return None
    stations = []
    for station in network.findall(tag("Station")):
        selected = _select_station(code, station, request, depth, has_data)
        if selected is not None:
            stations.append(selected)
    if not stations:
        return None
    clone = _copy_without(network, "Station")
    return clone, stations if depth.depth >= Level.STATION.depth else [], len(stations)


def _select_station(
    network: str, station: ET.Element, request: StationRequest, depth: Level, has_data: _HasData | None
) -> ET.Element | None:
    """A copy of ``station`` cut at ``depth`` if the request selects it, else None.

    Raises:
        DataError: a date is malformed.
    """
    selections = _station_selections(network, station, request, depth)
    if not selections:
        return None
    channels = _selected_channels(network, station, selections, request, depth, has_data)
    constrained = has_data is not None or not all(s.any_channel for s in selections)
    if not channels and (constrained or depth.depth >= Level.CHANNEL.depth):
        return None
    return _station_copy(station, channels, depth)


def _station_selections(
    network: str, station: ET.Element, request: StationRequest, depth: Level
) -> list[Selection]:
    """The request's selections that take the station (empty when none does, or when it
    is closed or out of the requested place).

    Raises:
        DataError: a date is malformed.
    """
    code = station.get("code", "")
    start, end = epoch(station)
    selections = [
        s for s in request.selections if s.matches_station(network, code) and s.overlaps(start, end)
    ]
    # startbefore/startafter/endbefore/endafter apply to the epochs of the requested level;
    # the elements above are kept when they hold matching epochs.
    if not selections or (depth is Level.STATION and not request.epoch_ok(start, end)):
        return []
    if not _open(station, request) or not place_ok(station, request):
        return []
    return selections


def _selected_channels(
    network: str,
    station: ET.Element,
    selections: list[Selection],
    request: StationRequest,
    depth: Level,
    has_data: _HasData | None,
) -> list[ET.Element]:
    """The channel elements of ``network``'s ``station`` that ``selections`` take (and,
    with ``has_data``, that have data in the span of a selection taking them).

    Raises:
        DataError: a date is malformed.
    """
    code = station.get("code", "")
    channels = []
    for channel in station.findall(tag("Channel")):
        nslc = Nslc(network, code, channel.get("locationCode", "").strip(), channel.get("code", ""))
        c_start, c_end = epoch(channel)
        if (
            any(
                s.matches(nslc) and s.overlaps(c_start, c_end) and (has_data is None or has_data(nslc, s))
                for s in selections
            )
            and (depth.depth < Level.CHANNEL.depth or request.epoch_ok(c_start, c_end))
            and _open(channel, request)
        ):
            channels.append(channel)
    return channels


def _station_copy(station: ET.Element, channels: list[ET.Element], depth: Level) -> ET.Element:
    """A copy of ``station`` counting ``channels``, holding them at channel depth and below
    (without their responses at channel depth)."""
    clone = _copy_without(station, "Channel")
    _set_count(clone, "SelectedNumberChannels", len(channels))
    if depth.depth >= Level.CHANNEL.depth:
        for channel in channels:
            clone.append(
                _copy_without(channel, "Response") if depth is Level.CHANNEL else copy.deepcopy(channel)
            )
    return clone


def _document(documents: list[Document], networks: list[ET.Element], module_uri: str) -> ET.Element:
    """The answer's ``FDSNStationXML`` root holding ``networks``."""
    first = documents[0].root
    # Built entries follow StationXML 1.2 (no CreationDate): the answer is of the newest version.
    version = max(d.root.get("schemaVersion", "1.1") for d in documents)
    root = ET.Element(tag("FDSNStationXML"), {"schemaVersion": version})
    for name, value in (
        ("Source", find(first, "Source") or "seiswindow"),
        ("Sender", find(first, "Sender")),
        ("Module", "seiswindow fdsnws-station"),
        ("ModuleURI", module_uri),
        ("Created", format_time(time.time_ns())),
    ):
        if value is not None:
            ET.SubElement(root, tag(name)).text = value
    root.extend(networks)
    ET.indent(root, space="  ")
    return root
