"""The shared index's costs per channel-day (issue 11): the bytes of a day file's index
object against its rows in the SQLite database, and the lookup of one window's byte range
through a :class:`~seiswindow.sharedindex.SharedIndex` — cold (the object fetched from the
prefix, parsed and written into the local cache, then the rows read) and warm (the cache
holds the file). The prefix is a local directory here, so the cold figure is the CPU and
SQLite part: on S3 add one GET's round trip (~20 ms in-region). Prints a Markdown table
(docs/index.md quotes it).

    .venv/bin/python -m benchmarks.sharedindex
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from seiswindow.bulk.sinks import DirectorySink
from seiswindow.indexbuild import filename_of
from seiswindow.model import Nslc
from seiswindow.recordindex import byte_range, index_records
from seiswindow.sharedindex import SharedIndex, object_name, publish_index
from seiswindow.store import LocalStore

from .recordindex import DATA, FILES, NS, _db_bytes


def _lookup(index: SharedIndex, filename: str, nslc: Nslc, t0: int) -> tuple[int, int] | None:
    """What the reader does for a window: fetch (a no-op once cached), rows, byte range."""
    index.fetch(filename)
    rows = [row for name, row in index.rows(nslc, t0 - 86_400 * NS, t0 + 86_700 * NS) if name == filename]
    return byte_range(rows, t0, t0 + 300 * NS)


def _measure(label: str, key: str, directory: Path, archive: LocalStore) -> str:
    data = (DATA / key).read_bytes()
    rows = index_records(data)
    filename = filename_of(archive, key)
    nslc = rows[0].nslc
    body = (directory / "prefix" / object_name(filename)).read_bytes()
    every, empty = _db_bytes(key, None, directory)
    text = sum(len(row.timeindex_text() or "") for row in rows)
    rng = np.random.default_rng(1)
    starts = [int(t) for t in rng.integers(rows[0].start, rows[0].end - 300 * NS, 200)]
    colds = []
    for t0 in starts[:7]:
        index = SharedIndex(LocalStore(directory / "prefix"))
        began = time.perf_counter()
        assert _lookup(index, filename, nslc, t0) is not None
        colds.append(time.perf_counter() - began)
        index.close()
    index = SharedIndex(LocalStore(directory / "prefix"))
    _lookup(index, filename, nslc, starts[0])
    began = time.perf_counter()
    for t0 in starts:
        _lookup(index, filename, nslc, t0)
    warm = (time.perf_counter() - began) / len(starts)
    index.close()
    return (
        f"| {label} | {len(data) / 1e6:.2f} MB | {len(rows[0].timeindex)} | {len(body) / 1e3:.1f} kB | "
        f"{len(body) / len(rows[0].timeindex):.2f} B | {text / 1e3:.1f} kB | "
        f"{(every - empty) / 1e3:.0f} kB | "
        f"{statistics.median(colds) * 1e3:.2f} ms | {warm * 1e3:.2f} ms |"
    )


def main() -> None:
    print(
        "| channel-day | file | records | index object | per record | SQLite time index text | "
        "SQLite DB bytes | lookup, cold: object fetched + cached + rows + byte_range | "
        "lookup, warm (cached) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    archive = LocalStore(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        sink = DirectorySink(Path(tmp) / "prefix")
        sink.open()
        report = publish_index(archive, sorted(FILES.values()), LocalStore(Path(tmp) / "prefix"), sink)
        assert report.indexed == len(FILES) and not report.failed, report
        for label, key in FILES.items():
            print(_measure(label, key, Path(tmp), archive))


if __name__ == "__main__":
    main()
