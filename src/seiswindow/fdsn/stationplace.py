"""Where a station lies against a request's box and radius (fdsnws-station's geographic
parameters): great-circle distances in degrees, boxes that may cross the antimeridian."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from .request import StationRequest
from .stationxml import find

__all__ = ["place_ok"]


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(a))))


def place_ok(station: ET.Element, request: StationRequest) -> bool:
    """Whether the station lies in the request's box and radius (when it asks for them)."""
    if request.box is None and request.radius is None:
        return True
    place = _coordinates(station)
    if place is None:
        return False
    lat, lon = place
    return (request.box is None or _in_box(lat, lon, request.box)) and (
        request.radius is None or _in_radius(lat, lon, request.radius)
    )


def _coordinates(station: ET.Element) -> tuple[float, float] | None:
    """The station's latitude and longitude, or None when either is missing or malformed."""
    try:
        lat = float(find(station, "Latitude") or "nan")
        lon = float(find(station, "Longitude") or "nan")
    except ValueError:
        return None
    if math.isnan(lat) or math.isnan(lon):
        return None
    return lat, lon


def _in_box(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    """Whether ``(lat, lon)`` is in the box; a box whose minimum longitude is the larger
    crosses the antimeridian."""
    min_lat, max_lat, min_lon, max_lon = box
    inside_lon = min_lon <= lon <= max_lon if min_lon <= max_lon else (lon >= min_lon or lon <= max_lon)
    return min_lat <= lat <= max_lat and inside_lon


def _in_radius(lat: float, lon: float, radius: tuple[float, float, float, float]) -> bool:
    clat, clon, rmin, rmax = radius
    return rmin <= _distance(clat, clon, lat, lon) <= rmax
