"""Formats of processed (or raw) windows beyond JSON and miniSEED, as IRIS's
``irisws-timeseries`` names them: SAC binary and alphanumeric, GeoCSV, ASCII (tspair,
slist), a PNG plot and WAV audio; several files are zipped.

:func:`parse_format` needs nothing heavy; :func:`render` imports the writer it needs when
called (ObsPy for SAC and ASCII, matplotlib for the plot), so the unprocessed service never
loads them. Which library writes each, and why:

- SAC, SAC alpha, tspair, slist: ObsPy's writers (``format="SAC"``, ``"SACXY"``,
  ``"TSPAIR"``, ``"SLIST"``), the field's reference implementation of those layouts;
- GeoCSV: written here (:mod:`.geocsv`), EarthScope's GeoCSV 2.0 time-series layout (ObsPy
  has no GeoCSV writer);
- plot: matplotlib (Agg), each segment its own line so gaps show, times on a UTC axis;
- audio: the standard library's ``wave`` (16-bit PCM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..model import Nslc, WindowResult
from ._format import FORMAT_NAMES, Format, Rendered, parse_format

if TYPE_CHECKING:
    from ..process.response import ChannelMeta

__all__ = ["FORMAT_NAMES", "Format", "Rendered", "parse_format", "render"]


def render(
    results: Sequence[WindowResult],
    fmt: Format,
    *,
    metas: Mapping[Nslc, ChannelMeta | None] | None = None,
    units: str = "COUNTS",
    audio_rate: int = 1000,
) -> Rendered:
    """The results' segments written in ``fmt`` (JSON and miniSEED are the encoders' job).

    Args:
        metas: each channel's coordinates and sensitivity (None or missing: headers unset).
        units: the samples' units, for the formats that state them.
        audio_rate: the WAV's playback rate in Hz.

    Raises:
        ValueError: ``fmt`` is JSON or miniSEED.
    """
    metas = metas or {}
    if fmt in (Format.JSON, Format.MINISEED):
        raise ValueError(f"{fmt} is written by seiswindow.encode")
    if fmt is Format.PLOT:
        from .plot import render_plot

        return render_plot(results, units=units)
    if fmt is Format.AUDIO:
        from .audio import render_audio

        return render_audio(results, rate=audio_rate)
    if fmt in (Format.GEOCSV_TSPAIR, Format.GEOCSV_SLIST):
        from .geocsv import render_geocsv

        return render_geocsv(results, pairs=fmt is Format.GEOCSV_TSPAIR, metas=metas, units=units)
    from .obspy_writers import render_obspy

    return render_obspy(results, fmt, metas=metas)
