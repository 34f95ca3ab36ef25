"""The parent's side of a measurement: start a child process for one system and one case,
then read off the S3 proxy what each of its repetitions cost.

S3 figures come from the proxy, not from the systems' own counters: both are measured
by the same meter, at the server, so neither can under-count.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._paths import REPO_ROOT
from .cases import Case

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.s3proxy import ProxyRecord, S3Proxy  # noqa: E402
from tests.support.s3server import REGION  # noqa: E402

__all__ = [
    "Calibration",
    "ColdStart",
    "Measurement",
    "Shaping",
    "calibrate",
    "child_env",
    "measure",
    "measure_cold_start",
]

#: A child that takes longer than this is stuck.
_CHILD_TIMEOUT_S = 300.0
_AWS_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "SEISWINDOW_ARCHIVE",
    "SEISWINDOW_LAYOUT",
)


@dataclass(frozen=True)
class Shaping:
    """What the proxy adds: a delay per request and a bandwidth cap per connection."""

    label: str
    delay_s: float
    bandwidth_bps: float | None

    def apply(self, proxy: S3Proxy) -> None:
        proxy.delay_s = self.delay_s
        proxy.bandwidth_bps = self.bandwidth_bps


@dataclass(frozen=True)
class Measurement:
    """One system on one case: per-repetition figures and the process's peak RSS."""

    case: str
    system: str
    shaping: str
    wall_s: tuple[float, ...]
    s3_bytes: tuple[int, ...]
    s3_requests: tuple[int, ...]
    s3_rounds: tuple[int, ...]
    whole_gets: tuple[int, ...]  #: GETs without a Range header: whole objects read
    answer_bytes: int
    peak_rss_kb: int
    rss_setup_kb: int
    digest: str
    npts: int

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def p95_s(self) -> float:
        """95th percentile, linear between the two nearest ranks (the maximum when there
        are few repetitions)."""
        return float(np.percentile(self.wall_s, 95))

    @property
    def bytes_per_run(self) -> int:
        return int(statistics.median(self.s3_bytes))

    @property
    def requests_per_run(self) -> int:
        return int(statistics.median(self.s3_requests))

    @property
    def rounds_per_run(self) -> int:
        return int(statistics.median(self.s3_rounds))


@dataclass(frozen=True)
class ColdStart:
    """Fresh processes: importing the Lambda handler, then answering one request."""

    system: str
    import_s: tuple[float, ...]
    first_answer_s: tuple[float, ...]
    spawn_to_answer_s: tuple[float, ...]
    peak_rss_kb: tuple[int, ...]


@dataclass(frozen=True)
class Calibration:
    """What one small S3 request costs through the proxy, for any client."""

    shaping: str
    key: str
    size: int  #: of the object read
    sequential_s: float  #: latency of one request, one after the other
    parallel_per_s: float  #: requests answered per second, 16 at a time


def child_env(proxy_url: str, bucket: str) -> dict[str, str]:
    """The environment of a child: S3 through the proxy, dummy credentials, nothing of a
    developer's own AWS set-up, the archive and bucket of the case."""
    env = {k: v for k, v in os.environ.items() if k not in _AWS_UNSET}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL_S3": proxy_url,
            "SEISWINDOW_ARCHIVE": f"s3://{bucket}",
            "BENCH_TUTORIAL_BUCKET": bucket,
            "NO_PROXY": ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])),
        }
    )
    env["no_proxy"] = env["NO_PROXY"]
    return env


