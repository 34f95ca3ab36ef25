"""miniSEED through libmseed (``pymseed``): record detection, header parsing, decoding,
packing.

The only module that touches miniSEED bytes. Records are parsed and packed by libmseed;
nothing here decodes Steim or reads header fields by hand.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pymseed import (
    DataEncoding,
    MiniSEEDError,
    MS3Record,
    MS3TraceList,
    get_error_messages,
    nslc2sourceid,
    sourceid2nslc,
)
from pymseed.clib import buffer_pointer, clibmseed, ffi

from .errors import DataError
from .model import Nslc

__all__ = [
    "HEADER_PROBE_BYTES",
    "BadRecord",
    "Decoded",
    "RecordHeader",
    "decode",
    "DecodedSegment",
    "detect_record_length",
    "pack_records",
    "parse_header",
    "parse_headers",
    "scan_records",
    "spans",
    "write_steim2_file",
]

#: What a record that libmseed cannot parse raises: its own errors, and (from pymseed) a
#: code that is not UTF-8 or not a valid FDSN source identifier.
_PARSE_ERRORS = (MiniSEEDError, ValueError)

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
    encoding: int = -1  #: libmseed's encoding code (11 Steim2, 0 text, ...; -1 unknown)
    version: int = 0  #: publication version (miniSEED 2 quality R 1, D 2, Q 3, M 4, as libmseed maps it)

    @property
    def nslc(self) -> Nslc:
        return Nslc(*sourceid2nslc(self.sourceid))

    @property
    def period(self) -> int:
        """One sample period in ns (0 for records without a rate)."""
        return round(1e9 / self.sampling_rate) if self.sampling_rate > 0 else 0


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record left out (at byte ``offset`` of its file), and why."""

    offset: int
    reason: str

    def describe(self, label: str) -> str:
        return f"{label}: record at byte {self.offset} left out: {self.reason}"


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
    """The header of a parsed record.

    Raises:
        ValueError: its codes are not UTF-8 or do not make an FDSN source identifier.
    """
    sourceid = str(msr.sourceid)  # UnicodeDecodeError (a ValueError) for a non-UTF-8 code
    sourceid2nslc(sourceid)  # refuses a broken source identifier now, not when it is used
    return RecordHeader(
        offset=offset,
        reclen=int(msr.reclen),
        start=int(msr.starttime),
        end=int(msr.endtime),
        sampling_rate=float(msr.samprate),
        nsamples=int(msr.samplecnt),
        sourceid=sourceid,
        encoding=int(msr.encoding),
        version=int(msr.pubversion),
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "a code is not ASCII"
    return str(exc)


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
    except _PARSE_ERRORS as exc:
        raise DataError(f"no valid miniSEED record at byte {offset}: {_describe(exc)}") from None


def parse_headers(data: bytes, *, offset: int, reclen: int) -> tuple[list[RecordHeader], list[BadRecord]]:
    """Headers of the ``reclen``-byte records in ``data`` (read at byte ``offset`` of its
    file), and the records that do not parse (left out: one bad record costs its own
    samples, not its neighbours').

    Raises:
        DataError: ``data`` is not a whole number of records.
    """
    if len(data) % reclen:
        raise DataError(f"{len(data)} bytes at byte {offset} are not whole {reclen}-byte records")
    headers: list[RecordHeader] = []
    bad: list[BadRecord] = []
    for position in range(0, len(data), reclen):
        record = data[position : position + reclen]
        try:
            header = _header_from(MS3Record.parse(record), offset + position)
        except _PARSE_ERRORS as exc:
            bad.append(BadRecord(offset + position, _describe(exc)))
            continue
        if header.reclen != reclen:
            reason = f"it says it is {header.reclen} bytes long, its file's records are {reclen}"
            bad.append(BadRecord(offset + position, reason))
            continue
        headers.append(header)
    return headers, bad


def scan_records(data: bytes, *, offset: int, reclen: int = 0) -> tuple[list[RecordHeader], list[BadRecord]]:
    """Headers of the records in ``data`` (read at byte ``offset`` of its file), going past
    damage: a record that does not parse is skipped and returned as bad; so are bytes at
    the end that are not a whole record (a truncated file).

    A record is taken to be as long as the records before it (at first ``reclen``, the
    archive's usual length) when it says so, or when a record follows at that length (or
    the data end there); else as long as it says, or the first power of two, after which a
    record follows: a damaged header must not hide the records after it.
    """
    headers: list[RecordHeader] = []
    problems: list[BadRecord] = []
    position, known = 0, reclen
    while position < len(data):
        size = _record_size(data, position, known)
        if not size:
            problems.append(BadRecord(offset + position, "no miniSEED record here; the rest ignored"))
            break
        if position + size > len(data):
            reason = f"truncated: the last {len(data) - position} bytes are not a whole {size}-byte record"
            problems.append(BadRecord(offset + position, reason))
            break
        try:
            header = _header_from(MS3Record.parse(data[position : position + size]), offset + position)
        except _PARSE_ERRORS as exc:
            problems.append(BadRecord(offset + position, _describe(exc)))
        else:
            if header.reclen == size:
                headers.append(header)
                known = size
            else:
                reason = f"it says it is {header.reclen} bytes long, the records around it {size}"
                problems.append(BadRecord(offset + position, reason))
        position += size
    return headers, problems


def _record_size(data: bytes, position: int, known: int) -> int | None:
    """The length of the record at ``position`` (see :func:`scan_records`), or None."""

    def followed(size: int) -> bool:
        end = position + size
        return end == len(data) or (
            end < len(data) and detect_record_length(data[end : end + 512]) is not None
        )

    detected = detect_record_length(data[position : position + 512])
    if detected and position + detected > len(data) and not known:
        return detected  # the last record, cut short: reported as truncated
    if detected and detected == known and position + detected <= len(data):
        return detected  # as long as its neighbours: believed (the next one may be the bad one)
    # The length of the records around it first: one damaged blockette 1000 may claim a
    # length that happens to land on a later record's start.
    candidates = [c for c in (known, detected) if c] + [1 << k for k in range(7, 21)]
    for size in dict.fromkeys(candidates):
        if position + size <= len(data) and followed(size):
            return size
    if known and position + known > len(data):
        return known  # the end of a truncated file
    return None


def spans(data: bytes) -> list[tuple[int, int, float]]:
    """The time coverage of the records in ``data`` (of one channel), as libmseed's trace
    list joins them (``mstl3_addmsr``: abutting within half a sample, rates within 0.01 %,
    publication versions apart), without decoding samples: ``(first, last sample time in
    ns, rate)`` per contiguous run, in time order. Records without a rate cover nothing.
    The spans ``mseedindex`` writes in its ``timespans`` column are made this way.

    Raises:
        DataError: libmseed cannot read the records.
    """
    found: list[tuple[int, int, float]] = []
    with MS3TraceList() as tracelist:
        try:
            tracelist.add_buffer(data, split_version=True)
        except MiniSEEDError as exc:
            raise DataError(f"cannot read the records' time spans: {exc}") from None
        for traceid in tracelist:
            found.extend(
                (int(seg.starttime), int(seg.endtime), float(seg.samprate)) for seg in traceid if seg.samprate
            )
    return sorted(found)


@dataclass(frozen=True, slots=True)
class DecodedSegment:
    """Contiguous samples of one channel as libmseed merged them."""

    nslc: Nslc
    start: int
    sampling_rate: float
    samples: np.ndarray[Any, Any]


@dataclass(slots=True)
class Decoded:
    """Segments decoded from some records, what was wrong with the records left out, and
    the warnings of records kept (libmseed's complaints about a header that leave the
    samples whole)."""

    segments: list[DecodedSegment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: libmseed's warnings (``ms_log`` level 1, and the level-2 messages it logs without failing)
#: that concern a record's header only: its samples decode as they would without them, as
#: ObsPy (which logs the same warnings) reads them. Surveyed in libmseed 3's unpack.c; every
#: other message (a failed Steim integrity check, a data offset inside the blockettes, fewer
#: samples decoded than the header says, any message not listed) leaves the record out.
_HEADER_WARNINGS = re.compile(
    r"Number of blockettes in fixed header \(\d+\) does not match the number parsed"
    r"|Blockette \d+ is present but discarded"
    r"|unsupported blockette type \d+, skipping"
    r"|No Blockette 1000 found"
    r"|Problem mapping Blockette \d+ to extra headers"
)
#: The source id libmseed puts before its message ("FDSN:CI_WBM__L_H_Z: Warning: ...").
_SID_PREFIX = re.compile(r"^\S+: (?=\S)")


def _sorted_messages(messages: list[str]) -> tuple[list[str], list[str]]:
    """``messages`` of one record, as (warnings about its header only, the others)."""
    header: list[str] = []
    others: list[str] = []
    for message in messages:
        (header if _HEADER_WARNINGS.search(message) else others).append(message)
    return header, others


def _warned(label: str, counts: Counter[str]) -> list[str]:
    return [
        f"{label}: {n} record{'s' if n != 1 else ''} kept despite libmseed's warning "
        f"(about the header, not the samples): {message}"
        for message, n in counts.items()
    ]


def decode(
    chunks: Iterable[tuple[str, int, bytes, list[RecordHeader]]], *, span: tuple[int, int] | None = None
) -> Decoded:
    """Decode records into segments merged by libmseed (abutting within half a sample).

    Each chunk is ``(label, offset, data, headers)``: records read from the file ``label``
    at byte ``offset``; only the records whose headers are listed are decoded (the bytes
    between them may hold records left out). A record that libmseed cannot decode, whose
    Steim integrity check fails, or that does not fit the samples decoded before it (a
    text record among integers), is left out and described in ``problems`` (with
    ``span``, only those holding samples within it: a bad record read for context only
    costs nothing): bad records become gaps, never wrong samples.
    """
    runs = [run for chunk in chunks for run in _runs(*chunk)]
    with MS3TraceList() as tracelist:
        clean = True
        for _, data, _ in runs:
            try:
                tracelist.add_buffer(data, unpack_data=True)
            except MiniSEEDError:
                clean = False
            # A libmseed complaint (e.g. "Data integrity check for Steim2 failed") is
            # logged, not raised: read it to know that some record was bad.
            if get_error_messages() or not clean:
                clean = False
                break
        if clean:
            try:
                return Decoded(_segments(tracelist), [])
            except ValueError:
                pass  # a code that is no source identifier: found record by record
    return _decode_record_by_record(runs, span)


def _runs(
    label: str, offset: int, data: bytes, headers: list[RecordHeader]
) -> Iterator[tuple[str, bytes, list[RecordHeader]]]:
    """The listed records of a chunk as runs of adjacent records, ``(label, bytes, headers)``."""
    run: list[RecordHeader] = []
    for header in headers:
        if run and header.offset != run[-1].offset + run[-1].reclen:
            yield label, _bytes_of(data, offset, run), run
            run = []
        run.append(header)
    if run:
        yield label, _bytes_of(data, offset, run), run


def _bytes_of(data: bytes, offset: int, run: list[RecordHeader]) -> bytes:
    begin = run[0].offset - offset
    return data[begin : run[-1].offset + run[-1].reclen - offset]


def _decode_record_by_record(
    runs: list[tuple[str, bytes, list[RecordHeader]]], span: tuple[int, int] | None
) -> Decoded:
    """Decode each record alone, keep those libmseed decodes without complaint."""
    problems: list[str] = []
    warnings: list[str] = []
    with MS3TraceList() as tracelist:
        for label, data, headers in runs:
            base = headers[0].offset
            warned: Counter[str] = Counter()
            for i, header in enumerate(headers):
                record = data[header.offset - base : header.offset - base + header.reclen]
                # A record that fails may say any sample count: it ends where the next begins.
                end = min(header.end, headers[i + 1].start - 1) if i + 1 < len(headers) else header.end
                notes, bad = _decode_one(tracelist, record)
                if span is not None and not (end >= span[0] and header.start <= span[1]):
                    continue  # read for context only: costs nothing, says nothing
                if bad:
                    problems.append(BadRecord(header.offset, "; ".join(bad)).describe(label))
                warned.update({_SID_PREFIX.sub("", note) for note in notes})  # once per record
            warnings.extend(_warned(label, warned))
        return Decoded(_segments(tracelist, problems), problems, warnings)


def _decode_one(tracelist: MS3TraceList, record: bytes) -> tuple[list[str], list[str]]:
    """Add ``record``'s samples to ``tracelist`` unless libmseed says they cannot be trusted;
    its messages, as (warnings about the header of a record kept, why it was left out)."""
    try:
        MS3Record.parse(record, unpack_data=True)
        notes, bad = _sorted_messages(get_error_messages())
        if not bad:
            tracelist.add_buffer(record, unpack_data=True)
            more, bad = _sorted_messages(get_error_messages())
            notes += more
    except MiniSEEDError as exc:
        return [], [str(exc)]
    return notes, bad


def _segments(tracelist: MS3TraceList, problems: list[str] | None = None) -> list[DecodedSegment]:
    """The segments of ``tracelist``; with ``problems``, those of a trace whose codes are
    no source identifier are left out and described there (else ValueError)."""
    segments = []
    for traceid in tracelist:
        try:
            nslc = Nslc(*sourceid2nslc(traceid.sourceid))
        except ValueError as exc:
            if problems is None:
                raise
            problems.append(f"records with codes that are not a source identifier left out: {_describe(exc)}")
            continue
        for segment in traceid:
            if segment.sampletype not in ("i", "f", "d"):
                continue  # text (log) records carry no samples
            samples = segment.take_np_datasamples()  # the buffer itself, no copy
            segments.append(DecodedSegment(nslc, int(segment.starttime), float(segment.samprate), samples))
    segments.sort(key=lambda seg: seg.start)
    return segments


# -- packing ----------------------------------------------------------------------------


def _packable(samples: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], str, tuple[DataEncoding, ...]]:
    """Samples as libmseed packs them, their sample type and the encodings to try in turn:
    Steim2 for integers (plain 32-bit integers for the rare series whose differences
    Steim2 cannot hold), IEEE floats for floats.

    Raises:
        DataError: the samples are not numbers.
    """
    kind = samples.dtype.kind
    encodings: tuple[DataEncoding, ...]
    if kind in "iu":
        data, code = samples.astype(np.int32, copy=False), "i"
        encodings = (DataEncoding.STEIM2, DataEncoding.INT32)
    elif samples.dtype == np.float32:
        data, code, encodings = samples, "f", (DataEncoding.FLOAT32,)
    elif kind == "f":
        data, code = samples.astype(np.float64, copy=False), "d"
        encodings = (DataEncoding.FLOAT64,)
    else:
        raise DataError(f"samples of type {samples.dtype} cannot be written as miniSEED")
    return np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("=")), code, encodings


