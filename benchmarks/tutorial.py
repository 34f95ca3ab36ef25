"""The baseline: the SCEDC tutorial's time-window Lambda function, re-run step for step.

What the tutorial's function does for each window of ``{"Windows": [...]}``, in order,
one window after the other, and what this module does the same way:

1. a new anonymous boto3 S3 client per invocation (region us-west-2, unsigned);
2. the day file's key in SCEDC layout from the codes and the start time;
3. ``download_file`` of the *whole* day file to ``/tmp`` (s3transfer: a HEAD, then one
   GET, or 8 MB ranged GETs in parallel for files over 8 MB);
4. ``obspy.read(file).merge()``, ``st.trim(start, end)``, the *first* trace only;
5. a dict of ``tr.stats`` fields and ``tr.data.tolist()``; the file is removed;
6. the list is returned (direct invocation) or ``json.dumps``-ed as the body of an API
   Gateway answer (an event with ``routeKey``).

A window whose day file cannot be downloaded is left out of the answer, and a window
that does not start and end on the same UTC day raises, as in the tutorial. Its log and
print lines are left out (they cost microseconds). The only liberties, both explicit
arguments: the bucket (moto holds the generated files in a bench bucket) and, for the
across-midnight case that the tutorial refuses, ``across_days=True``, which downloads
every day file the window touches and reads them into one stream before the merge: the
natural extension, marked as such in the results.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import boto3
import obspy
from botocore import UNSIGNED
from botocore.config import Config
from obspy import UTCDateTime

__all__ = ["TUTORIAL_BUCKET", "day_key", "handler", "process", "window_answer"]

TUTORIAL_BUCKET = "scedc-pds"


def day_key(network: str, station: str, channel: str, location: str, day: UTCDateTime) -> str:
    """The SCEDC key of a day file, as the tutorial builds it (``-`` and spaces in the
    location become ``_``, a blank location ``__``)."""
    loc = location.replace("-", "_").replace(" ", "_") or "__"
    year, doy = day.year, day.julday
    return (
        f"continuous_waveforms/{year}/{year}_{doy:03d}/"
        f"{network}{station:_<5}{channel:_<3}{loc:_<2}_{year}{doy:03d}.ms"
    )


def _temp_name(key: str, start: UTCDateTime) -> str:
    stem, ext = os.path.splitext(os.path.basename(key))
    name = f"{stem}_{start.hour:02d}{start.minute:02d}{start.second:02d}{ext}"
    return os.path.join(tempfile.gettempdir(), name)


def window_answer(files: list[str], start: UTCDateTime, end: UTCDateTime) -> dict[str, Any]:
    """Read the downloaded file(s), merge, trim, and describe the first trace."""
    stream = obspy.Stream()
    for path in files:
        stream += obspy.read(path)
    stream = stream.merge()
    stream.trim(start, end)
    trace = stream[0]
    stats = trace.stats
    return {
        "network": stats["network"],
        "station": stats["station"],
        "channel": stats["channel"],
        "delta": stats["delta"],
        "location": stats["location"],
        "starttime": stats["starttime"].isoformat(),
        "endtime": stats["endtime"].isoformat(),
        "sampling_rate": stats["sampling_rate"],
        "data": trace.data.tolist(),
    }


def process(event: dict[str, Any], *, bucket: str = TUTORIAL_BUCKET, across_days: bool = False) -> Any:
    """Answer a request as the tutorial's function does (see the module docstring).

    Raises:
        ValueError: a window spans UTC days (unless ``across_days``).
    """
    api_gateway = "routeKey" in event
    if api_gateway:
        event = json.loads(event["body"])
    s3 = boto3.client(
        "s3",
        region_name="us-west-2",
        config=Config(signature_version=UNSIGNED),
        aws_access_key_id="",
        aws_secret_access_key="",
    )
    waveforms = []
    for window in event["Windows"]:
        net, sta, cha, loc = (window[k] for k in ("Network", "Station", "Channel", "Location"))
        start, end = UTCDateTime(window["Starttime"]), UTCDateTime(window["Endtime"])
        days = [start]
        if (start.year, start.julday) != (end.year, end.julday):
            if not across_days:
                raise ValueError("Time windows must start and end within the same day.")
            day = UTCDateTime(start.date)
            while day + 86_400 <= end:
                day += 86_400
                days.append(day)
        files = []
        for day in days:
            key = day_key(net, sta, cha, loc, day)
            path = _temp_name(key, start if day is start else day)
            try:
                s3.download_file(bucket, key, path)
            except Exception:  # noqa: BLE001 - the tutorial skips a window it cannot download
                continue
            files.append(path)
        if files:
            waveforms.append(window_answer(files, start, end))
        for path in files:
            os.remove(path)
    if api_gateway:
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(waveforms),
        }
    return waveforms


def handler(event: dict[str, Any], context: object) -> Any:
    """The Lambda entry point."""
    return process(event, bucket=os.environ.get("BENCH_TUTORIAL_BUCKET", TUTORIAL_BUCKET))
