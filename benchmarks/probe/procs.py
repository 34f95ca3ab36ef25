"""The processes the probe measures: moto S3 and ``seiswindow serve``, each in a process of
its own on 127.0.0.1, and what ``/proc`` says about them.

Why separate processes: the server's ``VmHWM`` (peak resident set) is a high-water mark of
the whole process, so it must hold nothing but the service; and moto, the load generator
and the server must not share one interpreter lock, or the latencies would measure the lock.

``python -m benchmarks.probe.procs`` is the moto process itself: it starts moto on a free
loopback port, uploads ``../shared/data``, prints ``MOTO <endpoint>`` and serves until its
standard input closes (so it never outlives the probe, even when the probe is killed).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .._paths import REPO_ROOT

__all__ = ["Proc", "dummy_aws_env", "proc_cpu_s", "proc_kb", "start_moto_process", "start_service"]

#: AWS settings for every child: dummy credentials, no developer ~/.aws, no metadata service,
#: and loopback reached directly even when an HTTP proxy is configured.
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
_AWS_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the probe dies (Linux ``PR_SET_PDEATHSIG``), so a
    server busy with a pathological request never outlives a probe that was killed."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def dummy_aws_env() -> dict[str, str]:
    """This process's environment with `_AWS_ENV` applied (never a real credential chain)."""
    env = {k: v for k, v in os.environ.items() if k not in _AWS_UNSET}
    env.update(_AWS_ENV)
    return env


@dataclass
class Proc:
    """A child process, the URL it serves, and the log it writes."""

    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, grace_s: float = 10.0) -> str:
        """SIGTERM, then SIGKILL after ``grace_s``; says which one ended it."""
        if self.popen.poll() is not None:
            return f"already exited ({self.popen.returncode})"
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(grace_s)
            return f"stopped by SIGTERM within {grace_s:.0f} s"
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)
            return f"SIGTERM ignored for {grace_s:.0f} s, killed (SIGKILL)"


def _wait_for(pattern: bytes, log: Path, popen: subprocess.Popen[bytes], timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        found = re.search(pattern, log.read_bytes())
        if found:
            return found.group(1).decode()
        if popen.poll() is not None or time.monotonic() > deadline:
            popen.kill()
            raise RuntimeError(f"{log.name}: did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def start_moto_process(workdir: Path, *, timeout_s: float = 120.0) -> Proc:
    """moto S3 with the shared data, in a child process; its standard input is its lifeline.

    Raises:
        RuntimeError: moto did not report its endpoint within ``timeout_s``.
    """
    log = workdir / "moto.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.probe.procs"],
            cwd=REPO_ROOT,
            env=dummy_aws_env(),
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    url = _wait_for(rb"MOTO (http://127\.0\.0\.1:\d+)", log, popen, timeout_s)
    return Proc(popen, url, log)


def start_service(
    workdir: Path, *, archive: str, endpoint_url: str | None, name: str = "service", timeout_s: float = 60.0
) -> Proc:
    """``seiswindow serve`` on 127.0.0.1 and a free port (port 0; uvicorn logs the one it got).

    Raises:
        RuntimeError: the server did not log its URL within ``timeout_s``.
    """
    log = workdir / f"{name}.log"
    command = [str(Path(sys.executable).with_name("seiswindow")), "serve", "--host", "127.0.0.1"]
    command += ["--port", "0", "--archive", archive]
    if endpoint_url:
        command += ["--endpoint-url", endpoint_url]
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            command,
            cwd=workdir,
            env=dummy_aws_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    url = _wait_for(rb"Uvicorn running on (http://127\.0\.0\.1:\d+)", log, popen, timeout_s)
    return Proc(popen, url, log)


def proc_kb(pid: int, key: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    raise KeyError(key)


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads), from ``/proc/PID/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _moto_main(stdin: IO[bytes]) -> None:
    if str(REPO_ROOT) not in sys.path:  # tests.support lives in the repository, not installed
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.s3server import load_shared_data, start_moto

    moto = start_moto()
    load_shared_data(moto.endpoint)
    print(f"MOTO {moto.endpoint}", flush=True)
    stdin.read()  # returns when the probe closes the pipe or dies
    moto.stop()


if __name__ == "__main__":
    _moto_main(sys.stdin.buffer)
