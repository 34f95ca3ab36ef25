"""The command line: ``seiswindow get``, ``bulk``, ``serve`` and ``index build``.

A thin front-end: parse arguments into settings and windows, call the extractor, hand
results to an encoder, write the bytes it returns. Exit status: 0 when every window was
answered (ok, partial or nodata), 1 when a window failed (error), 2 for bad input.

Codes may hold FDSN wildcards (``CI.*..BH?``, ``*`` and ``?``, comma lists): they are resolved
to the channels the archive holds on the window's days, as FDSN dataselect resolves them.
The output's format comes from ``--format`` or its extension (``.json``; ``.mseed``,
``.miniseed``, ``.ms``; ``.sac``, ``.zip``, ``.saca``, ``.csv``, ``.txt``, ``.png``, ``.wav``: the
formats of IRIS's timeseries service, :mod:`seiswindow.formats`; ``.manifest.json``: where
each window's records lie, :mod:`seiswindow.manifest`); any other is an error before
anything is read, and the file is written whole or not at all. IRIS's processing steps
(``--demean --bp 0.1-2 --correct``...) apply in the order given (:mod:`seiswindow.process`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from ._version import version
from .archive import Archive
from .archives import Archives
from .clioutput import MANIFEST, STEP_OPTIONS, Step, output_format, write, write_manifest
from .config import Settings, open_archive, open_archives, open_extractor
from .errors import ArchiveError, ConfigError, NoSuchKey, RequestError, SeisWindowError
from .model import Status, Window, WindowResult, parse_windows
from .nstime import format_time, parse_time
from .process import parse_chain
from .timeseries import Timeseries

if TYPE_CHECKING:
    from .indexbuild import BuildReport
    from .tsindex import IndexStore

__all__ = ["ChannelPattern", "main", "read_bulk"]

#: Header names a CSV's first line may give its columns (any case), in the columns' order.
_HEADER_NAMES = (
    ("net", "network"),
    ("sta", "station"),
    ("loc", "location"),
    ("cha", "channel"),
    ("start", "starttime", "start_time"),
    ("end", "endtime", "end_time"),
)


@dataclass(frozen=True, slots=True)
class ChannelPattern:
    """A window whose codes hold FDSN wildcards: one window per channel it names."""

    codes: tuple[str, str, str, str]
    start: int
    end: int

    @classmethod
    def of(cls, codes: Sequence[str], start: str, end: str, *, index: int) -> Window | ChannelPattern:
        """A :class:`Window` when the codes are literal, else the pattern.

        Raises:
            RequestError: a code or time is malformed.
        """
        if not any(c in code for code in codes for c in "*?,"):
            net, sta, loc, cha = codes
            return Window.create(net, sta, loc, cha, start, end, index=index)
        t0 = parse_time(start, field="Starttime", index=index)
        t1 = parse_time(end, field="Endtime", index=index)
        if t1 <= t0:
            raise RequestError("must be after Starttime", field="Endtime", index=index)
        net, sta, loc, cha = codes
        return cls((net, sta, loc, cha), t0, t1)

    def __str__(self) -> str:
        return f"{'.'.join(self.codes)} {format_time(self.start)} {format_time(self.end)}"


def _is_header(fields: list[str]) -> bool:
    return len(fields) == 6 and all(
        f.lower() in names for f, names in zip(fields, _HEADER_NAMES, strict=True)
    )


def read_bulk(text: str) -> list[Window | ChannelPattern]:
    """Windows from a bulk file: the tutorial's request JSON (``{"Windows": [...]}``), or
    lines ``NET STA LOC CHA START END`` (spaces or commas; ``--`` or an empty field for a
    blank location; ``#`` starts a comment; a first line naming the columns, e.g.
    ``network,station,location,channel,starttime,endtime``, is skipped). Codes with FDSN
    wildcards make a :class:`ChannelPattern`.

    Raises:
        RequestError: a line or window is malformed (the message names its number).
    """
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark, as the HTTP doors accept
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            body = orjson.loads(text)  # bounded nesting, unlike json
        except orjson.JSONDecodeError as exc:
            raise RequestError(f"invalid JSON: {exc}") from None
        return list(parse_windows(body))
    windows: list[Window | ChannelPattern] = []
    seen_line = False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
        first, seen_line = not seen_line, True
        if first and _is_header(fields):
            continue
        if len(fields) != 6:
            raise RequestError(
                f"line {number}: expected NET STA LOC CHA START END, got {len(fields)} fields",
                index=len(windows),
            )
        windows.append(ChannelPattern.of(fields[:4], fields[4], fields[5], index=len(windows)))
    if not windows:
        raise RequestError("the bulk file holds no window")
    return windows


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        archive=args.archive,
        layout=args.layout,
        endpoint_url=args.endpoint_url,
        stations=getattr(args, "stations", None),  # serve only
        index=getattr(args, "index", None),
    )


def _resolved(items: Sequence[Window | ChannelPattern], archives: Archives) -> list[Window]:
    """The windows of ``items``, patterns resolved to the channels the archives hold (each
    channel from the archive that serves its network).

    Raises:
        RequestError: a pattern matches no channel of the archives in its span.
    """
    if all(isinstance(item, Window) for item in items):
        return [item for item in items if isinstance(item, Window)]
    from .fdsn.catalog import ChannelCatalog
    from .fdsn.codes import parse_codes
    from .fdsn.request import Selection

    catalogs = [ChannelCatalog(archive.store, archive.layout) for archive in archives]
    windows: list[Window] = []
    for item in items:
        if isinstance(item, Window):
            windows.append(item)
            continue
        net, sta, loc, cha = item.codes
        selection = Selection(
            parse_codes(net, "network"),
            parse_codes(sta, "station"),
            parse_codes(loc, "location"),
            parse_codes(cha, "channel"),
            item.start,
            item.end,
        )
        channels = [
            nslc
            for i, catalog in enumerate(catalogs)
            if any(not p.is_literal or archives.routes[i].serves(p.text) for p in selection.network)
            for nslc in catalog.channels(selection)
            if archives.index_of(nslc.network) == i
        ]
        if not channels:
            raise RequestError(f"no channel of {', '.join(a.url for a in archives)} matches {item}")
        windows.extend(Window(*nslc, item.start, item.end) for nslc in channels)
    return windows  # the extractor checks them against the limits, as every other request


def _progress(done: int, total: int, stream: TextIO, *, unit: str = "windows") -> None:
    width = 30
    filled = width * done // total
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}")
    if done == total:
        stream.write("\n")
    stream.flush()


def _run(items: Sequence[Window | ChannelPattern], args: argparse.Namespace) -> int:
    # Nothing is read before the output's format and the processing are known to be good.
    fmt = output_format(args.output, args.format)
    chain = parse_chain(getattr(args, "process", None) or [])
    settings = _settings(args)
    archives = open_archives(settings)
    windows = _resolved(items, archives)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    results: list[WindowResult | None] = [None] * len(windows)
    with open_extractor(settings, archives) as extractor:
        if fmt == MANIFEST:
            return write_manifest(extractor, windows, args.output)
        timeseries = Timeseries(extractor)
        for done, (i, result) in enumerate(extractor.iter_extract(windows), start=1):
            results[i] = timeseries.process(result, chain, strict=False)
            if show:
                _progress(done, len(windows), sys.stderr)
        answered = [r for r in results if r is not None]
        written = write(
            answered,
            args.output,
            fmt=fmt,
            segments=args.segments,
            timeseries=timeseries,
            chain=chain,
            audio_rate=args.audio_rate,
        )
    if not written:
        print(f"no samples: {args.output} not written", file=sys.stderr)
    counts = Counter(r.status for r in answered)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts[s])
    print(f"{len(answered)} windows: {summary}", file=sys.stderr)
    for i, result in enumerate(answered):
        if result.status is not Status.OK and result.message:
            print(
                f"  window {i} {result.window.nslc}: {result.status.value}: {result.message}", file=sys.stderr
            )
    return 1 if counts[Status.ERROR] else 0


def _cmd_get(args: argparse.Namespace) -> int:
    codes = args.nslc.split(".")
    if len(codes) != 4:
        raise RequestError(f"{args.nslc!r} is not NET.STA.LOC.CHA (e.g. CI.WBM..LHZ)", field="nslc")
    return _run([ChannelPattern.of(codes, args.start, args.end, index=0)], args)


def _cmd_bulk(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"{args.file} is not UTF-8 text: {exc}") from None
    if args.out is not None:
        from .bulkcli import run_bulk_job

        return run_bulk_job(text, args, _settings(args))
    job_only = [
        f"--{name}" for name in ("executor", "workers", "before", "after", "state") if getattr(args, name)
    ]
    if job_only or args.input_format != "auto":
        raise RequestError(
            f"{', '.join(job_only) or '--input-format'}: a bulk job needs --out DIR", field="out"
        )
    return _run(read_bulk(text), args)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .http import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def _index_keys(archive: Archive, pattern: str, start: int, end: int) -> list[str]:
    """The day files of the channels ``pattern`` names (FDSN wildcards resolved per day
    through the channel catalog, as ``get`` resolves them) on the UTC days of ``[start, end)``.

    Raises:
        RequestError: the pattern is not NET.STA.LOC.CHA.
        ArchiveError: the archive could not be listed.
    """
    from .fdsn.catalog import ChannelCatalog
    from .fdsn.codes import parse_codes
    from .fdsn.request import Selection

    codes = pattern.split(".")
    if len(codes) != 4:
        raise RequestError(f"{pattern!r} is not NET.STA.LOC.CHA (e.g. CI.*..BH?)", field="channels")
    net, sta, loc, cha = (
        parse_codes(code, name)
        for code, name in zip(codes, ("network", "station", "location", "channel"), strict=True)
    )
    catalog = ChannelCatalog(archive.store, archive.layout)
    day_ns = 86_400 * 1_000_000_000
    keys: list[str] = []
    for first in range(start - start % day_ns, end, day_ns):
        day = dt.date(1970, 1, 1) + dt.timedelta(days=first // day_ns)
        selection = Selection(net, sta, loc, cha, first, first + day_ns - 1)
        keys.extend(archive.layout.key(nslc, day) for nslc in catalog.channels(selection))
    return keys


def _cmd_index_build(args: argparse.Namespace) -> int:
    from .indexbuild import build_index
    from .tsindex import IndexStore

    start = parse_time(args.start, field="start")
    end = parse_time(args.end, field="end")
    if end <= start:
        raise RequestError("must be after --start", field="end")
    if not args.db and not args.publish:
        raise RequestError("give --db DB, --publish s3://bucket/prefix, or both", field="db")
    settings = _settings(args)
    archive = open_archive(settings)
    keys = _index_keys(archive, args.channels, start, end)
    if not keys:
        span = f"between {args.start} and {args.end}"
        raise RequestError(f"no channel of {archive.url} matches {args.channels} {span}")
    show = args.progress if args.progress is not None else sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        _progress(done, total, sys.stderr, unit="files")

    options: dict[str, Any] = {
        "max_workers": args.workers or min(8, settings.max_workers),
        "reclen": archive.layout.record_length,
        "subindex": args.subindex,
        "progress": progress if show and keys else None,
    }
    db = IndexStore(args.db) if args.db else None
    try:
        if args.publish:
            report = _publish(archive, keys, args.publish, settings, db, options)
        else:
            assert db is not None
            report = build_index(archive.store, keys, db, **options)
    finally:
        if db is not None:
            db.close()
    print(
        f"{len(keys)} files: {report.indexed} indexed ({report.rows} rows), {report.skipped} unchanged, "
        f"{report.missing} missing, {len(report.failed)} failed",
        file=sys.stderr,
    )
    for key, why in report.failed:
        print(f"  {key}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


def _publish(
    archive: Archive,
    keys: list[str],
    url: str,
    settings: Settings,
    db: IndexStore | None,
    options: dict[str, Any],
) -> BuildReport:
    """Publish the index objects of ``keys`` under ``url`` (and into ``db`` when given).

    Raises:
        ConfigError: the prefix cannot be listed.
    """
    from .bulk.sinks import S3Sink
    from .config import index_prefix
    from .sharedindex import check_prefix, publish_index

    shared = replace(settings, index=url)
    prefix = index_prefix(shared)
    try:
        try:
            check_prefix(prefix)
        except (ArchiveError, NoSuchKey) as exc:
            raise ConfigError(f"--publish {url!r}: the prefix cannot be read: {exc}") from None
        writer = S3Sink(url, endpoint_url=settings.endpoint_url)
        return publish_index(archive.store, keys, prefix, writer, db=db, **options)
    finally:
        prefix.close()


def _job_arguments(bulk: argparse.ArgumentParser) -> None:
    job = bulk.add_argument_group(
        "bulk job (with --out)",
        "a resumable job: one output per window in DIR and DIR/manifest.jsonl; the same command "
        "again skips the windows done and retries the failed ones",
    )
    job.add_argument("--out", metavar="DIR|s3://bucket/prefix", help="the job's directory, or an S3 prefix")
    job.add_argument(
        "--state",
        metavar="DIR",
        help="with --out s3://...: where the manifest is kept while the job runs "
        "(default: .seiswindow-jobs/<hash of the URL>)",
    )
    job.add_argument(
        "--executor",
        metavar="local|dask[=SCHEDULER]|lambda=FUNCTION",
        help="local (default: a pool in this process), dask (a LocalCluster of --workers processes), "
        "dask=tcp://host:8786, or lambda=FUNCTION (invocations of the deployed seiswindow function)",
    )
    job.add_argument(
        "--workers",
        type=int,
        help="local: day files read at once (16); dask: worker processes (2); "
        "lambda: invocations in flight (10)",
    )
    job.add_argument("--before", type=float, help="pick lists: seconds before each pick")
    job.add_argument("--after", type=float, help="pick lists: seconds after each pick")
    job.add_argument(
        "--input-format",
        choices=("auto", "json", "fdsn", "csv", "picks"),
        default="auto",
        help="what FILE holds (default: told from its content)",
    )


def _parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(
        prog="seiswindow",
        description="Cut time windows of seismic waveforms out of cloud seismic archives.",
    )
    parser.add_argument("--version", action="version", version=f"seiswindow {version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--archive",
        help="s3://bucket[/prefix], a local directory, or 'demo'; or several archives, "
        "'URL[?layout=NAME&region=NAME]=NET,NET;...' (default: $SEISWINDOW_ARCHIVE or s3://scedc-pds)",
    )
    common.add_argument(
        "--layout", help="scedc, ncedc, sds, geonet or earthscope (default: from the archive name)"
    )
    common.add_argument("--endpoint-url", help="another S3 endpoint (default: $AWS_ENDPOINT_URL_S3)")
    indexed = argparse.ArgumentParser(add_help=False)
    indexed.add_argument(
        "--index",
        help="the record index, a tsindex SQLite database built by 'seiswindow index build', or "
        "s3://bucket/prefix of a shared one ('index build --publish'; docs/index.md; default: "
        "$SEISWINDOW_INDEX, or none)",
    )
    extracting = argparse.ArgumentParser(add_help=False)
    extracting.add_argument(
        "-o",
        "--output",
        help="file.json (default: JSON on stdout), .mseed / .miniseed / .ms (miniSEED), .sac, .zip "
        "(SAC files), .saca, .csv (GeoCSV), .txt (tspair), .png (plot), .wav; written whole or not at all",
    )
    extracting.add_argument("--segments", action="store_true", help="JSON: one object per contiguous segment")
    extracting.add_argument(
        "--format",
        help="json, miniseed, manifest (where each window's records lie in the archive, for workers "
        "that fetch them), sac (a zip when several traces), sac.zip, sacbl, sacbb, saca, geocsv, "
        "geocsv.slist, tspair, slist, plot, audio (default: from the output's extension); a bulk job's "
        "output (bulk --out): mseed (default), npz, or seisbench (a SeisBench data set: one example per "
        "station of each pick; a local directory)",
    )
    extracting.add_argument("--audio-rate", type=int, default=1000, help="WAV playback rate in Hz")
    steps = extracting.add_argument_group("processing (IRIS timeseries' steps, applied in the order given)")
    for name, metavar, what in STEP_OPTIONS:
        steps.add_argument(f"--{name}", action=Step, nargs=None if metavar else 0, metavar=metavar, help=what)
    extracting.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    get = commands.add_parser(
        "get",
        parents=[common, indexed, extracting],
        help="one window",
        description="Extract one window, e.g. seiswindow get CI.WBM..LHZ 2022-01-01T23:55 2022-01-02T00:05",
    )
    get.add_argument(
        "nslc", help="NET.STA.LOC.CHA, e.g. CI.WBM..LHZ (blank location: '' or --); FDSN wildcards: CI.*..BH?"
    )
    get.add_argument("start", help="ISO 8601 UTC start, e.g. 2022-01-01T23:55:00")
    get.add_argument("end", help="ISO 8601 UTC end")
    get.set_defaults(func=_cmd_get)

    bulk = commands.add_parser(
        "bulk",
        parents=[common, indexed, extracting],
        help="many windows from a file",
        description="Extract the windows of FILE: the tutorial's request JSON, FDSN POST text, lines "
        "'NET STA LOC CHA START END' (spaces or commas), or a pick list (CSV with a header: network, "
        "station, location, channel, time, phase, event, before, after) ('-' reads stdin). Without "
        "--out, one answer (-o); with --out DIR, a resumable job.",
    )
    bulk.add_argument("file")
    _job_arguments(bulk)
    bulk.set_defaults(func=_cmd_bulk)

    index = commands.add_parser("index", help="the record index (tsindex SQLite, or shared under S3)")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    build = index_commands.add_parser(
        "build",
        parents=[common],
        help="index day files",
        description="Index the day files of CHANNELS between START and END into the SQLite "
        "database DB (EarthScope's tsindex schema, read by ObsPy's TSIndex client); files already "
        "indexed at the same size and ETag are skipped, changed ones indexed anew; with --publish, "
        "one object per day file under an S3 prefix that services share (docs/index.md).",
    )
    build.add_argument("--db", help="the SQLite database (created when missing)")
    build.add_argument(
        "--publish",
        metavar="s3://bucket/prefix",
        help="publish a shared index: one object per day file under the prefix (files whose "
        "object holds their current size and ETag are skipped; docs/index.md)",
    )
    build.add_argument("--start", required=True, help="first UTC day (or time), e.g. 2022-01-02")
    build.add_argument("--end", required=True, help="end (exclusive), e.g. 2022-01-03")
    build.add_argument(
        "--channels", required=True, help="NET.STA.LOC.CHA with FDSN wildcards, e.g. 'CI.*..BH?'"
    )
    build.add_argument("--workers", type=int, default=0, help="files read at once (default: 8)")
    build.add_argument(
        "--subindex",
        type=int,
        default=None,
        help="seconds between time-index entries as mseedindex -si (default: every record, exact)",
    )
    build.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    build.set_defaults(func=_cmd_index_build)

    serve = commands.add_parser("serve", parents=[common, indexed], help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument(
        "--stations",
        help="station table (FDSN station text file, path or s3://bucket/key): coordinates of stations "
        "with day files but no StationXML, so fdsnws-station lists them (default: $SEISWINDOW_STATIONS)",
    )
    serve.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RequestError as exc:
        print(f"seiswindow: bad request: {exc}", file=sys.stderr)
        return 2
    except (SeisWindowError, OSError) as exc:
        print(f"seiswindow: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
