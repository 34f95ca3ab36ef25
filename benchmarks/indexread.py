"""Reads through the record index against the tutorial's pipeline, in one run (issue 11):
moto S3 on 127.0.0.1 behind the counting proxy shaped as S3 (20 ms per request, 100 MB/s
per connection), the generated 100 Hz day (14 MB) of the bench bucket.

Systems: the tutorial's function (:mod:`benchmarks.tutorial`: the whole day file per
window), ours without an index (the locator's search, a fresh extractor each time: cold),
ours with the index (a fresh extractor and a freshly opened database each time: nothing
parsed or cached; and, for the 5-min window, a warm one kept across repetitions). The
index is built once before (``build_index``, not timed; docs/index.md measures builds).

    .venv/bin/python -m benchmarks.indexread [--reps N]

Prints a Markdown table (benchmarks/RESULTS.md and docs/index.md quote it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.indexbuild import build_index
from seiswindow.locate import RoundCost
from seiswindow.model import Limits
from seiswindow.store import Chunk, ObjectInfo, S3Store, Store
from seiswindow.tsindex import IndexStore

from .cases import ROTATE_STEP_S
from .measure import child_env
from .run import SHAPED
from .s3data import BENCH_BUCKET, DAY, HUNDRED_HZ, default_data_root, start_bench_s3

__all__ = ["main"]

_LIMITS = Limits(max_windows=1000)


def _window(start: dt.datetime, seconds: float) -> Window:
    end = start + dt.timedelta(seconds=seconds)
    return Window.from_nslc(str(HUNDRED_HZ), start.isoformat(), end.isoformat())


def _five_minutes(rep: int) -> list[Window]:
    midnight = dt.datetime(DAY.year, DAY.month, DAY.day)
    offset = (10 * 3600 + rep * ROTATE_STEP_S) % (86_400 - 1200 - 300) + 600
    return [_window(midnight + dt.timedelta(seconds=offset), 300)]


def _minutes(count: int, rep: int) -> list[Window]:
    """``count`` one-minute windows spread over the day (clear of midnight)."""
    midnight = dt.datetime(DAY.year, DAY.month, DAY.day)
    step = (86_400 - 1200 - 60) / count
    return [_window(midnight + dt.timedelta(seconds=600 + rep * 7 + k * step), 60) for k in range(count)]


#: Coalescing thresholds the sweep compares (bytes of hole merged).
_THRESHOLDS = (0, 128 << 10, 1 << 20, 4 << 20, 16 << 20)


def _spread(count: int) -> Callable[[int], list[Window]]:
    return lambda rep: _minutes(count, rep)


def _tutorial_request(windows: list[Window]) -> dict[str, Any]:
    from seiswindow.nstime import format_time

    n = HUNDRED_HZ
    return {
        "Windows": [
            {
                "Network": n.network,
                "Station": n.station,
                "Channel": n.channel,
                "Location": n.location or "  ",
                "Starttime": format_time(w.start),
                "Endtime": format_time(w.end),
            }
            for w in windows
        ]
    }


class _Kept(Store):
    """A store shared by the extractors of the run (their ``close`` leaves it open): a
    fresh extractor is cold in what it knows of files, not in its S3 client."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.url = inner.url

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        return self.inner.get_range(key, start=start, end=end)

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self.inner.get_suffix(key, length=length)

    def get(self, key: str) -> Chunk:
        return self.inner.get(key)

    def stat(self, key: str) -> ObjectInfo:
        return self.inner.stat(key)

    def list(self, prefix: str) -> list[str]:
        return self.inner.list(prefix)


class _Bench:
    def __init__(self, proxy: Any, db: Path) -> None:
        self.proxy = proxy
        self.db = db
        self.store = S3Store(BENCH_BUCKET, endpoint_url=proxy.url)
        self.warm: Extractor | None = None

    def _extractor(self, system: str) -> Extractor:
        archive = Archive(_Kept(self.store), layout_named("scedc"))
        index = IndexStore(self.db) if system.startswith("indexed") else None
        extractor = Extractor(archive, limits=_LIMITS, index=index)
        if system == "search, speculative":  # round 2's probes replaced when cheaper
            extractor.locator.round_cost = RoundCost(latency_s=0.020, bandwidth_bps=100e6)
        if system.startswith("indexed, coalesce ") and extractor.indexread is not None:
            extractor.indexread.coalesce_bytes = int(system.rsplit(" ", 1)[1])
        return extractor

    def run(self, system: str, windows: list[Window]) -> tuple[float, int, int]:
        """(seconds, requests, bytes) of one request of ``windows`` answered by ``system``."""
        from . import tutorial

        self.proxy.reset()
        began = time.perf_counter()
        if system == "tutorial":
            answer = tutorial.process(_tutorial_request(windows), bucket=BENCH_BUCKET)
            assert len(answer) == len(windows)
        elif system == "indexed-warm":
            if self.warm is None:
                self.warm = self._extractor(system)
            _check(self.warm.extract(windows))
        else:
            with self._extractor(system) as extractor:
                _check(extractor.extract(windows))
        elapsed = time.perf_counter() - began
        return elapsed, self.proxy.count(path_contains=BENCH_BUCKET), self.proxy.total_bytes(BENCH_BUCKET)


