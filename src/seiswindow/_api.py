"""The Python API in two calls: :func:`extract` and :func:`to_stream`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .archive import Archive
from .config import Settings, open_archives, open_extractor
from .errors import RequestError
from .model import Window, WindowResult, parse_windows

if TYPE_CHECKING:
    from obspy import Stream

__all__ = ["as_windows", "extract", "to_stream"]


def as_windows(windows: object) -> list[Window]:
    """Windows from what a user has at hand: :class:`Window` objects, the tutorial's request
    (``{"Windows": [...]}`` or its list), or strings ``"NET.STA.LOC.CHA START END"``.

    Raises:
        RequestError: something is not a valid window (the message names its index).
    """
    if isinstance(windows, (Window, str)):
        windows = [windows]
    if isinstance(windows, dict):
        return parse_windows(windows)
    if not isinstance(windows, Iterable):
        raise RequestError(f"expected windows, got {type(windows).__name__}", field="Windows")
    out = []
    for i, item in enumerate(windows):
        if isinstance(item, Window):
            out.append(item)
        elif isinstance(item, str):
            parts = item.split()
            if len(parts) != 3:
                raise RequestError(f"{item!r} is not 'NET.STA.LOC.CHA START END'", index=i)
            out.append(Window.from_nslc(parts[0], parts[1], parts[2], index=i))
        else:
            out.append(Window.from_request(item, index=i))
    if not out:
        raise RequestError("no windows", field="Windows")
    return out


def extract(
    windows: object,
    *,
    archive: str | Archive | None = None,
    settings: Settings | None = None,
) -> list[WindowResult]:
    """Extract windows from an archive; one :class:`WindowResult` per window, in order.

    Args:
        windows: see :func:`as_windows`.
        archive: ``s3://bucket``, a local directory, ``demo``, several archives as
            ``SEISWINDOW_ARCHIVE`` lists them (``s3://scedc-pds=CI;s3://ncedc-pds=BK``), or
            an opened :class:`Archive`; default: ``SEISWINDOW_ARCHIVE`` or ``s3://scedc-pds``.
        settings: full settings (limits, endpoint...); default: from the environment.

    Raises:
        RequestError: a window is malformed.
        LimitExceeded: too many windows or a window too long.
        ConfigError: the archive cannot be opened.
    """
    items = as_windows(windows)
    if settings is None:
        settings = Settings.from_env(archive=archive if isinstance(archive, str) else None)
    opened = archive if isinstance(archive, Archive) else open_archives(settings)
    with open_extractor(settings, opened) as extractor:
        return extractor.extract(items)


def to_stream(results: Iterable[WindowResult]) -> Stream:
    """An ObsPy ``Stream`` with one ``Trace`` per segment (needs the ``obspy`` extra).

    Raises:
        ImportError: ObsPy is not installed (``pip install seiswindow[obspy]``).
    """
    try:
        from obspy import Stream, Trace, UTCDateTime
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("to_stream needs ObsPy: pip install 'seiswindow[obspy]'") from exc
    traces = []
    for result in results:
        w = result.window
        for seg in result.segments:
            header: dict[str, Any] = {
                "network": w.network,
                "station": w.station,
                "location": w.location,
                "channel": w.channel,
                "starttime": UTCDateTime(ns=seg.start),
                "sampling_rate": seg.sampling_rate,
            }
            traces.append(Trace(data=seg.samples, header=header))
    return Stream(traces)
