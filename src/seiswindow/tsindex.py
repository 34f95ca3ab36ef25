"""The record index in SQLite, in EarthScope's ``tsindex`` schema (``mseedindex -sqlite``):
what ObsPy's ``obspy.clients.filesystem.tsindex.Client``, ROVER and
portable-fdsnws-dataselect read.

Tables:

- ``tsindex``: the rows of :mod:`seiswindow.recordindex`, with the columns, indexes and
  text forms ``mseedindex`` 3 creates (``quality`` and ``format`` left NULL as it leaves
  them; ``filemodtime``/``updated``/``scanned`` to the second).
- ``tsindex_summary``: one row per channel (earliest, latest, ``updt``), as ObsPy's
  ``build_tsindex_summary`` makes it; kept up to date on every write, so ObsPy resolves
  wildcards from it instead of scanning ``tsindex``.
- ``seiswindow_object``: beside them (readers ignore it), the identity of the object
  version each file's rows were made from (size, ETag), so a changed object is
  re-indexed and an unchanged one is not read again.

The ``filename`` column names the object as its reader reaches it: an absolute path for
a local archive (ObsPy's client reads it directly), ``s3://bucket/key`` for S3 (ObsPy's
client reads it from a local mirror with ``datapath_replace=("^s3:/bucket/", "/mirror/")``:
it applies ``os.path.normpath`` first, which turns ``s3://`` into ``s3:/``).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .cache import Cache
from .errors import ArchiveError, DataError
from .model import Nslc
from .recordindex import IndexedFile, IndexRow, format_time, parse_epoch

__all__ = ["IndexStore"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tsindex (network TEXT,station TEXT,location TEXT,channel TEXT,"
    "quality TEXT,version INTEGER,starttime TEXT,endtime TEXT,samplerate REAL,filename TEXT,"
    "byteoffset INTEGER,bytes INTEGER,hash TEXT,timeindex TEXT,timespans TEXT,timerates TEXT,"
    "format TEXT,filemodtime TEXT,updated TEXT,scanned TEXT)",
    "CREATE INDEX IF NOT EXISTS tsindex_nslcse_idx ON tsindex "
    "(network,station,location,channel,starttime,endtime)",
    "CREATE INDEX IF NOT EXISTS tsindex_filename_idx ON tsindex (filename)",
    "CREATE INDEX IF NOT EXISTS tsindex_updated_idx ON tsindex (updated)",
    "CREATE TABLE IF NOT EXISTS tsindex_summary (network TEXT,station TEXT,location TEXT,"
    "channel TEXT,earliest TEXT,latest TEXT,updt TEXT,"
    "PRIMARY KEY (network,station,location,channel,earliest,latest))",
    "CREATE TABLE IF NOT EXISTS seiswindow_object (filename TEXT PRIMARY KEY,key TEXT NOT NULL,"
    "size INTEGER NOT NULL,etag TEXT NOT NULL,indexed TEXT NOT NULL)",
)
_COLUMNS = (
    "network,station,location,channel,version,starttime,endtime,samplerate,filename,byteoffset,"
    "bytes,hash,timeindex,timespans,timerates,filemodtime,updated,scanned"
)
_SELECT = (
    "SELECT network,station,location,channel,version,starttime,endtime,samplerate,byteoffset,"
    "bytes,hash,timeindex,timespans,timerates FROM tsindex"
)


class IndexStore:
    """A ``tsindex`` SQLite database, created when missing.

    One connection, used under a lock: the store may be shared by threads, its writes
    are serialised (SQLite has one writer anyway). Each file's rows are replaced in one
    transaction: a reader sees a file's old rows or its new ones, never a mix.

    ``parsed_rows``: how many rows :meth:`rows` keeps parsed (the time index of a 40 Hz
    day is 200 kB of text).

    Raises:
        ArchiveError: the database cannot be opened or created.
    """

    def __init__(self, path: str | os.PathLike[str], *, parsed_rows: int = 256) -> None:
        self.path = Path(path)
        # Parsing a 40 Hz day's time index (7,500 pairs) costs milliseconds: rows parsed
        # once are kept, by what makes them the same row (a rewritten file has a new hash).
        self._parsed: Cache[tuple[object, ...], IndexRow] = Cache(maxsize=parsed_rows, ttl=3600.0)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open the index database {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, filename: str) -> None:
        """Bring the rows of ``filename`` in from where they are shared, before they are
        looked up: nothing to do for a database that holds all it has
        (:class:`~seiswindow.sharedindex.SharedIndex` fetches them from its prefix)."""

    def fetch_many(self, filenames: Iterable[str]) -> None:
        """:meth:`fetch` of each of ``filenames`` (a shared index fetches them at once)."""
        for filename in filenames:
            self.fetch(filename)

    def is_indexed(self, filename: str, *, size: int, etag: str) -> bool:
        """Whether the rows of ``filename`` were made from the object of this size and ETag.

        Raises:
            ArchiveError: the database cannot be read.
        """
        return self.identities([filename]).get(filename) == (size, etag)

    def identities(self, filenames: Iterable[str]) -> dict[str, tuple[int, str]]:
        """``filename → (size, etag)`` of the objects indexed among ``filenames``.

        Raises:
            ArchiveError: the database cannot be read.
        """
        names = list(filenames)
        found: dict[str, tuple[int, str]] = {}
        with self._lock:
            for begin in range(0, len(names), 500):  # SQLite's bound on host parameters
                part = names[begin : begin + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT filename,size,etag FROM seiswindow_object WHERE filename IN ({marks})"
                try:
                    answer = self._db.execute(query, part).fetchall()
                except sqlite3.Error as exc:
                    raise ArchiveError(f"cannot read the index {self.path}: {exc}") from exc
                found.update({name: (size, etag) for name, size, etag in answer})
        return found

    def write(self, indexed: IndexedFile, *, scanned: dt.datetime | None = None) -> None:
        """Replace the rows of ``indexed.filename`` by its rows, in one transaction, and
        bring the channel summary up to date. A section whose hash did not change keeps
        its ``updated`` time, as ``mseedindex`` keeps it.

        Raises:
            ArchiveError: the database cannot be written.
        """
        now = _second(scanned or dt.datetime.now(dt.UTC))
        modified = _second(dt.datetime.fromtimestamp(indexed.modified / 1e9, dt.UTC))
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                previous = self._updated_by_hash(indexed.filename)
                touched = self._channels_of(indexed.filename) | {row.nslc for row in indexed.rows}
                self._db.execute("DELETE FROM tsindex WHERE filename = ?", (indexed.filename,))
                self._db.executemany(
                    f"INSERT INTO tsindex ({_COLUMNS}) VALUES ({','.join('?' * 18)})",
                    [_values(row, indexed.filename, modified, previous, now) for row in indexed.rows],
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO seiswindow_object VALUES (?,?,?,?,?)",
                    (indexed.filename, indexed.key, indexed.size, indexed.etag, now),
                )
                for nslc in touched:
                    self._summarise(nslc, now)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise ArchiveError(f"cannot write the index of {indexed.key} to {self.path}: {exc}") from exc

    def _updated_by_hash(self, filename: str) -> dict[tuple[str, str, str, str, int, str], str]:
        query = "SELECT network,station,location,channel,version,hash,updated FROM tsindex WHERE filename = ?"
        return {tuple(found[:6]): found[6] for found in self._db.execute(query, (filename,))}

    def _channels_of(self, filename: str) -> set[Nslc]:
        query = "SELECT DISTINCT network,station,location,channel FROM tsindex WHERE filename = ?"
        return {Nslc(*found) for found in self._db.execute(query, (filename,))}

    def _summarise(self, nslc: Nslc, now: str) -> None:
        where = "network = ? AND station = ? AND location = ? AND channel = ?"
        self._db.execute(f"DELETE FROM tsindex_summary WHERE {where}", tuple(nslc))
        self._db.execute(
            "INSERT INTO tsindex_summary SELECT network,station,location,channel,"
            f"min(starttime),max(endtime),? FROM tsindex WHERE {where} "
            "GROUP BY network,station,location,channel",
            (now, *nslc),
        )

    def rows(self, nslc: Nslc, start: int, end: int) -> list[tuple[str, IndexRow]]:
        """``(filename, row)`` of the sections of ``nslc`` holding samples in
        ``[start, end]`` (ns), by file and offset.

        Raises:
            ArchiveError: the database cannot be read, or holds a row it cannot parse.
        """
        query = (
            f"{_SELECT.replace('SELECT ', 'SELECT filename,', 1)}"
            " WHERE network = ? AND station = ? AND location = ? AND channel = ?"
            " AND starttime <= ? AND endtime >= ? ORDER BY filename, byteoffset"
        )
        # Times compare as text: the columns' format sorts as time does, to the second; the
        # fraction is checked on the parsed rows.
        second = 1_000_000_000
        params = (*nslc, format_time(end - end % second + second), format_time(start - start % second))
        with self._lock:
            try:
                found = self._db.execute(query, params).fetchall()
            except sqlite3.Error as exc:
                raise ArchiveError(f"cannot read the index {self.path}: {exc}") from exc
        rows = [(filename, self._parse(filename, values)) for filename, *values in found]
        return [(name, row) for name, row in rows if row.start <= end and row.end >= start]

    def _parse(self, filename: str, values: list[object]) -> IndexRow:
        key = (filename, *values[:11], len(str(values[11])))  # codes … hash, and the index's size
        row = self._parsed.get(key)
        if row is None:
            try:
                row = _row(values)
            except (ValueError, DataError) as exc:
                problem = f"the index {self.path} holds a row of {filename} it cannot read: {exc}"
                raise ArchiveError(problem) from None
            self._parsed.put(key, row)
        return row


def _second(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _values(
    row: IndexRow,
    filename: str,
    modified: str,
    previous: dict[tuple[str, str, str, str, int, str], str],
    now: str,
) -> tuple[object, ...]:
    updated = previous.get((*row.nslc, row.version, row.hash), modified)
    return (
        *row.nslc,
        row.version,
        format_time(row.start),
        format_time(row.end),
        row.samplerate,
        filename,
        row.byteoffset,
        row.bytes,
        row.hash,
        row.timeindex_text(),
        row.timespans_text(),
        row.timerates_text(),
        modified,
        updated,
        now,
    )


def _parse_time(text: str) -> int:
    """Nanoseconds of a ``starttime``/``endtime`` column (see :func:`format_time`)."""
    whole, _, fraction = text.partition(".")
    moment = dt.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return int(moment.timestamp()) * 1_000_000_000 + nanos


def _time_index(text: str) -> tuple[tuple[tuple[int, int], ...], bool]:
    """The ``(ns, offset)`` pairs of a ``timeindex`` text and its ``latest`` flag.

    Parsed by numpy in one pass (a 40 Hz day holds 7,500 pairs): epoch seconds with six
    decimals are within 0.3 µs as doubles, so rounded to the microsecond they are exact,
    as the text is.
    """
    body, _, last = text.rpartition(",")
    ordered = last == "latest=>1"
    if not last.startswith("latest=>"):  # a text without the flag (not one mseedindex writes)
        body, ordered = text, False
    if not body:
        return (), ordered
    fields = body.replace("=>", ",").split(",")
    micros = np.rint(np.array(fields[0::2], dtype=np.float64) * 1e6).astype(np.int64) * 1000
    offsets = np.array(fields[1::2], dtype=np.int64)
    return tuple(zip(micros.tolist(), offsets.tolist(), strict=True)), ordered


def _row(values: list[object]) -> IndexRow:
    """An :class:`IndexRow` from the columns of :data:`_SELECT`."""
    net, sta, loc, cha, version, start, end, rate, offset, size, digest, tindex, spans, rates = values
    timeindex, ordered = _time_index(str(tindex)) if tindex else ((), False)
    return IndexRow(
        nslc=Nslc(str(net), str(sta), str(loc), str(cha)),
        version=int(str(version)),
        start=_parse_time(str(start)),
        end=_parse_time(str(end)),
        samplerate=float(str(rate)),
        byteoffset=int(str(offset)),
        bytes=int(str(size)),
        hash=str(digest),
        timeindex=timeindex,
        time_ordered=ordered,
        timespans=tuple(
            (parse_epoch(a), parse_epoch(b))
            for a, b in (span.strip("[]").split(":") for span in str(spans).split(","))
        )
        if spans
        else (),
        timerates=tuple(float(r) for r in str(rates).split(",")) if rates else (),
    )