def _check(results: Sequence[object]) -> None:
    from seiswindow.model import WindowResult

    for result in results:
        assert isinstance(result, WindowResult) and result.status is Status.OK, result


def _row(name: str, windows: int, runs: list[tuple[float, int, int]]) -> str:
    median = statistics.median(t for t, _, _ in runs)
    requests = statistics.median(r for _, r, _ in runs)
    size = statistics.median(b for _, _, b in runs)
    return (
        f"| {name} | {median * 1e3:.0f} ms | {requests:.0f} | {requests / windows:.2f} | "
        f"{size / 1e3:,.0f} kB | {size / windows / 1e3:,.1f} kB |"
    )


def interpolation_error(paths: Sequence[Path]) -> list[str]:
    """Markdown rows: how far linear interpolation between a file's first and last record
    puts a time from its record (2,000 times spread over the file), in records and as a
    fraction of the file's records (what the locator's speculative margin covers)."""
    import numpy as np

    from seiswindow.mseed import scan_records

    rows = ["| file | records | largest error | fraction |", "|---|---|---|---|"]
    for path in paths:
        headers, _ = scan_records(path.read_bytes(), offset=0)
        n = len(headers)
        starts = np.array([h.start for h in headers], dtype=float)
        first, last = headers[0].start, headers[-1].end
        times = np.linspace(first, last, 2000)
        error = np.abs((times - first) / (last - first) * n - (np.searchsorted(starts, times, "right") - 1))
        rows.append(f"| {path.name} | {n} | {error.max():.1f} | {error.max() / n:.2%} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases; print the table; 0 on success."""
    from tests.support.s3proxy import S3Proxy

    parser = argparse.ArgumentParser(prog="python -m benchmarks.indexread")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the 5-min case")
    parser.add_argument(
        "--coalesce", action="store_true", help="only the sweep of coalescing thresholds (indexed reads)"
    )
    parser.add_argument(
        "--out", type=Path, help="also write the tables here (make bench: benchmarks/INDEXREAD.md)"
    )
    args = parser.parse_args(argv)
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    s3 = start_bench_s3(generate=True)
    (day_file,) = [f for f in s3.generated if f.nslc == HUNDRED_HZ]
    lines = [
        "| case | system | median | requests | requests / window | bytes read | bytes / window |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        with S3Proxy(s3.endpoint) as proxy, tempfile.TemporaryDirectory() as tmp:
            os.environ.update(child_env(proxy.url, BENCH_BUCKET))
            db = Path(tmp) / "index.sqlite"
            with IndexStore(db) as index:
                store = S3Store(BENCH_BUCKET, endpoint_url=s3.endpoint)
                build_index(store, [day_file.key], index)
                store.close()
            SHAPED.apply(proxy)
            bench = _Bench(proxy, db)
            cases: list[tuple[str, Callable[[int], list[Window]], list[str], int]] = [
                (
                    "5-min window",
                    _five_minutes,
                    ["tutorial", "search", "search, speculative", "indexed", "indexed-warm"],
                    args.reps,
                ),
                (
                    "100 one-minute windows, one request",
                    lambda rep: _minutes(100, rep),
                    ["tutorial", "search", "search, speculative", "indexed"],
                    1,
                ),
                (
                    "1,000 one-minute windows, one request",
                    lambda rep: _minutes(1000, rep),
                    ["search", "search, speculative", "indexed"],
                    1,
                ),
            ]
            if args.coalesce:
                thresholds = [f"indexed, coalesce {c}" for c in _THRESHOLDS]
                cases = [
                    (f"{n} one-minute windows, one request", _spread(n), thresholds, args.reps)
                    for n in (10, 100)
                ]
            for system in ("tutorial", "search", "indexed"):  # connections opened, imports done
                bench.run(system, _five_minutes(99))
            for title, windows_of, systems, reps in cases:
                for system in systems:
                    runs = []
                    for rep in range(reps):
                        runs.append(bench.run(system, windows_of(rep)))
                        log(f"{title} {system} rep {rep}: {runs[-1]}")
                    lines.append(_row(f"{title} | {system}", len(windows_of(0)), runs))
            if bench.warm is not None:
                bench.warm.close()
            bench.store.close()
    finally:
        s3.stop()
    data = default_data_root()
    samples = sorted((data / "scedc-pds").rglob("*.ms")) + sorted((data / "ncedc-pds").rglob("*.D.*"))
    text = "\n".join(
        [
            "## Reads through the record index (issue 11), side by side with the tutorial",
            "",
            f"`python -m benchmarks.indexread {' '.join(argv or sys.argv[1:])}`, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: docs/index.md says what each system is.",
            "",
            *interpolation_error(samples),
            "",
            f"{day_file.key}: {day_file.size / 1e6:.1f} MB; shaping: 20 ms per request, 100 MB/s",
            "",
            *lines,
        ]
    )
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
