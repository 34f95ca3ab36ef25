"""The command line's outputs: the format an output names (``--format`` or its extension),
IRIS's processing steps as options, and writing an answer whole (a file is written whole or
not at all; stdout as it comes). :mod:`seiswindow.cli` is the front end that uses them."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Literal

import orjson

from .errors import RequestError
from .extract import Extractor
from .formats import FORMAT_NAMES, Format, parse_format
from .model import Status, Window, WindowResult
from .process import Chain
from .timeseries import Timeseries

__all__ = ["MANIFEST", "STEP_OPTIONS", "Step", "output_format", "write", "write_manifest"]

_MANIFEST_SUFFIX = ".manifest.json"
#: The formats of a bulk job's files only (``bulk --out``), not of one answer (``-o``).
_JOB_FORMATS = ("npz", "seisbench")
#: The manifest: not a file of samples (:mod:`seiswindow.manifest`).
MANIFEST: Literal["manifest"] = "manifest"
#: The format an output's extension names.
_SUFFIXES = {
    ".json": Format.JSON,
    ".mseed": Format.MINISEED,
    ".miniseed": Format.MINISEED,
    ".ms": Format.MINISEED,
    ".sac": Format.SAC,
    ".zip": Format.SAC_ZIP,
    ".saca": Format.SACA,
    ".csv": Format.GEOCSV_TSPAIR,
    ".txt": Format.TSPAIR,
    ".png": Format.PLOT,
    ".wav": Format.AUDIO,
}
#: Processing options: ``--name VALUE`` (or a flag), applied in the order given.
STEP_OPTIONS = (
    ("demean", None, "remove the mean"),
    ("detrend", None, "remove the least-squares line"),
    ("taper", "WIDTH[,TYPE]", "taper WIDTH (0-0.5) of each end; HANNING, HAMMING or COSINE"),
    ("lp", "FREQ", "4-pole low-pass (Hz)"),
    ("hp", "FREQ", "4-pole high-pass (Hz)"),
    ("bp", "F1-F2", "4-pole band-pass (Hz)"),
    ("scale", "X|AUTO", "multiply by X; AUTO: divide by the instrument sensitivity"),
    ("divscale", "X", "divide by X"),
    ("correct", None, "remove the instrument response (StationXML of the archive)"),
    ("units", "DEF|DIS|VEL|ACC", "the correction's output"),
    ("freqlimits", "F1-F2-F3-F4", "the correction's pre-filter"),
    ("autolimits", "LO-HI", "the correction's pass band, dB down from the peak (default 3-3)"),
    ("envelope", None, "the envelope"),
    ("diff", None, "differentiate"),
    ("int", None, "integrate"),
    ("decimate", "RATE", "decimate to RATE Hz"),
)


def output_format(output: str | None, named: str | None = None) -> Format | Literal["manifest"]:
    """The answer's format: ``--format`` when given, else from the output's extension
    (stdout: JSON); :data:`MANIFEST` for the manifest.

    Raises:
        RequestError: the name or the extension names no format seiswindow writes.
    """
    if named:
        if named.strip().lower() == MANIFEST:
            return MANIFEST
        if named.strip().lower() in _JOB_FORMATS:
            raise RequestError(f"{named} is the format of a bulk job's files: give --out DIR", field="format")
        try:
            return parse_format(named, "format")
        except RequestError:
            known = ", ".join([*FORMAT_NAMES, MANIFEST])
            raise RequestError(f"expected one of {known}, got {named!r}", field="format") from None
    if not output or output == "-":
        return Format.JSON
    if output.lower().endswith(_MANIFEST_SUFFIX):
        return MANIFEST
    suffix = Path(output).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    known = ", ".join([*_SUFFIXES, _MANIFEST_SUFFIX])
    raise RequestError(
        f"cannot tell the format of {output!r} from its extension: use {known}, or --format", field="output"
    )


def write(
    results: list[WindowResult],
    output: str | None,
    *,
    fmt: Format,
    segments: bool,
    timeseries: Timeseries,
    chain: Chain,
    audio_rate: int,
) -> bool:
    """Write the answer; False when there is nothing to write (a file of no sample)."""
    from .encode import encode_json

    if fmt is Format.JSON:
        body = bytes(encode_json(results, segments=segments))
        if not output or output == "-":
            sys.stdout.buffer.write(body + b"\n")
            sys.stdout.flush()
            return True
    else:
        rendered = timeseries.render(results, fmt, chain=chain, audio_rate=audio_rate).rendered
        if rendered is None:
            return False
        body = rendered.body
        if not output or output == "-":
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
            return True
    _write_whole(Path(output), body)
    return True


def _write_json(body: bytes, output: str | None) -> bool:
    if not output or output == "-":
        sys.stdout.buffer.write(body + b"\n")
        sys.stdout.flush()
    else:
        _write_whole(Path(output), body)
    return True


def write_manifest(extractor: Extractor, windows: list[Window], output: str | None) -> int:
    """Write where each window's records lie (no sample decoded); 1 when a window failed."""
    import time

    from .manifest import Manifester, manifest_document

    submitted = time.time_ns()
    manifests = Manifester(extractor, max_parallel=8).manifests(windows)
    doc = manifest_document(
        manifests, archive=extractor.archive, request_time=submitted, archives=extractor.archives
    )
    _write_json(orjson.dumps(doc, option=orjson.OPT_INDENT_2), output)
    counts = Counter(m.status for m in manifests)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts[s])
    ranges = sum(len(m.spans) for m in manifests)
    print(f"{len(manifests)} windows: {summary}; {ranges} byte ranges", file=sys.stderr)
    return 1 if counts[Status.ERROR] else 0


def _write_whole(path: Path, body: bytes) -> None:
    """Write ``path`` whole or not at all: a failed or killed write leaves no partial file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Step(argparse.Action):
    """Collects processing options in the order they are given (``args.process``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        steps = list(getattr(namespace, "process", None) or [])
        steps.append((self.dest, values if isinstance(values, str) else "true"))
        namespace.process = steps
