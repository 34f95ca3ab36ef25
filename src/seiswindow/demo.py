"""Synthetic miniSEED day files and an offline demo archive in SCEDC bucket layout.

Why: the service, the examples and the tests need an archive that exists on every
machine without network access or AWS credentials, and that looks like the real
SCEDC Public Data Set closely enough to exercise the same code paths: miniSEED 2,
512-byte records, Steim2, one UTC day per file starting a few hundredths of a second
after midnight, consecutive days on one sample grid, a gap inside a day, and a
StationXML beside the waveforms.

Every record is packed by libmseed through ``pymseed`` (``MS3TraceList.add_data`` then
``to_file``); this module only synthesises the samples and decides where they sit in
time. Four defaults of ``to_file`` are wrong for SCEDC-like files and are overridden
on every call: ``format_version=2`` (the default is the library's, miniSEED 3),
``encoding=STEIM2`` (default Steim1), ``max_record_length=512`` (default 4096) and
``overwrite=True`` (the default appends to an existing file). libmseed writes every
miniSEED 2 record with sequence number ``000000`` and quality ``D``; readers accept it.

Sample times: the grid of a channel is anchored at the Unix epoch, sample ``k`` at
``1970-01-01 + start_offset_s + k / sampling_rate``, so the grid of a day never
depends on which other days were generated. A day file holds the grid samples in
``[midnight + start_offset_s, next midnight + start_offset_s)``: when the offset is
shorter than one sample period (40 Hz, 1 Hz) that is "first sample at midnight plus the
offset, last sample the last one before the next midnight"; in every case the first
sample of day N+1 is the last sample of day N plus one period.

Example:
    >>> from seiswindow.demo import default_demo_root
    >>> default_demo_root({"XDG_CACHE_HOME": "/var/cache"}).as_posix()
    '/var/cache/seiswindow/demo'
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from pymseed import DataEncoding, MS3TraceList, nslc2sourceid

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_DAYS",
    "DEMO_FORMAT_VERSION",
    "DEMO_GAPS",
    "DEMO_LOCATION",
    "DEMO_NETWORK",
    "DEMO_STATION",
    "DemoChannel",
    "SignalModel",
    "build_demo_archive",
    "default_demo_root",
    "main",
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

_NS_PER_S = 1_000_000_000
_SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)
_MARKER_NAME = ".seiswindow-demo"
_INT32 = np.iinfo(np.int32)

_FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SignalModel:
    """Shape and size, in digitizer counts, of the synthetic ground motion.

    The default is tuned so that Steim2 compresses a broadband day like a real
    one (about 1.6-1.9 bytes per sample at 40-100 Hz in 512-byte records): the
    first differences of the samples, which is what Steim2 stores, are mostly
    8-10 bits wide.

    Attributes:
        noise_rms_counts: RMS of the band-limited Gaussian background noise.
        noise_band_hz: Corners (low, high) of the noise band; the high corner is
            lowered to 40 % of the sampling rate when it would reach Nyquist.
        microseism_counts: Amplitude of the ~0.15 Hz microseism sinusoid, slowly
            modulated over hours.
        microseism_hz: Frequency of that sinusoid.
        event_peak_counts: Peak amplitude of the one small local "event" per day
            (0 for none).
    """

    noise_rms_counts: float = 400.0
    noise_band_hz: tuple[float, float] = (0.05, 2.0)
    microseism_counts: float = 2500.0
    microseism_hz: float = 0.15
    event_peak_counts: float = 20000.0

    @classmethod
    def for_rate(cls, sampling_rate: float) -> SignalModel:
        """Return the default model for a channel sampled at ``sampling_rate`` Hz.

        Why: long-period channels (``LH?``, 1 Hz) of real stations record a few
        hundred counts, and a 0.15 Hz microseism of broadband size would change by
        thousands of counts between 1-s samples, which Steim2 cannot compress like
        the real files. Below 10 Hz all amplitudes are scaled by ``rate / 10``.

        Raises:
            ValueError: If ``sampling_rate`` is not a positive finite number.
        """
        _check_rate(sampling_rate)
        scale = min(1.0, sampling_rate / 10.0)
        model = cls()
        if scale == 1.0:
            return model
        return replace(
            model,
            noise_rms_counts=model.noise_rms_counts * scale,
            microseism_counts=model.microseism_counts * scale,
            event_peak_counts=model.event_peak_counts * scale,
        )


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


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class _DayGrid:
    """The epoch-anchored sample grid of one day file.

    Global sample ``k`` is at ``offset_ns + k / rate`` seconds after the epoch; the
    day holds ``k`` in ``[first_index, first_index + npts)``. Times are computed from
    exact fractions and rounded once to nanoseconds, libmseed's time unit, so that no
    error accumulates over the ~10^11 samples since 1970.
    """

    rate: Fraction
    offset_ns: int
    first_index: int
    npts: int

    @classmethod
    def for_day(cls, day: date, *, rate: Fraction, offset_ns: int) -> _DayGrid:
        day_s = (day - _EPOCH).days * _SECONDS_PER_DAY
        first = math.ceil(day_s * rate)
        end = math.ceil((day_s + _SECONDS_PER_DAY) * rate)
        return cls(rate=rate, offset_ns=offset_ns, first_index=first, npts=end - first)

    def time_ns(self, i: int) -> int:
        """Epoch nanoseconds of local sample ``i``."""
        return self.offset_ns + round((self.first_index + i) * _NS_PER_S / self.rate)

    def index_at_or_after(self, t_ns: int) -> int:
        """Local index of the first sample at or after ``t_ns``, clamped to the day."""
        k = math.ceil(Fraction(t_ns - self.offset_ns, _NS_PER_S) * self.rate)
        return min(max(k - self.first_index, 0), self.npts)


def _check_rate(sampling_rate: float) -> None:
    if not (math.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive finite number, got {sampling_rate!r}")


def _exact_rate(sampling_rate: float) -> Fraction:
    """The sampling rate as the simple fraction it stands for (0.1 -> 1/10)."""
    _check_rate(sampling_rate)
    rate = Fraction(sampling_rate).limit_denominator(1_000_000)
    if abs(float(rate) - sampling_rate) > 1e-9 * sampling_rate:
        raise ValueError(f"sampling_rate {sampling_rate!r} is not a simple fraction")
    return rate


def _kept_runs(grid: _DayGrid, day: date, gaps: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Local index ranges ``[start, end)`` left after removing ``gaps``."""
    day_ns = (day - _EPOCH).days * _SECONDS_PER_DAY * _NS_PER_S
    removed: list[tuple[int, int]] = []
    for gap_start, gap_end in gaps:
        if not (0.0 <= gap_start < gap_end):
            raise ValueError(f"gap ({gap_start!r}, {gap_end!r}) must satisfy 0 <= start < end")
        a = grid.index_at_or_after(day_ns + round(gap_start * _NS_PER_S))
        b = grid.index_at_or_after(day_ns + round(gap_end * _NS_PER_S))
        if b > a:
            removed.append((a, b))
    runs: list[tuple[int, int]] = []
    cursor = 0
    for a, b in sorted(removed):
        if a > cursor:
            runs.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < grid.npts:
        runs.append((cursor, grid.npts))
    return runs


