"""Archives: where a channel's UTC day file lives in a store, and the :class:`Archive`
value (a store and its layout) that the extractor reads from.

A layout maps (SEED codes, UTC day) to an object key and back. Adding an archive
(e.g. an SDS tree) is one small subclass of :class:`Layout` registered in :data:`LAYOUTS`.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .errors import ConfigError
from .model import Nslc

if TYPE_CHECKING:  # annotations only: the store layer sits above this one
    from .store import Store

__all__ = [
    "LAYOUTS",
    "Archive",
    "EarthScopeLayout",
    "GeonetLayout",
    "Layout",
    "NcedcLayout",
    "ScedcLayout",
    "SdsLayout",
    "layout_named",
]


class Layout(ABC):
    """How an archive names its day files.

    Attributes:
        name: the name used in configuration (``SEISWINDOW_LAYOUT``).
        record_length: the record length the archive writes; a hint for the first read,
            always verified against the data.
        spills_over_midnight: whether a day file may hold records of the neighbouring days
            (as in SDS); if so, windows near midnight also look into the neighbour file.
    """

    name: ClassVar[str]
    #: The prefix every day file's key starts with: an archive that holds nothing under it
    #: is not this layout's (a wrong URL, prefix or directory).
    root: ClassVar[str] = "continuous_waveforms/"
    record_length: ClassVar[int] = 512
    spills_over_midnight: ClassVar[bool] = False
    #: Whether one object holds every channel of a station (records interleaved): a
    #: window then keeps only its channel's records, read from the whole object.
    station_day: ClassVar[bool] = False
    #: Whether the archive publishes StationXML (``station_xml_key``); without it the
    #: station service answers from what the day files tell.
    has_station_xml: ClassVar[bool] = True

    #: Between network and station code in a StationXML file name (``CI_CCA.xml``).
    station_xml_separator: ClassVar[str] = "_"

    def station_xml_key(self, network: str, station: str, *, root: str = "FDSNstationXML") -> str:
        """The key of the StationXML file of ``network.station`` under ``root``."""
        return f"{root.strip('/')}/{network}/{network}{self.station_xml_separator}{station}.xml"

    def parse_station_xml_key(self, key: str, *, root: str = "FDSNstationXML") -> tuple[str, str] | None:
        """``(network, station)`` of a StationXML key under ``root``, or None if ``key`` is
        not one of this layout's StationXML files."""
        sep = re.escape(self.station_xml_separator)
        match = re.match(
            rf"^{re.escape(root.strip('/'))}/([A-Z0-9]{{1,2}})/\1{sep}([A-Z0-9]{{1,5}})\.xml$", key
        )
        return None if match is None else (match.group(1), match.group(2))

    @abstractmethod
    def key(self, nslc: Nslc, day: dt.date) -> str:
        """The object key of the day file of ``nslc`` for ``day``."""

    @abstractmethod
    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        """The key prefix under which all day files of ``day`` (and ``network``) are listed."""

    @abstractmethod
    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        """The codes and day of a key, or None if ``key`` is not a day file of this layout."""


class ScedcLayout(Layout):
    """SCEDC Public Data Set: ``continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms``.

    The file name is NET (2) + STA padded with ``_`` to 5 + CHA (3) + LOC padded with ``_``
    to 2 + ``_`` + YYYYDDD + ``.ms``. Files are cut at midnight (records do not spill).
    StationXML: ``FDSNstationXML/CI/CI_CCA.xml`` (SCEDC's "Metadata Structure",
    https://scedc.caltech.edu/cloud/).
    """

    name = "scedc"
    record_length = 512
    _NAME = re.compile(
        r"^continuous_waveforms/(\d{4})/\d{4}_(\d{3})/"
        r"([A-Z0-9_]{2})([A-Z0-9_]{5})([A-Z0-9]{3})([A-Z0-9_]{2})_(\d{4})(\d{3})\.ms$"
    )

    def key(self, nslc: Nslc, day: dt.date) -> str:
        year, doy = day.year, day.timetuple().tm_yday
        name = (
            f"{nslc.network.ljust(2, '_')}{nslc.station.ljust(5, '_')}{nslc.channel}"
            f"{nslc.location.ljust(2, '_')}_{year:04d}{doy:03d}.ms"
        )
        return f"{self.day_prefix(day)}{name}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        year, doy = day.year, day.timetuple().tm_yday
        prefix = f"continuous_waveforms/{year:04d}/{year:04d}_{doy:03d}/"
        return prefix + (network.ljust(2, "_") if network else "")

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        match = self._NAME.match(key)
        if match is None:
            return None
        _, _, net, sta, cha, loc, year, doy = match.groups()
        nslc = Nslc(net.rstrip("_"), sta.rstrip("_"), loc.rstrip("_"), cha)
        return nslc, _day_of_year(int(year), int(doy))


class NcedcLayout(Layout):
    """NCEDC Public Data Set:
    ``continuous_waveforms/BK/2022/2022.002/RUSS.BK.LHZ.00.D.2022.002`` (4096-byte records).
    StationXML: ``FDSNstationXML/BK/BK.RUSS.xml``, a dot between the codes (as noisepy-io's
    ``{network}/{network}.{station}.xml`` and its ``BK/BK.WINE.xml`` test file lay it out).
    """

    name = "ncedc"
    record_length = 4096
    station_xml_separator = "."
    _NAME = re.compile(
        r"^continuous_waveforms/([A-Z0-9]{1,2})/(\d{4})/\d{4}\.(\d{3})/"
        r"([A-Z0-9]{1,5})\.([A-Z0-9]{1,2})\.([A-Z0-9]{3})\.([A-Z0-9]{0,2})\.D\.(\d{4})\.(\d{3})$"
    )

    def key(self, nslc: Nslc, day: dt.date) -> str:
        year, doy = day.year, day.timetuple().tm_yday
        name = f"{nslc.station}.{nslc.network}.{nslc.channel}.{nslc.location}.D.{year:04d}.{doy:03d}"
        return f"continuous_waveforms/{nslc.network}/{year:04d}/{year:04d}.{doy:03d}/{name}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        if not network:
            raise ConfigError("the NCEDC layout lists day files per network; a network is needed")
        year, doy = day.year, day.timetuple().tm_yday
        return f"continuous_waveforms/{network}/{year:04d}/{year:04d}.{doy:03d}/"

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        match = self._NAME.match(key)
        if match is None:
            return None
        net, _, _, sta, net2, cha, loc, year, doy = match.groups()
        if net != net2:
            return None
        return Nslc(net, sta, loc, cha), _day_of_year(int(year), int(doy))


