"""Synthetic seismic samples: band-limited noise, a microseism and one small event per day,
on a sample grid anchored at the Unix epoch.

Why: the demo archive (:mod:`seiswindow.demo_archive`) and the tests need day files that
look like real broadband data to a compressor and to a reader, and that are reproducible
one day at a time.

Sample times: the grid of a channel is anchored at the Unix epoch, sample ``k`` at
``1970-01-01 + start_offset_s + k / sampling_rate``, so the grid of a day never
depends on which other days were generated. A day holds the grid samples in
``[midnight + start_offset_s, next midnight + start_offset_s)``: when the offset is
shorter than one sample period (40 Hz, 1 Hz) that is "first sample at midnight plus the
offset, last sample the last one before the next midnight"; in every case the first
sample of day N+1 is the last sample of day N plus one period.

Nothing here reads the environment or writes a file.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from .model import Nslc
from .nstime import NS_PER_S

__all__ = ["SignalModel", "day_runs", "exact_rate"]

_SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)
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
        return self.offset_ns + round((self.first_index + i) * NS_PER_S / self.rate)

    def index_at_or_after(self, t_ns: int) -> int:
        """Local index of the first sample at or after ``t_ns``, clamped to the day."""
        k = math.ceil(Fraction(t_ns - self.offset_ns, NS_PER_S) * self.rate)
        return min(max(k - self.first_index, 0), self.npts)


def _check_rate(sampling_rate: float) -> None:
    if not (math.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive finite number, got {sampling_rate!r}")


def exact_rate(sampling_rate: float) -> Fraction:
    """The sampling rate as the simple fraction it stands for (0.1 -> 1/10).

    Raises:
        ValueError: it is not a positive finite number or not a simple fraction.
    """
    _check_rate(sampling_rate)
    rate = Fraction(sampling_rate).limit_denominator(1_000_000)
    if abs(float(rate) - sampling_rate) > 1e-9 * sampling_rate:
        raise ValueError(f"sampling_rate {sampling_rate!r} is not a simple fraction")
    return rate


def _kept_runs(grid: _DayGrid, day: date, gaps: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Local index ranges ``[start, end)`` left after removing ``gaps``."""
    day_ns = (day - _EPOCH).days * _SECONDS_PER_DAY * NS_PER_S
    removed: list[tuple[int, int]] = []
    for gap_start, gap_end in gaps:
        if not (0.0 <= gap_start < gap_end):
            raise ValueError(f"gap ({gap_start!r}, {gap_end!r}) must satisfy 0 <= start < end")
        a = grid.index_at_or_after(day_ns + round(gap_start * NS_PER_S))
        b = grid.index_at_or_after(day_ns + round(gap_end * NS_PER_S))
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


# -- signal ---------------------------------------------------------------------------


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


def day_runs(
    nslc: Nslc,
    *,
    day: date,
    sampling_rate: float,
    start_offset_s: float,
    gaps: Sequence[tuple[float, float]] = (),
    seed: int = 0,
    signal: SignalModel | None = None,
) -> list[tuple[int, npt.NDArray[np.int32]]]:
    """One UTC day of synthetic int32 counts of channel ``nslc``, as runs ``(start_ns, samples)``
    of contiguous samples: the day's grid (see the module docstring) minus the samples
    with ``start_s <= t < end_s`` for each ``(start_s, end_s)`` of ``gaps`` (seconds after
    midnight).

    The noise and the event are drawn from generators seeded by (``seed``, day, codes), so
    each day is reproducible alone; the microseism depends on absolute time only and is
    continuous across midnight.

    Raises:
        ValueError: the sampling rate or a gap is out of range.
    """
    rate = exact_rate(sampling_rate)
    model = signal if signal is not None else SignalModel.for_rate(sampling_rate)
    grid = _DayGrid.for_day(day, rate=rate, offset_ns=round(start_offset_s * NS_PER_S))
    runs = _kept_runs(grid, day, gaps)
    data = _synthesize(
        grid,
        sampling_rate=sampling_rate,
        model=model,
        station_seed=(seed, zlib.crc32(f"{nslc.network}.{nslc.station}".encode())),
        channel_seed=(seed, zlib.crc32(str(nslc).encode())),
        day_ordinal=day.toordinal(),
    )
    # Contiguous int32 slices: handed to libmseed without a copy.
    return [(grid.time_ns(start), data[start:end]) for start, end in runs]