# ------------------------------------------------------------------------- signal


def _band_limited_noise(
    rng: np.random.Generator, n: int, *, sampling_rate: float, band_hz: tuple[float, float]
) -> _FloatArray:
    """Unit-RMS Gaussian noise shaped by a one-pole high-pass and low-pass.

    Shaping the spectrum of white noise with one real FFT is the vectorized
    equivalent of running an AR filter sample by sample, and needs no SciPy.
    """
    if n < 2:
        return np.zeros(n)
    low, high = band_hz[0], min(band_hz[1], 0.4 * sampling_rate)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, d=1.0 / sampling_rate)
    hp = f / low
    spectrum *= hp / np.sqrt(1.0 + hp * hp) / np.sqrt(1.0 + (f / high) ** 2)
    noise: _FloatArray = np.fft.irfft(spectrum, n)
    rms = float(np.sqrt(np.mean(noise * noise)))
    if rms > 0.0:
        noise /= rms
    return noise


def _synthesize(
    grid: _DayGrid,
    *,
    sampling_rate: float,
    model: SignalModel,
    station_seed: Sequence[int],
    channel_seed: Sequence[int],
    day_ordinal: int,
) -> npt.NDArray[np.int32]:
    """The counts of one whole day on ``grid`` (gaps are removed later).

    Terms that depend on absolute time only (the microseism and its modulation) are
    continuous across midnight; the noise and the event are drawn per day, from
    generators seeded by (seed, day, channel) so each file is reproducible alone.
    The event onset is drawn per station, so all components share it.
    """
    n = grid.npts
    noise_rng = np.random.default_rng([*channel_seed, day_ordinal])
    x = model.noise_rms_counts * _band_limited_noise(
        noise_rng, n, sampling_rate=sampling_rate, band_hz=model.noise_band_hz
    )

    phase_rng = np.random.default_rng([*channel_seed])
    phase, modulation_phase = phase_rng.uniform(0.0, 2.0 * np.pi, size=2)
    t = (np.arange(n, dtype=np.float64) + grid.first_index) / sampling_rate
    envelope = 1.0 + 0.3 * np.sin(2.0 * np.pi * t / 10_800.0 + modulation_phase)
    x += model.microseism_counts * envelope * np.sin(2.0 * np.pi * model.microseism_hz * t + phase)

    if model.event_peak_counts > 0.0:
        event_rng = np.random.default_rng([*station_seed, day_ordinal])
        onset = int(event_rng.uniform(0.1, 0.9) * n)
        length = min(int(120 * sampling_rate), n - onset)
        te = np.arange(length) / sampling_rate
        # P at the onset, S 8 s later and three times as strong, then coda decay.
        ts = np.maximum(te - 8.0, 0.0)
        env = 0.3 * np.exp(-te / 6.0) + (te >= 8.0) * np.exp(-ts / 15.0)
        burst = _band_limited_noise(
            np.random.default_rng([*channel_seed, day_ordinal, 1]),
            length,
            sampling_rate=sampling_rate,
            band_hz=(1.0, 8.0) if sampling_rate >= 10.0 else (0.05, 0.4),
        )
        peak = float(np.max(np.abs(env * burst))) if length else 0.0
        if peak > 0.0:
            x[onset : onset + length] += model.event_peak_counts * env * burst / peak

    return np.clip(np.rint(x), _INT32.min, _INT32.max).astype(np.int32)


