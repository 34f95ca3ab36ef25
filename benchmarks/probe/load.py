"""Mixed load on the running service: N concurrent clients for a bounded time.

Each client (an asyncio task with its own `httpx.AsyncClient`, so its own connection) loops
until the round's end, drawing one request at a time from `MIX`:

- ``window``: ``POST /timewindows`` with 1-4 windows of the sample data (sometimes one
  more that has no data): 200, and no window ``error``;
- ``nodata``: ``POST /timewindows`` for a station or day the archive does not hold: 200,
  every window ``nodata``;
- ``invalid``: a malformed ``/timewindows`` request (bad code, bad time, end before start,
  broken JSON): a 4xx with an error object;
- ``dataselect``: ``GET /fdsnws/dataselect/1/query`` (literal, wildcard, no data, invalid):
  200, 204 or 400 as FDSN says;
- ``station``: ``GET /fdsnws/station/1/query`` (levels, text and XML, no data, invalid).

A request whose status is not the one expected for its kind is counted as ``unexpected``
(its first lines are kept as examples). Latencies are client-side, from sending to the
last byte read, so they include the load generator's own scheduling on the shared cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .procs import proc_kb

__all__ = ["MIX", "Request", "RoundResult", "percentile", "run_round"]

#: 2022-01-02T00:00:00Z, the day of most sample files.
DAY = 1641081600.0
_FMT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Request:
    """One request of the mix and the statuses that are right for it."""

    kind: str
    method: str
    path: str
    expected: frozenset[int]
    params: dict[str, str] | None = None
    body: bytes | None = None
    #: For /timewindows: window statuses that must not appear in a 200 answer.
    forbidden_windows: frozenset[str] = frozenset()
    #: For /timewindows: the only window status allowed (``nodata``), if any.
    only_window: str | None = None


def _iso(t: float) -> str:
    return time.strftime(_FMT, time.gmtime(t))


def _window(net: str, sta: str, loc: str, cha: str, start: float, seconds: float) -> dict[str, str]:
    return {
        "Network": net,
        "Station": sta,
        "Location": loc,
        "Channel": cha,
        "Starttime": _iso(start),
        "Endtime": _iso(start + seconds),
    }


def _valid_window(rng: random.Random) -> dict[str, str]:
    kind = rng.randrange(5)
    if kind == 0:  # WBM has three days: windows across both midnights
        return _window("CI", "WBM", "  ", "LHZ", DAY - 3600 + rng.uniform(0, 2 * 86400), 300)
    if kind == 1:
        return _window("CI", "CCA", "  ", "BHN", DAY + rng.uniform(0, 86000), rng.choice([60, 300, 1800]))
    if kind == 2:
        return _window("CI", "HEC", "", "BHN", DAY + rng.uniform(0, 86000), 120)
    if kind == 3:
        return _window("BK", "THIS", "00", "LHZ", DAY + rng.uniform(0, 86000), 600)
    return _window("CI", "FOX2", "--", "LHZ", DAY + 82000 + rng.uniform(0, 4000), 600)


def _timewindows(rng: random.Random) -> Request:
    windows = [_valid_window(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.2:
        windows.append(_window("CI", "NONE", "", "BHZ", DAY, 60))
    return Request(
        "window",
        "POST",
        "/timewindows",
        frozenset({200}),
        body=json.dumps({"Windows": windows}).encode(),
        forbidden_windows=frozenset({"error"}),
    )


def _nodata(rng: random.Random) -> Request:
    window = rng.choice(
        [
            _window("CI", "NONE", "", "BHZ", DAY + rng.uniform(0, 86000), 60),
            _window("CI", "WBM", "", "LHZ", DAY + 10 * 86400 + rng.uniform(0, 86000), 300),  # no such day
            _window("XX", "ABC", "00", "HHZ", DAY, 120),
        ]
    )
    body = json.dumps({"Windows": [window]}).encode()
    return Request("nodata", "POST", "/timewindows", frozenset({200}), body=body, only_window="nodata")


def _invalid(rng: random.Random) -> Request:
    good = _valid_window(rng)
    kind = rng.randrange(4)
    if kind == 0:
        body = json.dumps({"Windows": [good, {**good, "Station": "TOO-LONG"}]}).encode()
    elif kind == 1:
        body = json.dumps({"Windows": [{**good, "Endtime": "not a time"}]}).encode()
    elif kind == 2:
        swapped = {**good, "Endtime": good["Starttime"], "Starttime": good["Endtime"]}
        body = json.dumps({"Windows": [swapped]}).encode()
    else:
        body = b'{"Windows": [' + json.dumps(good).encode()
    return Request("invalid", "POST", "/timewindows", frozenset({400, 413}), body=body)


def _dataselect(rng: random.Random) -> Request:
    start = DAY + rng.uniform(0, 86000)
    times = {"starttime": _iso(start), "endtime": _iso(start + rng.choice([60, 300, 900]))}
    choice = rng.randrange(6)
    path = "/fdsnws/dataselect/1/query"
    if choice == 0:
        return Request(
            "dataselect", "GET", path, frozenset({200}), {"net": "CI", "sta": "WBM", "cha": "LHZ", **times}
        )
    if choice == 1:
        params = {"net": "BK", "sta": "THIS", "loc": "00", "cha": "LHZ", **times}
        return Request("dataselect", "GET", path, frozenset({200}), params)
    if choice == 2:  # wildcards: listed from the archive's catalog
        params = {"net": "CI", "sta": "W*", "loc": "*", "cha": "LH?", **times}
        return Request("dataselect", "GET", path, frozenset({200}), params)
    if choice == 3:
        params = {"net": "CI", "sta": "NONE", "cha": "BHZ", **times}
        return Request("dataselect", "GET", path, frozenset({204}), params)
    if choice == 4:
        params = {"net": "CI", "sta": "WBM", "cha": "LHZZ", **times}
        return Request("dataselect", "GET", path, frozenset({400}), params)
    body = f"CI WBM -- LHZ {times['starttime']} {times['endtime']}\n".encode()
    return Request("dataselect", "POST", path, frozenset({200}), body=body)


def _station(rng: random.Random) -> Request:
    path = "/fdsnws/station/1/query"
    choice = rng.randrange(5)
    if choice == 0:
        return Request(
            "station", "GET", path, frozenset({200}), {"net": "CI", "sta": "*", "level": "station"}
        )
    if choice == 1:
        params = {"net": "CI", "sta": "WBM,CCA", "level": "channel", "format": "text"}
        return Request("station", "GET", path, frozenset({200}), params)
    if choice == 2:
        params = {"net": "CI", "sta": "HEC", "level": "response", "starttime": "2022-01-02"}
        return Request("station", "GET", path, frozenset({200}), params)
    if choice == 3:
        return Request("station", "GET", path, frozenset({204}), {"net": "CI", "sta": "NONE"})
    return Request("station", "GET", path, frozenset({400}), {"net": "CI", "level": "everything"})


#: (weight, builder) of each kind of request.
MIX: tuple[tuple[float, Callable[[random.Random], Request]], ...] = (
    (0.40, _timewindows),
    (0.10, _nodata),
    (0.20, _invalid),
    (0.20, _dataselect),
    (0.10, _station),
)


def _draw(rng: random.Random) -> Request:
    x = rng.random() * sum(w for w, _ in MIX)
    for weight, build in MIX:
        if x < weight:
            return build(rng)
        x -= weight
    return MIX[-1][1](rng)


@dataclass
class RoundResult:
    """What one round measured."""

    clients: int
    seconds: float
    elapsed_s: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    window_statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    unexpected: int = 0
    transport_errors: int = 0
    examples: list[str] = field(default_factory=list)
    rss_before_kb: int = 0
    rss_max_sampled_kb: int = 0
    rss_after_kb: int = 0
    hwm_after_kb: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.startswith("5"))

    def problem(self, text: str) -> None:
        self.unexpected += 1
        if len(self.examples) < 5:
            self.examples.append(text)

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "elapsed_s": round(self.elapsed_s, 1),
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "kinds": dict(self.kinds),
            "window_statuses": dict(self.window_statuses),
            "server_errors": self.server_errors,
            "unexpected": self.unexpected,
            "transport_errors": self.transport_errors,
            "examples": self.examples,
            "p50_ms": round(percentile(self.latencies, 50) * 1000),
            "p95_ms": round(percentile(self.latencies, 95) * 1000),
            "max_ms": round(max(self.latencies, default=0.0) * 1000),
            "rss_before_mb": round(self.rss_before_kb / 1024, 1),
            "rss_max_sampled_mb": round(self.rss_max_sampled_kb / 1024, 1),
            "rss_after_mb": round(self.rss_after_kb / 1024, 1),
            "hwm_after_mb": round(self.hwm_after_kb / 1024, 1),
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def _judge(request: Request, response: httpx.Response, result: RoundResult) -> None:
    where = f"{request.kind} {request.method} {request.path}"
    if response.status_code not in request.expected:
        result.problem(
            f"{where}: {response.status_code} (expected {sorted(request.expected)}): {response.text[:160]!r}"
        )
        return
    if request.path != "/timewindows" or response.status_code != 200:
        return
    statuses = [w.get("status") for w in response.json()]
    result.window_statuses.update(str(s) for s in statuses)
    bad = [s for s in statuses if s in request.forbidden_windows]
    if request.only_window is not None:
        bad += [s for s in statuses if s != request.only_window]
    if bad:
        result.problem(f"{where}: windows {bad}: {response.text[:160]!r}")


async def _client(url: str, seed: int, stop: float, result: RoundResult, timeout_s: float) -> None:
    rng = random.Random(seed)
    headers = {"Accept-Encoding": rng.choice(["gzip", "identity"])}
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, headers=headers) as client:
        while time.monotonic() < stop:
            request = _draw(rng)
            started = time.perf_counter()
            try:
                response = await client.request(
                    request.method, request.path, params=request.params, content=request.body
                )
            except httpx.HTTPError as exc:
                result.transport_errors += 1
                result.statuses["transport error"] += 1
                if len(result.examples) < 5:
                    result.examples.append(f"{request.kind}: {exc!r}")
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[str(response.status_code)] += 1
            result.kinds[request.kind] += 1
            _judge(request, response, result)


async def _sample_rss(pid: int, done: asyncio.Event, result: RoundResult) -> None:
    while not done.is_set():
        result.rss_max_sampled_kb = max(result.rss_max_sampled_kb, proc_kb(pid, "VmRSS"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.5)


async def _round(
    url: str, pid: int, clients: int, seconds: float, seed: int, timeout_s: float
) -> RoundResult:
    result = RoundResult(clients, seconds, rss_before_kb=proc_kb(pid, "VmRSS"))
    started = time.monotonic()
    stop = started + seconds
    done = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pid, done, result))
    await asyncio.gather(*(_client(url, seed * 10_000 + i, stop, result, timeout_s) for i in range(clients)))
    result.elapsed_s = time.monotonic() - started
    done.set()
    await sampler
    await asyncio.sleep(1.0)  # let the last answers leave the server before reading its RSS
    result.rss_after_kb = proc_kb(pid, "VmRSS")
    result.hwm_after_kb = proc_kb(pid, "VmHWM")
    return result


def run_round(
    url: str, pid: int, *, clients: int, seconds: float, seed: int, timeout_s: float = 30.0
) -> RoundResult:
    """One round: ``clients`` concurrent clients for ``seconds`` (requests in flight at the end
    finish, each bounded by ``timeout_s``), then the server's RSS (VmRSS) and peak (VmHWM)."""
    return asyncio.run(_round(url, pid, clients, seconds, seed, timeout_s))
