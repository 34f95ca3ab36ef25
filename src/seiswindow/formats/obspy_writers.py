"""The formats ObsPy writes: SAC binary (either byte order), SAC alphanumeric, and IRIS's
ASCII time series (tspair, slist).

ObsPy's writers are the field's reference for these layouts (what SAC and ObsPy users read
back without surprise). SAC headers get the station's coordinates and the component's
orientation from StationXML (``stla``, ``stlo``, ``stel``, ``stdp``, ``cmpaz``, ``cmpinc``
= dip + 90) when the archive describes the channel; the codes and times ObsPy sets itself.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from obspy import Stream, Trace

from ..model import Nslc, WindowResult
from ..process.apply import to_traces
from ..process.response import ChannelMeta
from ._files import ZIP_MEDIA_TYPE, file_name, zip_files
from ._format import Format, Rendered

__all__ = ["render_obspy", "sac_header"]

_SAC_BYTEORDER = {Format.SAC: "<", Format.SAC_ZIP: "<", Format.SACBL: "<", Format.SACBB: ">"}


def sac_header(meta: ChannelMeta | None) -> dict[str, Any]:
    """The SAC header fields that StationXML gives (none without it)."""
    if meta is None:
        return {}
    header: dict[str, Any] = {
        "stla": meta.latitude,
        "stlo": meta.longitude,
        "stel": meta.elevation,
        "stdp": meta.depth,
    }
    if meta.azimuth is not None:
        header["cmpaz"] = meta.azimuth
    if meta.dip is not None:
        header["cmpinc"] = meta.dip + 90.0
    return header


def _traces(results: Sequence[WindowResult]) -> list[tuple[Nslc, Trace]]:
    return [(r.window.nslc, tr) for r in results for tr in to_traces(r)]


def _sac_file(trace: Trace, fmt: Format, meta: ChannelMeta | None) -> bytes:
    trace.stats.sac = sac_header(meta)
    buffer = io.BytesIO()
    if fmt is Format.SACA:
        trace.write(buffer, format="SACXY")
    else:
        trace.write(buffer, format="SAC", byteorder=_SAC_BYTEORDER[fmt])
    return buffer.getvalue()


def _ascii(traces: list[tuple[Nslc, Trace]], kind: str) -> bytes:
    # ObsPy's TSPAIR and SLIST writers take a file name only (they open it themselves).
    with tempfile.TemporaryDirectory(prefix="seiswindow-") as directory:
        path = Path(directory) / "timeseries.txt"
        Stream([tr for _, tr in traces]).write(str(path), format=kind)
        return path.read_bytes()


def render_obspy(
    results: Sequence[WindowResult], fmt: Format, *, metas: Mapping[Nslc, ChannelMeta | None]
) -> Rendered:
    """The results' segments in ``fmt`` (SAC kinds, tspair, slist). SAC: one file per
    segment, zipped when there are several (always for ``sac.zip``); tspair and slist: one
    text with a header line per segment."""
    traces = _traces(results)
    if fmt in (Format.TSPAIR, Format.SLIST):
        first = traces[0] if traces else None
        name = "timeseries.txt" if first is None else file_name(first[0], first[1].stats.starttime.ns, "txt")
        return Rendered(_ascii(traces, fmt.value.upper()), "text/plain", name)
    extension = "SACA" if fmt is Format.SACA else "SAC"
    files = [
        (file_name(nslc, tr.stats.starttime.ns, extension), _sac_file(tr, fmt, metas.get(nslc)))
        for nslc, tr in traces
    ]
    if len(files) == 1 and fmt is not Format.SAC_ZIP:
        media = "text/plain" if fmt is Format.SACA else "application/octet-stream"
        return Rendered(files[0][1], media, files[0][0])
    return Rendered(zip_files(files), ZIP_MEDIA_TYPE, "timeseries.zip")
