"""The offline demo archive: synthetic day files of station ``SY.DEMO`` in SCEDC bucket
layout, built under a root the caller names.

Why: the service, the examples and the tests need an archive that exists on every
machine without network access or AWS credentials, and that looks like the real
SCEDC Public Data Set closely enough to exercise the same code paths: miniSEED 2,
512-byte records, Steim2, one UTC day per file starting a few hundredths of a second
after midnight, consecutive days on one sample grid, a gap inside a day, and a
StationXML beside the waveforms.

The samples come from :mod:`seiswindow.synth`; every record is packed by libmseed
through :func:`seiswindow.mseed.write_steim2_file`; file keys are the SCEDC layout's
(:class:`seiswindow.archive.ScedcLayout`). Nothing here reads the environment: where the
archive lives is the caller's choice (:func:`seiswindow.demo.default_demo_root`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

from .archive import ScedcLayout
from .model import Nslc
from .mseed import write_steim2_file
from .synth import SignalModel, day_runs, exact_rate

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_DAYS",
    "DEMO_FORMAT_VERSION",
    "DEMO_GAPS",
    "DEMO_LOCATION",
    "DEMO_NETWORK",
    "DEMO_STATION",
    "DemoChannel",
    "build_demo_archive",
    "write_day_file",
]

#: Bumped whenever the files :func:`build_demo_archive` writes change, so that an archive
#: cached by an older version is rebuilt instead of being served stale.
DEMO_FORMAT_VERSION = 1

#: ``SY`` is the FDSN network code reserved for synthetic data.
DEMO_NETWORK = "SY"
DEMO_STATION = "DEMO"
DEMO_LOCATION = ""
#: Two consecutive days, so that windows across midnight can be cut.
DEMO_DAYS: tuple[date, ...] = (date(2024, 1, 1), date(2024, 1, 2))

_MARKER_NAME = ".seiswindow-demo"
_LAYOUT = ScedcLayout()


@dataclass(frozen=True)
class DemoChannel:
    """One channel of the demo station and the metadata its StationXML needs.

    Attributes:
        code: SEED channel code, e.g. ``BHZ``.
        sampling_rate: Samples per second.
        start_offset_s: Seconds after midnight of the first sample of each day file.
        azimuth: Degrees east of north.
        dip: Degrees down from horizontal (-90 is up).
    """

    code: str
    sampling_rate: float
    start_offset_s: float
    azimuth: float
    dip: float


#: The demo channels: a 40 Hz broadband triplet and a 1 Hz long-period vertical.
#: Offsets copy real SCEDC files (CI.CCA..BHN starts at 00:00:00.0195, CI.WBM..LHZ
#: at 00:00:00.0719).
DEMO_CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel("BHZ", 40.0, 0.0195, azimuth=0.0, dip=-90.0),
    DemoChannel("BHN", 40.0, 0.0195, azimuth=0.0, dip=0.0),
    DemoChannel("BHE", 40.0, 0.0195, azimuth=90.0, dip=0.0),
    DemoChannel("LHZ", 1.0, 0.0719, azimuth=0.0, dip=-90.0),
)

#: Spans without samples, in seconds of day, per (channel code, day).
DEMO_GAPS: Mapping[tuple[str, date], tuple[tuple[float, float], ...]] = MappingProxyType(
    {("BHZ", date(2024, 1, 1)): ((10 * 3600.0, 10 * 3600.0 + 30.0),)}
)


def _check_codes(network: str, station: str, location: str, channel: str) -> None:
    if not (1 <= len(network) <= 2 and 1 <= len(station) <= 5):
        raise ValueError(
            f"miniSEED 2 needs a 1-2 character network and 1-5 character station, "
            f"got {network!r}, {station!r}"
        )
    if len(location) > 2 or len(channel) != 3:
        raise ValueError(
            f"miniSEED 2 needs a 0-2 character location and 3 character channel, "
            f"got {location!r}, {channel!r}"
        )


def write_day_file(
    path: str | os.PathLike[str],
    *,
    network: str,
    station: str,
    location: str,
    channel: str,
    day: date,
    sampling_rate: float,
    start_offset_s: float = 0.0195,
    gaps: Sequence[tuple[float, float]] = (),
    seed: int = 0,
    record_length: int = 512,
    signal: SignalModel | None = None,
) -> Path:
    """Write one UTC day of synthetic int32 data as miniSEED 2, Steim2, to ``path``.

    What: samples on the epoch-anchored grid (see the module docstring) from
    ``midnight + start_offset_s`` up to, not including, ``next midnight +
    start_offset_s``, minus the samples inside ``gaps``. The signal is band-limited
    noise, a microseism and one small event (:class:`SignalModel`).

    Why these choices: SCEDC day files are miniSEED 2 in 512-byte Steim2 records and
    start 0.02-0.07 s after midnight; the epoch anchor keeps consecutive days
    contiguous however they are generated; the seed makes every file reproducible on
    its own. The file is written beside ``path`` and renamed into place, so a reader
    never sees half a file. The grid and the signal are :func:`seiswindow.synth.day_runs`'s.

    Args:
        path: Output file; parent directories are created.
        network: Network code (1-2 characters).
        station: Station code (1-5 characters).
        location: Location code (0-2 characters, "" for blank).
        channel: Channel code (3 characters).
        day: The UTC day.
        sampling_rate: Samples per second.
        start_offset_s: Seconds after midnight of the first sample; at least 0 and
            less than ``max(1, 1 / sampling_rate)``.
        gaps: ``(start_s, end_s)`` spans, in seconds after midnight, where samples
            with ``start_s <= t < end_s`` are left out.
        seed: Seed of the pseudo-random parts (a non-negative integer).
        record_length: miniSEED record length, a power of two from 128 to 65536.
        signal: The signal model; default :meth:`SignalModel.for_rate`.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: If a code, the sampling rate, the offset, a gap, the seed or
            the record length is out of range.
        pymseed.MiniSEEDError: If libmseed fails to pack or write the records.
        OSError: If the file cannot be written.
    """
    _check_day_file(network, station, location, channel, sampling_rate, start_offset_s, record_length, seed)
    nslc = Nslc(network, station, location, channel)
    runs = day_runs(
        nslc,
        day=day,
        sampling_rate=sampling_rate,
        start_offset_s=start_offset_s,
        gaps=gaps,
        seed=seed,
        signal=signal,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write_steim2_file(
            tmp,
            runs,
            nslc=nslc,
            sampling_rate=sampling_rate,
            record_length=record_length,
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _check_day_file(
    network: str,
    station: str,
    location: str,
    channel: str,
    sampling_rate: float,
    start_offset_s: float,
    record_length: int,
    seed: int,
) -> None:
    """Refuse what :func:`write_day_file` cannot write, before anything is written.

    Raises:
        ValueError: a code, the sampling rate, the offset, the record length or the seed
            is out of range.
    """
    _check_codes(network, station, location, channel)
    exact_rate(sampling_rate)
    if not (0.0 <= start_offset_s < max(1.0, 1.0 / sampling_rate)):
        raise ValueError(f"start_offset_s must be >= 0 and < max(1, 1/sampling_rate), got {start_offset_s!r}")
    if not (128 <= record_length <= 65536 and record_length & (record_length - 1) == 0):
        raise ValueError(f"record_length must be a power of two in [128, 65536], got {record_length!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


# -- the archive ------------------------------------------------------------------------


def _day_path(root: Path, channel: str, day: date) -> Path:
    """Where the SCEDC layout keeps the demo station's day file of ``channel``."""
    return root / _LAYOUT.key(Nslc(DEMO_NETWORK, DEMO_STATION, DEMO_LOCATION, channel), day)