def _run_child(job: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Run ``python -m benchmarks.child`` on ``job``; its outcome.

    Raises:
        RuntimeError: the child failed or timed out (its stderr is in the message).
    """
    with tempfile.TemporaryDirectory(prefix="seiswindow-bench-") as tmp:
        out = Path(tmp) / "outcome.json"
        job = {**job, "out": str(out)}
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.child"],
            input=json.dumps(job),
            text=True,
            env=dict(env),
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_CHILD_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join(proc.stderr.splitlines()[-25:])
            raise RuntimeError(f"{job['system']} on {job.get('case')} failed ({proc.returncode}):\n{tail}")
        outcome: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return outcome


def _within(records: Sequence[ProxyRecord], t0: float, t1: float) -> list[ProxyRecord]:
    return [r for r in records if t0 <= r.received_at <= t1]


def _rounds(records: Sequence[ProxyRecord], gap_s: float) -> int:
    """Sequential rounds of requests (see ``S3Proxy.rounds``)."""
    rounds, start = 0, None
    for t in sorted(r.received_at for r in records):
        if start is None or t - start > gap_s:
            rounds, start = rounds + 1, t
    return rounds


def measure(case: Case, system: str, *, proxy: S3Proxy, shaping: Shaping, warmup: bool = True) -> Measurement:
    """Run ``system`` (``ours`` or ``baseline``) on ``case`` in a fresh process.

    One untimed warm-up request first (when ``warmup``), as a running service has
    answered before; then ``case.reps`` timed repetitions.

    Raises:
        RuntimeError: the child failed.
    """
    shaping.apply(proxy)
    requests = [case.request(rep) for rep in range(case.reps)]
    if warmup:
        requests = [case.request(case.reps), *requests]
    job = {
        "case": case.name,
        "system": system,
        "front": str(case.front),
        "bucket": case.bucket,
        "across_days": case.across_days,
        "requests": requests,
    }
    proxy.reset()
    outcome = _run_child(job, child_env(proxy.url, case.bucket))
    records = proxy.records
    runs = outcome["runs"][1:] if warmup else outcome["runs"]
    per_run = [_within(records, run["t0"], run["t1"]) for run in runs]
    gap = shaping.delay_s / 2 if shaping.delay_s else 0.002
    return Measurement(
        case=case.name,
        system=system,
        shaping=shaping.label,
        wall_s=tuple(run["t1"] - run["t0"] for run in runs),
        s3_bytes=tuple(sum(r.body_bytes for r in rs) for rs in per_run),
        s3_requests=tuple(len(rs) for rs in per_run),
        s3_rounds=tuple(_rounds(rs, gap) for rs in per_run),
        whole_gets=tuple(sum(1 for r in rs if r.method == "GET" and r.range is None) for rs in per_run),
        answer_bytes=int(runs[-1]["answer_bytes"]),
        peak_rss_kb=int(outcome["peak_rss_kb"]),
        rss_setup_kb=int(outcome["rss_setup_kb"]),
        digest=str(outcome["digest"]),
        npts=int(outcome["npts"]),
    )


def measure_cold_start(case: Case, system: str, *, proxy: S3Proxy, shaping: Shaping, runs: int) -> ColdStart:
    """``runs`` fresh processes, each importing the system's Lambda handler and answering
    the first request of ``case``.

    Raises:
        RuntimeError: a child failed.
    """
    shaping.apply(proxy)
    imports, firsts, spawns, rss = [], [], [], []
    for _ in range(runs):
        job = {"mode": "coldstart", "case": case.name, "system": system, "requests": [case.request(0)]}
        spawned = time.monotonic()
        outcome = _run_child(job, child_env(proxy.url, case.bucket))
        imports.append(float(outcome["import_s"]))
        firsts.append(float(outcome["first_answer_s"]))
        spawns.append(float(outcome["answered_at"]) - spawned)
        rss.append(int(outcome["peak_rss_kb"]))
    return ColdStart(system, tuple(imports), tuple(firsts), tuple(spawns), tuple(rss))


def calibrate(
    proxy: S3Proxy, shaping: Shaping, *, bucket: str, key: str, size: int, count: int
) -> Calibration:
    """Time ``count`` sequential and ``4 * count`` parallel 64-byte GETs of ``key``.

    Raises:
        RuntimeError: the child failed.
    """
    shaping.apply(proxy)
    job = {"mode": "calibrate", "system": "botocore", "bucket": bucket, "key": key, "count": count}
    outcome = _run_child(job, child_env(proxy.url, bucket))
    return Calibration(
        shaping.label, key, size, float(outcome["sequential_s"]), float(outcome["parallel_per_s"])
    )
