"""The miniSEED answer: the records of each window's segments, in order, packed by
:func:`seiswindow.mseed.pack_records`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..model import WindowResult
from ..mseed import pack_records

__all__ = ["MSEED_MEDIA_TYPE", "encode_mseed", "mseed_records"]

#: The media type FDSN web services use for miniSEED.
MSEED_MEDIA_TYPE = "application/vnd.fdsn.mseed"


def mseed_records(
    result: WindowResult, *, record_length: int = 512, format_version: int = 2
) -> Iterator[bytes]:
    """miniSEED records of a result's segments, packed by libmseed: Steim2 for integers
    (plain 32-bit integers for the rare series whose differences Steim2 cannot hold),
    IEEE floats for floats. miniSEED 2 by default, as the archives and ObsPy write it.

    Raises:
        DataError: the samples cannot be packed.
    """
    for seg in result.segments:
        yield from pack_records(
            seg.samples,
            nslc=result.window.nslc,
            start=seg.start,
            sampling_rate=seg.sampling_rate,
            record_length=record_length,
            format_version=format_version,
        )


def encode_mseed(
    results: Iterable[WindowResult], *, record_length: int = 512, format_version: int = 2
) -> bytes:
    """All records of all results, in order (an empty body when no window has samples).

    Raises:
        DataError: samples cannot be packed.
    """
    return b"".join(
        record
        for result in results
        for record in mseed_records(result, record_length=record_length, format_version=format_version)
    )