def _stationxml_path(root: Path) -> Path:
    return root / "FDSNstationXML" / DEMO_NETWORK / f"{DEMO_NETWORK}_{DEMO_STATION}.xml"


def _demo_paths(root: Path) -> list[Path]:
    paths = [_day_path(root, ch.code, day) for ch in DEMO_CHANNELS for day in DEMO_DAYS]
    return [*paths, _stationxml_path(root)]


_EPOCH_ATTRS = 'startDate="2024-01-01T00:00:00Z" endDate="2025-01-01T00:00:00Z"'
_LATITUDE, _LONGITUDE, _ELEVATION = 34.0, -118.0, 100.0

_CHANNEL_XML = """\
      <Channel code="{code}" locationCode="{location}" {epoch}>
        <Latitude>{lat}</Latitude>
        <Longitude>{lon}</Longitude>
        <Elevation>{elev}</Elevation>
        <Depth>0.0</Depth>
        <Azimuth>{azimuth}</Azimuth>
        <Dip>{dip}</Dip>
        <Type>CONTINUOUS</Type>
        <Type>GEOPHYSICAL</Type>
        <SampleRate>{rate}</SampleRate>
        <Sensor>
          <Description>synthetic broadband (seiswindow demo)</Description>
        </Sensor>
        <Response>
          <InstrumentSensitivity>
            <Value>6.0E8</Value>
            <Frequency>1.0</Frequency>
            <InputUnits>
              <Name>m/s</Name>
            </InputUnits>
            <OutputUnits>
              <Name>count</Name>
            </OutputUnits>
          </InstrumentSensitivity>
        </Response>
      </Channel>
"""