class SdsLayout(Layout):
    """SeisComP Data Structure, as most local archives (and ObsPy's SDS client) lay it out:
    ``2022/CI/WBM/LHZ.D/CI.WBM..LHZ.D.2022.002``. Files are cut at record boundaries, so
    a day file may hold records that spill over midnight (ObsPy's SDS client reads the
    neighbouring file within 30 s of midnight, and so do we). No StationXML.
    """

    name = "sds"
    root = ""  # keys start with the year: any object at all is a start
    record_length = 512
    spills_over_midnight = True
    has_station_xml = False
    _NAME = re.compile(
        r"^(\d{4})/([A-Z0-9]{1,8})/([A-Z0-9]{1,8})/([A-Z0-9]{1,8})\.D/"
        r"\2\.\3\.([A-Z0-9]{0,8})\.\4\.D\.\1\.(\d{3})$"
    )

    def key(self, nslc: Nslc, day: dt.date) -> str:
        year, doy = day.year, day.timetuple().tm_yday
        net, sta, loc, cha = nslc.network, nslc.station, nslc.location, nslc.channel
        return f"{year:04d}/{net}/{sta}/{cha}.D/{net}.{sta}.{loc}.{cha}.D.{year:04d}.{doy:03d}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        # SDS has no directory per day: a year (of a network) is listed, keys filtered by day.
        return f"{day.year:04d}/" + (f"{network}/" if network else "")

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        match = self._NAME.match(key)
        if match is None:
            return None
        year, net, sta, cha, loc, doy = match.groups()
        return Nslc(net, sta, loc, cha), _day_of_year(int(year), int(doy))


class GeonetLayout(Layout):
    """GeoNet's open data bucket (``s3://geonet-open-data``, ap-southeast-2):
    ``waveforms/miniseed/2022/2022.002/NZ.WEL.10.HHZ.D.2022.002``. Station metadata is not
    published beside the day files in a layout of this kind: no StationXML here.
    """

    name = "geonet"
    root = "waveforms/miniseed/"
    record_length = 512
    has_station_xml = False
    _NAME = re.compile(
        r"^waveforms/miniseed/(\d{4})/\1\.(\d{3})/"
        r"([A-Z0-9]{1,2})\.([A-Z0-9]{1,5})\.([A-Z0-9]{0,2})\.([A-Z0-9]{3})\.D\.\1\.\2$"
    )

    def key(self, nslc: Nslc, day: dt.date) -> str:
        net, sta, loc, cha = nslc
        return f"{self.day_prefix(day)}{net}.{sta}.{loc}.{cha}.D.{_ydoy(day)}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        return f"waveforms/miniseed/{day.year:04d}/{_ydoy(day)}/" + (f"{network}." if network else "")

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        match = self._NAME.match(key)
        if match is None:
            return None
        year, doy, net, sta, loc, cha = match.groups()
        return Nslc(net, sta, loc, cha), _day_of_year(int(year), int(doy))


class EarthScopeLayout(Layout):
    """EarthScope's open data bucket (``s3://earthscope-geophysical-data``, us-east-2):
    station-day objects holding every channel of a station, records interleaved,
    ``miniseed/IU/2022/002/ANMO.IU.2022.002``. A window keeps its channel's records only
    (read from the whole object: exact, never the neighbours' samples). Keys name no
    channel, so listings cannot tell channels (``parse_key`` gives None). No StationXML.
    """

    name = "earthscope"
    root = "miniseed/"
    record_length = 4096
    station_day = True
    has_station_xml = False

    def key(self, nslc: Nslc, day: dt.date) -> str:
        year, doy = day.year, day.timetuple().tm_yday
        return f"miniseed/{nslc.network}/{year:04d}/{doy:03d}/{nslc.station}.{nslc.network}.{_ydoy(day)}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        if not network:
            raise ConfigError("the EarthScope layout lists station-days per network; a network is needed")
        return f"miniseed/{network}/{day.year:04d}/{day.timetuple().tm_yday:03d}/"

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        return None


def _ydoy(day: dt.date) -> str:
    return f"{day.year:04d}.{day.timetuple().tm_yday:03d}"


def _day_of_year(year: int, doy: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=doy - 1)


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (ScedcLayout(), NcedcLayout(), SdsLayout(), GeonetLayout(), EarthScopeLayout())
}


def layout_named(name: str) -> Layout:
    """The registered layout called ``name``.

    Raises:
        ConfigError: no layout has that name.
    """
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown archive layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None


@dataclass(frozen=True, slots=True)
class Archive:
    """A store and the layout of its files: all the extractor needs to find a day file.

    Built at the edge (:func:`seiswindow.config.open_archive`, or by hand from a store and
    :func:`layout_named`) and passed in; nothing here reads configuration.
    """

    store: Store
    layout: Layout

    @property
    def url(self) -> str:
        return self.store.url
