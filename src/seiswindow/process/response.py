"""The channel metadata processing and formats need, from the archive's StationXML.

The station service reads the same files (``FDSNstationXML/CI/CI_CCA.xml``, named by the
archive's :class:`~seiswindow.archive.Layout`); here they are parsed by ObsPy's
``read_inventory`` because the response is applied by ObsPy (``Trace.remove_response``).
ObsPy is imported only when a file is read. A file is read once per ``ttl`` seconds.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..archive import Layout
from ..cache import Cache
from ..errors import NoResponse, NoSuchKey
from ..model import Nslc
from ..nstime import format_time
from ..store import Store

if TYPE_CHECKING:
    from obspy import Inventory

__all__ = ["ChannelMeta", "ResponseSource"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelMeta:
    """Where a channel is and how it records: what SAC and GeoCSV headers carry."""

    latitude: float
    longitude: float
    elevation: float
    depth: float
    azimuth: float | None
    dip: float | None
    sensitivity: float | None = None
    sensitivity_frequency: float | None = None
    input_units: str | None = None
    instrument: str | None = None


class ResponseSource:
    """Inventories of stations, read from the archive's StationXML and kept a while.

    Args:
        store: the archive's store.
        layout: names the StationXML files.
        root: the key prefix of the StationXML tree.
        ttl: seconds a parsed file is kept; capacity: how many.
    """

    def __init__(
        self,
        store: Store,
        layout: Layout,
        *,
        root: str = "FDSNstationXML",
        ttl: float = 600.0,
        capacity: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.layout = layout
        self.root = root
        self._inventories: Cache[str, Any] = Cache(maxsize=capacity, ttl=ttl, timer=clock)

    def key(self, network: str, station: str) -> str:
        return self.layout.station_xml_key(network, station, root=self.root)

    def inventory(self, network: str, station: str) -> Inventory | None:
        """The station's inventory, or None when the archive has no StationXML for it (or
        the file is not StationXML: logged).

        Raises:
            ArchiveError: the store could not be read.
        """
        key = self.key(network, station)
        cached = self._inventories.get(key)
        if cached is not None:
            return cached or None
        from obspy import read_inventory

        try:
            data = self.store.get(key).data
            inventory = read_inventory(io.BytesIO(data), format="STATIONXML")
        except NoSuchKey:
            inventory = False
        except Exception as exc:  # ObsPy raises many types for a malformed document
            _log.warning("process: %s is not readable StationXML: %s", key, exc)
            inventory = False
        self._inventories.put(key, inventory)
        return inventory or None

    def response(self, nslc: Nslc, at: int) -> Inventory:
        """The inventory holding ``nslc``'s response at ``at`` (ns).

        Raises:
            NoResponse: no StationXML, or no response of that channel at that time.
            ArchiveError: the store could not be read.
        """
        inventory = self.inventory(nslc.network, nslc.station)
        if inventory is None:
            raise NoResponse(
                f"no instrument response for {nslc}: the archive has no StationXML "
                f"{self.key(nslc.network, nslc.station)}",
                field="correct",
            )
        from obspy import UTCDateTime

        try:
            inventory.get_response(str(nslc), UTCDateTime(ns=at))
        except Exception:  # ObsPy raises a bare Exception when nothing matches
            raise NoResponse(
                f"no instrument response for {nslc} at {format_time(at)} in "
                f"{self.key(nslc.network, nslc.station)}",
                field="correct",
            ) from None
        return inventory

    def meta(self, nslc: Nslc, at: int) -> ChannelMeta | None:
        """The channel's coordinates, orientation and sensitivity at ``at``, or None when
        the archive does not describe it (headers are then left unset).

        Raises:
            ArchiveError: the store could not be read.
        """
        inventory = self.inventory(nslc.network, nslc.station)
        if inventory is None:
            return None
        from obspy import UTCDateTime

        selected = inventory.select(
            location=nslc.location, channel=nslc.channel, station=nslc.station, time=UTCDateTime(ns=at)
        )
        channels = [c for n in selected for s in n for c in s]
        if not channels:
            return None
        channel = channels[0]
        response = channel.response
        sensitivity = getattr(response, "instrument_sensitivity", None)
        sensor = getattr(channel, "sensor", None)
        return ChannelMeta(
            latitude=float(channel.latitude),
            longitude=float(channel.longitude),
            elevation=float(channel.elevation),
            depth=float(channel.depth),
            azimuth=None if channel.azimuth is None else float(channel.azimuth),
            dip=None if channel.dip is None else float(channel.dip),
            sensitivity=None if sensitivity is None else float(sensitivity.value),
            sensitivity_frequency=None if sensitivity is None else float(sensitivity.frequency),
            input_units=None if sensitivity is None else sensitivity.input_units,
            instrument=None if sensor is None else sensor.description,
        )
