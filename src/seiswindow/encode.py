"""Results into answers: the tutorial's JSON, miniSEED records, and the size rule.

The JSON answer is the one the SCEDC tutorial's Lambda function returns, built by
ObsPy there as ``st = read(file).merge(); st.trim(t0, t1)`` then one object per
trace with ``tr.stats`` and ``tr.data.tolist()``. Its keys, in the tutorial's
order: ``network, station, channel, delta, location, starttime, endtime,
sampling_rate, data``; then ours: ``status, message, gaps`` and, when asked,
``segments``. Differences from the tutorial, on purpose:

- one object per window, always, in the order of the request (the tutorial drops
  the windows it finds no file for, so positions shift); a window without samples
  has ``data: []`` and ``sampling_rate``/``delta`` ``null``, its ``starttime`` and
  ``endtime`` being the window asked for;
- times are printed as ObsPy prints a ``UTCDateTime`` (``str()``:
  ``2022-01-01T23:55:00.071860Z``), with the UTC designator that the tutorial's
  ``isoformat()`` leaves out.

``data`` holds every sample on one grid with ``null`` at each missing sample, the
``tolist()`` of ObsPy's masked merged trace (:func:`merge_segments` follows
``Stream.merge(method=0)``: overlaps that disagree become ``null`` too). With
``segments`` asked, ``data`` is left out and ``segments`` lists each contiguous
run of samples instead. Samples are serialised by orjson straight from numpy.

:class:`Body` assembles an answer's bytes, gzipped when wanted, and raises
:class:`~seiswindow.errors.LimitExceeded` as soon as it would be larger than
``Limits.max_response_bytes`` as it will travel (raw over HTTP, base64 or escaped
inside a Lambda proxy answer, re-serialised by the Lambda runtime for a direct
invocation): the status is decided before the first byte is sent.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import orjson

from .errors import DataError, LimitExceeded
from .model import Segment, Status, TraceSpan, WindowResult
from .nstime import format_time

__all__ = [
    "GZIP_LEVEL",
    "GZIP_MIN_BYTES",
    "JSON_MEDIA_TYPE",
    "MSEED_MEDIA_TYPE",
    "Body",
    "Envelope",
    "Merged",
    "OutputFormat",
    "encode_json",
    "encode_mseed",
    "json_sample_pieces",
    "json_samples",
    "merge_segments",
    "mseed_records",
    "window_json",
    "window_json_pieces",
]

JSON_MEDIA_TYPE = "application/json"
#: The media type FDSN web services use for miniSEED.
MSEED_MEDIA_TYPE = "application/vnd.fdsn.mseed"

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
_NS_PER_S = 1_000_000_000


class OutputFormat(StrEnum):
    """What an answer is made of."""

    JSON = "json"
    MINISEED = "miniseed"

    @property
    def media_type(self) -> str:
        return MSEED_MEDIA_TYPE if self is OutputFormat.MINISEED else JSON_MEDIA_TYPE


# -- one grid, as ObsPy merges ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Merged:
    """Samples of one window on one grid, as ``Stream.merge()`` makes one trace of them.

    ``samples[i]`` was taken at ``start + i / sampling_rate``; where ``mask[i]`` is true
    the sample is missing (its value in ``samples`` means nothing). ``mask`` is None when
    no sample is missing.
    """

    start: int
    sampling_rate: float
    samples: np.ndarray[Any, Any]
    mask: np.ndarray[Any, Any] | None

    @property
    def npts(self) -> int:
        return int(self.samples.shape[0])

    @property
    def end(self) -> int:
        """Time of the last sample, as ObsPy computes ``Stats.endtime``."""
        return Segment(self.start, self.sampling_rate, self.samples).end


def _round_away(x: float) -> int:
    """Round half away from zero, as ObsPy's ``compatibility.round_away``."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _equal_where_present(
    grid: np.ndarray[Any, Any], present: np.ndarray[Any, Any], new: Any, *, if_none_present: bool
) -> bool:
    """ObsPy's test of an overlap on masked data: the present samples agree. When none is
    present ObsPy's two branches differ: ``np.all`` of a fully masked comparison is
    ``masked`` (false) for an overlap, ``filled()`` makes it true for a contained trace."""
    if not present.any():
        return if_none_present
    return bool(np.all((grid == new) | ~present))


