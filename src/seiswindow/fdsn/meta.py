"""What the two services say about themselves: version, WADL, and the FDSN error text.

ObsPy's ``Client`` discovers services by fetching ``<base>/fdsnws/<service>/1/application.wadl``
(a 404 means "no such service") and reads each service's parameters from it: those of the
``GET`` method of the resource whose method id is ``query``, with their types. It then
reads ``/version`` as dot-separated integers. The WADL lists exactly the parameters this
service accepts, so ObsPy refuses the others before asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from xml.sax.saxutils import quoteattr

__all__ = ["VERSION", "Param", "dataselect_wadl", "error_text", "station_wadl"]

#: The implemented version of both fdsnws-dataselect and fdsnws-station.
VERSION = "1.1.0"


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter as the WADL describes it."""

    name: str
    type: str = "xs:string"
    required: bool = False
    default: str | None = None
    options: tuple[str, ...] = ()
    doc: str = ""


_CODES = (
    Param("network", doc="Network codes: comma list, wildcards * and ?"),
    Param("station", doc="Station codes: comma list, wildcards * and ?"),
    Param("location", doc="Location codes: comma list, wildcards * and ?, -- for blank"),
    Param("channel", doc="Channel codes: comma list, wildcards * and ?"),
)
_NODATA = Param("nodata", "xs:int", default="204", options=("204", "404"), doc="Status when no data")

DATASELECT_PARAMS = (
    Param("starttime", "xs:dateTime", required=True, doc="Start of the time window (UTC)"),
    Param("endtime", "xs:dateTime", required=True, doc="End of the time window (UTC)"),
    *_CODES,
    Param(
        "quality",
        default="B",
        options=("D", "R", "Q", "M", "B"),
        doc="Accepted; the archive holds one version of each day file, returned for any value",
    ),
    Param("minimumlength", "xs:double", default="0.0", doc="Minimum continuous segment length (s)"),
    Param("longestonly", "xs:boolean", default="false", doc="Only the longest continuous segment"),
    Param(
        "format",
        default="miniseed",
        options=("miniseed", "mseed", "manifest"),
        doc="miniSEED (mseed: the same); manifest: JSON naming the byte ranges of the records",
    ),
    _NODATA,
)

STATION_PARAMS = (
    Param("starttime", "xs:dateTime", doc="Epochs active on or after this time"),
    Param("endtime", "xs:dateTime", doc="Epochs active on or before this time"),
    Param("startbefore", "xs:dateTime", doc="Epochs starting before this time"),
    Param("startafter", "xs:dateTime", doc="Epochs starting after this time"),
    Param("endbefore", "xs:dateTime", doc="Epochs ending before this time"),
    Param("endafter", "xs:dateTime", doc="Epochs ending after this time (or open)"),
    *_CODES,
    Param("minlatitude", "xs:double", default="-90.0", doc="Southern boundary"),
    Param("maxlatitude", "xs:double", default="90.0", doc="Northern boundary"),
    Param("minlongitude", "xs:double", default="-180.0", doc="Western boundary"),
    Param("maxlongitude", "xs:double", default="180.0", doc="Eastern boundary"),
    Param("latitude", "xs:double", default="0.0", doc="Centre of a radial search"),
    Param("longitude", "xs:double", default="0.0", doc="Centre of a radial search"),
    Param("minradius", "xs:double", default="0.0", doc="Minimum distance (degrees)"),
    Param("maxradius", "xs:double", default="180.0", doc="Maximum distance (degrees)"),
    Param(
        "level",
        default="station",
        options=("network", "station", "channel", "response"),
        doc="Level of detail",
    ),
    Param("includerestricted", "xs:boolean", default="true", doc="Include closed epochs"),
    Param(
        "includeavailability",
        "xs:boolean",
        default="false",
        options=("true", "false"),
        doc="DataAvailability extents of channels (needs starttime and endtime without a record index)",
    ),
    Param(
        "matchtimeseries",
        "xs:boolean",
        default="false",
        options=("true", "false"),
        doc="Only channels with day files in [starttime, endtime] (both needed when true)",
    ),
    Param("format", default="xml", options=("xml", "text"), doc="Output format"),
    _NODATA,
)


def _param(param: Param) -> str:
    attributes = f'name="{param.name}" style="query" type="{param.type}"'
    if param.required:
        attributes += ' required="true"'
    if param.default is not None:
        attributes += f" default={quoteattr(param.default)}"
    inner = "".join(f'<option value="{option}"/>' for option in param.options)
    if param.doc:
        inner += f"<doc title={quoteattr(param.doc)}/>"
    return f"          <param {attributes}>{inner}</param>\n"


def _wadl(service: str, base_url: str, params: tuple[Param, ...], media_type: str) -> str:
    """A WADL of ``service`` at ``base_url`` (the absolute URL of ``.../<service>/1/``)."""
    rows = "".join(_param(p) for p in params)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://wadl.dev.java.net/2009/02" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <doc title="FDSN {service} web service {VERSION} (seiswindow)"/>
  <resources base={quoteattr(base_url)}>
    <resource path="query">
      <method name="GET" id="query">
        <request>
{rows}        </request>
        <response status="200"><representation mediaType="{media_type}"/></response>
        <response status="204 400 404 413 500 502 503"><representation mediaType="text/plain"/></response>
      </method>
      <method name="POST" id="postQuery">
        <request><representation mediaType="text/plain"/></request>
        <response status="200"><representation mediaType="{media_type}"/></response>
        <response status="204 400 404 413 500 502 503"><representation mediaType="text/plain"/></response>
      </method>
    </resource>
    <resource path="version">
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


def dataselect_wadl(base_url: str) -> str:
    """The WADL of fdsnws-dataselect served at ``base_url``."""
    return _wadl("dataselect", base_url, DATASELECT_PARAMS, "application/vnd.fdsn.mseed")


def station_wadl(base_url: str) -> str:
    """The WADL of fdsnws-station served at ``base_url``."""
    return _wadl("station", base_url, STATION_PARAMS, "application/xml")


def error_text(status: int, detail: str, *, url: str, submitted: str, documentation: str) -> str:
    """The FDSN web service error body (FDSN web service specifications 1.1, "Error reporting").

    Args:
        status: the HTTP status.
        detail: what is wrong, for a person.
        url: the URL the client submitted.
        submitted: when it was submitted (ISO 8601 UTC).
        documentation: where usage details are.
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (
        f"Error {status}: {phrase}\n\n{detail}\n\n"
        f"Usage details are available from {documentation}\n\n"
        f"Request:\n{url}\n\nRequest Submitted:\n{submitted}\n\nService version:\n{VERSION}\n"
    )
