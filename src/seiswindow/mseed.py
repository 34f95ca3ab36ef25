"""miniSEED through libmseed (``pymseed``): record detection, header parsing, decoding.

The only module that touches miniSEED bytes. Records are parsed by libmseed; nothing
here decodes Steim or reads header fields by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymseed import MiniSEEDError, MS3Record, MS3TraceList, get_error_messages, sourceid2nslc
from pymseed.clib import buffer_pointer, clibmseed, ffi

from .errors import DataError
from .model import Nslc

__all__ = [
    "HEADER_PROBE_BYTES",
    "Decoded",
    "RecordHeader",
    "decode",
    "detect_record_length",
    "parse_header",
    "parse_headers",
    "scan_records",
]

#: Bytes that hold a miniSEED 2 fixed header with its first blockettes (1000, 1001):
#: enough to learn a record's start time and sample count without reading its data.
HEADER_PROBE_BYTES = 64
_MIN_RECLEN, _MAX_RECLEN = 128, 1 << 20


@dataclass(frozen=True, slots=True)
class RecordHeader:
    """What one record's header says. ``end`` is the time of its last sample."""

    offset: int
    reclen: int
    start: int
    end: int
    sampling_rate: float
    nsamples: int
    sourceid: str

    @property
    def nslc(self) -> Nslc:
        return Nslc(*sourceid2nslc(self.sourceid))

    @property
    def period(self) -> int:
        """One sample period in ns (0 for records without a rate)."""
        return round(1e9 / self.sampling_rate) if self.sampling_rate > 0 else 0


def detect_record_length(data: bytes) -> int | None:
    """The length of the record that starts ``data`` (libmseed ``ms3_detect``), or None
    when ``data`` does not start with a miniSEED record or its length cannot be told."""
    if len(data) < 48:
        return None
    version = ffi.new("uint8_t *")
    pointer = buffer_pointer(data)
    try:
        reclen = int(clibmseed.ms3_detect(pointer, len(data), version))
    finally:
        ffi.release(pointer)
    if reclen < _MIN_RECLEN or reclen > _MAX_RECLEN:
        return None
    return reclen


def _header_from(msr: Any, offset: int) -> RecordHeader:
    return RecordHeader(
        offset=offset,
        reclen=int(msr.reclen),
        start=int(msr.starttime),
        end=int(msr.endtime),
        sampling_rate=float(msr.samprate),
        nsamples=int(msr.samplecnt),
        sourceid=str(msr.sourceid),
    )


def parse_header(data: bytes, *, offset: int, reclen: int) -> RecordHeader:
    """Parse the header of the record at ``offset`` from its first bytes.

    ``data`` may be only the first :data:`HEADER_PROBE_BYTES` of the record: it is padded
    to ``reclen`` so libmseed can parse the header; the (absent) samples are not decoded.

    Raises:
        DataError: the bytes are not the start of a miniSEED record.
    """
    if len(data) < reclen:
        data = bytes(data) + bytes(reclen - len(data))
    try:
        return _header_from(MS3Record.parse(data[:reclen]), offset)
    except (MiniSEEDError, ValueError) as exc:
        raise DataError(f"no valid miniSEED record at byte {offset}: {exc}") from None


def parse_headers(data: bytes, *, offset: int) -> list[RecordHeader]:
    """Headers of every record in ``data``, which starts at byte ``offset`` of its file.

    Raises:
        DataError: ``data`` holds something that is not a record, or ends inside one.
    """
    headers: list[RecordHeader] = []
    position = offset
    try:
        for msr in MS3Record.from_buffer(data):
            header = _header_from(msr, position)
            headers.append(header)
            position += header.reclen
    except MiniSEEDError as exc:
        raise DataError(f"invalid or truncated miniSEED at byte {position}: {exc}") from None
    if position != offset + len(data):
        raise DataError(f"{offset + len(data) - position} bytes at byte {position} are not a whole record")
    return headers


