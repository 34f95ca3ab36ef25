"""A record index that many processes share: one compact object per day file under a
prefix the user owns (``s3://bucket/prefix/``), fetched on demand into a local ``tsindex``
SQLite cache that the reader uses as it uses any :class:`~seiswindow.tsindex.IndexStore`.

The object of a day file is named from the file's ``tsindex`` ``filename`` (its archive's
URL and key, :func:`~seiswindow.indexbuild.filename_of`), the scheme left out:
``prefix/scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms.idx.json.gz``
(:func:`object_name`), so that archives that share a key never share an object. It holds
the file's identity (size, ETag, modification time) and its rows, losslessly
(:func:`dumps`, :func:`loads`): gzipped JSON, every record of the time index kept (byte
ranges stay exact), written as deltas in units of their greatest common divisor (a 40 Hz
record's start is a whole number of 25 ms samples after the previous one), so the object
is a few bytes per record instead of the ~27 of the SQLite text (docs/index.md measures
it). The same rows give the same bytes (gzip without a time stamp).

:class:`SharedIndex` is the local cache; :meth:`SharedIndex.fetch` is the one hook:
the reader calls it with a file's ``filename`` before it looks the file's rows up. A file
the cache does not know costs one GET of its object; an absent object is remembered for
``absent_ttl`` seconds (no GET per window of a file nobody indexed). A fetched object is
trusted as any row is: the reader verifies every read against it, and a day file changed
since the object was made (another size, or records not where the rows say) is searched
and indexed again, locally — and published back only when the index was opened with a
``writer`` (default: read-only).

:func:`publish_index` fills a prefix in bulk: one PUT per day file, skipping a file whose
object already holds its current size and ETag (one LIST of the prefix, then one GET of
that small object and one HEAD of the day file); resumable, as ``build_index`` is.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

from .cache import Cache
from .errors import ArchiveError, DataError, NoSuchKey, SeisWindowError
from .indexbuild import BuildReport, filename_of, index_one
from .model import Nslc
from .recordindex import IndexedFile, IndexRow
from .store import Store
from .tsindex import IndexStore

__all__ = [
    "ABSENT_TTL",
    "FORMAT",
    "SUFFIX",
    "Publisher",
    "SharedIndex",
    "check_prefix",
    "dumps",
    "loads",
    "object_name",
    "publish_index",
]

log = logging.getLogger(__name__)

#: What an index object says it is (a reader refuses another format).
FORMAT = "seiswindow-index/1"
#: The end of an index object's name.
SUFFIX = ".idx.json.gz"
#: How long an absent object is taken as absent (seconds): a file published meanwhile is
#: seen by then.
ABSENT_TTL = 300.0
#: Locks that serialise the fetches of one file (striped: bounded however many files).
_STRIPES = 64
#: How long a prefix that failed to answer for a file is not asked again (seconds).
_RETRY_TTL = 30.0
#: Objects fetched at once by :meth:`SharedIndex.fetch_many`.
_FETCHERS = 16


class Publisher(Protocol):
    """Where index objects are written: ``put(name, body)`` whole or not at all
    (:class:`seiswindow.bulk.sinks.S3Sink` is one)."""

    def put(self, name: str, body: bytes) -> None:
        """Write ``name`` (relative to the prefix).

        Raises:
            OSError: it could not be written.
        """


def object_name(filename: str) -> str:
    """The name, under the prefix, of the index object of the file ``filename`` names."""
    return filename.removeprefix("s3://").lstrip("/") + SUFFIX


# -- the object -------------------------------------------------------------------------


def dumps(indexed: IndexedFile) -> bytes:
    """The index object of ``indexed`` (the same bytes for the same rows)."""
    document = {
        "format": FORMAT,
        "key": indexed.key,
        "filename": indexed.filename,
        "size": indexed.size,
        "etag": indexed.etag,
        "modified": indexed.modified,
        "rows": [_row_document(row) for row in indexed.rows],
    }
    text = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return gzip.compress(text, compresslevel=9, mtime=0)


def _deltas(values: list[int]) -> dict[str, Any]:
    """``values`` as the first, a unit, and the differences in that unit."""
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    unit = math.gcd(*steps) or 1
    return {"first": values[0] if values else 0, "unit": unit, "steps": [s // unit for s in steps]}


def _undeltas(encoded: dict[str, Any], count: int) -> list[int]:
    first, unit, steps = int(encoded["first"]), int(encoded["unit"]), encoded["steps"]
    if count and len(steps) != count - 1:
        raise DataError(f"{len(steps)} steps for {count} values")
    return list(accumulate((int(s) * unit for s in steps), initial=first)) if count else []


def _row_document(row: IndexRow) -> dict[str, Any]:
    return {
        "nslc": list(row.nslc),
        "version": row.version,
        "start": row.start,
        "end": row.end,
        "samplerate": row.samplerate,
        "byteoffset": row.byteoffset,
        "bytes": row.bytes,
        "hash": row.hash,
        "entries": len(row.timeindex),
        "times": _deltas([t for t, _ in row.timeindex]),
        "offsets": _deltas([o for _, o in row.timeindex]),
        "time_ordered": row.time_ordered,
        "timespans": [list(span) for span in row.timespans],
        "timerates": list(row.timerates),
    }


def _row_of(document: dict[str, Any]) -> IndexRow:
    count = int(document["entries"])
    times = _undeltas(document["times"], count)
    offsets = _undeltas(document["offsets"], count)
    net, sta, loc, cha = (str(code) for code in document["nslc"])
    return IndexRow(
        nslc=Nslc(net, sta, loc, cha),
        version=int(document["version"]),
        start=int(document["start"]),
        end=int(document["end"]),
        samplerate=float(document["samplerate"]),
        byteoffset=int(document["byteoffset"]),
        bytes=int(document["bytes"]),
        hash=str(document["hash"]),
        timeindex=tuple(zip(times, offsets, strict=True)),
        time_ordered=bool(document["time_ordered"]),
        timespans=tuple((int(a), int(b)) for a, b in document["timespans"]),
        timerates=tuple(float(r) for r in document["timerates"]),
    )


def loads(data: bytes) -> IndexedFile:
    """The :class:`IndexedFile` an index object holds.

    Raises:
        DataError: ``data`` is not an index object of this format.
    """
    try:
        document = json.loads(gzip.decompress(data))
        if document.get("format") != FORMAT:
            raise DataError(f"not a {FORMAT} object (format {document.get('format')!r})")
        rows = tuple(_row_of(row) for row in document["rows"])
        return IndexedFile(
            key=str(document["key"]),
            filename=str(document["filename"]),
            size=int(document["size"]),
            etag=str(document["etag"]),
            modified=int(document["modified"]),
            rows=rows,
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"not a readable index object: {exc}") from None


# -- the local cache of a shared prefix -------------------------------------------------


class SharedIndex(IndexStore):
    """The local ``tsindex`` cache of the index objects under ``prefix``.

    It is an :class:`IndexStore` (the reader, the station-day path and availability read
    it as they read any), filled by :meth:`fetch`. ``cache``: the SQLite file (None: a
    temporary file, removed on :meth:`close`; on Lambda, under ``/tmp``). ``writer``:
    where rows made here (lazy filling, re-indexing a changed file) are published back
    (None: read-only, the default). ``absent_ttl``: seconds an absent object stays absent.

    Raises:
        ArchiveError: the cache cannot be created.
    """

    def __init__(
        self,
        prefix: Store,
        *,
        cache: str | os.PathLike[str] | None = None,
        writer: Publisher | None = None,
        absent_ttl: float = ABSENT_TTL,
        parsed_rows: int = 256,
    ) -> None:
        self._temporary: Path | None = None
        if cache is None:
            fd, name = tempfile.mkstemp(prefix="seiswindow-index-", suffix=".sqlite")
            os.close(fd)
            cache = self._temporary = Path(name)
        try:
            super().__init__(cache, parsed_rows=parsed_rows)
        except ArchiveError:
            if self._temporary is not None:
                self._temporary.unlink(missing_ok=True)
            raise
        self.prefix = prefix
        self.writer = writer
        self._absent: Cache[str, bool] = Cache(maxsize=100_000, ttl=absent_ttl)
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._fetchers = ThreadPoolExecutor(_FETCHERS, thread_name_prefix="seiswindow-fetch")

    def close(self) -> None:
        """Close the cache (and remove it when it is a temporary file)."""
        self._fetchers.shutdown(wait=True)
        super().close()
        self.prefix.close()
        if self._temporary is not None:
            for leftover in (self._temporary, self._temporary.with_name(self._temporary.name + "-journal")):
                leftover.unlink(missing_ok=True)

    def fetch(self, filename: str) -> None:
        """Bring the rows of ``filename`` into the cache from its object, unless the cache
        knows the file or its object was absent less than ``absent_ttl`` ago: one GET.
        Never raises: an object that cannot be read or parsed is logged and taken as
        absent (the reader then searches the file, as without an index).
        """
        if self._absent.get(filename) or self.identities([filename]):
            return
        with self._stripes[hash(filename) % _STRIPES]:
            if self._absent.get(filename) or self.identities([filename]):
                return  # another thread fetched it meanwhile
            name = object_name(filename)
            try:
                indexed = loads(self.prefix.get(name).data)
                if indexed.filename != filename:
                    raise DataError(f"it holds the rows of {indexed.filename}")
                super().write(indexed)  # the cache only: the object is where it came from
            except NoSuchKey:
                self._absent.put(filename, True)
            except DataError as exc:
                log.warning("the index object %s%s is not used: %s", self.prefix.url, name, exc)
                self._absent.put(filename, True)
            except SeisWindowError as exc:  # the prefix failed to answer: asked again sooner
                log.warning("the index object %s%s could not be read: %s", self.prefix.url, name, exc)
                self._absent.put(filename, True, ttl=min(_RETRY_TTL, self._absent.ttl))

    def fetch_many(self, filenames: Iterable[str]) -> None:
        """:meth:`fetch` of each of ``filenames``, :data:`_FETCHERS` at a time: the
        objects of a request's files cost one round, not one round each."""
        wanted = sorted(set(filenames))
        if len(wanted) < 2:
            for filename in wanted:
                self.fetch(filename)
            return
        for done in [self._fetchers.submit(self.fetch, filename) for filename in wanted]:
            done.result()

    def write(self, indexed: IndexedFile, *, scanned: dt.datetime | None = None) -> None:
        """Write the rows into the cache, and publish them when the index is writable
        (a failed PUT is logged: the cache holds them all the same).

        Raises:
            ArchiveError: the cache cannot be written.
        """
        super().write(indexed, scanned=scanned)
        self._absent.drop(indexed.filename)
        if self.writer is not None:
            try:
                self.writer.put(object_name(indexed.filename), dumps(indexed))
            except (OSError, SeisWindowError) as exc:
                log.warning("could not publish the index of %s: %s", indexed.key, exc)


