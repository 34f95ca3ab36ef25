"""A job's manifest: what became of each window, one JSON line per window answered.

The manifest is append-only (``manifest.jsonl`` in the job's directory). Its first line
describes the job (the output format); each later line is one :class:`Entry`, written with
one ``write`` call, flushed and fsynced before the next window is reported, and only after
the window's output is in place under its final name. So whatever instant the job is
killed at (SIGKILL included), an entry that says a window is done names an output that is
whole; a line cut short by the kill is the last one, and it is dropped when the manifest
is opened again (the window is done again).

The latest entry of a window wins: a window that failed (``error``) and was retried has two.
One run at a time: the manifest is locked (``flock``) while a run holds it, and the lock goes
with the process, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import RequestError
from ..model import Status

__all__ = ["MANIFEST_NAME", "Entry", "Manifest"]

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True, slots=True)
class Entry:
    """One window's outcome.

    Attributes:
        id: the window's stable id (:func:`~seiswindow.bulk.inputs.window_id`).
        status: ok, partial, nodata or error.
        message: what was missing or went wrong ('' when nothing).
        bytes_read: bytes read from the archive for the window.
        requests: requests made to the archive for the window.
        file: the output written, relative to the job's directory (None: nothing written).
        size: the output's size in bytes.
        window: ``NET.STA.LOC.CHA START END``, for people reading the manifest.
        source: where the input asked for it (``line 3``).
    """

    id: str
    status: Status
    message: str = ""
    bytes_read: int = 0
    requests: int = 0
    file: str | None = None
    size: int = 0
    window: str = ""
    source: str = ""

    @property
    def done(self) -> bool:
        """Whether a rerun skips the window (answered, even with no data); errors are retried."""
        return self.status is not Status.ERROR

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "status": self.status.value,
                "message": self.message,
                "bytes_read": self.bytes_read,
                "requests": self.requests,
                "file": self.file,
                "size": self.size,
                "window": self.window,
                "source": self.source,
            }
        )

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Entry:
        return cls(
            id=str(value["id"]),
            status=Status(value["status"]),
            message=str(value.get("message", "")),
            bytes_read=int(value.get("bytes_read", 0)),
            requests=int(value.get("requests", 0)),
            file=value.get("file"),
            size=int(value.get("size", 0)),
            window=str(value.get("window", "")),
            source=str(value.get("source", "")),
        )


def _lock(fd: int, directory: Path) -> None:
    """Hold the job's directory for this run (released when the process ends, killed or not).

    Raises:
        RequestError: another run of the job holds it.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RequestError(f"another run of the job in {directory} is running", field="out") from None


class Manifest:
    """The manifest of the job in ``directory``, opened for appending.

    Use :meth:`open`. ``entries`` holds the latest entry of every window recorded so far,
    by the earlier runs of the job and this one.
    """

    def __init__(self, path: Path, entries: dict[str, Entry], fd: int) -> None:
        self.path = path
        self.entries = entries
        self._fd = fd

    @classmethod
    def open(cls, directory: Path, *, job: dict[str, str]) -> Manifest:
        """Open (or start) the manifest of the job in ``directory``.

        Args:
            directory: the job's directory (created when missing).
            job: what the job is (its output format...): a rerun must be the same job.

        Raises:
            RequestError: the directory holds the manifest of another job (another format),
                or a file that is no job's manifest, or another run of the job is running.
            OSError: the manifest cannot be read or written.
        """
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MANIFEST_NAME
        entries: dict[str, Entry] = {}
        header: dict[str, Any] | None = None
        good = 0  # bytes of whole lines: a line cut short by a kill is dropped
        if path.exists():
            data = path.read_bytes()
            for line in data.splitlines(keepends=True):
                if not line.endswith(b"\n"):
                    break
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError:
                    break
                good += len(line)
                if header is None:
                    if not isinstance(value, dict) or not isinstance(value.get("job"), dict):
                        raise RequestError(f"{path} is not the manifest of a seiswindow job", field="out")
                    header = value["job"]
                else:
                    entry = Entry.from_json(value)
                    entries[entry.id] = entry
        if header is not None:
            for name, wanted in job.items():
                if header.get(name) != wanted:
                    raise RequestError(
                        f"{directory} holds a job with {name} {header.get(name)!r}, not {wanted!r}: "
                        "use another --out, or the same options",
                        field=name,
                    )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            _lock(fd, directory)
            os.ftruncate(fd, good)
            os.lseek(fd, good, os.SEEK_SET)
            manifest = cls(path, entries, fd)
            if header is None:
                manifest._append(orjson.dumps({"job": job}))
        except BaseException:
            os.close(fd)
            raise
        return manifest

    def done(self, window_id: str) -> Entry | None:
        """The entry of a window a rerun skips, or None (never answered, or failed)."""
        entry = self.entries.get(window_id)
        return entry if entry is not None and entry.done else None

    def record(self, entry: Entry) -> None:
        """Append ``entry`` and make it durable (fsync) before returning.

        Raises:
            OSError: the manifest cannot be written.
        """
        self._append(entry.to_json())
        self.entries[entry.id] = entry

    def _append(self, line: bytes) -> None:
        data = line + b"\n"
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
