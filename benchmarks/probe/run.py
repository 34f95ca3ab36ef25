"""``python -m benchmarks.probe`` (``make probe``): the four parts in order, the figures
written into ``benchmarks/PROBE.md`` and printed, the raw figures kept as JSON.

1. schemathesis on the served OpenAPI, then on the FDSN query operations with their
   parameters (`benchmarks.probe.fuzz`), against one server;
2. load at 50, then 200 concurrent clients (`benchmarks.probe.load`), against a fresh
   server, so that its peak RSS is the load's;
3. RSS over rounds: more rounds of the same load on that server;
4. the pathological pattern (`benchmarks.probe.hang`), last, because it may leave the
   server unusable; the server is killed at its end.

Every server and moto run in their own processes on 127.0.0.1; each part is bounded in
time, and the children die with the probe (they are stopped in ``finally``, moto exits when
its standard input closes and the servers get SIGKILL when the probe dies).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from .._paths import REPO_ROOT
from ..report import machine_description
from .fuzz import fdsn_schema, fetch_schema, run_schemathesis
from .hang import run_hang
from .load import run_round
from .procs import Proc, proc_cpu_s, start_moto_process, start_service
from .report import render, write_section

__all__ = ["PROBE_FILE", "main"]

PROBE_FILE = REPO_ROOT / "benchmarks" / "PROBE.md"
ARCHIVE = "s3://scedc-pds"
_FDSN_QUERIES = "^/fdsnws/(dataselect|station)/1/query$"


def _log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PROBE_FILE, help="markdown file to put the section in")
    parser.add_argument("--workdir", type=Path, help="logs, HAR files, probe.json (default: a temporary dir)")
    parser.add_argument("--max-examples", type=int, default=200, help="schemathesis cases per operation")
    parser.add_argument("--round-seconds", type=float, default=20.0, help="length of the 50 and 200 rounds")
    parser.add_argument("--rss-rounds", type=int, default=5, help="rounds of the same load for RSS")
    parser.add_argument("--rss-round-seconds", type=float, default=30.0)
    parser.add_argument("--rss-clients", type=int, default=50)
    parser.add_argument("--skip", action="append", default=[], choices=["fuzz", "load", "hang"])
    return parser.parse_args(argv)


def _healthy(service: Proc) -> bool:
    try:
        return httpx.get(f"{service.url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _fuzz(moto: Proc, workdir: Path, args: argparse.Namespace, started: float) -> list[dict[str, Any]]:
    service = start_service(workdir, archive=ARCHIVE, endpoint_url=moto.url, name="service-fuzz")
    try:
        served = fetch_schema(service.url)
        runs = []
        for name, schema, include, timeout_s in (
            # Wall-clock bounds that keep the whole probe under 10 minutes on a loaded box.
            ("served", served, None, 120.0),
            ("fdsn", fdsn_schema(served), _FDSN_QUERIES, 90.0),
        ):
            _log(f"schemathesis {name} (max {args.max_examples} examples per operation)", started)
            result = run_schemathesis(
                name,
                service.url,
                schema,
                workdir,
                max_examples=args.max_examples,
                timeout_s=timeout_s,
                include_path_regex=include,
            )
            if not _healthy(service):
                result.notes.append("the server no longer answered /health afterwards")
            runs.append(result.summary())
            _log(f"  {result.generated} cases, {result.server_errors} 5xx, {result.elapsed_s:.0f} s", started)
        return runs
    finally:
        service.stop()


def _load(service: Proc, moto: Proc, args: argparse.Namespace, started: float) -> list[dict[str, Any]]:
    plan = [("50 clients", 50, args.round_seconds), ("200 clients", 200, args.round_seconds)]
    plan += [(f"rss {i + 1}", args.rss_clients, args.rss_round_seconds) for i in range(args.rss_rounds)]
    rounds = []
    for seed, (label, clients, seconds) in enumerate(plan, start=1):
        _log(f"load: {label}, {seconds:.0f} s", started)
        # CPU seconds of each process: on 2 shared cores they say where the time went.
        cpu = (proc_cpu_s(service.pid), proc_cpu_s(moto.pid), time.process_time())
        result = run_round(service.url, service.pid, clients=clients, seconds=seconds, seed=seed)
        used = (proc_cpu_s(service.pid), proc_cpu_s(moto.pid), time.process_time())
        summary = {"label": label, **result.summary()}
        spent = [round(b - a, 1) for a, b in zip(cpu, used, strict=True)]
        summary["cpu_s"] = dict(zip(("server", "moto", "probe"), spent, strict=True))
        rounds.append(summary)
        _log(
            f"  {summary['requests']} requests, 5xx {summary['server_errors']}, p95 {summary['p95_ms']} ms, "
            f"RSS after {summary['rss_after_mb']} MB",
            started,
        )
    return rounds


def _versions() -> str:
    names = ("schemathesis", "hypothesis", "httpx")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return f"- probe: {', '.join(found)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the probe; returns 0 (the figures are the outcome, not a verdict)."""
    args = _parse(argv)
    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="seiswindow-probe-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make probe",
        "cores": os.cpu_count(),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "machine": [*machine_description(), _versions()],
        "service": f"seiswindow serve --archive {ARCHIVE} --endpoint-url <moto S3 with ../shared/data>",
    }
    _log(f"work directory {workdir}", started)
    moto = start_moto_process(workdir)
    _log(f"moto S3 at {moto.url}", started)
    try:
        if "fuzz" not in args.skip:
            results["fuzz"] = _fuzz(moto, workdir, args, started)
        if "load" not in args.skip or "hang" not in args.skip:
            service = start_service(workdir, archive=ARCHIVE, endpoint_url=moto.url, name="service-load")
            try:
                if "load" not in args.skip:
                    results["rounds"] = _load(service, moto, args, started)
                if "hang" not in args.skip:
                    _log("pathological pattern (the server is stopped at the end)", started)
                    results["hang"] = run_hang(service).summary()
                    _log(f"  {results['hang']['stop']}", started)
            finally:
                service.stop(grace_s=5)
    finally:
        moto.stop()
    results["elapsed_s"] = time.monotonic() - started
    (workdir / "probe.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    section = render(results)
    write_section(args.out, section)
    print(section)
    _log(f"done; section written to {args.out}, raw figures in {workdir / 'probe.json'}", started)
    return 0