# -- publishing in bulk -----------------------------------------------------------------


def _published_identity(prefix: Store, name: str) -> tuple[int, str] | None:
    """The (size, ETag) the object ``name`` was made from (None: absent or unreadable)."""
    try:
        indexed = loads(prefix.get(name).data)
    except (NoSuchKey, DataError):
        return None
    return indexed.size, indexed.etag


def _publish_one(
    store: Store,
    key: str,
    prefix: Store,
    listed: set[str],
    *,
    reclen: int,
    subindex: int | None,
) -> IndexedFile | None:
    """Index ``key`` unless its object holds its current identity (then None).

    Raises:
        NoSuchKey, DataError, ArchiveError: as :func:`~seiswindow.indexbuild.index_one`.
    """
    name = object_name(filename_of(store, key))
    known = _published_identity(prefix, name) if name in listed else None
    return index_one(store, key, known, reclen=reclen, subindex=subindex)


def publish_index(
    store: Store,
    keys: Sequence[str],
    prefix: Store,
    writer: Publisher,
    *,
    db: IndexStore | None = None,
    max_workers: int = 4,
    reclen: int = 0,
    subindex: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Publish the index objects of ``keys`` of ``store`` under ``prefix`` (read through
    ``prefix``, written through ``writer``), ``max_workers`` at a time; their rows are
    written into ``db`` too when given.

    A file whose object holds its current size and ETag is skipped (a LIST of the prefix,
    then one GET of the object and one HEAD of the file); any other is read whole, indexed
    and PUT. Each object is written when its file is indexed: an interrupted run keeps
    what it finished. A missing day file is counted; a file that cannot be read, indexed
    or written is reported in ``failed`` and the run goes on.

    Raises:
        ArchiveError: the prefix cannot be listed, or ``db`` cannot be written.
    """
    listed = set(prefix.list(""))
    indexed = skipped = missing = rows = 0
    failed: list[tuple[str, str]] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="publish") as pool:
        futures: dict[Future[IndexedFile | None], str] = {
            pool.submit(_publish_one, store, key, prefix, listed, reclen=reclen, subindex=subindex): key
            for key in keys
        }
        for done, future in enumerate(as_completed(futures), start=1):
            key = futures[future]
            try:
                result = future.result()
                if result is not None:
                    writer.put(object_name(result.filename), dumps(result))
            except NoSuchKey:
                missing += 1
            except (SeisWindowError, OSError) as exc:  # this file; the run goes on
                failed.append((key, str(exc)))
            else:
                if result is None:
                    skipped += 1
                else:
                    if db is not None:
                        db.write(result)
                    indexed += 1
                    rows += len(result.rows)
            if progress is not None:
                progress(done, len(futures))
    return BuildReport(indexed, skipped, missing, rows, tuple(sorted(failed)))


def check_prefix(prefix: Store) -> None:
    """Check that ``prefix`` can be listed (the bucket exists and may be read).

    Raises:
        ArchiveError: it cannot.
    """
    prefix.holds("")
