"""Filling the record index in bulk: whole day files read in parallel, indexed, written to
an :class:`~seiswindow.tsindex.IndexStore`; resumable, since a file already indexed at the
same size and ETag is not read again, and a changed one is indexed anew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from .errors import NoSuchKey, SeisWindowError
from .recordindex import IndexedFile, index_file
from .store import Store
from .tsindex import IndexStore

__all__ = ["BuildReport", "build_index", "filename_of", "index_one"]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did: files indexed, skipped (indexed at the same size and ETag),
    missing (no such object), and those that failed, ``(key, why)``."""

    indexed: int = 0
    skipped: int = 0
    missing: int = 0
    rows: int = 0
    failed: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def filename_of(store: Store, key: str) -> str:
    """What the ``tsindex`` rows call ``key`` of ``store``: the absolute path of a local
    archive, ``s3://bucket/prefix/key`` of S3 (the store's URL followed by the key)."""
    return f"{store.url.rstrip('/')}/{key}"


def index_one(
    store: Store, key: str, known: tuple[int, str] | None, *, reclen: int, subindex: int | None
) -> IndexedFile | None:
    """The index of ``key``, or None when ``known`` is its current (size, ETag).

    Raises:
        NoSuchKey: the object does not exist.
        DataError: the object changed while read, or holds no record.
        ArchiveError: the store could not be read.
    """
    info = store.stat(key)
    if known == (info.size, info.etag):
        return None
    chunk = store.get(key)
    return index_file(
        chunk.data,
        key=key,
        filename=filename_of(store, key),
        size=info.size,
        etag=info.etag,
        modified=info.modified,
        reclen=reclen,
        subindex=subindex,
    )


def build_index(
    store: Store,
    keys: Sequence[str],
    db: IndexStore,
    *,
    max_workers: int = 4,
    reclen: int = 0,
    subindex: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    scanned: dt.datetime | None = None,
) -> BuildReport:
    """Index the objects ``keys`` of ``store`` into ``db``, ``max_workers`` at a time.

    Each file costs one ``stat`` (HEAD) and, unless it is indexed at that size and ETag
    already, one whole read; its rows are written as soon as it is read (an interrupted
    build keeps what it finished). A missing object is counted, not an error; a file
    that cannot be read or indexed is reported in ``failed`` and the build goes on.
    ``progress(done, total)`` is called after each file.

    Raises:
        ArchiveError: the database cannot be written.
    """
    known = db.identities(filename_of(store, key) for key in keys)
    indexed = skipped = missing = rows = 0
    failed: list[tuple[str, str]] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="index") as pool:
        futures: dict[Future[IndexedFile | None], str] = {
            pool.submit(
                index_one, store, key, known.get(filename_of(store, key)), reclen=reclen, subindex=subindex
            ): key
            for key in keys
        }
        for done, future in enumerate(as_completed(futures), start=1):
            key = futures[future]
            try:
                result = future.result()
            except NoSuchKey:
                missing += 1
            except SeisWindowError as exc:  # this file's read or records; the build goes on
                failed.append((key, str(exc)))
            else:
                if result is None:
                    skipped += 1
                else:
                    db.write(result, scanned=scanned)
                    indexed += 1
                    rows += len(result.rows)
            if progress is not None:
                progress(done, len(futures))
    return BuildReport(indexed, skipped, missing, rows, tuple(sorted(failed)))
