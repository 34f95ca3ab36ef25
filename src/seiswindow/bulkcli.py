"""The command line's bulk job: ``seiswindow bulk INPUT --out DIR [--format mseed|npz]
[--executor local|dask[=SCHEDULER]] [--workers N] [--before S --after S]``.

A front end: the options become a writer, an executor and the windows of the input
(patterns resolved against the archive, each window checked against the configured
limits), :func:`seiswindow.bulk.run_job` runs them, and the summary goes to stderr. Exit
status 0 when every window was answered, 1 when a window failed (the next run retries it),
2 for bad input.
"""

from __future__ import annotations

import argparse
import functools
import sys

from .archive import Archive
from .bulk import JobWindow, LocalExecutor, MseedWriter, NpzWriter, OutputWriter, read_input, resolve, run_job
from .bulk.executors import Executor
from .bulk.inputs import InputKind
from .config import Settings, open_archive
from .errors import RequestError
from .fdsn.catalog import ChannelCatalog
from .model import Limits

__all__ = ["run_bulk_job"]

#: Failures printed after the summary (all are in DIR/failures.log and the manifest).
_SHOWN_FAILURES = 20


def run_bulk_job(text: str, args: argparse.Namespace, settings: Settings) -> int:
    """Run (or resume) the job the arguments describe; returns the exit status.

    Raises:
        RequestError: the input or an option is malformed (exit status 2).
        ConfigError: the archive or the Dask scheduler cannot be reached.
    """
    from pathlib import Path

    if args.output:
        raise RequestError("give either -o (one answer) or --out (a job's directory)", field="output")
    writer = _writer(args.format or "mseed")
    executor_name, scheduler = _executor_choice(args.executor or "local")
    rows = read_input(text, kind=InputKind(args.input_format), before=args.before, after=args.after)
    archive = open_archive(settings)
    windows = resolve(rows, ChannelCatalog(archive.store, archive.layout).channels)
    _check_each(windows, settings.limits)
    executor = _executor(executor_name, scheduler, args.workers, settings, archive)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    try:
        summary = run_job(
            windows,
            directory=Path(args.out),
            writer=writer,
            executor=executor,
            layout=archive.layout,
            progress=sys.stderr if show else None,
        )
    finally:
        executor.close()
        archive.store.close()
    print(summary, file=sys.stderr)
    for wid, source, message in summary.failures[:_SHOWN_FAILURES]:
        print(f"  failed: {wid} ({source}): {message}", file=sys.stderr)
    if len(summary.failures) > _SHOWN_FAILURES:
        print(
            f"  ... {len(summary.failures) - _SHOWN_FAILURES} more in {args.out}/failures.log",
            file=sys.stderr,
        )
    return summary.exit_code


def _writer(name: str) -> OutputWriter:
    return NpzWriter() if name == "npz" else MseedWriter()


def _executor_choice(value: str) -> tuple[str, str | None]:
    """``("local", None)``, ``("dask", None)`` or ``("dask", "tcp://host:8786")``.

    Raises:
        RequestError: another executor is named.
    """
    name, _, scheduler = value.partition("=")
    if name == "local" and not scheduler:
        return name, None
    if name == "dask":
        return name, scheduler or None
    raise RequestError(
        f"{value!r} is not an executor: use local, dask or dask=tcp://host:8786", field="executor"
    )


def _executor(
    name: str, scheduler: str | None, workers: int | None, settings: Settings, archive: Archive
) -> Executor:
    if workers is not None and workers < 1:
        raise RequestError("must be at least 1", field="workers")
    if name == "local":
        # The executor gets an archive of its own: it closes it when done.
        return LocalExecutor(open_archive(settings, check=False), workers=workers or settings.max_workers)
    from .bulk.dask import DaskExecutor

    opener = functools.partial(open_archive, settings, check=False)
    return DaskExecutor(opener, address=scheduler, workers=workers or 2)


def _check_each(windows: list[JobWindow], limits: Limits) -> None:
    """Each window within the configured limits (its length, its samples), as a request
    of one window is: a job has no limit on the number of windows, only on each.

    Raises:
        LimitExceeded: a window is over a limit (the message names its line).
    """
    for item in windows:
        try:
            limits.check([item.window])
        except RequestError as exc:
            raise type(exc)(f"{item.source}: {exc.detail}", field=exc.field) from None