def scan_records(data: bytes, *, offset: int, label: str) -> tuple[list[RecordHeader], list[str]]:
    """Headers of the records in ``data`` (read from ``label`` at byte ``offset``), going
    past damage: a record that does not parse is skipped (at the last good record length)
    and described in the returned problems; bytes at the end that are not a whole record
    (a truncated file) are described too.
    """
    headers: list[RecordHeader] = []
    problems: list[str] = []
    position, reclen = 0, 0
    while position < len(data):
        detected = detect_record_length(data[position : position + 512])
        size = detected or reclen
        if not size:
            problems.append(f"{label}: no miniSEED record at byte {offset + position}; rest ignored")
            break
        if position + size > len(data):
            problems.append(
                f"{label}: truncated: the last {len(data) - position} bytes (from byte "
                f"{offset + position}) are not a whole {size}-byte record"
            )
            break
        try:
            headers.append(_header_from(MS3Record.parse(data[position : position + size]), offset + position))
            reclen = size
        except MiniSEEDError as exc:
            problems.append(f"{label}: record at byte {offset + position} left out: {exc}")
        position += size
    return headers, problems


@dataclass(frozen=True, slots=True)
class DecodedSegment:
    """Contiguous samples of one channel as libmseed merged them."""

    nslc: Nslc
    start: int
    sampling_rate: float
    samples: np.ndarray[Any, Any]


@dataclass(slots=True)
class Decoded:
    """Segments decoded from some records, and what was wrong with the records left out."""

    segments: list[DecodedSegment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def decode(chunks: Iterable[tuple[str, int, bytes, list[RecordHeader]]]) -> Decoded:
    """Decode records into segments merged by libmseed (abutting within half a sample).

    Each chunk is ``(label, offset, data, headers)``: whole records read from the file
    ``label`` at byte ``offset``, with their parsed headers. A record that libmseed cannot
    decode, or whose Steim integrity check fails, is left out and described in
    ``problems``: bad records become gaps, never wrong samples.
    """
    chunks = [chunk for chunk in chunks if chunk[2]]
    with MS3TraceList() as tracelist:
        clean = True
        for _, _, data, _ in chunks:
            try:
                tracelist.add_buffer(data, unpack_data=True)
            except MiniSEEDError:
                clean = False
                break
            if get_error_messages():  # e.g. "Data integrity check for Steim2 failed"
                clean = False
                break
        if clean:
            return Decoded(_segments(tracelist), [])
    return _decode_record_by_record(chunks)


def _decode_record_by_record(chunks: list[tuple[str, int, bytes, list[RecordHeader]]]) -> Decoded:
    """Decode each record alone, keep those libmseed decodes without complaint."""
    problems: list[str] = []
    with MS3TraceList() as tracelist:
        for label, offset, data, headers in chunks:
            for header in headers:
                start = header.offset - offset
                record = data[start : start + header.reclen]
                try:
                    MS3Record.parse(record, unpack_data=True)
                    messages = get_error_messages()
                except MiniSEEDError as exc:
                    messages = [str(exc)]
                if messages:
                    problems.append(
                        f"{label}: record at byte {header.offset} left out: {'; '.join(messages)}"
                    )
                    continue
                tracelist.add_buffer(record, unpack_data=True)
        return Decoded(_segments(tracelist), problems)


def _segments(tracelist: MS3TraceList) -> list[DecodedSegment]:
    segments = []
    for traceid in tracelist:
        nslc = Nslc(*sourceid2nslc(traceid.sourceid))
        for segment in traceid:
            if segment.sampletype not in ("i", "f", "d"):
                continue  # text (log) records carry no samples
            samples = segment.take_np_datasamples()  # the buffer itself, no copy
            segments.append(DecodedSegment(nslc, int(segment.starttime), float(segment.samprate), samples))
    segments.sort(key=lambda seg: seg.start)
    return segments
