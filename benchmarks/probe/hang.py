"""The pathological FDSN pattern of issue 16: ``sta=`` 300 ``*`` then ``XYZ``, sent
`COPIES` times at once, while ``/health`` and a window request are timed beside it.

Everything is bounded: each pathological request gives up after `REQUEST_TIMEOUT_S`, the
timing after `PART_S`; then the server is stopped (SIGTERM, SIGKILL after `STOP_GRACE_S`),
so a service that hangs costs this part under a minute and never runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .load import percentile
from .procs import Proc, proc_cpu_s, proc_kb

__all__ = ["COPIES", "PATTERN", "HangResult", "run_hang"]

#: The station pattern: 300 stars, then three letters no station has.
PATTERN = "*" * 300 + "XYZ"
COPIES = 40
REQUEST_TIMEOUT_S = 35.0
#: From the first pathological request to the end of the timing (the stop comes after).
PART_S = 40.0
HEALTH_TIMEOUT_S = 5.0
HEALTH_EVERY_S = 0.25
WINDOW_TIMEOUT_S = 10.0
WINDOW_EVERY_S = 1.0
STOP_GRACE_S = 5.0
_QUERY = {
    "net": "CI",
    "sta": PATTERN,
    "loc": "*",
    "cha": "*",
    "starttime": "2022-01-02T00:00:00",
    "endtime": "2022-01-02T00:01:00",
}
_WINDOW = (
    b'{"Windows": [{"Network": "CI", "Station": "WBM", "Location": "", "Channel": "LHZ",'
    b' "Starttime": "2022-01-02T06:00:00", "Endtime": "2022-01-02T06:01:00"}]}'
)


@dataclass
class Probe:
    """Latencies of one kind of request timed during the part, and how many gave up."""

    timeout_s: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0

    def record(self, status: str, elapsed: float | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if elapsed is None:
            self.timeouts += 1
        else:
            self.latencies.append(elapsed)

    def summary(self) -> dict[str, Any]:
        return {
            "sent": sum(self.statuses.values()),
            "statuses": self.statuses,
            "timeouts": self.timeouts,
            "timeout_s": self.timeout_s,
            "p50_ms": round(percentile(self.latencies, 50) * 1000),
            "max_ms": round(max(self.latencies, default=0.0) * 1000),
        }


@dataclass
class HangResult:
    """What the part saw."""

    pattern: Probe = field(default_factory=lambda: Probe(REQUEST_TIMEOUT_S))
    health: Probe = field(default_factory=lambda: Probe(HEALTH_TIMEOUT_S))
    window: Probe = field(default_factory=lambda: Probe(WINDOW_TIMEOUT_S))
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    rss_mb: float = 0.0
    health_after: str = ""
    stop: str = ""
    example: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "pattern": f"sta= {PATTERN.count('*')} '*' then 'XYZ', {COPIES} at once",
            "pathological": self.pattern.summary(),
            "health": self.health.summary(),
            "window": self.window.summary(),
            "elapsed_s": round(self.elapsed_s, 1),
            "server_cpu_s": round(self.server_cpu_s, 1),
            "rss_mb": round(self.rss_mb, 1),
            "health_after": self.health_after,
            "stop": self.stop,
            "example": self.example,
        }


async def _timed(
    client: httpx.AsyncClient, probe: Probe, method: str, path: str, **kwargs: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, path, timeout=probe.timeout_s, **kwargs)
    except httpx.TimeoutException:
        probe.record("timeout", None)
        return None
    except httpx.HTTPError as exc:
        probe.record(type(exc).__name__, None)
        return None
    probe.record(str(response.status_code), time.perf_counter() - started)
    return response


async def _every(period_s: float, until: float, call: Any) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        await call()
        await asyncio.sleep(max(0.0, period_s - (time.monotonic() - started)))


async def _part(url: str, result: HangResult) -> None:
    limits = httpx.Limits(max_connections=COPIES + 10)
    async with (
        httpx.AsyncClient(base_url=url, limits=limits) as attack,
        httpx.AsyncClient(base_url=url) as health,
        httpx.AsyncClient(base_url=url) as window,
    ):
        started = time.monotonic()
        until = started + PART_S

        async def one() -> None:
            response = await _timed(
                attack, result.pattern, "GET", "/fdsnws/dataselect/1/query", params=_QUERY
            )
            if response is not None and not result.example:
                result.example = f"{response.status_code}: {response.text[:200]!r}"

        async def tick_health() -> None:
            await _timed(health, result.health, "GET", "/health")

        async def tick_window() -> None:
            await _timed(window, result.window, "POST", "/timewindows", content=_WINDOW)

        attacks = asyncio.gather(*(one() for _ in range(COPIES)))
        beside = asyncio.gather(
            _every(HEALTH_EVERY_S, until, tick_health), _every(WINDOW_EVERY_S, until, tick_window)
        )
        # The timing goes on for the whole part even if the attack is answered at once:
        # a service that queued the work would show it in /health later.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(attacks, beside), PART_S + HEALTH_TIMEOUT_S + 5)
        result.elapsed_s = time.monotonic() - started


def run_hang(service: Proc) -> HangResult:
    """The part, then the server stopped; ``service`` is unusable afterwards."""
    result = HangResult()
    cpu_before = proc_cpu_s(service.pid)
    asyncio.run(_part(service.url, result))
    result.server_cpu_s = proc_cpu_s(service.pid) - cpu_before
    result.rss_mb = proc_kb(service.pid, "VmRSS") / 1024
    try:
        response = httpx.get(f"{service.url}/health", timeout=HEALTH_TIMEOUT_S)
        result.health_after = f"{response.status_code}"
    except httpx.HTTPError as exc:
        result.health_after = f"no answer within {HEALTH_TIMEOUT_S:.0f} s ({type(exc).__name__})"
    result.stop = service.stop(grace_s=STOP_GRACE_S)
    return result