def _cleanup(
    pieces: list[tuple[int, int, np.ndarray[Any, Any]]],
) -> list[tuple[int, int, np.ndarray[Any, Any]]]:
    """ObsPy's ``Stream._cleanup()``: join pieces that abut, or overlap with the same
    samples in common; leave the others alone. Pieces are ``(start, offset, samples)``,
    sorted, ``offset`` counting samples from the earliest."""
    out = []
    cur_start, cur_off, cur = pieces[0]
    for start, off, data in pieces[1:]:
        cur_end = cur_off + len(cur)
        if off < cur_end:
            common = min(cur_end, off + len(data))
            if np.array_equal(cur[off - cur_off : common - cur_off], data[: common - off]):
                if off + len(data) > cur_end:
                    cur = np.concatenate([cur, data[cur_end - off :]])
                continue
        elif off == cur_end:
            cur = np.concatenate([cur, data])
            continue
        out.append((cur_start, cur_off, cur))
        cur_start, cur_off, cur = start, off, data
    out.append((cur_start, cur_off, cur))
    return out


def merge_segments(segments: Sequence[Segment]) -> Merged | None:
    """Put segments of one channel on the grid of the earliest, as ObsPy's
    ``Stream.merge(method=0)`` does: first join what agrees (``_cleanup``), then add the
    rest in time order; gaps are masked samples, and so is an overlap whose samples
    disagree (over its whole length). Segments are taken to share one sample grid, as
    the segments of one channel from one archive do.

    Returns:
        None when there is no sample.

    Raises:
        DataError: the segments differ in sampling rate or sample type (ObsPy refuses
            to merge them too).
    """
    segs = sorted((s for s in segments if s.npts), key=lambda s: (s.start, s.end))
    if not segs:
        return None
    first = segs[0]
    rate, dtype = first.sampling_rate, first.samples.dtype
    if len(segs) == 1:
        return Merged(first.start, rate, first.samples, None)
    others = sorted({s.sampling_rate for s in segs if s.sampling_rate != rate})
    if others:
        rates = ", ".join(f"{r:g}" for r in (rate, *others))
        raise DataError(f"the sampling rate changes within the window ({rates} Hz)")
    if any(s.samples.dtype != dtype for s in segs):
        raise DataError("the sample type changes within the window")

    def seconds(a: int, b: int) -> float:  # UTCDateTime(a) - UTCDateTime(b)
        return round((a - b) / 1e9, 6)

    pieces = _cleanup([(s.start, _round_away(seconds(s.start, first.start) * rate), s.samples) for s in segs])
    pieces.sort(key=lambda p: (p[0], p[1] + len(p[2])))
    # Where each piece lands: ObsPy appends the next trace `round_away((start - end)
    # * rate) - 1` samples after the end of what it merged so far.
    placed: list[tuple[int, np.ndarray[Any, Any]]] = []
    npts = 0
    for start, _, data in pieces:
        if placed:
            merged_end = first.start + int(round(float(npts - 1) * (1.0 / rate) * 1e9))
            offset = npts + _round_away(seconds(start, merged_end) * rate) - 1
        else:
            offset = 0
        placed.append((offset, data))
        npts = max(npts, offset + len(data))
    samples = np.zeros(npts, dtype=dtype)
    present = np.zeros(npts, dtype=bool)
    length = 0  # of what is merged so far
    for offset, data in placed:
        end = offset + len(data)
        if offset >= length:  # after a gap, or abutting
            samples[offset:end], present[offset:end] = data, True
        elif end > length:  # overlapping the end of what is merged
            shared = length - offset
            span = slice(offset, length)
            if _equal_where_present(samples[span], present[span], data[:shared], if_none_present=False):
                samples[offset:end], present[offset:end] = data, True
            else:
                present[offset:length] = False
                samples[length:end], present[length:end] = data[shared:], True
        else:  # contained
            if _equal_where_present(samples[offset:end], present[offset:end], data, if_none_present=True):
                fill = ~present[offset:end]
                samples[offset:end][fill] = data[fill]
                present[offset:end] = True
            else:
                present[offset:end] = False
        length = max(length, end)
    mask = ~present
    return Merged(first.start, rate, samples, mask if mask.any() else None)


def _on_span(merged: Merged | None, span: TraceSpan | None) -> Merged | None:
    """``merged`` widened to the trimmed trace's grid: a window that starts or ends inside a
    gap of the data begins or ends with masked samples in ObsPy's trace, as it does here."""
    if span is None or span.npts == 0:
        return merged
    if merged is None:  # the window lies wholly in a gap
        return Merged(span.start, span.sampling_rate, np.zeros(span.npts, np.int32), np.ones(span.npts, bool))
    lead = int(round((merged.start - span.start) / 1e9 * merged.sampling_rate))
    trail = span.npts - lead - merged.npts
    if lead <= 0 and trail <= 0:
        return merged
    lead, trail = max(lead, 0), max(trail, 0)
    samples = np.zeros(lead + merged.npts + trail, dtype=merged.samples.dtype)
    samples[lead : lead + merged.npts] = merged.samples
    mask = np.ones(samples.shape, dtype=bool)
    mask[lead : lead + merged.npts] = merged.mask if merged.mask is not None else False
    return Merged(span.start if lead else merged.start, merged.sampling_rate, samples, mask)


