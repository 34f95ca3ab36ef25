"""FDSN web services straight from the archive: fdsnws-dataselect 1.1, fdsnws-station 1.1 and
fdsnws-availability 1.0.

Mount them on a FastAPI application::

    from seiswindow.fdsn import router as fdsn_router
    app.include_router(fdsn_router(extractor, settings))

and ObsPy's ``Client("http://host:port")`` discovers and uses both services.

Modules, top-down: :mod:`~seiswindow.fdsn.codes` and :mod:`~seiswindow.fdsn.request` (parsing, no I/O) →
:mod:`~seiswindow.fdsn.catalog` (wildcards against day listings) →
:mod:`~seiswindow.fdsn.dataselect` (records) and :mod:`~seiswindow.fdsn.station`
(StationXML, written by :mod:`~seiswindow.fdsn.stationxml`; stations without StationXML from
:mod:`~seiswindow.fdsn.dayfiles` and the operator's :mod:`~seiswindow.fdsn.stationtable`) →
:mod:`~seiswindow.fdsn.availability` (time spans from the record index and the listing; requests
parsed by :mod:`~seiswindow.fdsn.availrequest`, answers written by
:mod:`~seiswindow.fdsn.availformat`) → :mod:`~seiswindow.fdsn.meta` (version, WADL, error text) →
:mod:`~seiswindow.fdsn.routes`.
"""

from __future__ import annotations

from .availability import AvailabilityService
from .availrequest import AvailabilityRequest, parse_availability
from .catalog import ChannelCatalog
from .dataselect import DataselectAnswer, DataselectService
from .meta import VERSION
from .request import DataselectRequest, Level, Selection, StationRequest, parse_dataselect, parse_station
from .routes import MSEED_MEDIA_TYPE, router
from .station import StationAnswer, StationService

__all__ = [
    "MSEED_MEDIA_TYPE",
    "VERSION",
    "AvailabilityRequest",
    "AvailabilityService",
    "ChannelCatalog",
    "DataselectAnswer",
    "DataselectRequest",
    "DataselectService",
    "Level",
    "Selection",
    "StationAnswer",
    "StationRequest",
    "StationService",
    "parse_availability",
    "parse_dataselect",
    "parse_station",
    "router",
]
