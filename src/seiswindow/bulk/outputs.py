"""Where a job's windows go: the output-writer protocol and its two writers of files.

A writer is opened on the job's directory (the same one when a job resumes), writes one
window's result at a time, and is finalized once at the end. The job records a window in
its manifest only after :meth:`OutputWriter.write` returned, so a writer must leave either
the whole output or nothing a rerun could take for it. The two writers here put each file
into a :class:`~seiswindow.bulk.sinks.Sink` (the job's directory by default, or an S3
prefix), which writes it whole. A writer of one big file (a SeisBench dataset) keeps the
same promise its own way and answers :meth:`OutputWriter.holds` for what it wrote.

- :class:`MseedWriter`: one miniSEED file per window, its records packed by
  :func:`seiswindow.encode.mseed_records` (libmseed);
- :class:`NpzWriter`: one ``.npz`` per window: the merged trace as ObsPy's ``merge()``
  makes it (``data`` and its ``mask`` of missing samples) and the window's metadata.

Files are named from the window's codes, start and id, under ``NET/STA/``:
``CI/WBM/CI.WBM..LHZ.20220101T235500Z.3f2a....mseed``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..encode import mseed_records
from ..model import Status, WindowResult
from ..nstime import format_time
from ..trim import merge_segments
from .inputs import JobWindow
from .sinks import DirectorySink, Sink

__all__ = [
    "MseedWriter",
    "NpzWriter",
    "OutputWriter",
    "Written",
    "output_name",
]


@dataclass(frozen=True, slots=True)
class Written:
    """What a writer wrote for a window: its name (relative to the directory) and size."""

    name: str
    size: int


@runtime_checkable
class OutputWriter(Protocol):
    """Writes a job's windows into its directory (see the module's docstring)."""

    #: the format's name, recorded in the manifest (a rerun must use the same)
    format: str
    #: True when the writer writes the windows of one input row together (a SeisBench
    #: example of ``HH?``): a window is then done only when every window of its row is.
    whole_groups: bool

    def open(self, directory: Path) -> None:
        """Start writing into ``directory``, or resume writing there.

        Raises:
            OSError: the directory cannot be written.
        """

    def write(self, item: JobWindow, result: WindowResult) -> Written | None:
        """Write one window's result whole; None when there is nothing to write (no sample).

        Raises:
            DataError: the samples cannot be encoded.
            OSError: the output cannot be written.
        """

    def holds(self, name: str) -> bool:
        """Whether the output written as ``name`` (by this run or an earlier one) is there."""

    def finalize(self) -> None:
        """Finish the output (indexes, metadata); called once, also after a failure."""


def output_name(item: JobWindow, suffix: str) -> str:
    """``NET/STA/NET.STA.LOC.CHA.YYYYMMDDTHHMMSSZ.ID.suffix``: readable, and unique by the id."""
    w = item.window
    stamp = format_time(w.start)[:19].replace("-", "").replace(":", "") + "Z"
    return f"{w.network}/{w.station}/{w.nslc}.{stamp}.{item.id}.{suffix}"


class _FilePerWindow:
    """One file per window, in the job's directory or the sink given."""

    format = ""
    suffix = ""
    whole_groups = False

    def __init__(self, *, sink: Sink | None = None) -> None:
        self._given = sink
        self._sink: Sink | None = None

    @property
    def sink(self) -> Sink:
        if self._sink is None:
            raise RuntimeError("the writer is not open")
        return self._sink

    def open(self, directory: Path) -> None:
        self._sink = self._given or DirectorySink(directory)
        self._sink.open()

    def write(self, item: JobWindow, result: WindowResult) -> Written | None:
        if result.status not in (Status.OK, Status.PARTIAL) or not result.segments:
            return None
        body = self.encode(item, result)
        if not body:
            return None
        name = output_name(item, self.suffix)
        self.sink.put(name, body)
        return Written(name, len(body))

    def encode(self, item: JobWindow, result: WindowResult) -> bytes:
        raise NotImplementedError  # pragma: no cover - each writer encodes its own way

    def holds(self, name: str) -> bool:
        return self.sink.holds(name)

    def finalize(self) -> None:
        """Nothing to finish: each file is whole when written."""


class MseedWriter(_FilePerWindow):
    """One miniSEED 2 file per window (512-byte Steim2 records, as the archives write)."""

    format = "mseed"
    suffix = "mseed"

    def encode(self, item: JobWindow, result: WindowResult) -> bytes:
        return b"".join(mseed_records(result))


class NpzWriter(_FilePerWindow):
    """One ``.npz`` per window: ``data`` (the merged samples), ``mask`` (True where a
    sample is missing), ``starttime_ns``, ``sampling_rate``, the codes, ``id``, ``status``,
    and the pick's ``event``, ``phase``, ``pick_time_ns`` (blank / -1 without a pick)."""

    format = "npz"
    suffix = "npz"

    def encode(self, item: JobWindow, result: WindowResult) -> bytes:
        merged = merge_segments(result.segments)
        if merged is None:
            return b""
        mask = merged.mask if merged.mask is not None else np.zeros(merged.npts, dtype=bool)
        w = result.window
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            data=merged.samples,
            mask=mask,
            starttime_ns=np.int64(merged.start),
            sampling_rate=np.float64(merged.sampling_rate),
            network=w.network,
            station=w.station,
            location=w.location,
            channel=w.channel,
            id=item.id,
            status=result.status.value,
            event=item.pick.event if item.pick else "",
            phase=item.pick.phase if item.pick else "",
            pick_time_ns=np.int64(item.pick.time if item.pick else -1),
        )
        return buffer.getvalue()
