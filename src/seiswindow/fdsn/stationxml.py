"""StationXML read and written with the standard library's ElementTree, namespaces kept.

ElementTree keeps every element's namespace URI but forgets the prefixes of the source,
and its writer names namespaces ``ns0``, ``ns1``... (or needs a process-wide
``register_namespace``). Here documents are parsed with their prefix declarations, and the
writer puts the FDSN station namespace as the default one and every other namespace
(``xsi``, data-centre extensions such as ``sis``) under the prefix its source declared.

The FDSN station text format (``format=text``) is written here too, from the same elements.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from ..errors import DataError, RequestError
from ..nstime import NS_PER_S, format_seconds, parse_time

__all__ = [
    "NS",
    "Document",
    "epoch",
    "find",
    "parse_document",
    "tag",
    "text_lines",
    "to_bytes",
]

#: The namespace of FDSN StationXML 1.x.
NS = "http://www.fdsn.org/xml/station/1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def tag(name: str) -> str:
    """The ElementTree name of a StationXML element: ``{namespace}name``."""
    return f"{{{NS}}}{name}"


def find(element: ET.Element, path: str) -> str | None:
    """The stripped text at ``path`` (``Site/Name``) below ``element``, or None."""
    found = element.find("/".join(tag(part) for part in path.split("/")))
    if found is None or found.text is None:
        return None
    return found.text.strip()


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed StationXML file: its root and the prefixes it declared (URI → prefix)."""

    key: str
    root: ET.Element
    prefixes: dict[str, str]


def parse_document(key: str, data: bytes) -> Document:
    """Parse the StationXML ``data`` read from ``key``.

    Raises:
        DataError: ``data`` is not XML, or its root is not an FDSN StationXML 1.x document.
    """
    prefixes: dict[str, str] = {}
    root: ET.Element | None = None
    try:
        for event, item in ET.iterparse(io.BytesIO(data), events=("start-ns", "start")):
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
            elif root is None:
                root = item
    except ET.ParseError as exc:
        raise DataError(f"{key}: not valid XML: {exc}") from None
    if root is None or root.tag != tag("FDSNStationXML"):
        raise DataError(f"{key}: not an FDSN StationXML 1.x document (root {getattr(root, 'tag', None)})")
    return Document(key, root, prefixes)


def epoch(element: ET.Element) -> tuple[int | None, int | None]:
    """``startDate`` and ``endDate`` of an element in nanoseconds (None when absent).

    Raises:
        DataError: a date is malformed.
    """
    values = []
    for name in ("startDate", "endDate"):
        text = element.get(name)
        try:
            values.append(parse_time(text, field=name) if text else None)
        except RequestError as exc:
            raise DataError(f"{element.get('code')}: bad {name} {text!r}: {exc.detail}") from None
    return values[0], values[1]


# -- writing XML ---------------------------------------------------------------------------


def _uris(root: ET.Element) -> tuple[set[str], set[str]]:
    """Namespace URIs used by element names and by attribute names below ``root``."""
    elements, attributes = set(), set()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            elements.add(element.tag[1:].partition("}")[0])
        for name in element.attrib:
            if name.startswith("{"):
                attributes.add(name[1:].partition("}")[0])
    return elements, attributes


