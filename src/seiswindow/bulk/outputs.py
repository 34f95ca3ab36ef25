"""Where a job's windows go: the output-writer protocol and its two writers of files.

A writer is opened on the job's directory (the same one when a job resumes), writes one
window's result at a time, and is finalized once at the end. The job records a window in
its manifest only after :meth:`OutputWriter.write` returned, so a writer must leave either
the whole output or nothing a rerun could take for it: :func:`write_whole` writes to a
temporary name, fsyncs and renames. A writer of one big file (a SeisBench dataset) keeps
the same promise its own way and answers :meth:`OutputWriter.holds` for what it wrote.

- :class:`MseedWriter`: one miniSEED file per window, its records packed by
  :func:`seiswindow.encode.mseed_records` (libmseed);
- :class:`NpzWriter`: one ``.npz`` per window: the merged trace as ObsPy's ``merge()``
  makes it (``data`` and its ``mask`` of missing samples) and the window's metadata.

Files are named from the window's codes, start and id, under ``NET/STA/``:
``CI/WBM/CI.WBM..LHZ.20220101T235500Z.3f2a....mseed``.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..encode import mseed_records
from ..model import Status, WindowResult
from ..nstime import format_time
from ..trim import merge_segments
from .inputs import JobWindow

__all__ = [
    "TEMPORARY_DIR",
    "MseedWriter",
    "NpzWriter",
    "OutputWriter",
    "Written",
    "output_name",
    "write_whole",
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


#: Where outputs are written before they are renamed into place (emptied when a job opens).
TEMPORARY_DIR = ".partial"


def write_whole(path: Path, body: bytes, *, temporary_dir: Path | None = None) -> None:
    """Write ``path`` whole or not at all: to a temporary file (in ``temporary_dir``, which
    must be on the same file system, else beside ``path``), fsynced, then renamed over
    ``path`` (atomic on POSIX). A kill leaves at most a ``.part`` file, which no rerun takes
    for an output.

    Raises:
        OSError: the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    where = temporary_dir or path.parent
    fd, temporary = tempfile.mkstemp(dir=where, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _FilePerWindow:
    """One file per window under the job's directory."""

    format = ""
    suffix = ""

    def __init__(self) -> None:
        self._directory: Path | None = None

    @property
    def directory(self) -> Path:
        if self._directory is None:
            raise RuntimeError("the writer is not open")
        return self._directory

    def open(self, directory: Path) -> None:
        # What a killed run left half-written is thrown away: it was never reported done.
        shutil.rmtree(directory / TEMPORARY_DIR, ignore_errors=True)
        (directory / TEMPORARY_DIR).mkdir(parents=True)
        self._directory = directory

    def write(self, item: JobWindow, result: WindowResult) -> Written | None:
        if result.status not in (Status.OK, Status.PARTIAL) or not result.segments:
            return None
        body = self.encode(item, result)
        if not body:
            return None
        name = output_name(item, self.suffix)
        write_whole(self.directory / name, body, temporary_dir=self.directory / TEMPORARY_DIR)
        return Written(name, len(body))

    def encode(self, item: JobWindow, result: WindowResult) -> bytes:
        raise NotImplementedError  # pragma: no cover - each writer encodes its own way

    def holds(self, name: str) -> bool:
        return (self.directory / name).is_file()

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