# -- JSON -------------------------------------------------------------------------------


def _jsonable(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Samples orjson serialises as ``json.dumps(samples.tolist())`` would print them:
    native byte order, contiguous, and float32 widened to the float64 that ``tolist``
    gives (orjson would print the shortest float32 form otherwise)."""
    kind = samples.dtype.kind
    if kind == "f":
        return np.ascontiguousarray(samples, dtype=np.float64)
    if kind in "iu":
        return np.ascontiguousarray(samples, dtype=samples.dtype.newbyteorder("="))
    raise DataError(f"samples of type {samples.dtype} cannot be written as JSON numbers")


#: Samples serialised per orjson call (bounds its working memory to a few MB).
_JSON_SLICE = 1 << 17


def _nulls(count: int) -> bytes:
    return b"null," * (count - 1) + b"null"


def json_samples(samples: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None) -> bytes:
    """The JSON array of ``samples`` with ``null`` where ``mask`` is true, as
    ``json.dumps(masked_array.tolist())`` prints it (without the spaces).

    Runs of present samples are serialised by orjson from numpy; no Python list is made.

    >>> json_samples(np.array([1, 2, 3, 4], dtype=np.int32), np.array([False, True, True, False]))
    b'[1,null,null,4]'

    Raises:
        DataError: the samples are not numbers.
    """
    return b"".join(json_sample_pieces(samples, mask))


def json_sample_pieces(
    samples: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None
) -> Iterator[bytes]:
    """:func:`json_samples` in pieces of at most :data:`_JSON_SLICE` samples, made as they
    are consumed: orjson's working buffer peaks at several times its output, and a writer
    that appends the pieces holds the answer once.

    Raises:
        DataError: the samples are not numbers.
    """
    values = _jsonable(samples)
    if mask is None or not mask.any():
        bounds = [0, int(values.shape[0])]
        present = [True]
    else:
        edges = np.flatnonzero(np.diff(mask.view(np.int8))) + 1
        bounds = [0, *edges.tolist(), int(mask.shape[0])]
        present = [not mask[a] for a in bounds[:-1]]
    separator = b"["
    for a, b, real in zip(bounds, bounds[1:], present, strict=False):
        if not real:
            yield separator + _nulls(b - a)
            separator = b","
            continue
        for lo in range(a, b, _JSON_SLICE):
            yield separator + orjson.dumps(values[lo : min(b, lo + _JSON_SLICE)], option=_NUMPY)[1:-1]
            separator = b","
    yield b"[]" if separator == b"[" else b"]"


def _segment_object(seg: Segment) -> dict[str, Any]:
    return {
        "starttime": format_time(seg.start),
        "endtime": format_time(seg.end),
        "sampling_rate": seg.sampling_rate,
        "delta": seg.delta,
        "npts": seg.npts,
        "data": orjson.Fragment(json_samples(seg.samples)),
    }


def window_json_pieces(result: WindowResult, *, segments: bool = False) -> Iterator[bytes]:
    """One window's object of the JSON answer (see the module docstring), in pieces made as
    they are consumed, whose concatenation is the object (see :func:`json_sample_pieces`).

    Raises:
        DataError: the samples are not numbers.
    """
    w = result.window
    status, message = result.status, result.message
    merged: Merged | None = None
    data: Iterable[bytes] = (b"[]",)
    if (result.segments or result.span) and not segments:
        try:
            merged = _on_span(merge_segments(result.segments), result.span)
        except DataError as exc:
            # One grid cannot hold them; say so rather than drop samples silently.
            status = Status.PARTIAL
            message = "; ".join(m for m in (message, f"{exc}: data is empty, ask with Segments: true") if m)
        if merged is not None:
            data = json_sample_pieces(merged.samples, merged.mask)
    if merged is not None:
        start, end, rate = merged.start, merged.end, merged.sampling_rate
    elif result.segments:
        start, end, rate = result.segments[0].start, result.segments[-1].end, result.segments[0].sampling_rate
    else:
        start, end, rate = w.start, w.end, None
    obj: dict[str, Any] = {
        "network": w.network,
        "station": w.station,
        "channel": w.channel,
        "delta": 1.0 / rate if rate else None,
        "location": w.location,
        "starttime": format_time(start),
        "endtime": format_time(end),
        "sampling_rate": rate,
    }
    rest: dict[str, Any] = {
        "status": str(status),
        "message": message,
        "gaps": [
            {"start": format_time(g.start), "end": format_time(g.end), "samples": g.samples}
            for g in result.gaps
        ],
    }
    if segments:
        rest["segments"] = [_segment_object(seg) for seg in result.segments]
        yield orjson.dumps(obj | rest)
        return
    yield orjson.dumps(obj)[:-1] + b',"data":'
    yield from data
    yield b"," + orjson.dumps(rest)[1:]


def window_json(result: WindowResult, *, segments: bool = False) -> bytes:
    """One window's object of the JSON answer (see the module docstring).

    Raises:
        DataError: the samples are not numbers.
    """
    return b"".join(window_json_pieces(result, segments=segments))


def encode_json(results: Iterable[WindowResult], *, segments: bool = False) -> bytearray:
    """The whole JSON answer: a list with one object per result, in order, written into one
    buffer piece by piece (so the answer is held once, not once per assembly step).

    Raises:
        DataError: samples are not numbers.
    """
    out = bytearray(b"[")
    for i, result in enumerate(results):
        if i:
            out += b","
        for piece in window_json_pieces(result, segments=segments):
            out += piece
    out += b"]"
    return out


# -- miniSEED ---------------------------------------------------------------------------


def _record_template(result: WindowResult, seg: Segment, record_length: int, version: int) -> Any:
    from pymseed import MS3Record, nslc2sourceid

    w = result.window
    msr = MS3Record()
    msr.sourceid = nslc2sourceid(w.network, w.station, w.location, w.channel)
    msr.starttime = seg.start
    msr.samprate = seg.sampling_rate
    msr.reclen = record_length
    msr.formatversion = version
    return msr


def mseed_records(
    result: WindowResult, *, record_length: int = 512, format_version: int = 2
) -> Iterator[bytes]:
    """miniSEED records of a result's segments, packed by libmseed: Steim2 for integers
    (plain 32-bit integers for the rare series whose differences Steim2 cannot hold),
    IEEE floats for floats. miniSEED 2 by default, as the archives and ObsPy write it.

    Raises:
        DataError: the samples cannot be packed.
    """
    from pymseed import DataEncoding, MiniSEEDError

    for seg in result.segments:
        kind = seg.samples.dtype.kind
        encodings: tuple[DataEncoding, ...]
        if kind in "iu":
            data, code = seg.samples.astype(np.int32, copy=False), "i"
            encodings = (DataEncoding.STEIM2, DataEncoding.INT32)
        elif seg.samples.dtype == np.float32:
            data, code, encodings = seg.samples, "f", (DataEncoding.FLOAT32,)
        elif kind == "f":
            data, code = seg.samples.astype(np.float64, copy=False), "d"
            encodings = (DataEncoding.FLOAT64,)
        else:
            raise DataError(f"samples of type {seg.samples.dtype} cannot be written as miniSEED")
        data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("="))
        problem = ""
        for encoding in encodings:
            msr = _record_template(result, seg, record_length, format_version)
            msr.encoding = encoding
            try:
                records = list(msr.generate(data, code))
            except MiniSEEDError as exc:
                problem = str(exc)
                continue
            yield from records
            break
        else:
            raise DataError(f"{result.window.nslc}: cannot pack samples as miniSEED: {problem}")


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


# -- the size rule ----------------------------------------------------------------------


class Envelope(StrEnum):
    """How an answer's body travels, which decides what its size is."""

    #: HTTP: the bytes as they are.
    HTTP = "http"
    #: A Lambda proxy answer (API Gateway, Function URL, ALB): text bodies become a JSON
    #: string inside the answer (quotes and backslashes escaped), binary ones base64.
    LAMBDA_PROXY = "lambda-proxy"
    #: A direct Lambda invocation: the runtime re-serialises the returned list with
    #: ``", "`` and ``": "`` separators (one more byte per comma and colon).
    LAMBDA_DIRECT = "lambda-direct"


#: Bodies smaller than this are not worth a gzip header.
GZIP_MIN_BYTES = 1024
#: zlib's default: the best ratio before the slow levels, and fitting under the limit
#: is what gzip is for here.
GZIP_LEVEL = 6
_CHUNK = 1 << 20


class Body:
    """An answer's bytes, written in order, gzipped when allowed and worth it, never
    larger than ``limit`` as it travels.

    Args:
        limit: the largest size allowed (``Limits.max_response_bytes``).
        envelope: how the body travels, see :class:`Envelope`.
        gzip: the client accepts gzip (ignored for direct invocations).
        binary: the body is not text (miniSEED): never gzipped, base64 in Lambda answers.
        advice: what to tell a client whose answer is too large.
    """

    def __init__(
        self,
        *,
        limit: int,
        envelope: Envelope = Envelope.HTTP,
        gzip: bool = False,
        binary: bool = False,
        advice: str = "",
    ) -> None:
        self.limit = limit
        self.envelope = envelope
        self.binary = binary
        self.advice = advice
        self._may_gzip = gzip and not binary and envelope is not Envelope.LAMBDA_DIRECT
        self._raw: list[bytes] = []
        self._raw_size = 0
        self._raw_weight = 0
        self._zip: Any = None
        self._zipped: list[bytes] = []
        self._zipped_size = 0
        self._done: bytes | None = None

    @property
    def gzipped(self) -> bool:
        return self._zip is not None

    @property
    def base64(self) -> bool:
        """The body travels base64-encoded (Lambda proxy answers that are not text)."""
        return self.envelope is Envelope.LAMBDA_PROXY and (self.binary or self.gzipped)

    @property
    def raw_size(self) -> int:
        return self._raw_size

    def _weigh_text(self, piece: bytes) -> int:
        if self.envelope is Envelope.LAMBDA_DIRECT:
            return len(piece) + piece.count(b",") + piece.count(b":")
        if self.envelope is Envelope.LAMBDA_PROXY and not self.binary:
            return len(piece) + piece.count(b'"') + piece.count(b"\\")
        return len(piece)

    def _travel_size(self) -> int:
        if self._zip is not None:
            return 4 * math.ceil(self._zipped_size / 3) if self.base64 else self._zipped_size
        if self.base64:
            return 4 * math.ceil(self._raw_size / 3)
        return self._raw_weight

    def _check(self, *, final: bool) -> None:
        size = self._travel_size()
        if size <= self.limit:
            return
        what = "gzipped answer" if self._zip is not None else "answer"
        so_far = "" if final else " and growing"
        tips = [self.advice] if self.advice else []
        raise LimitExceeded(
            f"the {what} is {size} bytes{so_far}, over the limit of {self.limit} bytes"
            + (f"; {' '.join(tips)}" if tips else ""),
            field="Windows",
        )

    def _feed(self, piece: bytes) -> None:
        for i in range(0, len(piece), _CHUNK):
            out = self._zip.compress(piece[i : i + _CHUNK])
            if out:
                self._zipped.append(out)
                self._zipped_size += len(out)
                self._check(final=False)

    def write(self, piece: bytes) -> None:
        """Append ``piece``.

        Raises:
            LimitExceeded: the body is already too large.
        """
        if self._done is not None:
            raise RuntimeError("the body is finished")
        self._raw_size += len(piece)
        if self._zip is not None:
            self._feed(piece)
            return
        self._raw.append(piece)
        self._raw_weight += self._weigh_text(piece)
        if self._may_gzip and self._raw_size >= GZIP_MIN_BYTES:
            self._zip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
            pending, self._raw = self._raw, []
            for part in pending:
                self._feed(part)
        else:
            self._check(final=False)

    def check_pending(self, size: int, *, factor: int) -> None:
        """Refuse early when ``size`` more raw bytes, encoded but not yet written (they
        wait for an earlier window), cannot fit: in full without gzip, above ``factor``
        times the limit with it.

        Raises:
            LimitExceeded: they cannot fit.
        """
        budget = factor * self.limit if self._may_gzip else self.limit - self._raw_size
        if size > budget:
            raise LimitExceeded(
                f"the answer is over {self._raw_size + size} bytes and growing, over the limit of "
                f"{self.limit} bytes" + (f"; {self.advice}" if self.advice else ""),
                field="Windows",
            )

    def finish(self) -> bytes:
        """The body, complete.

        Raises:
            LimitExceeded: the body is too large.
        """
        if self._done is None:
            if self._zip is not None:
                tail = self._zip.flush()
                self._zipped.append(tail)
                self._zipped_size += len(tail)
                self._check(final=True)
                self._done = b"".join(self._zipped)
                self._zipped = []
            else:
                self._check(final=True)
                self._done = b"".join(self._raw)
                self._raw = []
        return self._done
