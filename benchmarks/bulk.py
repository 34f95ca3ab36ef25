"""Bulk jobs side by side (issue 12): N one-minute windows over the sample days, cut by

- ``tutorial``: the SCEDC tutorial's pipeline (:mod:`benchmarks.tutorial`: the whole day
  file downloaded, ObsPy read/merge/trim) for one window per call, in a thread pool of
  ``--pool`` threads;
- ``local``: ``run_job`` with the local executor (an extractor with ``--pool`` day files
  read at once), miniSEED files and the manifest written;
- ``dask-1``, ``dask-2``: ``run_job`` with the Dask executor on a ``LocalCluster`` of 1 and
  2 worker processes (cluster start-up not counted in windows/s; shown apart).

Each system runs in a process of its own (its peak RSS, ``VmHWM``, is its own; for Dask,
each worker's too) against moto on 127.0.0.1 holding the shared sample files, through the
counting proxy (requests and bytes per window). The tutorial downloads a whole day file per
window, so it runs on the first ``--tutorial-windows`` windows only (its rate is per window
all the same). A last row is a resume: the local job killed (SIGKILL) at half its windows,
then run again; "read again" counts the windows done before the kill that the rerun read
(none, if resuming works).

    .venv/bin/python -m benchmarks.bulk                 # 10,000 windows (minutes)
    .venv/bin/python -m benchmarks.bulk --windows 1000  # a quicker look
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ._paths import REPO_ROOT
from .s3data import default_data_root, load_shared_data, start_moto

SYSTEMS = ("tutorial", "local", "dask-1", "dask-2")
#: (codes, first day, last day) of the sample files windows are drawn from.
CHANNELS = (
    (("CI", "WBM", "", "LHZ"), 1, 3),
    (("CI", "CCA", "", "BHN"), 2, 2),
    (("CI", "HEC", "", "BHN"), 2, 2),
    (("BK", "THIS", "00", "LHZ"), 2, 2),
)


def _windows(count: int, seed: int = 12) -> list[tuple[str, str, str, str, str, str]]:
    """``count`` one-minute windows at random minutes of the sample days."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(count):
        (net, sta, loc, cha), first, last = CHANNELS[k % len(CHANNELS)]
        day = int(rng.integers(first, last + 1))
        second = int(rng.integers(0, 86_400 - 60))
        start = np.datetime64("2022-01-01T00:00:00") + np.timedelta64((day - 1) * 86_400 + second, "s")
        rows.append((net, sta, loc, cha, str(start), str(start + np.timedelta64(60, "s"))))
    return rows


def _hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# -- the child: one system ------------------------------------------------------------------


def _child(system: str, csv_path: Path, endpoint: str, pool: int, limit: int) -> dict[str, Any]:
    from seiswindow import Settings, open_archive
    from seiswindow.bulk import LocalExecutor, MseedWriter, read_input, resolve, run_job

    settings = Settings(archive="s3://scedc-pds", endpoint_url=endpoint)
    text = csv_path.read_text()
    if system == "tutorial":
        from .tutorial import process

        rows = [line.split(",") for line in text.splitlines()[1:]][:limit]
        requests = [
            {
                "Windows": [
                    dict(
                        zip(
                            ("Network", "Station", "Location", "Channel", "Starttime", "Endtime"),
                            r,
                            strict=True,
                        )
                    )
                ]
            }
            for r in rows
        ]
        began = time.perf_counter()
        with ThreadPoolExecutor(pool) as threads:
            answers = list(threads.map(lambda e: process(e, across_days=True), requests))
        seconds = time.perf_counter() - began
        return {
            "windows": len(rows),
            "answered": sum(len(a) for a in answers),
            "seconds": seconds,
            "hwm_kb": _hwm_kb(),
        }
    windows = resolve(read_input(text), lambda s: [])
    archive = open_archive(settings, check=False)
    started = time.perf_counter()
    workers_hwm: list[int] = []
    if system == "local":
        executor: Any = LocalExecutor(open_archive(settings, check=False), workers=pool)
    else:
        import functools

        from seiswindow.bulk.dask import DaskExecutor

        executor = DaskExecutor(
            functools.partial(open_archive, settings, check=False), workers=int(system[-1]), threads=pool
        )
    startup = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        summary = run_job(
            windows, directory=Path(out), writer=MseedWriter(), executor=executor, layout=archive.layout
        )
        seconds = time.perf_counter() - began
    if system != "local":
        workers_hwm = sorted(executor.client.run(_hwm_kb).values())
    executor.close()
    return {
        "windows": len(windows),
        "answered": summary.answered,
        "errors": summary.counts.get("error", 0),
        "seconds": seconds,
        "startup": startup,
        "hwm_kb": _hwm_kb(),
        "workers_hwm_kb": workers_hwm,
    }


