"""Manifests: where the bytes of each window lie in the archive, for workers that fetch them
themselves (``format=manifest`` on ``/timewindows`` and on FDSN dataselect).

A manifest lists, per window and day file, the object (its path, key, ETag and, in a
versioned bucket, its VersionId) and the byte range (``offset``, ``byte_count``) of the
records that hold the window's samples: the records that ObsPy's nearest-sample
``Stream.trim`` may keep a sample of (those overlapping the window widened by half a period),
the records seiswindow leaves out of its answers (:mod:`seiswindow.screen`) excepted. A
worker that reads those ranges with any S3 client and trims them with ObsPy gets the samples
``/timewindows`` answers. No sample is decoded: the ranges come from the record index when it
holds rows of the object at its current size and ETag (one HEAD, no read), else from the
locator's ranged reads of record headers and records (:meth:`Extractor.file_records`).

The document follows EarthScope's data-access-manifest examples (github.com/EarthScope/
data-access-manifest, ``aug2025_ccp_fdsnws_example.json``) for the names it has:
``request_time``, ``contents`` entries with ``type``, ``source_id``, ``start``, ``end``,
``query_start``, ``query_end``, ``byte_count``, ``offset``, ``object_path``,
``object_version_id``; and ``version``. Ours besides: ``archive`` (where to fetch: bucket,
prefix, region, or a local root), ``windows`` (one per window asked, with its ``status``:
``ok``, ``partial``, ``nodata`` or ``error``, and a message), and per entry ``window`` (its
index), ``object_key``, ``etag``, ``object_size``, ``range`` (the HTTP ``Range`` header) and
``located_by`` (``index`` or ``records``).

The ETag is the object's as a HEAD read it before its records were located: a worker that
sends it as ``IfMatch`` fails instead of reading ranges of an object that changed since.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .archive import Archive
from .errors import ArchiveError, DataError, NoSuchKey
from .extract import Extractor
from .indexbuild import filename_of
from .model import Status, Window
from .mseed import RecordHeader
from .nstime import NS_PER_S, day_start, format_time
from .recordindex import IndexRow, byte_range
from .records import Records
from .store import LocalStore, ObjectInfo, S3Store, Store

__all__ = [
    "MANIFEST_VERSION",
    "ByteSpan",
    "Manifester",
    "WindowManifest",
    "archive_location",
    "manifest_document",
    "source_id",
]

log = logging.getLogger(__name__)

#: The version of the manifest document (ours; EarthScope's examples say ``0.0.0``).
MANIFEST_VERSION = "0.1.0"
#: What an entry is: the records of one channel's day file.
_ENTRY_TYPE = "channel_day_object"
#: Index rows are asked for this much around a window, their rate then says half a period.
_INDEX_PAD_NS = 3600 * NS_PER_S


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """Bytes ``[offset, offset + count)`` of the object ``key`` (of identity ``info``):
    records of one window's channel, from ``start`` (first sample) to ``end`` (last sample),
    ns. ``from_index``: found in the record index, without reading the object."""

    key: str
    offset: int
    count: int
    start: int
    end: int
    info: ObjectInfo
    from_index: bool = False


@dataclass(frozen=True, slots=True)
class WindowManifest:
    """The byte ranges of one window, in day then file order, its status and what was met."""

    window: Window
    status: Status
    spans: tuple[ByteSpan, ...] = ()
    message: str = ""


@dataclass(frozen=True, slots=True)
class _FileSpans:
    day: dt.date
    key: str
    spans: tuple[ByteSpan, ...] = ()
    problems: tuple[str, ...] = ()
    missing: bool = False
    error: str = ""


class Manifester:
    """Finds the byte ranges of windows in the archive of ``extractor`` (and its index).

    Args:
        extractor: reads the archive (its locator, its cache of files, its record index).
        max_parallel: day files looked at once for one call.
    """

    def __init__(self, extractor: Extractor, *, max_parallel: int = 8) -> None:
        self.extractor = extractor
        self.max_parallel = max_parallel

    def manifests(self, windows: Sequence[Window]) -> list[WindowManifest]:
        """One :class:`WindowManifest` per window, in order. A file that cannot be read
        fails its windows (status ``error``, or ``partial`` beside ranges of other files),
        never the call."""
        tasks = [(i, day, key) for i, w in enumerate(windows) for day, key in self.extractor.plan(w)]
        found: list[list[_FileSpans]] = [[] for _ in windows]
        if tasks:
            with ThreadPoolExecutor(min(self.max_parallel, len(tasks)), "seiswindow-manifest") as pool:
                outcomes = pool.map(lambda task: self._file(windows[task[0]], task[1], task[2]), tasks)
                for (i, _, _), outcome in zip(tasks, outcomes, strict=True):
                    found[i].append(outcome)
        return [_window_manifest(w, files) for w, files in zip(windows, found, strict=True)]

    def _file(self, window: Window, day: dt.date, key: str) -> _FileSpans:
        store = self.extractor.archive.store
        try:
            if self.extractor.index is not None:
                info = store.stat(key)  # the index holds this version of the file, or not
                spans = self._indexed(window, key, info)
                if spans is not None:
                    return _FileSpans(day, key, tuple(spans))
                stat = None
            else:  # the HEAD goes beside the locator's first reads, not before them
                stat = self.extractor.locator.pool.submit(store.stat, key)
            records, problems = self.extractor.file_records(window, day, key)
            if stat is not None:
                info = stat.result()
            if records is None and problems:  # no records and a problem: the read failed
                return _FileSpans(day, key, error="; ".join(problems))
        except NoSuchKey:
            return _FileSpans(day, key, missing=True)
        except (ArchiveError, DataError) as exc:
            return _FileSpans(day, key, error=str(exc))
        return _FileSpans(day, key, tuple(_spans_of(records, window, info)), tuple(problems))

    def _indexed(self, window: Window, key: str, info: ObjectInfo) -> list[ByteSpan] | None:
        """The ranges of ``key`` from the record index, when it holds rows of this version
        of the object; None otherwise (the records are then located by reading).

        Raises:
            ArchiveError: the index cannot be read.
        """
        index = self.extractor.index
        if index is None:
            return None
        filename = filename_of(self.extractor.archive.store, key)
        if not index.is_indexed(filename, size=info.size, etag=info.etag):
            return None
        pad = _INDEX_PAD_NS
        rows = [
            row
            for name, row in index.rows(window.nslc, window.start - pad, window.end + pad)
            if name == filename
        ]
        half = max((_period(row) // 2 for row in rows), default=0)
        found = byte_range(rows, window.start - half, window.end + half)
        if found is None:
            return []
        begin, end = found
        start, last = _index_times(rows, begin, end)
        return [ByteSpan(key, begin, end - begin, start, last, info, from_index=True)]


def _period(row: IndexRow) -> int:
    return round(NS_PER_S / row.samplerate) if row.samplerate > 0 else 0


def _index_times(rows: list[IndexRow], begin: int, end: int) -> tuple[int, int]:
    """The first and last sample times of bytes ``[begin, end)`` as the index tells them:
    the start of the record at ``begin``, and a period before the start of the record at
    ``end`` (the sections' own ends where the index does not list those records)."""
    inside = [r for r in rows if r.byteoffset < end and r.byteend > begin] or rows
    starts = {offset: t for r in inside for t, offset in r.timeindex}
    first = min(r.start for r in inside)
    last = max(r.end for r in inside)
    start = max(starts.get(begin, first), first)
    following = starts.get(end)
    if following is not None:
        last = min(last, following - max(_period(r) for r in inside))
    return start, last


def _holds_samples_of(header: RecordHeader, window: Window) -> bool:
    """Whether the record holds a sample within half a period of ``window`` (one that
    ``Stream.trim`` with ``nearest_sample=True`` may keep)."""
    half = header.period // 2
    return header.end >= window.start - half and header.start <= window.end + half


def _spans_of(records: Records | None, window: Window, info: ObjectInfo) -> list[ByteSpan]:
    """The records of ``records`` that hold samples of ``window``'s channel, as byte ranges
    of the file: one per run of records that follow each other in it."""
    if records is None:
        return []
    picked = sorted(
        (offset, header)
        for offset, header in zip(records.record_offsets(), records.headers, strict=True)
        if header.nslc == window.nslc and _holds_samples_of(header, window)
    )
    spans: list[ByteSpan] = []
    for offset, header in picked:
        last = spans[-1] if spans else None
        if last is not None and last.offset + last.count == offset:
            spans[-1] = ByteSpan(
                records.key,
                last.offset,
                last.count + header.reclen,
                min(last.start, header.start),
                max(last.end, header.end),
                info,
            )
        else:
            spans.append(ByteSpan(records.key, offset, header.reclen, header.start, header.end, info))
    return spans


def _window_manifest(window: Window, files: list[_FileSpans]) -> WindowManifest:
    files = sorted(files, key=lambda f: f.day)
    spans = tuple(span for f in files for span in f.spans)
    errors = [f.error for f in files if f.error]
    problems = [p for f in files for p in f.problems]
    notes = errors + problems
    if spans:
        return WindowManifest(window, Status.PARTIAL if notes else Status.OK, spans, "; ".join(notes))
    if errors:
        return WindowManifest(window, Status.ERROR, message="; ".join(notes))
    missing = [f.key for f in files if f.missing and _touches(f.day, window)]
    if missing:
        message = f"no data: no day file {', '.join(missing)}"
    else:
        message = (
            f"no records of {window.nslc} between {format_time(window.start)} and {format_time(window.end)}"
        )
    return WindowManifest(window, Status.NODATA, message="; ".join([message, *problems]))


def _touches(day: dt.date, window: Window) -> bool:
    begin = day_start(day)
    return window.start < begin + 86_400 * NS_PER_S and window.end >= begin


# -- the document ------------------------------------------------------------------------------


def source_id(window: Window) -> str:
    """The FDSN Source Identifier of the window's channel (``FDSN:CI_WBM__L_H_Z``)."""
    channel = window.channel
    parts = "_".join(channel) if len(channel) == 3 else channel
    return f"FDSN:{window.network}_{window.station}_{window.location}_{parts}"


def archive_location(archive: Archive) -> dict[str, object]:
    """Where a worker fetches from: the bucket, its prefix, region and (when one is
    configured) endpoint; or a local directory's root. Never a credential."""
    store = archive.store
    where: dict[str, object] = {"url": store.url, "layout": archive.layout.name}
    if isinstance(store, S3Store):
        where.update(type="s3", bucket=store.bucket, prefix=store.prefix, region=store.region)
        if store.endpoint_url:
            where["endpoint_url"] = store.endpoint_url
    elif isinstance(store, LocalStore):
        where.update(type="local", root=str(store.root))
    else:
        where["type"] = type(store).__name__
    return where


def _object_key(store: Store, key: str) -> str:
    """The object's key in its bucket (the prefix and the key), or its path below the root."""
    return store.prefix + key if isinstance(store, S3Store) else key


def _entry(store: Store, index: int, window: Window, span: ByteSpan) -> dict[str, object]:
    return {
        "type": _ENTRY_TYPE,
        "window": index,
        "source_id": source_id(window),
        "start": format_time(span.start),
        "end": format_time(span.end),
        "query_start": format_time(window.start),
        "query_end": format_time(window.end),
        "byte_count": span.count,
        "offset": span.offset,
        "range": f"bytes={span.offset}-{span.offset + span.count - 1}",
        "object_path": filename_of(store, span.key),
        "object_key": _object_key(store, span.key),
        "object_version_id": span.info.version_id,
        "etag": span.info.etag,
        "object_size": span.info.size,
        "located_by": "index" if span.from_index else "records",
    }


def manifest_document(
    manifests: Sequence[WindowManifest],
    *,
    archive: Archive,
    request_time: int,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The manifest of ``manifests`` (see the module's docstring) as a JSON-ready dict;
    ``extra`` keys (an FDSN request's ``dataselect_params_list``) go after ``request_time``."""
    store = archive.store
    windows: list[dict[str, object]] = []
    contents: list[dict[str, object]] = []
    for i, m in enumerate(manifests):
        w = m.window
        windows.append(
            {
                "network": w.network,
                "station": w.station,
                "location": w.location,
                "channel": w.channel,
                "starttime": format_time(w.start),
                "endtime": format_time(w.end),
                "status": str(m.status),
                "message": m.message,
            }
        )
        contents.extend(_entry(store, i, w, span) for span in m.spans)
    return {
        "request_time": format_time(request_time),
        **(extra or {}),
        "archive": archive_location(archive),
        "windows": windows,
        "contents": contents,
        "version": MANIFEST_VERSION,
    }
