"""One request-body limit for every route of the HTTP app, checked while the body is read:
a server in its own process (``seiswindow serve``) and raw-socket clients sending 200 MB
bodies, chunked and with a declared ``Content-Length``, three at a time.

What is measured is what the issue saw: the server's peak RSS (``VmHWM``) must not grow by
the body size, and each client must be refused before it could send more than a small part
of its body (what the server never read stays in the client)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from seiswindow.http import INVOCATIONS_PATH

BODY_BYTES = 200 * 1024 * 1024
#: What a refused client may still have sent: the limit, uvicorn's buffer, the sockets' buffers.
SENT_AT_MOST = 40 * 1024 * 1024
_PIECE = b" " * (1024 * 1024)  # JSON whitespace: a body the server would parse for long if it read it


@pytest.fixture(scope="module")
def server(shared_data: Path) -> Iterator[tuple[str, int, int]]:
    """``(host, port, pid)`` of ``seiswindow serve`` on the sample directory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seiswindow.cli",
            "serve",
            "--archive",
            str(shared_data / "scedc-pds"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("seiswindow serve did not start")
            time.sleep(0.1)
        yield "127.0.0.1", port, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@dataclass
class _Upload:
    """One raw HTTP/1.1 POST of a large body; the answer is read while the body is sent."""

    path: str
    chunked: bool
    sent: int = 0
    answer: bytes = b""
    answered_after_s: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, host: str, port: int) -> None:
        sock = socket.create_connection((host, port), timeout=60)
        framing = "Transfer-Encoding: chunked" if self.chunked else f"Content-Length: {BODY_BYTES}"
        head = f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
        started = time.monotonic()
        reader = threading.Thread(target=self._read, args=(sock, started), daemon=True)
        reader.start()
        try:
            sock.sendall(head.encode())
            chunk = b"%x\r\n%s\r\n" % (len(_PIECE), _PIECE) if self.chunked else _PIECE
            while self.sent < BODY_BYTES and not self.done.is_set():
                sock.sendall(chunk)
                self.sent += len(_PIECE)
            if self.chunked and not self.done.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection: what it did not read stays here
            pass
        reader.join(60)
        with contextlib.suppress(OSError):
            sock.close()

    def _read(self, sock: socket.socket, started: float) -> None:
        try:
            while b"\r\n\r\n" not in self.answer:
                data = sock.recv(65536)
                if not data:
                    break
                self.answer += data
            self.answered_after_s = time.monotonic() - started
        except OSError:
            pass
        finally:
            self.done.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # stops the sender

    @property
    def status(self) -> int:
        line = self.answer.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 else 0


def _upload_all(server: tuple[str, int, int], uploads: list[_Upload]) -> None:
    host, port, _ = server
    threads = [threading.Thread(target=u.run, args=(host, port), daemon=True) for u in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


@pytest.mark.parametrize(
    "path",
    [INVOCATIONS_PATH, "/timewindows", "/fdsnws/dataselect/1/query", "/fdsnws/station/1/query"],
)
def test_three_200mb_bodies_are_refused_while_read(server: tuple[str, int, int], path: str) -> None:
    before = _peak_rss_mb(server[2])
    uploads = [_Upload(path, chunked=True), _Upload(path, chunked=False), _Upload(path, chunked=True)]
    _upload_all(server, uploads)
    after = _peak_rss_mb(server[2])
    print(
        f"{path}: peak RSS {before:.0f} -> {after:.0f} MB; sent MB {[u.sent >> 20 for u in uploads]}; "
        f"answered after s {[round(u.answered_after_s or -1, 2) for u in uploads]}"
    )
    for upload in uploads:
        assert upload.status == 413, upload.answer[:300]
        assert b"connection: close" in upload.answer.lower()  # the rest of the body is not drained
        assert upload.sent <= SENT_AT_MOST, upload.sent
        # Liveness, not speed: a refused body does not wait to be read whole.
        assert upload.answered_after_s is not None and upload.answered_after_s < 30
    assert after - before < 100, (before, after)


def test_a_body_within_the_limit_is_read(server: tuple[str, int, int]) -> None:
    # Only what is over the limit is refused: a chunked request just under it is answered.
    host, port, _ = server
    window = {
        "Network": "CI",
        "Station": "WBM",
        "Channel": "LHZ",
        "Location": "",
        "Starttime": "2022-01-02T10:00:00",
        "Endtime": "2022-01-02T10:00:01",
    }
    limit = httpx.get(f"http://{host}:{port}/limits").json()
    request = json.dumps({"Windows": [window] * limit["max_windows"]}).encode()
    body = request[:-1] + b" " * (limit["max_body_bytes"] - len(request)) + b"}"
    assert len(body) == limit["max_body_bytes"]

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    r = httpx.post(f"http://{host}:{port}/timewindows", content=pieces(), timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()) == limit["max_windows"]
    r = httpx.post(f"http://{host}:{port}/timewindows", content=body + b" ", timeout=120)
    assert r.status_code == 413 and r.json()["field"] == "body"
