"""A PNG plot of windows, drawn by matplotlib's Agg backend (no display needed).

One panel per window, its segments drawn as separate lines so a gap shows as a break;
the time axis is UTC (matplotlib dates, concise labels); the title names the channel and
the units. 1000 x 250 pixels per panel at 100 dpi.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from ..model import WindowResult
from ..nstime import NS_PER_S
from ._files import file_name
from ._format import Rendered

__all__ = ["PNG_MEDIA_TYPE", "render_plot"]

PNG_MEDIA_TYPE = "image/png"
WIDTH_PX, PANEL_HEIGHT_PX, DPI = 1000, 250, 100


def render_plot(results: Sequence[WindowResult], *, units: str) -> Rendered:
    """A PNG with one panel per window that has samples."""
    import datetime as dt

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure

    shown = [r for r in results if r.segments]
    figure = Figure(figsize=(WIDTH_PX / DPI, PANEL_HEIGHT_PX * len(shown) / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(shown), 1, squeeze=False)[:, 0]
    epoch = date2num(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))  # type: ignore[no-untyped-call]
    for ax, result in zip(axes, shown, strict=True):
        for seg in result.segments:
            seconds = (seg.start / NS_PER_S) + np.arange(seg.npts) / seg.sampling_rate
            ax.plot(epoch + seconds / 86400.0, seg.samples, color="k", linewidth=0.6)
        locator = AutoDateLocator(tz=dt.UTC)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        formatter = ConciseDateFormatter(locator, tz=dt.UTC)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(formatter)
        ax.set_title(f"{result.window.nslc} ({units})", fontsize=9)
        ax.set_xlabel("UTC", fontsize=8)
        ax.tick_params(labelsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    first = shown[0]
    return Rendered(
        buffer.getvalue(), PNG_MEDIA_TYPE, file_name(first.window.nslc, first.segments[0].start, "png")
    )
