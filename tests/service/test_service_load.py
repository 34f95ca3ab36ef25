"""A bounded load test on loopback: the service in its own process (so its peak RSS is its
own), 50 concurrent clients for 30 s sending valid, no-data and invalid windows, reading
the shared data from moto S3 through the counting proxy.

Passes when no answer is a 5xx, no valid window comes back with status ``error``, every
invalid request is a 4xx, and the server's peak resident set (``VmHWM``) stays bounded.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from support.s3server import S3Proxy

CLIENTS = 50
SECONDS = 30.0
#: The server's peak RSS must stay under this (it holds the answers being built, each
#: bounded by max_response_bytes, for at most one request per worker thread).
RSS_BOUND_MB = 512


def _window(net: str, sta: str, loc: str, cha: str, start: float, seconds: float) -> dict[str, str]:
    t0 = time.gmtime(start)
    t1 = time.gmtime(start + seconds)
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {
        "Network": net,
        "Station": sta,
        "Location": loc,
        "Channel": cha,
        "Starttime": time.strftime(fmt, t0),
        "Endtime": time.strftime(fmt, t1),
    }


DAY = 1641081600.0  # 2022-01-02T00:00:00Z


def _valid(rng: random.Random) -> dict[str, str]:
    kind = rng.randrange(5)
    if kind == 0:
        return _window("CI", "WBM", "  ", "LHZ", DAY - 3600 + rng.uniform(0, 2 * 86400), 300)
    if kind == 1:
        return _window("CI", "CCA", "  ", "BHN", DAY + rng.uniform(0, 86000), rng.choice([60, 300, 1800]))
    if kind == 2:
        return _window("CI", "HEC", "", "BHN", DAY + rng.uniform(0, 86000), 120)
    if kind == 3:
        return _window("BK", "THIS", "00", "LHZ", DAY + rng.uniform(0, 86000), 600)
    return _window("CI", "FOX2", "--", "LHZ", DAY + 82000 + rng.uniform(0, 4000), 600)


def _invalid(rng: random.Random) -> bytes:
    good = _valid(rng)
    kind = rng.randrange(4)
    if kind == 0:
        return json.dumps({"Windows": [good, {**good, "Station": "TOO-LONG"}]}).encode()
    if kind == 1:
        return json.dumps({"Windows": [{**good, "Endtime": "not a time"}]}).encode()
    if kind == 2:
        return json.dumps(
            {"Windows": [{**good, "Endtime": good["Starttime"], "Starttime": good["Endtime"]}]}
        ).encode()
    return b'{"Windows": [' + json.dumps(good).encode()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    window_statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    bytes_in: int = 0


def _client(url: str, seed: int, stop: float, tally: Tally) -> None:
    rng = random.Random(seed)
    with httpx.Client(
        base_url=url, timeout=60, headers={"Accept-Encoding": rng.choice(["gzip", "identity"])}
    ) as client:
        while time.monotonic() < stop:
            kind = rng.random()
            valid = kind < 0.65
            if valid:
                windows = [_valid(rng) for _ in range(rng.randint(1, 4))]
                if rng.random() < 0.2:
                    windows.append(_window("CI", "NONE", "", "BHZ", DAY, 60))  # nodata, still valid
                body = json.dumps({"Windows": windows}).encode()
            else:
                body = _invalid(rng)
            started = time.perf_counter()
            try:
                r = client.post("/timewindows", content=body)
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.problems.append(f"transport error: {exc!r}")
                continue
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.statuses[r.status_code] += 1
                tally.latencies.append(elapsed)
                tally.bytes_in += len(r.content)
                if r.status_code >= 500:
                    tally.problems.append(f"{r.status_code}: {r.text[:200]}")
                elif valid:
                    if r.status_code != 200:
                        tally.problems.append(f"valid request answered {r.status_code}: {r.text[:200]}")
                        continue
                    for w in r.json():
                        tally.window_statuses[w["status"]] += 1
                        if w["status"] == "error":
                            tally.problems.append(f"window error: {w['message']}")
                elif not 400 <= r.status_code < 500 or not r.json().get("error"):
                    tally.problems.append(f"invalid request answered {r.status_code}")


@pytest.fixture
def server(s3proxy: S3Proxy, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``seiswindow.http.serve`` in a subprocess on a free port; yields (URL, pid)."""
    env = {
        **os.environ,
        "SEISWINDOW_ARCHIVE": "s3://scedc-pds",
        "AWS_ENDPOINT_URL_S3": s3proxy.url,
    }
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from seiswindow.http import serve; serve(port=0)"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            found = re.search(rb"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_bytes())
            if found:
                url = found.group(1).decode()
            elif proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log.read_text()[-2000:]}")
            else:
                time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@pytest.mark.load
def test_load_50_clients_30_seconds(server: tuple[str, int], s3proxy: S3Proxy) -> None:
    url, pid = server
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    idle_rss = _status_kb(pid, "VmRSS")
    requests_before = s3proxy.count()
    tally = Tally()
    stop = time.monotonic() + SECONDS
    started = time.monotonic()
    threads = [threading.Thread(target=_client, args=(url, seed, stop, tally)) for seed in range(CLIENTS)]
    for t in threads:
        t.start()
    rss_samples = []
    while any(t.is_alive() for t in threads):
        rss_samples.append(_status_kb(pid, "VmRSS"))
        time.sleep(0.5)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    peak_rss = _status_kb(pid, "VmHWM")
    total = sum(tally.statuses.values())
    lat = sorted(tally.latencies)
    print(
        f"\nload: {CLIENTS} clients, {elapsed:.1f} s, {total} requests ({total / elapsed:.0f}/s), "
        f"statuses {dict(tally.statuses)}, windows {dict(tally.window_statuses)}, "
        f"latency p50 {lat[len(lat) // 2] * 1000:.0f} ms p99 {lat[int(len(lat) * 0.99)] * 1000:.0f} ms, "
        f"{tally.bytes_in / 1e6:.1f} MB received, {s3proxy.count() - requests_before} S3 requests; "
        f"server RSS idle {idle_rss / 1024:.0f} MB, max sampled {max(rss_samples) / 1024:.0f} MB, "
        f"peak (VmHWM) {peak_rss / 1024:.0f} MB"
    )
    assert not tally.problems, tally.problems[:10]
    assert elapsed >= SECONDS
    assert total >= CLIENTS  # every client got answers
    assert not any(code >= 500 for code in tally.statuses)
    assert tally.statuses[400] > 0 and tally.statuses[200] > 0
    assert tally.window_statuses["ok"] > 0 and tally.window_statuses["nodata"] > 0
    assert peak_rss / 1024 < RSS_BOUND_MB
