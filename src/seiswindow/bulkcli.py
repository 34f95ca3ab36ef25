"""The command line's bulk job: ``seiswindow bulk INPUT --out DIR_OR_S3_PREFIX
[--format mseed|npz|seisbench] [--executor local|dask[=SCHEDULER]|lambda=FUNCTION] [--workers N]
[--before S --after S]``.

With ``--out s3://bucket/prefix`` the outputs are objects under the prefix; the manifest is
kept in a local state directory while the job runs (``--state``; S3 objects cannot be
appended to) and published under the prefix when the run ends, killed runs excepted. A run
on a machine without the state directory starts from the published manifest. A SeisBench
data set (``--format seisbench``) is one HDF5 file appended to in place: it needs a local
``--out DIR`` (copy it to S3 when the job is done).

A front end: the options become a writer, an executor and the windows of the input
(patterns resolved against the archive, each window checked against the configured
limits), :func:`seiswindow.bulk.run_job` runs them, and the summary goes to stderr. Exit
status 0 when every window was answered, 1 when a window failed (the next run retries it),
2 for bad input.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
from pathlib import Path

from .bulk import (
    MANIFEST_NAME,
    JobWindow,
    LocalExecutor,
    MseedWriter,
    NpzWriter,
    OutputWriter,
    S3Sink,
    Sink,
    read_input,
    resolve,
    run_job,
    write_whole,
)
from .bulk.executors import Executor
from .bulk.inputs import InputKind
from .bulk.job import FAILURES_NAME
from .config import Settings, open_archives, open_index, round_cost
from .errors import ConfigError, RequestError
from .fdsn.routedcatalog import RoutedCatalog
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
    if args.output:
        raise RequestError("give either -o (one answer) or --out (a job's directory)", field="output")
    if args.segments:
        raise RequestError("--segments shapes a JSON answer (-o), not a job's files", field="segments")
    job_format = _job_format(args.format)
    to_s3 = args.out.startswith("s3://")
    if to_s3 and job_format == "seisbench":
        raise RequestError(
            "a SeisBench data set is an HDF5 file written in place: give a local --out DIR "
            "(and copy the directory to S3 when the job is done)",
            field="out",
        )
    sink = S3Sink(args.out, endpoint_url=settings.endpoint_url) if to_s3 else None
    directory = _state_directory(args) if sink is not None else Path(args.out)
    executor_name, scheduler = _executor_choice(args.executor or "local")
    rows = read_input(text, kind=InputKind(args.input_format), before=args.before, after=args.after)
    archives = open_archives(settings)
    windows = resolve(rows, RoutedCatalog(archives).channels)
    _check_each(windows, settings.limits)
    writer = _writer(job_format, sink, windows)
    executor = _executor(executor_name, scheduler, args.workers, settings)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    if sink is not None:
        _fetch_manifest(sink, directory)
    try:
        summary = run_job(
            windows,
            directory=directory,
            writer=writer,
            executor=executor,
            layout=archives.primary.layout,  # batches by day file: locality only
            progress=sys.stderr if show else None,
        )
    finally:
        executor.close()
        for archive in archives:
            archive.store.close()
        if sink is not None:
            _publish(sink, directory)
    print(summary, file=sys.stderr)
    for wid, source, message in summary.failures[:_SHOWN_FAILURES]:
        print(f"  failed: {wid} ({source}): {message}", file=sys.stderr)
    if len(summary.failures) > _SHOWN_FAILURES:
        print(
            f"  ... {len(summary.failures) - _SHOWN_FAILURES} more in {args.out}/failures.log",
            file=sys.stderr,
        )
    return summary.exit_code


def _job_format(asked: str | None) -> str:
    """``mseed``, ``npz`` or ``seisbench``: the format of a job's output (``--format``,
    default miniSEED).

    Raises:
        RequestError: a format of one answer (``-o``), not of a job's output.
    """
    formats = {None: "mseed", "mseed": "mseed", "miniseed": "mseed", "npz": "npz", "seisbench": "seisbench"}
    if asked not in formats:
        raise RequestError(
            f"a job writes mseed or npz files or a seisbench data set, not {asked}", field="format"
        )
    return formats[asked]


def _writer(name: str, sink: Sink | None, windows: list[JobWindow]) -> OutputWriter:
    """The job's writer; a SeisBench data set's examples are planned (and checked) here.

    Raises:
        RequestError: the windows cannot be SeisBench examples (the message names the line).
        ConfigError: h5py, which writes SeisBench's HDF5 file, is not installed.
    """
    if name == "seisbench":
        try:
            import h5py  # noqa: F401 - the SeisBench writer's one optional dependency
        except ImportError:
            raise ConfigError("--format seisbench needs h5py: pip install 'seiswindow[seisbench]'") from None
        from .bulk.seisbenchout import SeisBenchOutput

        return SeisBenchOutput(windows)
    return NpzWriter(sink=sink) if name == "npz" else MseedWriter(sink=sink)


def _state_directory(args: argparse.Namespace) -> Path:
    """Where the manifest of a job writing to S3 is kept while it runs: ``--state``, or
    ``.seiswindow-jobs/<hash of the URL>`` in the working directory."""
    if args.state:
        return Path(args.state)
    return Path(".seiswindow-jobs") / hashlib.sha256(args.out.encode()).hexdigest()[:16]


def _fetch_manifest(sink: S3Sink, directory: Path) -> None:
    """A job resumed where its state directory is missing (another machine) starts from
    the manifest published under the prefix.

    Raises:
        ArchiveError: the prefix cannot be listed or the manifest read.
    """
    if (directory / MANIFEST_NAME).exists():
        return
    sink.open()
    published = sink.get(MANIFEST_NAME)
    if published is not None:
        directory.mkdir(parents=True, exist_ok=True)
        write_whole(directory / MANIFEST_NAME, published)


def _publish(sink: S3Sink, directory: Path) -> None:
    """The manifest and the failures' log, copied under the prefix (each whole)."""
    for name in (MANIFEST_NAME, FAILURES_NAME):
        if (directory / name).exists():
            sink.put(name, (directory / name).read_bytes())


