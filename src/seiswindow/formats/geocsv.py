"""EarthScope's GeoCSV 2.0 time-series layout, as its timeseries service writes it.

One block per contiguous segment: ``#`` header lines (``dataset: GeoCSV 2.0``, the
delimiter, the FDSN source identifier ``SID``, sample count and rate, start time, the
channel's coordinates, orientation and sensitivity when StationXML gives them, the fields'
units and types), then a line naming the columns (``Time, Sample`` for tspair, ``Sample``
for slist) and one line per sample. Blocks are separated by an empty line.

Written here with the standard library: ObsPy has no GeoCSV writer, and the layout is a few
header lines. Samples print as ObsPy prints them (integers as integers, floats with
``repr``, which reads back exactly).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from ..model import Nslc, Segment, WindowResult
from ..nstime import NS_PER_S, format_time
from ..process.response import ChannelMeta
from ._files import file_name
from ._format import Rendered

__all__ = ["GEOCSV_MEDIA_TYPE", "render_geocsv", "source_id"]

GEOCSV_MEDIA_TYPE = "text/csv"


def source_id(nslc: Nslc) -> str:
    """The FDSN source identifier of SEED codes: ``FDSN:CI_CCA__B_H_N``."""
    cha = nslc.channel
    subsource = "_".join(cha) if len(cha) == 3 else cha
    return f"FDSN:{nslc.network}_{nslc.station}_{nslc.location}_{subsource}"


def _header(nslc: Nslc, seg: Segment, meta: ChannelMeta | None, *, pairs: bool, units: str) -> Iterator[str]:
    yield "# dataset: GeoCSV 2.0"
    yield "# delimiter: ,"
    yield f"# SID: {source_id(nslc)}"
    yield f"# sample_count: {seg.npts}"
    yield f"# sample_rate_hz: {seg.sampling_rate:g}"
    yield f"# start_time: {format_time(seg.start)}"
    if meta is not None:
        yield f"# latitude_deg: {meta.latitude}"
        yield f"# longitude_deg: {meta.longitude}"
        yield f"# elevation_m: {meta.elevation}"
        yield f"# depth_m: {meta.depth}"
        if meta.azimuth is not None:
            yield f"# azimuth_deg: {meta.azimuth}"
        if meta.dip is not None:
            yield f"# dip_deg: {meta.dip}"
        if meta.instrument:
            yield f"# instrument: {meta.instrument}"
        if meta.sensitivity is not None and units == "COUNTS":
            yield f"# scale_factor: {meta.sensitivity}"
            yield f"# scale_frequency_hz: {meta.sensitivity_frequency}"
            yield f"# scale_units: {(meta.input_units or '').upper()}"
    kind = "integer" if np.issubdtype(seg.samples.dtype, np.integer) else "float"
    if pairs:
        yield f"# field_unit: UTC, {units}"
        yield f"# field_type: datetime, {kind}"
        yield "Time, Sample"
    else:
        yield f"# field_unit: {units}"
        yield f"# field_type: {kind}"
        yield "Sample"


def _values(seg: Segment) -> list[str]:
    if np.issubdtype(seg.samples.dtype, np.integer):
        return [str(v) for v in seg.samples.tolist()]
    return [repr(float(v)) for v in seg.samples.tolist()]


def _times(seg: Segment) -> list[str]:
    # Each sample's time on the segment's grid, to the microsecond, as ObsPy's times() does.
    offsets = np.round(np.arange(seg.npts) * (NS_PER_S / seg.sampling_rate)).astype(np.int64)
    return [format_time(seg.start + int(o)) for o in offsets]


def render_geocsv(
    results: Sequence[WindowResult], *, pairs: bool, metas: Mapping[Nslc, ChannelMeta | None], units: str
) -> Rendered:
    """The results' segments as GeoCSV (tspair when ``pairs``, else slist)."""
    blocks = []
    for result in results:
        nslc = result.window.nslc
        for seg in result.segments:
            lines = list(_header(nslc, seg, metas.get(nslc), pairs=pairs, units=units))
            values = _values(seg)
            if pairs:
                lines.extend(f"{t}, {v}" for t, v in zip(_times(seg), values, strict=True))
            else:
                lines.extend(values)
            blocks.append("\n".join(lines) + "\n")
    first = next((r for r in results if r.segments), None)
    name = "timeseries.csv" if first is None else file_name(first.window.nslc, first.segments[0].start, "csv")
    return Rendered("\n".join(blocks).encode(), GEOCSV_MEDIA_TYPE, name)