def _prefix_map(root: ET.Element, known: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Prefixes for element names and for attribute names (an attribute in the default
    namespace still needs a prefix, as unprefixed attributes belong to no namespace)."""
    element_uris, attribute_uris = _uris(root)
    taken: set[str] = {""}
    for_elements: dict[str, str] = {NS: ""}
    for_attributes: dict[str, str] = {}

    def allocate(uri: str) -> str:
        wanted = known.get(uri, "")
        if wanted and wanted not in taken and not wanted.lower().startswith("xml"):
            taken.add(wanted)
            return wanted
        if uri == XSI and "xsi" not in taken:
            taken.add("xsi")
            return "xsi"
        n = 0
        while f"ns{n}" in taken:
            n += 1
        taken.add(f"ns{n}")
        return f"ns{n}"

    for uri in sorted(element_uris | attribute_uris):
        if uri == "http://www.w3.org/XML/1998/namespace":
            for_attributes[uri] = for_elements[uri] = "xml"
            continue
        if uri == NS:
            if uri in attribute_uris:
                for_attributes[uri] = allocate(uri)
            continue
        for_elements[uri] = for_attributes[uri] = allocate(uri)
    return for_elements, for_attributes


def _qualified(name: str, prefixes: dict[str, str]) -> str:
    if not name.startswith("{"):
        return name
    uri, _, local = name[1:].partition("}")
    prefix = prefixes[uri]
    return f"{prefix}:{local}" if prefix else local


def to_bytes(root: ET.Element, *, prefixes: dict[str, str]) -> bytes:
    """``root`` as a UTF-8 XML document, the station namespace as default namespace and
    other namespaces under the prefixes in ``prefixes`` (URI → prefix) where free."""
    for_elements, for_attributes = _prefix_map(root, prefixes)
    declarations = {
        (prefix, uri) for mapping in (for_elements, for_attributes) for uri, prefix in mapping.items()
    }
    declarations = {(p, u) for p, u in declarations if p != "xml"}
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def write(element: ET.Element, top: bool) -> None:
        name = _qualified(element.tag, for_elements)
        out.append(f"<{name}")
        if top:
            for prefix, uri in sorted(declarations):
                out.append(f" xmlns{':' + prefix if prefix else ''}={quoteattr(uri)}")
        for key, value in element.attrib.items():
            out.append(f" {_qualified(key, for_attributes)}={quoteattr(value)}")
        if len(element) == 0 and not element.text:
            out.append("/>")
        else:
            out.append(">")
            if element.text:
                out.append(escape(element.text))
            for child in element:
                if isinstance(child.tag, str):  # comments and processing instructions are dropped
                    write(child, False)
                if child.tail:
                    out.append(escape(child.tail))
            out.append(f"</{name}>")

    write(root, True)
    out.append("\n")
    return "".join(out).encode("utf-8")


# -- the FDSN station text format ----------------------------------------------------------

_HEADERS = {
    "network": "#Network | Description | StartTime | EndTime | TotalStations",
    "station": "#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime",
    "channel": "#Network | Station | Location | Channel | Latitude | Longitude | Elevation | Depth | "
    "Azimuth | Dip | SensorDescription | Scale | ScaleFreq | ScaleUnits | SampleRate | StartTime | EndTime",
}


def _field(value: str | None) -> str:
    """A text column: no separator or line break inside."""
    return " ".join((value or "").replace("|", " ").split())


def _time(ns: int | None) -> str:
    if ns is None:
        return ""
    text = format_seconds(ns)
    nanos = ns % NS_PER_S
    return f"{text}.{nanos // 1000:06d}" if nanos else text


def _number(value: str | None) -> str:
    """A numeric column as the document wrote it (empty when absent or not a number)."""
    if value is None:
        return ""
    try:
        return value if math.isfinite(float(value)) else ""
    except ValueError:
        return ""


def text_lines(networks: Iterable[ET.Element], level: str) -> list[str]:
    """Lines of the FDSN station text format at ``level`` (network, station or channel),
    header first, for StationXML ``Network`` elements already filtered to that level.

    Raises:
        DataError: an element has a malformed date.
    """
    lines = [_HEADERS[level]]
    for network in networks:
        net = network.get("code", "")
        if level == "network":
            start, end = epoch(network)
            stations = find(network, "SelectedNumberStations") or str(len(network.findall(tag("Station"))))
            lines.append(
                "|".join((net, _field(find(network, "Description")), _time(start), _time(end), stations))
            )
            continue
        for station in network.iter(tag("Station")):
            sta = station.get("code", "")
            if level == "station":
                start, end = epoch(station)
                lines.append(
                    "|".join(
                        (
                            net,
                            sta,
                            _number(find(station, "Latitude")),
                            _number(find(station, "Longitude")),
                            _number(find(station, "Elevation")),
                            _field(find(station, "Site/Name")),
                            _time(start),
                            _time(end),
                        )
                    )
                )
                continue
            for channel in station.iter(tag("Channel")):
                start, end = epoch(channel)
                sensitivity = "Response/InstrumentSensitivity"
                lines.append(
                    "|".join(
                        (
                            net,
                            sta,
                            channel.get("locationCode", "").strip(),
                            channel.get("code", ""),
                            _number(find(channel, "Latitude")),
                            _number(find(channel, "Longitude")),
                            _number(find(channel, "Elevation")),
                            _number(find(channel, "Depth")),
                            _number(find(channel, "Azimuth")),
                            _number(find(channel, "Dip")),
                            _field(find(channel, "Sensor/Description") or find(channel, "Sensor/Type")),
                            _number(find(channel, f"{sensitivity}/Value")),
                            _number(find(channel, f"{sensitivity}/Frequency")),
                            _field(find(channel, f"{sensitivity}/InputUnits/Name")),
                            _number(find(channel, "SampleRate")),
                            _time(start),
                            _time(end),
                        )
                    )
                )
    return lines