def _executor_choice(value: str) -> tuple[str, str | None]:
    """``("local", None)``, ``("dask", None)``, ``("dask", "tcp://host:8786")`` or
    ``("lambda", "FUNCTION")``.

    Raises:
        RequestError: another executor is named.
    """
    name, _, scheduler = value.partition("=")
    if name == "local" and not scheduler:
        return name, None
    if name == "dask":
        return name, scheduler or None
    if name == "lambda" and scheduler:
        return name, scheduler
    raise RequestError(
        f"{value!r} is not an executor: use local, dask, dask=tcp://host:8786 or lambda=FUNCTION",
        field="executor",
    )


def _executor(name: str, scheduler: str | None, workers: int | None, settings: Settings) -> Executor:
    """The executor named (``scheduler``: dask's address, or the Lambda function).

    Raises:
        RequestError: ``workers`` is not positive.
        ConfigError: the record index, ``distributed`` or the scheduler is missing.
    """
    if workers is not None and workers < 1:
        raise RequestError("must be at least 1", field="workers")
    if name == "lambda" and scheduler:
        # The function reads the archive (and its own index); boto3 finds its endpoint
        # (AWS_ENDPOINT_URL_LAMBDA) and region itself.
        from .bulk.awslambda import LambdaExecutor

        return LambdaExecutor(scheduler, workers=workers or 10)
    index = open_index(settings)  # a bad index is an error now, before any window
    cost = round_cost(settings)
    if name == "local":
        # The executor gets archives of its own: it closes them (and the index) when done.
        return LocalExecutor(
            open_archives(settings, check=False),
            workers=workers or settings.max_workers,
            index=index,
            round_cost=cost,
        )
    if index is not None:
        index.close()  # each worker opens the index itself
    from .bulk.dask import DaskExecutor

    opener = functools.partial(open_archives, settings, check=False)
    # A shared index (s3://) is opened in each worker, with a cache of its own.
    shared = bool(settings.index and settings.index.startswith("s3://"))
    in_worker = functools.partial(open_index, settings) if shared else settings.index
    return DaskExecutor(opener, index=in_worker, round_cost=cost, address=scheduler, workers=workers or 2)


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