# -- the parent -----------------------------------------------------------------------------


def _run_child(system: str, csv_path: Path, proxy: Any, pool: int, limit: int) -> dict[str, Any]:
    proxy.reset()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_S3": proxy.url,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    args = [sys.executable, "-m", "benchmarks.bulk", "--child", system, "--csv", str(csv_path)]
    args += ["--endpoint", proxy.url, "--pool", str(pool), "--tutorial-windows", str(limit)]
    proc = subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{proc.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["requests"] = proxy.count()
    figures["bytes"] = proxy.total_bytes()
    return figures


def _resume(csv_path: Path, proxy: Any, total: int) -> dict[str, Any]:
    """The local job killed at half its windows, then run again."""
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": proxy.url, "SEISWINDOW_ARCHIVE": "s3://scedc-pds"}
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "seiswindow.cli", "bulk", str(csv_path), "--out", out]
        manifest = Path(out) / "manifest.jsonl"
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def done() -> list[dict[str, Any]]:
            if not manifest.exists():
                return []
            lines = manifest.read_bytes().splitlines(keepends=True)[1:]
            return [json.loads(x) for x in lines if x.endswith(b"\n")]

        while len(done()) < total // 2 and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = {e["id"] for e in done() if e["status"] != "error"}
        first = len(done())
        began = time.perf_counter()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
        seconds = time.perf_counter() - began
        again = [e for e in done()[first:] if e["id"] in before]
        return {"killed_at": len(before), "rerun_windows": len(done()) - first, "read_again": len(again),
                "seconds": seconds, "exit": rerun.returncode}  # fmt: skip


def _table(results: dict[str, dict[str, Any]], resume: dict[str, Any] | None, pool: int) -> str:
    lines = [
        f"| system (pool {pool}) | windows | windows/s | requests/window | MB read/window | peak RSS MB | "
        "peak RSS per worker MB | start-up s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for system, f in results.items():
        rate = f["windows"] / f["seconds"] if f["seconds"] else 0.0
        workers = ", ".join(f"{kb / 1024:.0f}" for kb in f.get("workers_hwm_kb", [])) or "-"
        startup = f"{f['startup']:.1f}" if "startup" in f else "-"
        lines.append(
            f"| {system} | {f['windows']} | {rate:.1f} | {f['requests'] / f['windows']:.2f} | "
            f"{f['bytes'] / f['windows'] / 1e6:.3f} | {f['hwm_kb'] / 1024:.0f} | {workers} | {startup} |"
        )
    if resume:
        lines.append("")
        lines.append(
            f"Resume: killed (SIGKILL) with {resume['killed_at']} windows done; the rerun answered "
            f"{resume['rerun_windows']} windows in {resume['seconds']:.1f} s (exit {resume['exit']}), "
            f"read again {resume['read_again']} windows that were done."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=10_000)
    parser.add_argument("--tutorial-windows", type=int, default=300)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = _child(args.child, args.csv, args.endpoint, args.pool, args.tutorial_windows)
        print(json.dumps(figures))
        return 0

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.s3proxy import S3Proxy

    moto = start_moto()
    try:
        load_shared_data(moto.endpoint, default_data_root())
        with tempfile.TemporaryDirectory() as tmp, S3Proxy(moto.endpoint) as proxy:
            csv_path = Path(tmp) / "windows.csv"
            rows = _windows(args.windows)
            csv_path.write_text(
                "network,station,location,channel,starttime,endtime\n"
                + "\n".join(",".join(r) for r in rows)
                + "\n"
            )
            results = {}
            for system in args.systems:
                print(f"running {system} ...", file=sys.stderr, flush=True)
                results[system] = _run_child(system, csv_path, proxy, args.pool, args.tutorial_windows)
            resume = None if args.no_resume else _resume(csv_path, proxy, args.windows)
    finally:
        moto.stop()
    table = _table(results, resume, args.pool)
    print(
        f"{args.windows} one-minute windows over the sample days (moto on 127.0.0.1, {os.cpu_count()} CPUs)\n"
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
