"""One system answering one case, in a process of its own: ``python -m benchmarks.child``.

Why a process per system and case: peak RSS (``VmHWM``) is a high-water mark of the
whole process, so each measurement needs a process that did nothing else; and a cold
start is only cold in a fresh interpreter.

The job arrives as JSON on standard input; the outcome is written as JSON to the file
the job names (standard output is left to the code under test, the tutorial prints).
The S3 endpoint, the bucket and dummy credentials come from the environment, as they
would on Lambda. Times are ``time.monotonic()``, the clock the S3 proxy of the parent
stamps requests with (one system-wide clock on Linux), so the parent can tell which
S3 requests belong to which repetition.

This module imports nothing heavy at its top: the cold-start mode measures the imports.
"""

from __future__ import annotations

import time

_STARTED = time.monotonic()  # first thing: the cold start is measured from here

import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402

__all__ = ["INVOKE_PATH", "apigw_v2_event", "main"]

#: The Lambda runtime interface emulator's path; both HTTP servers answer it.
INVOKE_PATH = "/2015-03-31/functions/function/invocations"

Answer = Callable[[dict[str, Any]], bytes]


def _peak_rss_kb() -> int:
    """This process's peak resident set, in KiB.

    ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's own memory
    map. ``getrusage().ru_maxrss`` is not used where ``VmHWM`` exists: Linux carries the
    parent's high-water mark across ``fork``/``exec`` into it, so every child of a large
    parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def apigw_v2_event(request: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for ``POST /timewindows``, as AWS
    documents the shape."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "POST /timewindows",
        "rawPath": "/timewindows",
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "content-type": "application/json",
            "host": "abcdef1234.execute-api.us-west-2.amazonaws.com",
            "user-agent": "seiswindow-bench",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-west-2.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": "POST",
                "path": "/timewindows",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "seiswindow-bench",
            },
            "requestId": f"bench-{now:.6f}",
            "routeKey": "POST /timewindows",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": json.dumps(request),
        "isBase64Encoded": False,
    }


# -- the two systems, in process ---------------------------------------------------------


def _ours_api(bucket: str) -> Answer:
    """Ours through the Python API, as a service holds it: one extractor for the process.
    Its cache of file indexes is emptied before every run, so each run pays the whole
    search (first record, probes, records), as a first request does."""
    from seiswindow import Settings
    from seiswindow._api import as_windows
    from seiswindow.config import open_extractor
    from seiswindow.encode import encode_json
    from seiswindow.locate import FileIndexCache

    settings = Settings.from_env(archive=f"s3://{bucket}")
    extractor = open_extractor(settings)  # the shipped defaults: the 2-round search on S3

    def answer(request: dict[str, Any]) -> bytes:
        extractor.locator.cache = FileIndexCache()
        return encode_json(extractor.extract(as_windows(request)))

    return answer


def _baseline_api(bucket: str, across_days: bool) -> Answer:
    from . import tutorial

    def answer(request: dict[str, Any]) -> bytes:
        # A direct invocation: the Lambda runtime json.dumps the returned list.
        return json.dumps(tutorial.process(request, bucket=bucket, across_days=across_days)).encode()

    return answer


def _lambda(system: str) -> Answer:
    if system == "ours":
        from seiswindow.aws import handler
    else:
        from .tutorial import handler

    def answer(request: dict[str, Any]) -> bytes:
        response = handler(apigw_v2_event(request), None)
        if response.get("statusCode") != 200:
            raise RuntimeError(f"the handler answered {response.get('statusCode')}: {response.get('body')}")
        return str(response["body"]).encode()

    return answer


# -- the two systems behind HTTP ---------------------------------------------------------


def _serve_ours() -> tuple[int, Callable[[], None]]:
    """uvicorn serving ``seiswindow.http.create_app`` on a loopback socket of its own."""
    import socket

    import uvicorn

    from seiswindow import Settings
    from seiswindow.http import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(Settings.from_env()), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return sock.getsockname()[1], stop


class _EmulatorHandler(BaseHTTPRequestHandler):
    """The Lambda runtime interface emulator in front of the tutorial's handler: the body
    is the event, the answer is the handler's return value as JSON."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        from .tutorial import handler

        length = int(self.headers.get("Content-Length") or 0)
        event = json.loads(self.rfile.read(length))
        body = json.dumps(handler(event, None)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        """Quiet: one line per request would be timed too."""


def _serve_baseline() -> tuple[int, Callable[[], None]]:
    from . import tutorial  # noqa: F401 - imported before the first request, as the emulator does

    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmulatorHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return server.server_address[1], stop


def _http(system: str) -> tuple[Answer, Callable[[], None]]:
    port, stop = _serve_ours() if system == "ours" else _serve_baseline()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def answer(request: dict[str, Any]) -> bytes:
        conn.request(
            "POST", INVOKE_PATH, body=json.dumps(request), headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
        return body

    def close() -> None:
        conn.close()
        stop()

    return answer, close


# -- one job -----------------------------------------------------------------------------


def _digest(body: bytes) -> tuple[str, int]:
    """A digest of the samples of an answer and their number, to check that both systems
    answered the same samples (windows without samples are left out: the tutorial drops
    them from its answer)."""
    answer = json.loads(body)
    data = [w["data"] for w in answer if w.get("data")]
    text = json.dumps(data, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest()[:16], sum(len(d) for d in data)


def _run(job: dict[str, Any]) -> dict[str, Any]:
    system, front, bucket = job["system"], job["front"], job["bucket"]
    requests: list[dict[str, Any]] = job["requests"]
    close: Callable[[], None] = lambda: None  # noqa: E731
    setup_started = time.monotonic()
    if front == "http":
        answer, close = _http(system)
    elif front == "lambda":
        answer = _lambda(system)
    elif system == "ours":
        answer = _ours_api(bucket)
    else:
        answer = _baseline_api(bucket, bool(job.get("across_days")))
    setup_s = time.monotonic() - setup_started
    rss_setup = _peak_rss_kb()
    runs, body = [], b""
    try:
        for request in requests:
            body = b""  # the previous answer must not count in this one's peak
            t0 = time.monotonic()
            body = answer(request)
            t1 = time.monotonic()
            runs.append({"t0": t0, "t1": t1, "answer_bytes": len(body)})
            print(f"    {system} rep {len(runs)}: {t1 - t0:.3f} s", file=sys.stderr, flush=True)
    finally:
        close()
    peak = _peak_rss_kb()
    digest, npts = _digest(body)
    return {
        "runs": runs,
        "setup_s": setup_s,
        "rss_setup_kb": rss_setup,
        "peak_rss_kb": peak,
        "digest": digest,
        "npts": npts,
        "started": _STARTED,
    }


def _cold_start(job: dict[str, Any]) -> dict[str, Any]:
    """Import the system's Lambda handler and answer one request: a Lambda cold start."""
    t_import = time.monotonic()
    answer = _lambda(job["system"])
    imported = time.monotonic()
    body = answer(job["requests"][0])
    done = time.monotonic()
    return {
        "started": _STARTED,
        "import_s": imported - t_import,
        "first_answer_s": done - t_import,
        "answered_at": done,
        "answer_bytes": len(body),
        "peak_rss_kb": _peak_rss_kb(),
    }


def _calibrate(job: dict[str, Any]) -> dict[str, Any]:
    """What one S3 request costs here, whoever makes it: 64-byte ranged GETs with a
    plain botocore client, one after the other, then 16 at a time; best of three."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    client = botocore.session.get_session().create_client(
        "s3",
        region_name="us-west-2",
        endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
        config=Config(signature_version=UNSIGNED, max_pool_connections=16),
    )
    count = int(job["count"])

    def get(i: int) -> bytes:
        start = 512 * i
        response = client.get_object(
            Bucket=job["bucket"], Key=job["key"], Range=f"bytes={start}-{start + 63}"
        )
        return bytes(response["Body"].read())

    sequential, parallel = [], []
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, range(32)))  # open the connections
        # Best of three: the figure is what the server can do, not what a busy moment allowed.
        for _ in range(3):
            t0 = time.monotonic()
            for i in range(count):
                get(i)
            t1 = time.monotonic()
            list(pool.map(get, range(4 * count)))
            t2 = time.monotonic()
            sequential.append((t1 - t0) / count)
            parallel.append(4 * count / (t2 - t1))
    return {"sequential_s": min(sequential), "parallel_per_s": max(parallel)}


def main() -> int:
    """Read the job from standard input, do it, write the outcome to ``job["out"]``."""
    job = json.load(sys.stdin)
    mode = job.get("mode")
    outcome = (
        _cold_start(job) if mode == "coldstart" else _calibrate(job) if mode == "calibrate" else _run(job)
    )
    with open(job["out"], "w", encoding="utf-8") as fh:
        json.dump(outcome, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
