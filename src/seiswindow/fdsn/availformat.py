"""What fdsnws-availability 1.0 writes: its four answer formats, its version and its WADL.

- ``text``: a ``#``-header line naming the columns, then one line per row, fields separated
  by a space, a blank location as ``--`` (ROVER splits lines on spaces);
- ``geocsv``: GeoCSV 2.0, ``|``-separated, with its ``#dataset``/``#delimiter``/``#field_unit``/
  ``#field_type`` header lines;
- ``json``: ``{"created", "version": 1.0, "datasources": [...]}``, one datasource per
  channel group with its ``timespans`` (query) or ``earliest``/``latest``/``timespanCount``
  (extent);
- ``request``: ``NET STA LOC CHA START END`` lines, a POST body for fdsnws-dataselect.

The ``Quality`` column is left out when qualities are merged, ``SampleRate`` when rates
are. Rows answered from the archive's listing rather than the record index
(:mod:`seiswindow.fdsn.availability`) are named in a comment line of text, GeoCSV and
request answers (``#`` lines, which their readers skip), and carry ``"listed": true`` in
JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from xml.sax.saxutils import quoteattr

from ..model import Nslc
from ..nstime import format_time
from .availability import Datasource
from .availrequest import FORMATS, AvailabilityRequest, Endpoint, OrderBy
from .meta import Param, _param

__all__ = ["AVAILABILITY_VERSION", "MEDIA_TYPES", "availability_wadl", "render"]

#: The implemented version of fdsnws-availability.
AVAILABILITY_VERSION = "1.0.0"
MEDIA_TYPES = {
    "text": "text/plain",
    "geocsv": "text/csv",
    "json": "application/json",
    "request": "text/plain",
}
_RESTRICTION = "OPEN"  # the archive's data are public


def render(request: AvailabilityRequest, rows: list[Datasource], *, created: int) -> str:
    """The answer's body in the request's format (``rows`` not empty); ``created``: ns."""
    if request.format == "json":
        return _json(request, rows, created)
    if request.format == "geocsv":
        return _geocsv(request, rows)
    if request.format == "request":
        return _request_lines(request, rows)
    return _text(request, rows)


def _columns(request: AvailabilityRequest) -> list[str]:
    names = ["Network", "Station", "Location", "Channel"]
    if not request.merge_quality:
        names.append("Quality")
    if not request.merge_samplerate:
        names.append("SampleRate")
    names += ["Earliest", "Latest"]
    if request.endpoint is Endpoint.EXTENT:
        names += ["Updated", "TimeSpans", "Restriction"]
    elif request.show_latest_update:
        names.append("Updated")
    return names


def _rate(rate: float) -> str:
    return repr(float(rate))


def _records(request: AvailabilityRequest, rows: list[Datasource], *, blank: str) -> Iterator[list[str]]:
    """The fields of each line (one per datasource for an extent, per span for a query)."""
    for row in rows:
        codes = [row.nslc.network, row.nslc.station, row.nslc.location or blank, row.nslc.channel]
        if row.quality is not None:
            codes.append(row.quality)
        if row.samplerate is not None:
            codes.append(_rate(row.samplerate))
        if request.endpoint is Endpoint.EXTENT:
            yield [
                *codes,
                format_time(row.earliest),
                format_time(row.latest),
                format_time(row.updated),
                str(len(row.spans)),
                _RESTRICTION,
            ]
            continue
        for start, end, updated in row.spans:
            shown = [format_time(updated)] if request.show_latest_update else []
            yield [*codes, format_time(start), format_time(end), *shown]


def _listed_note(rows: list[Datasource]) -> str | None:
    listed = [row for row in rows if row.listed]
    if not listed:
        return None
    names = ", ".join(_dotted(row.nslc) for row in listed)
    return f"listed, not indexed (whole UTC days of the day files; gaps and partial days not known): {names}"


def _dotted(nslc: Nslc) -> str:
    return ".".join(nslc)


def _text(request: AvailabilityRequest, rows: list[Datasource]) -> str:
    lines = ["#" + " ".join(_columns(request))]
    note = _listed_note(rows)
    if note is not None:
        lines.append(f"# {note}")
    lines += [" ".join(fields) for fields in _records(request, rows, blank="--")]
    return "\n".join(lines) + "\n"


def _geocsv(request: AvailabilityRequest, rows: list[Datasource]) -> str:
    columns = _columns(request)
    units = {"SampleRate": "hertz", "Earliest": "ISO_8601", "Latest": "ISO_8601", "Updated": "ISO_8601"}
    types = {
        "SampleRate": "float",
        "Earliest": "datetime",
        "Latest": "datetime",
        "Updated": "datetime",
        "TimeSpans": "integer",
    }
    lines = [
        "#dataset: GeoCSV 2.0",
        "#delimiter: |",
        "#field_unit: " + "|".join(units.get(c, "unitless") for c in columns),
        "#field_type: " + "|".join(types.get(c, "string") for c in columns),
    ]
    note = _listed_note(rows)
    if note is not None:
        lines.append(f"#comment: {note}")
    lines.append("|".join(columns))
    lines += ["|".join(fields) for fields in _records(request, rows, blank="")]
    return "\n".join(lines) + "\n"


def _request_lines(request: AvailabilityRequest, rows: list[Datasource]) -> str:
    lines = []
    note = _listed_note(rows)
    if note is not None:
        lines.append(f"# {note}")
    for row in rows:
        codes = " ".join((row.nslc.network, row.nslc.station, row.nslc.location or "--", row.nslc.channel))
        spans = [(row.earliest, row.latest)] if request.endpoint is Endpoint.EXTENT else row.spans
        lines += [f"{codes} {format_time(span[0])} {format_time(span[1])}" for span in spans]
    return "\n".join(lines) + "\n"


def _json(request: AvailabilityRequest, rows: list[Datasource], created: int) -> str:
    sources = []
    for row in rows:
        source: dict[str, object] = {
            "network": row.nslc.network,
            "station": row.nslc.station,
            "location": row.nslc.location,
            "channel": row.nslc.channel,
        }
        if row.quality is not None:
            source["quality"] = row.quality
        if row.samplerate is not None:
            source["samplerate"] = row.samplerate
        if request.endpoint is Endpoint.EXTENT:
            source["earliest"] = format_time(row.earliest)
            source["latest"] = format_time(row.latest)
            source["updated"] = format_time(row.updated)
            source["timespanCount"] = len(row.spans)
            source["restriction"] = _RESTRICTION
        else:
            source["timespans"] = [[format_time(a), format_time(b)] for a, b, _ in row.spans]
            if request.show_latest_update:
                source["updated"] = format_time(row.updated)
        if row.listed:
            source["listed"] = True
        sources.append(source)
    document = {"created": format_time(created), "version": 1.0, "datasources": sources}
    return json.dumps(document, indent=2) + "\n"


_CODES = (
    Param("network", doc="Network codes: comma list, wildcards * and ?"),
    Param("station", doc="Station codes: comma list, wildcards * and ?"),
    Param("location", doc="Location codes: comma list, wildcards * and ?, -- for blank"),
    Param("channel", doc="Channel codes: comma list, wildcards * and ?"),
)


def _params(endpoint: Endpoint) -> tuple[Param, ...]:
    orders = [o.value for o in OrderBy]
    merges: tuple[str, ...] = ("samplerate", "quality", "overlap")
    if endpoint is Endpoint.EXTENT:
        merges = merges[:2]
    else:
        orders = [o for o in orders if "timespancount" not in o]
    common = (
        Param("starttime", "xs:dateTime", doc="Start of the time span (UTC); open when not given"),
        Param("endtime", "xs:dateTime", doc="End of the time span (UTC); open when not given"),
        *_CODES,
        Param("quality", doc="D, R, Q, M (comma list), or B / * for any"),
        Param("merge", options=merges, doc="Comma list: merge across rates, qualities, overlaps"),
        Param("orderby", default=OrderBy.NSLC.value, options=tuple(orders), doc="Row order"),
        Param("limit", "xs:int", doc="The most rows"),
        Param("includerestricted", "xs:boolean", default="false", doc="Accepted: all data are open"),
        Param("format", default="text", options=FORMATS, doc="Answer format"),
        Param("nodata", "xs:int", default="204", options=("204", "404"), doc="Status when no data"),
    )
    if endpoint is Endpoint.EXTENT:
        return common
    return (
        *common,
        Param("mergegaps", "xs:double", doc="Join spans separated by at most this many seconds"),
        Param("show", options=("latestupdate",), doc="Show the update time of each span"),
    )


def _resource(endpoint: Endpoint) -> str:
    rows = "".join(_param(p) for p in _params(endpoint))
    name = endpoint.value
    return f"""    <resource path="{name}">
      <method name="GET" id="{name}">
        <request>
{rows}        </request>
        <response status="200"><representation mediaType="text/plain"/></response>
        <response status="204 400 404 500 502 503"><representation mediaType="text/plain"/></response>
      </method>
      <method name="POST" id="post{name.capitalize()}">
        <request><representation mediaType="text/plain"/></request>
        <response status="200"><representation mediaType="text/plain"/></response>
      </method>
    </resource>
"""


def availability_wadl(base_url: str) -> str:
    """The WADL of fdsnws-availability served at ``base_url`` (``.../availability/1/``)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://wadl.dev.java.net/2009/02" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <doc title="FDSN availability web service {AVAILABILITY_VERSION} (seiswindow)"/>
  <resources base={quoteattr(base_url)}>
{_resource(Endpoint.EXTENT)}{_resource(Endpoint.QUERY)}    <resource path="version">
      <method name="GET" id="version">
        <response><representation mediaType="text/plain"/></response>
      </method>
    </resource>
    <resource path="application.wadl">
      <method name="GET" id="application.wadl">
        <response><representation mediaType="application/xml"/></response>
      </method>
    </resource>
  </resources>
</application>
"""