_STATIONXML = """\
<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2">
  <Source>seiswindow</Source>
  <Sender>seiswindow offline demo</Sender>
  <Module>seiswindow.demo (format {version})</Module>
  <Created>2024-01-01T00:00:00Z</Created>
  <Network code="{network}" {epoch}>
    <Description>Synthetic seismograms for the seiswindow offline demo</Description>
    <Station code="{station}" {epoch}>
      <Latitude>{lat}</Latitude>
      <Longitude>{lon}</Longitude>
      <Elevation>{elev}</Elevation>
      <Site>
        <Name>seiswindow synthetic demo station</Name>
      </Site>
      <CreationDate>2024-01-01T00:00:00Z</CreationDate>
      <TotalNumberChannels>{nchannels}</TotalNumberChannels>
      <SelectedNumberChannels>{nchannels}</SelectedNumberChannels>
{channels}    </Station>
  </Network>
</FDSNStationXML>
"""


def _stationxml() -> str:
    """FDSN StationXML 1.2 for :data:`DEMO_CHANNELS`, epochs covering 2024."""
    coords = {"lat": _LATITUDE, "lon": _LONGITUDE, "elev": _ELEVATION, "epoch": _EPOCH_ATTRS}
    channels = "".join(
        _CHANNEL_XML.format(
            code=ch.code,
            location=DEMO_LOCATION,
            azimuth=ch.azimuth,
            dip=ch.dip,
            rate=ch.sampling_rate,
            **coords,
        )
        for ch in DEMO_CHANNELS
    )
    return _STATIONXML.format(
        version=DEMO_FORMAT_VERSION,
        network=DEMO_NETWORK,
        station=DEMO_STATION,
        nchannels=len(DEMO_CHANNELS),
        channels=channels,
        **coords,
    )


def _marker_text() -> str:
    return f"seiswindow demo archive format {DEMO_FORMAT_VERSION}\n"


def build_demo_archive(root: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Create the offline demo archive under ``root`` in SCEDC bucket layout.

    What: for station ``SY.DEMO`` (blank location), day files of BHZ, BHN, BHE
    (40 Hz) and LHZ (1 Hz) for 2024-01-01 and 2024-01-02 under
    ``continuous_waveforms/2024/2024_DDD/`` (BHZ on 2024-01-01 lacks 10:00:00 to
    10:00:30), and ``FDSNstationXML/SY/SY_DEMO.xml``.

    Why idempotent: the service builds the archive on first start and reuses it
    afterwards. A marker file naming :data:`DEMO_FORMAT_VERSION` is written last;
    when it is present with the current version and every file exists, nothing is
    regenerated. An interrupted build leaves no marker and is redone.

    Args:
        root: Archive root (the equivalent of the bucket); created if missing.
        force: Regenerate even when the archive is up to date.

    Returns:
        The paths of the archive's files (waveforms, then the StationXML).

    Raises:
        pymseed.MiniSEEDError: If libmseed fails to write a file.
        OSError: If a file cannot be written.
    """
    base = Path(root)
    paths = _demo_paths(base)
    marker = base / _MARKER_NAME
    if (
        not force
        and marker.is_file()
        and marker.read_text(encoding="utf-8") == _marker_text()
        and all(p.is_file() for p in paths)
    ):
        return paths

    marker.unlink(missing_ok=True)
    for ch in DEMO_CHANNELS:
        for day in DEMO_DAYS:
            write_day_file(
                _day_path(base, ch.code, day),
                network=DEMO_NETWORK,
                station=DEMO_STATION,
                location=DEMO_LOCATION,
                channel=ch.code,
                day=day,
                sampling_rate=ch.sampling_rate,
                start_offset_s=ch.start_offset_s,
                gaps=DEMO_GAPS.get((ch.code, day), ()),
            )
    xml_path = _stationxml_path(base)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    xml_path.write_text(_stationxml(), encoding="utf-8")
    marker.write_text(_marker_text(), encoding="utf-8")
    return paths
