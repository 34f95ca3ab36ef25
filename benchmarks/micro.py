"""Measurements that need no S3: JSON encoding of many samples."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EncodeTiming", "load_samples", "time_json_encoding"]


@dataclass(frozen=True)
class EncodeTiming:
    """Median seconds to turn ``npts`` samples into JSON, each way."""

    npts: int
    reps: int
    ours_samples_s: float  #: ``seiswindow.encode.json_samples`` (the ``data`` array)
    ours_answer_s: float  #: ``seiswindow.encode.encode_json`` (a whole one-window answer)
    baseline_s: float  #: ``json.dumps(samples.tolist())``, as the tutorial
    same_output: bool  #: both give the same numbers

    @property
    def ratio(self) -> float:
        """How many times faster ours encodes a whole answer."""
        return self.baseline_s / self.ours_answer_s


def load_samples(path: Path, npts: int) -> np.ndarray[Any, Any]:
    """``npts`` real samples (int32) of a miniSEED file, repeated if it holds fewer."""
    import obspy

    samples = np.asarray(obspy.read(str(path)).merge()[0].data, dtype=np.int32)
    reps = -(-npts // samples.shape[0])
    return np.tile(samples, reps)[:npts]


def _median_time(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_json_encoding(samples: np.ndarray[Any, Any], *, reps: int) -> EncodeTiming:
    """Time ours and the tutorial's JSON encoding of ``samples``."""
    from seiswindow import Segment, Status, Window, WindowResult
    from seiswindow.encode import encode_json, json_samples

    window = Window.create("CI", "CCA", "", "BHN", "2022-01-02T00:00:00", "2022-01-03T00:00:00")
    result = WindowResult(window, Status.OK, segments=(Segment(window.start, 40.0, samples),))
    ours = json.loads(json_samples(samples))
    same = ours == samples.tolist()
    return EncodeTiming(
        npts=int(samples.shape[0]),
        reps=reps,
        ours_samples_s=_median_time(lambda: json_samples(samples), reps),
        ours_answer_s=_median_time(lambda: encode_json([result]), reps),
        baseline_s=_median_time(lambda: json.dumps(samples.tolist()), reps),
        same_output=same,
    )
