"""The JSON answer: one object per window, samples on ObsPy's grid with ``null`` where
one is missing (see :mod:`seiswindow.encode`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson

from ..errors import DataError
from ..model import Segment, Status, WindowResult
from ..nstime import format_time
from ..trim import Merged, merge_segments, on_span

__all__ = [
    "JSON_MEDIA_TYPE",
    "encode_json",
    "json_sample_pieces",
    "json_samples",
    "window_json",
    "window_json_pieces",
]

JSON_MEDIA_TYPE = "application/json"

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
#: Samples serialised per orjson call (bounds its working memory to a few MB).
_JSON_SLICE = 1 << 17


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


def _on_one_grid(result: WindowResult) -> tuple[Merged | None, Status, str]:
    """The window's samples on one grid, and its status and message: a window whose
    samples one grid cannot hold is partial and says so (rather than drop samples
    silently)."""
    try:
        return on_span(merge_segments(result.segments), result.span), result.status, result.message
    except DataError as exc:
        note = f"{exc}: data is empty, ask with Segments: true"
        return None, Status.PARTIAL, "; ".join(m for m in (result.message, note) if m)


def _extent(result: WindowResult, merged: Merged | None) -> tuple[int, int, float | None]:
    """``(starttime, endtime, sampling_rate)`` of the window's object."""
    if merged is not None:
        return merged.start, merged.end, merged.sampling_rate
    if result.segments:
        first, last = result.segments[0], result.segments[-1]
        return first.start, last.end, first.sampling_rate
    return result.window.start, result.window.end, None


def window_json_pieces(result: WindowResult, *, segments: bool = False) -> Iterator[bytes]:
    """One window's object of the JSON answer (see :mod:`seiswindow.encode`), in pieces
    made as they are consumed, whose concatenation is the object (see
    :func:`json_sample_pieces`).

    Raises:
        DataError: the samples are not numbers.
    """
    w = result.window
    merged, status, message = None, result.status, result.message
    if (result.segments or result.span) and not segments:
        merged, status, message = _on_one_grid(result)
    start, end, rate = _extent(result, merged)
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
    data: Iterable[bytes] = (b"[]",) if merged is None else json_sample_pieces(merged.samples, merged.mask)
    yield orjson.dumps(obj)[:-1] + b',"data":'
    yield from data
    yield b"," + orjson.dumps(rest)[1:]


def window_json(result: WindowResult, *, segments: bool = False) -> bytes:
    """One window's object of the JSON answer (see :mod:`seiswindow.encode`).

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
