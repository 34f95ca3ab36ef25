"""Helpers of the service tests: a uvicorn server in a thread, decoding of proxy answers,
and the tutorial's answer computed by ObsPy (the oracle)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from obspy import UTCDateTime

from seiswindow.archive import layout_named
from seiswindow.model import Window, parse_windows
from support.oracle import oracle

EVENTS = Path(__file__).parent / "events"
#: The tutorial-shaped request every front door is asked (several windows, blank
#: locations "  ", one window across midnight, one partly outside the data, one of a
#: station the archive does not have).
REQUEST: dict[str, Any] = json.loads((EVENTS / "direct.json").read_text())


def event(name: str) -> dict[str, Any]:
    """A recorded sample event (``tests/service/events/<name>.json``)."""
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def proxy_body(answer: dict[str, Any]) -> bytes:
    """The body bytes a client receives from a Lambda proxy answer (base64 and gzip undone)."""
    body = answer["body"]
    raw = base64.b64decode(body) if answer["isBase64Encoded"] else body.encode()
    headers = answer.get("headers") or {k: v[-1] for k, v in answer.get("multiValueHeaders", {}).items()}
    if headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    return raw


def day_files(root: Path, bucket: str, window: Window) -> list[Path]:
    """Existing day files of the window's channel, from the day before to the day after."""
    layout = layout_named("ncedc" if "ncedc" in bucket else "scedc")
    first = UTCDateTime(ns=window.start).datetime.date()
    last = UTCDateTime(ns=window.end).datetime.date()
    import datetime as dt

    days = [first + dt.timedelta(days=k) for k in range(-1, (last - first).days + 2)]
    paths = [root / bucket / layout.key(window.nslc, day) for day in days]
    return [p for p in paths if p.is_file()]


def tutorial_answer(root: Path, bucket: str, request: object) -> list[dict[str, Any] | None]:
    """What the tutorial's function answers for each window, computed by ObsPy: read the
    day files, ``merge()``, ``trim()``, then ``tr.stats`` and ``tr.data.tolist()``.
    None for a window without samples (the tutorial leaves those out)."""
    answers: list[dict[str, Any] | None] = []
    for window in parse_windows(request):
        stream = oracle(day_files(root, bucket, window), window)
        if not len(stream):
            answers.append(None)
            continue
        assert len(stream) == 1, stream
        tr = stream[0]
        data = tr.data
        values = data.tolist() if isinstance(data, np.ma.MaskedArray) else np.asarray(data).tolist()
        answers.append(
            {
                "network": tr.stats.network,
                "station": tr.stats.station,
                "channel": tr.stats.channel,
                "delta": tr.stats.delta,
                "location": tr.stats.location,
                # ObsPy's own printing of the time (str(), with the UTC designator).
                "starttime": str(tr.stats.starttime),
                "endtime": str(tr.stats.endtime),
                "sampling_rate": tr.stats.sampling_rate,
                "data": values,
            }
        )
    return answers


def oracle_segments(root: Path, bucket: str, request: object) -> list[list[dict[str, Any]]]:
    """The ``segments`` each window's answer must hold, computed by ObsPy: the merged,
    trimmed trace split where it is masked (``Trace.split()``), one object per piece."""
    out: list[list[dict[str, Any]]] = []
    for window in parse_windows(request):
        stream = oracle(day_files(root, bucket, window), window)
        pieces = stream.split() if len(stream) else []
        out.append(
            [
                {
                    "starttime": str(tr.stats.starttime),
                    "endtime": str(tr.stats.endtime),
                    "sampling_rate": tr.stats.sampling_rate,
                    "delta": tr.stats.delta,
                    "npts": tr.stats.npts,
                    "data": np.asarray(tr.data).tolist(),
                }
                for tr in pieces
            ]
        )
    return out


TUTORIAL_KEYS = [
    "network",
    "station",
    "channel",
    "delta",
    "location",
    "starttime",
    "endtime",
    "sampling_rate",
    "data",
]


def assert_tutorial_answer(answer: list[dict[str, Any]], expected: list[dict[str, Any] | None]) -> None:
    """Our answer holds the tutorial's (ObsPy's) values for every window with samples, and
    an empty ``data`` with ``nodata`` for the others; keys in the tutorial's order."""
    assert len(answer) == len(expected)
    for ours, theirs in zip(answer, expected, strict=True):
        assert list(ours)[: len(TUTORIAL_KEYS)] == TUTORIAL_KEYS
        assert list(ours)[len(TUTORIAL_KEYS) :] == ["status", "message", "gaps"]
        if theirs is None:
            assert ours["data"] == [] and ours["status"] == "nodata" and ours["sampling_rate"] is None
            continue
        for key, value in theirs.items():
            assert ours[key] == value, key
