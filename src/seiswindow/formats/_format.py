"""Format names and the rendered answer (no writer imported here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..errors import RequestError

__all__ = ["FORMAT_NAMES", "Format", "Rendered", "parse_format"]


class Format(StrEnum):
    """An answer's format (the canonical name of each IRIS format)."""

    JSON = "json"
    MINISEED = "miniseed"
    SAC = "sac"  #: one SAC file, or a zip when several (little-endian)
    SAC_ZIP = "sac.zip"  #: a zip of SAC files, always
    SACBL = "sacbl"
    SACBB = "sacbb"
    SACA = "saca"
    GEOCSV_TSPAIR = "geocsv.tspair"
    GEOCSV_SLIST = "geocsv.slist"
    TSPAIR = "tspair"
    SLIST = "slist"
    PLOT = "plot"
    AUDIO = "audio"

    @property
    def needs_meta(self) -> bool:
        """The format's header carries the channel's coordinates (read from StationXML)."""
        return self in (Format.SAC, Format.SAC_ZIP, Format.SACBL, Format.SACBB, Format.SACA) or self in (
            Format.GEOCSV_TSPAIR,
            Format.GEOCSV_SLIST,
        )


#: Every name a request may use → its format (IRIS's names, ours, file extensions).
FORMAT_NAMES: dict[str, Format] = {
    "json": Format.JSON,
    "miniseed": Format.MINISEED,
    "mseed": Format.MINISEED,
    "sac": Format.SAC,
    "sac.zip": Format.SAC_ZIP,
    "sacbl": Format.SACBL,
    "sacbb": Format.SACBB,
    "saca": Format.SACA,
    "geocsv": Format.GEOCSV_TSPAIR,
    "geocsv.tspair": Format.GEOCSV_TSPAIR,
    "geocsv.slist": Format.GEOCSV_SLIST,
    "ascii": Format.TSPAIR,
    "ascii2": Format.TSPAIR,
    "tspair": Format.TSPAIR,
    "ascii1": Format.SLIST,
    "slist": Format.SLIST,
    "plot": Format.PLOT,
    "png": Format.PLOT,
    "audio": Format.AUDIO,
    "wav": Format.AUDIO,
}


def parse_format(value: object, field: str, *, allowed: Sequence[Format] | None = None) -> Format:
    """The format a request names (any case).

    Raises:
        RequestError: not a known name (or not one of ``allowed``), naming ``field``.
    """
    names = [n for n, f in FORMAT_NAMES.items() if allowed is None or f in allowed]
    if isinstance(value, str) and value.strip().lower() in names:
        return FORMAT_NAMES[value.strip().lower()]
    raise RequestError(f"expected one of {', '.join(names)}, got {value!r}", field=field)


@dataclass(frozen=True, slots=True)
class Rendered:
    """An answer's bytes, their media type and a file name for them."""

    body: bytes
    media_type: str
    filename: str
