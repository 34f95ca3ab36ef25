"""Window objects of a JSON answer read back into :class:`~seiswindow.model.WindowResult`
values: what an executor that asks the service (a Lambda function) hands to the job.

The objects are those of an answer asked with ``"Segments": true`` (see
:mod:`seiswindow.encode`): each contiguous segment with its own start, rate and samples,
so the segments are the service's own, not a grid with ``null`` where samples are missing.
Integer samples come back as ``int32`` (what Steim records hold) when they fit, so a
miniSEED output is the one a local run writes; floats come back as ``float64`` (JSON
does not say whether they were ``float32``). What the answer does not carry stays empty:
the read's cost (``stats``) and the merged grid (``span``), which the job's writers do not
use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DataError, RequestError
from ..model import Gap, Segment, Status, Window, WindowResult
from ..nstime import parse_time

__all__ = ["results_from_answer"]

_INT32 = np.iinfo(np.int32)


def results_from_answer(windows: Sequence[Window], answer: object) -> list[WindowResult]:
    """The results of ``windows`` from the answer's list of window objects, in order.

    Raises:
        DataError: the answer is not a list of one window object per window, or an
            object is malformed (a missing key, a bad time or status).
    """
    if not isinstance(answer, list) or len(answer) != len(windows):
        count = len(answer) if isinstance(answer, list) else type(answer).__name__
        raise DataError(f"expected a list of {len(windows)} window objects, got {count}")
    return [_result(window, item) for window, item in zip(windows, answer, strict=True)]


def _result(window: Window, item: object) -> WindowResult:
    if not isinstance(item, Mapping):
        raise DataError(f"expected a window object, got {type(item).__name__}")
    try:
        codes = (item["network"], item["station"], item["location"], item["channel"])
        if codes != tuple(window.nslc):
            raise DataError(f"the answer's window {'.'.join(map(str, codes))} is not {window.nslc}")
        return WindowResult(
            window,
            Status(item["status"]),
            segments=tuple(_segment(s) for s in item.get("segments") or ()),
            gaps=tuple(
                Gap(parse_time(g["start"]), parse_time(g["end"]), int(g["samples"])) for g in item["gaps"]
            ),
            message=str(item.get("message") or ""),
        )
    except (KeyError, TypeError, ValueError, RequestError) as exc:
        raise DataError(f"malformed window object of {window.nslc}: {exc!r}") from None


def _segment(item: Mapping[str, Any]) -> Segment:
    return Segment(parse_time(item["starttime"]), float(item["sampling_rate"]), _samples(item["data"]))


def _samples(data: list[Any]) -> np.ndarray[Any, Any]:
    """JSON numbers as the array they were: int32 when integers fit, else float64."""
    if all(type(v) is int for v in data):
        values = np.array(data, dtype=np.int64)
        if values.size == 0 or (values.min() >= _INT32.min and values.max() <= _INT32.max):
            return values.astype(np.int32)
        return values
    return np.array(data, dtype=np.float64)
