"""JSON window objects (the service's own encoder, ``"Segments": true``, re-serialised as
the Lambda runtime does) read back into results: segments, gaps, status and message as
they were; malformed answers are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seiswindow.bulk.answers import results_from_answer
from seiswindow.encode import window_json
from seiswindow.errors import DataError
from seiswindow.model import Gap, Segment, Status, Window, WindowResult
from seiswindow.nstime import parse_time

WINDOW = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T10:00:00", "2022-01-02T10:01:00")


def through_lambda(*results: WindowResult) -> object:
    """The answer as the function's runtime sends it: ``json.dumps`` of the parsed list."""
    body = b"[" + b",".join(window_json(r, segments=True) for r in results) + b"]"
    return json.loads(json.dumps(json.loads(body)))


def test_segments_gaps_status_and_message_come_back() -> None:
    t0 = parse_time("2022-01-02T10:00:00.071860")
    first = Segment(t0, 1.0, np.array([1, -2, 2_147_483_647], dtype=np.int32))
    second = Segment(t0 + 10 * 10**9, 1.0, np.array([-2_147_483_648, 5], dtype=np.int32))
    gap = Gap(first.end, second.start, 7)
    result = WindowResult(WINDOW, Status.PARTIAL, (first, second), (gap,), message="1 gap")
    [back] = results_from_answer([WINDOW], through_lambda(result))
    assert (back.window, back.status, back.message, back.gaps) == (WINDOW, Status.PARTIAL, "1 gap", (gap,))
    assert [(s.start, s.sampling_rate, s.samples.dtype) for s in back.segments] == [
        (first.start, 1.0, np.int32),
        (second.start, 1.0, np.int32),
    ]
    for ours, theirs in zip(back.segments, (first, second), strict=True):
        np.testing.assert_array_equal(ours.samples, theirs.samples)


def test_float_samples_come_back_as_float64_and_nodata_without_segments() -> None:
    floats = Segment(WINDOW.start, 40.0, np.array([0.1, -1.5e-7, 3.0], dtype=np.float64))
    nodata = WindowResult(WINDOW, Status.NODATA, message="no day file")
    ok, empty = results_from_answer(
        [WINDOW, WINDOW], through_lambda(WindowResult(WINDOW, Status.OK, (floats,)), nodata)
    )
    assert ok.segments[0].samples.dtype == np.float64
    np.testing.assert_array_equal(ok.segments[0].samples, floats.samples)
    assert (empty.status, empty.segments, empty.message) == (Status.NODATA, (), "no day file")


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 400, "error": "bad"},
        [],
        ["not an object"],
        [{"network": "CI", "station": "CCA", "location": "", "channel": "LHZ", "status": "ok", "gaps": []}],
        [{"network": "CI", "station": "WBM", "location": "", "channel": "LHZ", "status": "fine", "gaps": []}],
    ],
)
def test_malformed_answers_are_refused(answer: object) -> None:
    with pytest.raises(DataError):
        results_from_answer([WINDOW], answer)
