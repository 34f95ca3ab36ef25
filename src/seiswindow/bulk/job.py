"""A bulk job: windows in, one output per window and a manifest out, resumable.

:func:`run_job` skips the windows the manifest of the directory says are done (answered
``ok``, ``partial`` or ``nodata``, their output still there; with a writer of whole groups,
every window of their input row too), hands the others to an
executor in batches by day file, and for each result as it arrives writes the output
(:class:`~seiswindow.bulk.outputs.OutputWriter`), then appends the window's manifest entry.
Failures (``error``) are logged to ``failures.log`` and retried by the next run. The
:class:`Summary` says what the run did; its ``exit_code`` is 1 when a window failed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..archive import Layout
from ..errors import ArchiveError, DataError
from ..model import Status, WindowResult
from ..nstime import format_time
from .executors import Batch, Executor, batches
from .inputs import JobWindow
from .manifest import Entry, Manifest
from .outputs import OutputWriter

__all__ = ["FAILURES_NAME", "Summary", "run_job"]

FAILURES_NAME = "failures.log"


@dataclass(frozen=True, slots=True)
class Summary:
    """What one run of a job did.

    Attributes:
        windows: windows of the job (after duplicates were merged).
        skipped: windows done by an earlier run, not read again.
        counts: windows answered by this run, by status.
        bytes_read: bytes read from the archive by this run.
        requests: requests made to the archive by this run.
        written: bytes of output written by this run.
        seconds: the run's duration.
        failures: ``(window id, where it was asked, message)`` of the windows that failed.
    """

    windows: int
    skipped: int
    counts: dict[Status, int] = field(default_factory=dict)
    bytes_read: int = 0
    requests: int = 0
    written: int = 0
    seconds: float = 0.0
    failures: tuple[tuple[str, str, str], ...] = ()

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def exit_code(self) -> int:
        """0 when every window of the run was answered, 1 when one failed."""
        return 1 if self.counts.get(Status.ERROR) else 0

    def __str__(self) -> str:
        by_status = ", ".join(f"{self.counts[s]} {s.value}" for s in Status if self.counts.get(s)) or "none"
        rate = self.answered / self.seconds if self.seconds > 0 else 0.0
        per = self.requests / self.answered if self.answered else 0.0
        return (
            f"{self.windows} windows: {self.skipped} done before, {self.answered} this run ({by_status}); "
            f"{_size(self.bytes_read)} read in {self.requests} requests ({per:.2f} per window); "
            f"{_size(self.written)} written; {self.seconds:.1f} s ({rate:.1f} windows/s)"
        )


def _size(count: int) -> str:
    """Bytes as people read them: ``512 B``, ``10.8 kB``, ``3.2 MB``, ``1.5 GB``."""
    if count < 1000:
        return f"{count} B"
    value = count / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def run_job(
    windows: Sequence[JobWindow],
    *,
    directory: Path,
    writer: OutputWriter,
    executor: Executor,
    layout: Layout,
    batch_size: int = 200,
    progress: TextIO | None = None,
) -> Summary:
    """Run (or resume) the job of ``windows`` in ``directory``.

    Args:
        windows: the job's windows, with their stable ids.
        directory: the job's directory: outputs, ``manifest.jsonl``, ``failures.log``.
        writer: what writes each window's output.
        executor: what extracts the windows.
        layout: the archive's layout (names the day files batches are grouped by).
        batch_size: windows per batch at most.
        progress: where to draw a progress bar (tqdm), or None.

    Raises:
        RequestError: ``directory`` holds a job of another format.
        OSError: the directory, an output or the manifest cannot be written.
    """
    started = time.monotonic()
    with Manifest.open(directory, job={"format": writer.format}) as manifest:
        writer.open(directory)
        todo = _todo(windows, manifest, writer)
        run = _Run(manifest, writer, directory / FAILURES_NAME)
        try:
            run.go(batches(todo, layout, size=batch_size), executor, total=len(todo), progress=progress)
        finally:
            writer.finalize()
    return Summary(
        windows=len(windows),
        skipped=len(windows) - len(todo),
        counts=dict(run.counts),
        bytes_read=run.bytes_read,
        requests=run.requests,
        written=run.written,
        seconds=time.monotonic() - started,
        failures=tuple(run.failures),
    )


def _todo(windows: Sequence[JobWindow], manifest: Manifest, writer: OutputWriter) -> list[JobWindow]:
    """The windows this run extracts: those not done; with a writer of whole groups, every
    window of a group one of whose windows is not done (its example was never written)."""
    todo = [w for w in windows if not _is_done(manifest, writer, w.id)]
    if not writer.whole_groups:
        return todo
    groups = {w.group or w.id for w in todo}
    return [w for w in windows if (w.group or w.id) in groups]


def _is_done(manifest: Manifest, writer: OutputWriter, window_id: str) -> bool:
    entry = manifest.done(window_id)
    return entry is not None and (entry.file is None or writer.holds(entry.file))


class _Run:
    """The bookkeeping of one run: outputs, manifest entries, figures, failures."""

    def __init__(self, manifest: Manifest, writer: OutputWriter, failures_log: Path) -> None:
        self.manifest = manifest
        self.writer = writer
        self.failures_log = failures_log
        self.counts: Counter[Status] = Counter()
        self.bytes_read = 0
        self.requests = 0
        self.written = 0
        self.failures: list[tuple[str, str, str]] = []

    def go(self, work: Sequence[Batch], executor: Executor, *, total: int, progress: TextIO | None) -> None:
        from tqdm import tqdm

        with tqdm(total=total, unit="win", file=progress, disable=progress is None, smoothing=0.1) as bar:
            for item, result in executor.run(work):
                self.record(item, result)
                # The rate (windows/s) is tqdm's; bytes read and failures so far are ours.
                bar.set_postfix(read=_size(self.bytes_read), failed=len(self.failures), refresh=False)
                bar.update(1)

    def record(self, item: JobWindow, result: WindowResult) -> None:
        status, message, written = result.status, result.message, None
        try:
            written = self.writer.write(item, result)
        except (DataError, ArchiveError) as exc:  # samples libmseed cannot pack, a PUT refused:
            status, message = Status.ERROR, f"cannot write the output: {exc}"  # the window fails
        w = item.window
        entry = Entry(
            id=item.id,
            status=status,
            message=message,
            bytes_read=result.stats.bytes,
            requests=result.stats.requests,
            file=written.name if written else None,
            size=written.size if written else 0,
            window=f"{w.nslc} {format_time(w.start)} {format_time(w.end)}",
            source=item.source,
        )
        self.manifest.record(entry)
        self.counts[status] += 1
        self.bytes_read += entry.bytes_read
        self.requests += entry.requests
        self.written += entry.size
        if status is Status.ERROR:
            self.failures.append((item.id, item.source, message))
            with self.failures_log.open("a", encoding="utf-8") as log:
                log.write(f"{item.id} {item.source} {entry.window}: {message}\n")
