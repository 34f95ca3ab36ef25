"""The record index's costs per channel-day (issue 11): bytes in the SQLite database, build
time, and the lookup of one window's byte range. Reads the shared sample files; prints a
Markdown table (docs/index.md quotes it).

    .venv/bin/python -m benchmarks.recordindex
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from seiswindow.indexbuild import build_index
from seiswindow.recordindex import byte_range, index_records
from seiswindow.store import LocalStore
from seiswindow.tsindex import IndexStore

from .s3data import default_data_root

DATA = default_data_root() / "scedc-pds"  # $SEISWINDOW_SHARED_DATA or ../shared/data
FILES = {
    "CI.CCA..BHN 40 Hz": "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms",
    "CI.HEC..BHN 40 Hz": "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms",
    "CI.WBM..LHZ 1 Hz": "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms",
    "BK.THIS.00.LHZ 1 Hz": "continuous_waveforms/2022/2022_002/BKTHIS_LHZ00_2022002.ms",
}
NS = 1_000_000_000


def _db_bytes(key: str, subindex: int | None, directory: Path) -> tuple[int, int]:
    """(database bytes with this one file, bytes of an empty database)."""
    empty = directory / f"empty-{subindex}.sqlite"
    IndexStore(empty).close()
    path = directory / f"{Path(key).name}-{subindex}.sqlite"
    with IndexStore(path) as db:
        build_index(LocalStore(DATA), [key], db, subindex=subindex)
    return path.stat().st_size, empty.stat().st_size


def _measure(label: str, key: str, directory: Path) -> str:
    data = (DATA / key).read_bytes()
    builds = []
    for _ in range(5):
        began = time.perf_counter()
        rows = index_records(data)
        builds.append(time.perf_counter() - began)
    every, empty = _db_bytes(key, None, directory)
    hourly = len(index_records(data, subindex=3600)[0].timeindex_text() or "")
    text = len(rows[0].timeindex_text() or "")
    rng = np.random.default_rng(1)
    starts = rng.integers(rows[0].start, rows[0].end - 300 * NS, 1000)
    nslc = rows[0].nslc
    colds = []
    for t0 in starts[:5]:
        with IndexStore(directory / f"{Path(key).name}-None.sqlite") as db:
            began = time.perf_counter()
            found = db.rows(nslc, int(t0), int(t0) + 300 * NS)
            byte_range([row for _, row in found], int(t0), int(t0) + 300 * NS)
            colds.append(time.perf_counter() - began)
    with IndexStore(directory / f"{Path(key).name}-None.sqlite") as db:
        began = time.perf_counter()
        for t0 in starts:
            found = db.rows(nslc, int(t0), int(t0) + 300 * NS)
            byte_range([row for _, row in found], int(t0), int(t0) + 300 * NS)
        lookup = (time.perf_counter() - began) / len(starts)
        began = time.perf_counter()
        for t0 in starts:
            byte_range(rows, int(t0), int(t0) + 300 * NS)
        in_memory = (time.perf_counter() - began) / len(starts)
    return (
        f"| {label} | {len(data) / 1e6:.2f} MB | {len(rows[0].timeindex)} | {text / 1e3:.1f} kB | "
        f"{(every - empty) / 1e3:.0f} kB | {hourly} B | "
        f"{statistics.median(builds) * 1e3:.1f} ms | {statistics.median(colds) * 1e3:.2f} ms | "
        f"{lookup * 1e3:.2f} ms | {in_memory * 1e6:.0f} µs |"
    )


def main() -> None:
    print(
        "| channel-day | file | records | time index text | DB bytes, every record | "
        "time index text, hourly (-si 3600) | build (index_records) | lookup, cold: SQLite rows "
        "(parsed) + byte_range | lookup, warm (rows parsed before) | byte_range on rows in memory |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, key in FILES.items():
            print(_measure(label, key, Path(tmp)))


if __name__ == "__main__":
    main()
