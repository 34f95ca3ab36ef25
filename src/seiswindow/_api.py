"""The Python API in three calls: :func:`extract`, :func:`render` and :func:`to_stream`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .archive import Archive
from .archives import Archives
from .config import Settings, open_archives, open_extractor
from .errors import RequestError
from .formats import Rendered, parse_format
from .model import Window, WindowResult, parse_windows
from .process import parse_chain, process_items
from .timeseries import Timeseries

if TYPE_CHECKING:
    from obspy import Stream

__all__ = ["as_windows", "extract", "render", "to_stream"]


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


def _settings(
    archive: str | Archive | None, settings: Settings | None
) -> tuple[Settings, Archive | Archives]:
    if settings is None:
        settings = Settings.from_env(archive=archive if isinstance(archive, str) else None)
    return settings, archive if isinstance(archive, Archive) else open_archives(settings)


def extract(
    windows: object,
    *,
    archive: str | Archive | None = None,
    settings: Settings | None = None,
    process: str | Sequence[str] | None = None,
) -> list[WindowResult]:
    """Extract windows from an archive; one :class:`WindowResult` per window, in order.

    Args:
        windows: see :func:`as_windows`.
        archive: ``s3://bucket``, a local directory, ``demo``, several archives as
            ``SEISWINDOW_ARCHIVE`` lists them (``s3://scedc-pds=CI;s3://ncedc-pds=BK``), or
            an opened :class:`Archive`; default: ``SEISWINDOW_ARCHIVE`` or ``s3://scedc-pds``.
        settings: full settings (limits, endpoint...); default: from the environment.
        process: IRIS's processing steps, in order (``["demean", "bp=0.1-1"]`` or
            ``"demean&bp=0.1-1"``; :mod:`seiswindow.process`); needs the ``process`` extra.
            A window whose response is missing for ``correct`` has status ``error``.

    Raises:
        RequestError: a window or a step is malformed, or a step cannot apply.
        LimitExceeded: too many windows or a window too long.
        ConfigError: the archive cannot be opened.
    """
    items = as_windows(windows)
    chain = parse_chain(process_items(process or [], field="process"))
    settings, opened = _settings(archive, settings)
    with open_extractor(settings, opened) as extractor:
        results = extractor.extract(items)
        if not chain:
            return results
        timeseries = Timeseries(extractor)
        return [timeseries.process(r, chain, strict=False) for r in results]


def render(
    windows: object,
    format: str,
    *,
    process: str | Sequence[str] | None = None,
    archive: str | Archive | None = None,
    settings: Settings | None = None,
    audio_rate: int = 1000,
) -> Rendered | None:
    """Extract, process and write windows in one of IRIS's formats (``sac``, ``sac.zip``,
    ``saca``, ``geocsv``, ``tspair``, ``slist``, ``plot``, ``audio``, ``miniseed``...; see
    :mod:`seiswindow.formats`): the file's bytes, media type and name, or None when no
    window has a sample. Needs the ``process`` extra (ObsPy, matplotlib).

    Raises:
        RequestError: a window, the format or a step is malformed; NoResponse when
            ``correct`` needs a response the archive lacks.
        LimitExceeded, ConfigError: as :func:`extract`.
    """
    items = as_windows(windows)
    fmt = parse_format(format, "format")
    if fmt.value == "json":
        raise RequestError("JSON is what extract() returns; render() writes files", field="format")
    chain = parse_chain(process_items(process or [], field="process"))
    settings, opened = _settings(archive, settings)
    with open_extractor(settings, opened) as extractor:
        timeseries = Timeseries(extractor)
        results = timeseries.results(items, chain)
        return timeseries.render(results, fmt, chain=chain, audio_rate=audio_rate).rendered


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
