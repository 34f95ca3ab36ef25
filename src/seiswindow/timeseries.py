"""Windows extracted, processed and written in a format: the one chain behind IRIS's
``timeseries`` route, the ``/timewindows`` options, the Python API and the CLI.

Processing (:mod:`seiswindow.process.apply`) and the writers (:mod:`seiswindow.formats`)
import ObsPy and matplotlib; this module imports them only when a request asks for them,
so a service that answers raw windows never loads them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .encode import MSEED_MEDIA_TYPE, encode_mseed
from .errors import NoResponse, NotInstalled
from .extract import Extractor
from .formats import Format, Rendered, render
from .formats._files import file_name
from .model import Nslc, Status, Window, WindowResult
from .process.response import ChannelMeta, ResponseSource
from .process.steps import Chain, Correct, Units

__all__ = ["Timeseries", "require_extra", "units_of"]

_UNITS = {Units.DIS: "M", Units.VEL: "M/S", Units.ACC: "M/S**2"}


def require_extra(fmt: Format | None = None) -> None:
    """Check that the ``process`` extra is installed (processing, and every format but JSON
    and miniSEED, need ObsPy; the plot needs matplotlib).

    Raises:
        NotInstalled: it is not (a deployment without the extra answers 501, not 500).
    """
    needed = ["obspy"]
    if fmt is Format.PLOT:
        needed.append("matplotlib")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise NotInstalled(
            f"processing and IRIS's formats need {', '.join(missing)}, not installed here: "
            "pip install 'seiswindow[process]'"
        )


def units_of(chain: Chain, meta: ChannelMeta | None) -> str:
    """The samples' units after ``chain``: COUNTS unless the response was removed (then
    what ``units`` asked, DEF being the response's input units)."""
    corrections = [s for s in chain.steps if isinstance(s, Correct)]
    if not corrections:
        return "COUNTS"
    units = corrections[-1].units
    if units is Units.DEF:
        return (meta.input_units or "DEF").upper() if meta else "DEF"
    return _UNITS[units]


@dataclass(frozen=True, slots=True)
class Product:
    """What a request for formatted windows gives: the file (None when no window has a
    sample) and each window's status and message."""

    rendered: Rendered | None
    results: tuple[WindowResult, ...]

    @property
    def statuses(self) -> tuple[Status, ...]:
        return tuple(r.status for r in self.results)


class Timeseries:
    """Processes and formats the windows one extractor reads.

    Args:
        extractor: reads the archive (not closed here).
        station_root: the key prefix of the archive's StationXML.
    """

    def __init__(self, extractor: Extractor, *, station_root: str = "FDSNstationXML") -> None:
        self.extractor = extractor
        archive = extractor.archive
        self.responses = ResponseSource(archive.store, archive.layout, root=station_root)

    def process(self, result: WindowResult, chain: Chain, *, strict: bool = True) -> WindowResult:
        """``result`` processed by ``chain``.

        Args:
            strict: raise :class:`~seiswindow.errors.NoResponse` when the response is
                missing; otherwise that window's status becomes ``error`` with the message
                (its samples are not answered unprocessed).

        Raises:
            NoResponse: ``strict`` and the chain needs a response the archive lacks.
            RequestError: a step cannot apply to the window's samples.
            ArchiveError: the StationXML could not be read.
        """
        if not chain or not result.segments:
            return result
        require_extra()
        from .process.apply import process_result

        inventory = None
        if chain.needs_response:
            try:
                inventory = self.responses.response(result.window.nslc, result.segments[0].start)
            except NoResponse as exc:
                if strict:
                    raise
                return dataclasses.replace(
                    result, status=Status.ERROR, segments=(), gaps=(), span=None, message=str(exc)
                )
        return process_result(result, chain, inventory=inventory)

    def results(self, windows: Sequence[Window], chain: Chain) -> list[WindowResult]:
        """Each window extracted and processed (strictly), in order.

        Raises:
            NoResponse, RequestError, ArchiveError: see :meth:`process`.
        """
        return [self.process(r, chain) for r in self.extractor.extract(list(windows))]

    def render(
        self,
        results: Iterable[WindowResult],
        fmt: Format,
        *,
        chain: Chain | None = None,
        audio_rate: int = 1000,
    ) -> Product:
        """Processed results written in ``fmt`` (None when no window has a sample).

        Raises:
            ArchiveError: the StationXML could not be read (for headers).
            DataError: miniSEED cannot carry the samples.
        """
        chain = chain or Chain()
        kept = tuple(results)
        if not any(r.segments for r in kept):
            return Product(None, kept)
        if fmt is Format.MINISEED:
            first = next(r for r in kept if r.segments)
            name = file_name(first.window.nslc, first.segments[0].start, "mseed")
            return Product(Rendered(encode_mseed(kept), MSEED_MEDIA_TYPE, name), kept)
        require_extra(fmt)
        metas = self._metas(kept) if fmt.needs_meta or chain.needs_response else {}
        first_meta = next(iter(metas.values()), None)
        rendered = render(kept, fmt, metas=metas, units=units_of(chain, first_meta), audio_rate=audio_rate)
        return Product(rendered, kept)

    def _metas(self, results: Sequence[WindowResult]) -> dict[Nslc, ChannelMeta | None]:
        metas: dict[Nslc, ChannelMeta | None] = {}
        for r in results:
            if r.segments and r.window.nslc not in metas:
                metas[r.window.nslc] = self.responses.meta(r.window.nslc, r.segments[0].start)
        return metas
