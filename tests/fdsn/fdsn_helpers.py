"""Helpers of the FDSN tests: serving the router alone, and ObsPy oracles reading the
shared files directly (nothing here derives an expected value from the service's output)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI
from obspy import Stream, UTCDateTime
from obspy.io.mseed.util import get_record_information

from seiswindow.archive import layout_named
from seiswindow.config import Settings, open_archive
from seiswindow.extract import Extractor
from seiswindow.fdsn import router
from seiswindow.model import Limits, Nslc
from support.serving import serving


@contextlib.contextmanager
def serve_fdsn(
    bucket: str,
    endpoint: str,
    *,
    prefix: str = "",
    limits: Limits | None = None,
    max_bytes: int | None = None,
    root_path: str = "",
    public_url: str | None = None,
    stations: str | None = None,
) -> Iterator[str]:
    """Serve the FDSN router alone on 127.0.0.1 (a free port); yields the base URL (with
    ``prefix``; without ``root_path``, which a stripping proxy would add in front).
    ``stations``: the station table (path), for stations without StationXML."""
    settings = Settings(
        archive=f"s3://{bucket}", endpoint_url=endpoint, limits=limits or Limits(), stations=stations
    )
    extractor = Extractor(open_archive(settings), limits=settings.limits)
    app = FastAPI()
    app.include_router(router(extractor, settings, prefix=prefix, max_bytes=max_bytes, public_url=public_url))
    try:
        with serving(app, root_path=root_path) as url:
            yield f"{url}{prefix}"
    finally:
        extractor.close()


#: Synthetic coordinates (round numbers, marked so in the site name) of the sample stations that
#: have day files but no StationXML: no public source of their real coordinates was found (see
#: docs/fdsn.md). Inside test_fdsn_massdownloader's DOMAIN, kilometres from CI.CCA/HEC/WBM/YAQ.
SYNTHETIC_STATIONS = {
    ("BK", "THIS"): (35.25, -118.25, 250.0),
    ("CI", "FOX2"): (34.25, -117.25, 1000.0),
    ("CI", "NCH"): (34.75, -117.75, 500.0),
}
SYNTHETIC_SITE = "synthetic coordinates (seiswindow tests)"


def write_station_table(path: Path, stations: dict[tuple[str, str], tuple[float, float, float]]) -> Path:
    """A station-level FDSN station text file of ``stations`` (epochs open from 2000)."""
    lines = ["#Network | Station | Latitude | Longitude | Elevation | SiteName | StartTime | EndTime"]
    for (net, sta), (lat, lon, elevation) in sorted(stations.items()):
        lines.append(f"{net}|{sta}|{lat}|{lon}|{elevation}|{SYNTHETIC_SITE}|2000-01-01T00:00:00|")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def day_files(shared_data: Path, bucket: str, nslc: Nslc, t0: UTCDateTime, t1: UTCDateTime) -> list[Path]:
    """The existing day files of ``nslc`` from the day before ``t0`` to the day after ``t1``."""
    layout = layout_named("ncedc" if "ncedc" in bucket else "scedc")
    first = t0.datetime.date() - dt.timedelta(days=1)
    last = t1.datetime.date() + dt.timedelta(days=1)
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    paths = [shared_data / bucket / layout.key(nslc, day) for day in days]
    return [p for p in paths if p.is_file()]


def archive_channels(shared_data: Path, bucket: str, day: dt.date) -> list[Nslc]:
    """Every channel with a day file on ``day``, from the files on disk."""
    layout = layout_named("ncedc" if "ncedc" in bucket else "scedc")
    found = []
    for path in (shared_data / bucket).rglob("*"):
        parsed = layout.parse_key(path.relative_to(shared_data / bucket).as_posix())
        if parsed is not None and parsed[1] == day:
            found.append(parsed[0])
    return sorted(set(found))


def assert_same_stream(ours: Stream, theirs: Stream) -> None:
    """Same traces: ids, rate, dtype, samples bit for bit, start times within 1/1000 of a
    sample period.

    Why not 1 µs: a record-level answer carries the records' own time stamps, and a day
    file's records drift by microseconds from the grid of its first record (CI.HEC's first
    record is 2 µs off the later ones); ObsPy reading the whole file extends the first
    record's grid. The exact bytes are checked separately.
    """
    ours, theirs = ours.copy().merge(), theirs.copy().merge()
    ours.sort(), theirs.sort()
    assert [tr.id for tr in ours] == [tr.id for tr in theirs]
    assert len(theirs) > 0
    for mine, ref in zip(ours, theirs, strict=True):
        drift = abs(mine.stats.starttime.ns - ref.stats.starttime.ns)
        assert drift <= max(1_000, ref.stats.delta * 1e6), (mine, ref)
        assert mine.stats.sampling_rate == ref.stats.sampling_rate
        assert mine.stats.npts == ref.stats.npts, (mine, ref)
        assert mine.data.dtype == ref.data.dtype
        assert (mine.data == ref.data).all()


def records_overlapping(path: Path, t0: UTCDateTime, t1: UTCDateTime) -> bytes:
    """The file's records holding a sample within half a period of ``[t0, t1]``, read with
    ObsPy's own record parser: what a record-level service must return, byte for byte."""
    data = path.read_bytes()
    out, offset = [], 0
    while offset < len(data):
        info = get_record_information(io.BytesIO(data), offset=offset)
        length = info["record_length"]
        half = 0.5 / info["samp_rate"]
        last = info["starttime"] + (info["npts"] - 1) / info["samp_rate"]
        if last >= t0 - half and info["starttime"] <= t1 + half:
            out.append(data[offset : offset + length])
        offset += length
    return b"".join(out)
