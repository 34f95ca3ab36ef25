"""One request can never stop the service: the whole application (``/health``, the FDSN
routes) under uvicorn in a child process, real sockets, moto S3 behind the counting proxy.

The server runs in its own process so that a request that holds the GIL there (a regular
expression backtracking in C, as ``.*.*...XYZ`` did for 195 s) cannot stall the test's
clients as well: they time out, and the test fails instead of hanging. The bounds are
generous liveness bounds (a loaded 2-core machine), not speed measurements.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from support.s3server import S3Proxy

#: What a liveness answer may take on a loaded machine (the issue saw 70 s for /health).
BOUND_S = 10.0
#: How long SIGTERM may take to stop a server with busy requests.
STOP_BOUND_S = 60.0

_CHILD = """
import socket, sys
import uvicorn
from seiswindow.config import Settings
from seiswindow.http import create_app

app = create_app(Settings(archive=sys.argv[1], endpoint_url=sys.argv[2]))
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning")
uvicorn.Server(config).run(sockets=[sock])
"""

STARS = "*" * 300 + "XYZ"  # 303 characters: under the 400 limit, so it is matched
WINDOW = {"net": "CI", "loc": "--", "start": "2022-01-02T10:00:00", "end": "2022-01-02T10:01:00"}
#: Requests whose patterns took minutes as regular expressions, and what each answers.
PATHOLOGICAL = [
    f"/fdsnws/dataselect/1/query?{urllib.parse.urlencode({**WINDOW, 'sta': STARS})}",
    f"/fdsnws/dataselect/1/query?{urllib.parse.urlencode({**WINDOW, 'sta': 'W*', 'cha': '*' * 390 + 'Q'})}",
    f"/fdsnws/station/1/query?{urllib.parse.urlencode({'sta': STARS, 'level': 'channel'})}",
    f"/fdsnws/dataselect/1/query?{urllib.parse.urlencode({**WINDOW, 'sta': '*' * 5000 + 'XYZ'})}",
]
EXPECTED = [204, 204, 204, 400]
GOOD = f"/fdsnws/dataselect/1/query?{urllib.parse.urlencode({**WINDOW, 'sta': 'WBM', 'cha': 'LHZ'})}"


@contextlib.contextmanager
def child_server(bucket: str, endpoint: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The application under uvicorn in a child process; yields its base URL and the
    process. The child is killed (by its pid) if it is still running at the end."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD, f"s3://{bucket}", endpoint],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # uvicorn listens once its startup is done
            try:
                if get(url, "/health", timeout=5)[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def get(url: str, target: str, *, timeout: float) -> tuple[int, bytes, float]:
    """Status, body and seconds taken of one GET."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{url}{target}", timeout=timeout) as answer:
            return answer.status, answer.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.monotonic() - started


class Background:
    """GETs run in threads; their outcome (an answer, or the error met) is kept."""

    def __init__(self, url: str, targets: list[str], *, timeout: float) -> None:
        self.results: dict[int, tuple[int, bytes, float] | BaseException] = {}
        self.threads = [
            threading.Thread(target=self._run, args=(k, url, t, timeout), daemon=True)
            for k, t in enumerate(targets)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, k: int, url: str, target: str, timeout: float) -> None:
        try:
            self.results[k] = get(url, target, timeout=timeout)
        except (OSError, http.client.HTTPException) as exc:
            self.results[k] = exc

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)


def test_a_pathological_pattern_starves_nothing(s3proxy: S3Proxy) -> None:
    with child_server("scedc-pds", s3proxy.url) as (url, _):
        assert get(url, GOOD, timeout=BOUND_S)[0] == 200  # warm: listings and file indexes
        busy = Background(url, PATHOLOGICAL * 4, timeout=BOUND_S)
        for _ in range(3):  # answered meanwhile, each within the bound
            status, _, _ = get(url, "/health", timeout=BOUND_S)
            assert status == 200
            status, body, _ = get(url, GOOD, timeout=BOUND_S)
            assert status == 200 and len(body) > 0
        busy.join(BOUND_S * 2)
        assert len(busy.results) == len(PATHOLOGICAL) * 4
        for k, result in sorted(busy.results.items()):
            target, expected = PATHOLOGICAL[k % 4], EXPECTED[k % 4]
            assert not isinstance(result, BaseException), (target, result)
            status, body, seconds = result
            assert status == expected, (target, body)
            assert seconds < BOUND_S
            if expected == 400:
                assert b"Parameter 'station': " in body and b"at most 400" in body


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_sigterm_stops_a_server_with_busy_requests(s3: S3Proxy) -> None:
    with child_server("scedc-pds", s3.url) as (url, process):
        s3.delay_s = 2.0  # every S3 request waits: window requests are busy in worker threads
        windows = [GOOD.replace("T10%3A0", f"T{hour:02d}%3A0") for hour in (1, 5, 15, 20)]
        assert all("T10" not in w for w in windows)
        busy = Background(url, [*windows, *PATHOLOGICAL * 4], timeout=STOP_BOUND_S)
        deadline = time.monotonic() + 30
        while s3.count() == 0 and time.monotonic() < deadline:  # the windows are reading S3
            time.sleep(0.05)
        assert s3.count() > 0
        process.send_signal(signal.SIGTERM)
        # uvicorn finishes the requests in flight, then exits (re-raising SIGTERM on itself)
        assert process.wait(STOP_BOUND_S) in (0, -signal.SIGTERM)
        busy.join(5)