# -------------------------------------------------------------------------- write


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
    never sees half a file.

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
    _check_codes(network, station, location, channel)
    rate = _exact_rate(sampling_rate)
    if not (0.0 <= start_offset_s < max(1.0, 1.0 / sampling_rate)):
        raise ValueError(f"start_offset_s must be >= 0 and < max(1, 1/sampling_rate), got {start_offset_s!r}")
    if not (128 <= record_length <= 65536 and record_length & (record_length - 1) == 0):
        raise ValueError(f"record_length must be a power of two in [128, 65536], got {record_length!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    model = signal if signal is not None else SignalModel.for_rate(sampling_rate)

    grid = _DayGrid.for_day(day, rate=rate, offset_ns=round(start_offset_s * _NS_PER_S))
    runs = _kept_runs(grid, day, gaps)
    nslc = f"{network}.{station}.{location}.{channel}"
    data = _synthesize(
        grid,
        sampling_rate=sampling_rate,
        model=model,
        station_seed=(seed, zlib.crc32(f"{network}.{station}".encode())),
        channel_seed=(seed, zlib.crc32(nslc.encode())),
        day_ordinal=day.toordinal(),
    )

    sourceid = nslc2sourceid(network, station, location, channel)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    traces = MS3TraceList()
    try:
        for start, end in runs:
            # A contiguous int32 slice is handed to libmseed without a copy.
            traces.add_data(sourceid, data[start:end], "i", sampling_rate, starttime=grid.time_ns(start))
        traces.to_file(
            tmp,
            overwrite=True,
            max_record_length=record_length,
            encoding=DataEncoding.STEIM2,
            format_version=2,
        )
        os.replace(tmp, out)
    finally:
        traces.close()
        tmp.unlink(missing_ok=True)
    return out


# ------------------------------------------------------------------------ archive


def _scedc_day_path(root: Path, channel: str, day: date) -> Path:
    """``continuous_waveforms/YYYY/YYYY_DDD/<key>`` of the SCEDC Public Data Set."""
    doy = day.timetuple().tm_yday
    key = (
        f"{DEMO_NETWORK}{DEMO_STATION.ljust(5, '_')}{channel}"
        f"{DEMO_LOCATION.ljust(2, '_')}_{day.year}{doy:03d}.ms"
    )
    return root / "continuous_waveforms" / f"{day.year}" / f"{day.year}_{doy:03d}" / key


def _stationxml_path(root: Path) -> Path:
    return root / "FDSNstationXML" / DEMO_NETWORK / f"{DEMO_NETWORK}_{DEMO_STATION}.xml"


def _demo_paths(root: Path) -> list[Path]:
    paths = [_scedc_day_path(root, ch.code, day) for ch in DEMO_CHANNELS for day in DEMO_DAYS]
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
                _scedc_day_path(base, ch.code, day),
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


def default_demo_root(env: Mapping[str, str] = os.environ) -> Path:
    """Where the demo archive is cached: ``$XDG_CACHE_HOME/seiswindow/demo``.

    Falls back to ``$HOME/.cache/seiswindow/demo``. The environment is passed in so
    the caller decides where configuration comes from; per the XDG base directory
    specification a relative ``XDG_CACHE_HOME`` is ignored.
    """
    cache = env.get("XDG_CACHE_HOME", "")
    if cache and os.path.isabs(cache):
        return Path(cache) / "seiswindow" / "demo"
    home = env.get("HOME", "")
    return (Path(home) if home else Path.home()) / ".cache" / "seiswindow" / "demo"


# ---------------------------------------------------------------------------- cli


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m seiswindow.demo [ROOT] [--force]``: build the archive, list it."""
    parser = argparse.ArgumentParser(
        prog="python -m seiswindow.demo",
        description="Build the seiswindow offline demo archive (SCEDC bucket layout).",
    )
    parser.add_argument(
        "root",
        nargs="?",
        type=Path,
        help="archive root (default: %(default)s)",
        default=default_demo_root(),
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    paths = build_demo_archive(args.root, force=args.force)
    elapsed = time.perf_counter() - started
    for path in paths:
        print(f"{path.stat().st_size:>10,d}  {path}")
    print(f"demo archive at {args.root} ({len(paths)} files, {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