def pack_records(
    samples: np.ndarray[Any, Any],
    *,
    nslc: Nslc,
    start: int,
    sampling_rate: float,
    record_length: int = 512,
    format_version: int = 2,
) -> list[bytes]:
    """miniSEED records of contiguous samples of ``nslc`` whose first is at ``start`` (ns),
    packed by libmseed (see :func:`_packable` for the encodings). miniSEED 2 by default,
    as the archives and ObsPy write it.

    Raises:
        DataError: the samples cannot be packed.
    """
    data, code, encodings = _packable(samples)
    problem = ""
    for encoding in encodings:
        msr = MS3Record()
        msr.sourceid = nslc2sourceid(nslc.network, nslc.station, nslc.location, nslc.channel)
        msr.starttime = start
        msr.samprate = sampling_rate
        msr.reclen = record_length
        msr.formatversion = format_version
        msr.encoding = encoding
        try:
            return list(msr.generate(data, code))
        except MiniSEEDError as exc:
            problem = str(exc)
    raise DataError(f"{nslc}: cannot pack samples as miniSEED: {problem}")


def write_steim2_file(
    path: str | os.PathLike[str],
    runs: Iterable[tuple[int, np.ndarray[Any, Any]]],
    *,
    nslc: Nslc,
    sampling_rate: float,
    record_length: int = 512,
) -> None:
    """Write runs of int32 samples, ``(start_ns, samples)`` each, of one channel to ``path``
    as miniSEED 2 Steim2 records, the way the SCEDC archive writes its day files.

    Four defaults of pymseed's ``MS3TraceList.to_file`` are wrong for such files and are
    overridden: ``format_version=2`` (the default is miniSEED 3), ``encoding=STEIM2``
    (default Steim1), ``max_record_length`` (default 4096) and ``overwrite=True`` (the
    default appends). libmseed writes every miniSEED 2 record with sequence number
    ``000000`` and quality ``D``; readers accept it.

    Raises:
        pymseed.MiniSEEDError: libmseed fails to pack or write the records.
        OSError: the file cannot be written.
    """
    sourceid = nslc2sourceid(nslc.network, nslc.station, nslc.location, nslc.channel)
    traces = MS3TraceList()
    try:
        for start, samples in runs:
            # A contiguous int32 array is handed to libmseed without a copy.
            traces.add_data(sourceid, samples, "i", sampling_rate, starttime=start)
        traces.to_file(
            Path(path),
            overwrite=True,
            max_record_length=record_length,
            encoding=DataEncoding.STEIM2,
            format_version=2,
        )
    finally:
        traces.close()
