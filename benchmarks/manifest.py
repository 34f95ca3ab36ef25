"""What a manifest costs the service, against the JSON answer of the same windows (issue 11,
item 5): S3 requests and bytes the service reads, its time, the manifest's size, and the
bytes a worker then fetches. moto on 127.0.0.1 behind the counting proxy (no shaping), a
cold extractor per run (nothing known of the files); prints a Markdown table
(docs/service.md quotes it).

    .venv/bin/python -m benchmarks.manifest
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import orjson
from tests.support.s3proxy import S3Proxy  # noqa: E402  (s3data puts the repository on the path)

from seiswindow.archive import Archive, layout_named
from seiswindow.extract import Extractor
from seiswindow.indexbuild import build_index
from seiswindow.service import WHOLE, Service
from seiswindow.store import S3Store
from seiswindow.tsindex import IndexStore

from .s3data import start_bench_s3

CASES = {
    "1 window, 5 min, 40 Hz": [("CCA", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")],
    "1 window, 1 h, 40 Hz": [("CCA", "BHN", "2022-01-02T10:00:00", "2022-01-02T11:00:00")],
    "4 windows, 10 min (40 Hz x2, 1 Hz across midnight, 1 Hz)": [
        ("CCA", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:10:00"),
        ("HEC", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:10:00"),
        ("WBM", "LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00"),
        ("NCH", "LHZ", "2022-01-02T23:00:00", "2022-01-02T23:10:00"),
    ],
}
RUNS = 5


def _body(windows: list[tuple[str, str, str, str]]) -> bytes:
    rows = [
        {"Network": "CI", "Station": s, "Location": "", "Channel": c, "Starttime": a, "Endtime": b}
        for s, c, a, b in windows
    ]
    return orjson.dumps({"Windows": rows})


def _run(proxy: S3Proxy, body: bytes, fmt: str, index: Path | None) -> tuple[float, int, int, int, int, int]:
    """(seconds, GETs, HEADs, bytes read, answer bytes, bytes a worker fetches) of one cold run."""
    store = S3Store("scedc-pds", endpoint_url=proxy.url)
    db = IndexStore(index) if index is not None else None
    extractor = Extractor(Archive(store, layout_named("scedc")), index=db)
    try:
        proxy.reset()
        began = time.perf_counter()
        response = Service(extractor).timewindows(body, query={"format": fmt}, transport=WHOLE)
        seconds = time.perf_counter() - began
        assert response.status == 200, response.body[:200]
        fetched = 0
        if fmt == "manifest":
            fetched = sum(e["byte_count"] for e in orjson.loads(response.body)["contents"])
        return (
            seconds,
            proxy.count("GET"),
            proxy.count("HEAD"),
            proxy.total_bytes(),
            len(response.body),
            fetched,
        )
    finally:
        extractor.close()


def main() -> int:
    s3 = start_bench_s3(generate=False)
    head = "| case | answer | median time | GETs | HEADs | bytes read by the service | answer bytes "
    head += "| worker fetches |"
    rows = [head, "|---|---|---|---|---|---|---|---|"]
    try:
        with S3Proxy(s3.endpoint) as proxy, tempfile.TemporaryDirectory() as tmp:
            index = Path(tmp) / "tsindex.sqlite"
            store = S3Store("scedc-pds", endpoint_url=s3.endpoint)
            with IndexStore(index) as db:
                keys = [k for k in s3.shared_keys["scedc-pds"] if k.endswith(".ms")]
                build_index(store, keys, db)
            store.close()
            for label, windows in CASES.items():
                body = _body(windows)
                for name, fmt, idx in (
                    ("JSON", "json", None),
                    ("manifest, by reading", "manifest", None),
                    ("manifest, from the index", "manifest", index),
                ):
                    runs = [_run(proxy, body, fmt, idx) for _ in range(RUNS)]
                    seconds = statistics.median(r[0] for r in runs)
                    _, gets, heads, read, size, fetched = runs[-1]
                    worker = f"{fetched:,}" if fmt == "manifest" else "—"
                    rows.append(
                        f"| {label} | {name} | {seconds * 1000:.0f} ms | {gets} | {heads} | {read:,} | "
                        f"{size:,} | {worker} |"
                    )
    finally:
        s3.stop()
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
