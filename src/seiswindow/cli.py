"""The command line: ``seiswindow get``, ``seiswindow bulk``, ``seiswindow serve``.

A thin front-end: parse arguments into settings and windows, call the extractor, hand
results to an encoder, write the bytes it returns. Exit status: 0 when every window was
answered (ok, partial or nodata), 1 when a window failed (error), 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import orjson

from ._version import version
from .config import Settings, open_archive
from .errors import RequestError, SeisWindowError
from .extract import Extractor
from .model import Status, Window, WindowResult, parse_windows

__all__ = ["main", "read_bulk"]


def read_bulk(text: str) -> list[Window]:
    """Windows from a bulk file: the tutorial's request JSON (``{"Windows": [...]}``), or
    lines ``NET STA LOC CHA START END`` (spaces or commas; ``--`` or an empty field for a
    blank location; ``#`` starts a comment).

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
        return parse_windows(body)
    windows: list[Window] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
        if len(fields) != 6:
            raise RequestError(
                f"line {number}: expected NET STA LOC CHA START END, got {len(fields)} fields",
                index=len(windows),
            )
        windows.append(Window.create(*fields, index=len(windows)))
    if not windows:
        raise RequestError("the bulk file holds no window")
    return windows


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(archive=args.archive, layout=args.layout, endpoint_url=args.endpoint_url)


def _write(results: list[WindowResult], output: str | None, *, segments: bool) -> None:
    from .encode import encode_json, encode_mseed

    if output and output.lower().endswith((".mseed", ".miniseed", ".ms")):
        Path(output).write_bytes(encode_mseed(results))
    else:
        body = encode_json(results, segments=segments)
        if output and output != "-":
            Path(output).write_bytes(body)
        else:
            sys.stdout.buffer.write(body + b"\n")
            sys.stdout.flush()


def _progress(done: int, total: int, stream: TextIO) -> None:
    width = 30
    filled = width * done // total
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} windows")
    if done == total:
        stream.write("\n")
    stream.flush()


def _run(windows: list[Window], args: argparse.Namespace) -> int:
    settings = _settings(args)
    archive = open_archive(settings)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    results: list[WindowResult | None] = [None] * len(windows)
    with Extractor(archive, limits=settings.limits, max_workers=settings.max_workers) as extractor:
        for done, (i, result) in enumerate(extractor.iter_extract(windows), start=1):
            results[i] = result
            if show:
                _progress(done, len(windows), sys.stderr)
    answered = [r for r in results if r is not None]
    _write(answered, args.output, segments=args.segments)
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
    return _run([Window.from_nslc(args.nslc, args.start, args.end)], args)


def _cmd_bulk(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"{args.file} is not UTF-8 text: {exc}") from None
    return _run(read_bulk(text), args)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .http import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def _parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(
        prog="seiswindow",
        description="Cut time windows of seismic waveforms out of cloud seismic archives.",
    )
    parser.add_argument("--version", action="version", version=f"seiswindow {version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--archive",
        help="s3://bucket[/prefix], a local directory, or 'demo' (default: $SEISWINDOW_ARCHIVE "
        "or s3://scedc-pds)",
    )
    common.add_argument("--layout", help="scedc or ncedc (default: from the archive name)")
    common.add_argument("--endpoint-url", help="another S3 endpoint (default: $AWS_ENDPOINT_URL_S3)")
    extracting = argparse.ArgumentParser(add_help=False)
    extracting.add_argument(
        "-o", "--output", help="file.json (default: JSON on stdout) or file.mseed (miniSEED)"
    )
    extracting.add_argument("--segments", action="store_true", help="JSON: one object per contiguous segment")
    extracting.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    get = commands.add_parser(
        "get",
        parents=[common, extracting],
        help="one window",
        description="Extract one window, e.g. seiswindow get CI.WBM..LHZ 2022-01-01T23:55 2022-01-02T00:05",
    )
    get.add_argument("nslc", help="NET.STA.LOC.CHA, e.g. CI.WBM..LHZ (blank location: '' or --)")
    get.add_argument("start", help="ISO 8601 UTC start, e.g. 2022-01-01T23:55:00")
    get.add_argument("end", help="ISO 8601 UTC end")
    get.set_defaults(func=_cmd_get)

    bulk = commands.add_parser(
        "bulk",
        parents=[common, extracting],
        help="many windows from a file",
        description="Extract the windows of FILE: the tutorial's request JSON, or lines "
        "'NET STA LOC CHA START END' ('-' reads stdin).",
    )
    bulk.add_argument("file")
    bulk.set_defaults(func=_cmd_bulk)

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
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
