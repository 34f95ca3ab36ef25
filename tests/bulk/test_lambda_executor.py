"""``seiswindow bulk INPUT --out DIR --executor lambda=function``: the job's windows answered
by invocations of the seiswindow function through boto3, against a real server that speaks
the Lambda invoke API (the HTTP app's ``/2015-03-31/functions/function/invocations``, on
uvicorn), reading the moto S3 server through the counting proxy. A fault-injecting ASGI
wrapper in front of it answers throttles and function errors as Lambda's API does."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import orjson
import pytest
from botocore.config import Config
from obspy import read
from test_bulk_cli import manifest_lines, outputs

from seiswindow.bulk import JobWindow
from seiswindow.bulk.awslambda import LambdaExecutor, invocations
from seiswindow.bulk.executors import Batch
from seiswindow.config import Settings
from seiswindow.http import create_app
from seiswindow.model import Limits, Status, Window
from support.oracle import oracle
from support.s3server import REGION, default_data_root, s3_client
from support.serving import serving

DATA = default_data_root()

PICKS = """network,station,location,channel,time,phase,event
CI,WBM,,LHZ,2022-01-01T23:59:50,P,e1
CI,CCA,,BHN,2022-01-02T05:00:00.5,P,e2
CI,HEC,,BH?,2022-01-02T05:00:03,S,e2
CI,FOX2,,LHZ,2022-01-02T22:55:00,P,e3
CI,NOPE,,LHZ,2022-01-02T05:00:00,P,e4
BK,THIS,00,LHZ,2022-01-02T10:00:00,P,e5
CI,WBM,,LHZ,2022-01-02T10:00:00,P,e6
CI,WBM,,LHZ,2022-01-02T11:00:00,P,e7
"""
ARGS = ("--before", "30", "--after", "90")


class Faults:
    """An ASGI wrapper: the next invocations answered with ``planned`` replies (status,
    headers, body) in order, or all with ``always``; everything else passes through."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.planned: list[tuple[int, dict[str, str], bytes]] = []
        self.always: tuple[int, dict[str, str], bytes] | None = None
        self.invocations = 0
        self.delay_s = 0.0
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/invocations"):
            self.invocations += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.delay_s)
                await self._invoke(scope, receive, send)
            finally:
                self.in_flight -= 1
            return
        await self.app(scope, receive, send)

    async def _invoke(self, scope: Any, receive: Any, send: Any) -> None:
        reply = self.planned.pop(0) if self.planned else self.always
        if reply is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = reply
        await receive()
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


THROTTLED = (
    429,
    {"x-amzn-ErrorType": "TooManyRequestsException", "content-type": "application/json"},
    b'{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "message": "Rate Exceeded."}',
)
UNAVAILABLE = (503, {"content-type": "application/json"}, b'{"message": "Service Unavailable"}')
FUNCTION_ERROR = (
    200,
    {"X-Amz-Function-Error": "Unhandled", "content-type": "application/json"},
    b'{"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []}',
)

TIMED_OUT = (
    200,
    {"X-Amz-Function-Error": "Unhandled", "content-type": "application/json"},
    b'{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: 1 Error: Task timed out after 3.00 seconds"}',
)


@contextmanager
def function_server(s3_url: str, **settings: Any) -> Iterator[tuple[str, Faults]]:
    """The seiswindow function behind the invoke API on 127.0.0.1, reading ``s3_url``."""
    app = Faults(create_app(Settings(archive="s3://scedc-pds", endpoint_url=s3_url, **settings)))
    with serving(app) as url:
        yield url, app


def run(
    s3_url: str, lambda_url: str, *args: str, region: str | None = REGION
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "SEISWINDOW_ARCHIVE": "s3://scedc-pds",
        "AWS_ENDPOINT_URL_S3": s3_url,
        "AWS_ENDPOINT_URL_LAMBDA": lambda_url,
    }
    environment.pop("AWS_DEFAULT_REGION", None)
    environment.pop("AWS_REGION", None)
    if region:
        environment["AWS_DEFAULT_REGION"] = region
    command = [sys.executable, "-m", "seiswindow.cli", "bulk", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment)


def lambda_client(url: str) -> Any:
    return boto3.client("lambda", endpoint_url=url, config=Config(retries={"total_max_attempts": 1}))


def assert_samples_are_obspys(directory: Path) -> int:
    """Every output of the job holds ObsPy's samples of its window; returns how many."""
    checked = 0
    for entry in manifest_lines(directory):
        if not entry["file"]:
            continue
        nslc, start, end = str(entry["window"]).split()
        window = Window.from_nslc(nslc, start, end)
        net, sta, loc, cha = nslc.split(".")
        name = f"{net}{sta:_<5}{cha}{loc:_<2}_*.ms"
        files = sorted((DATA / "scedc-pds").glob(f"continuous_waveforms/2022/*/{name}"))
        expected = oracle(files, window)
        ours = read(str(directory / str(entry["file"])))
        ours.merge()
        assert len(ours) == len(expected) == 1
        np.testing.assert_array_equal(np.ma.filled(ours[0].data, 0), np.ma.filled(expected[0].data, 0))
        assert abs(ours[0].stats.starttime.ns - expected[0].stats.starttime.ns) <= 1_000
        checked += 1
    return checked


def test_a_job_on_lambda_is_the_local_job(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    picks = str(tmp_path / "picks.csv")
    with function_server(s3.url) as (url, faults):
        local = run(s3.url, url, picks, *ARGS, "--out", str(tmp_path / "local"))
        on_lambda = run(
            s3.url, url, picks, *ARGS, "--out", str(tmp_path / "lambda"), "--executor", "lambda=function"
        )
    assert local.returncode == on_lambda.returncode == 0, on_lambda.stderr
    assert "8 this run (6 ok, 1 partial, 1 nodata)" in on_lambda.stderr, on_lambda.stderr
    # The windows of one day file share an invocation: WBM's 2022-01-02 file holds two.
    assert 0 < faults.invocations < 8
    assert outputs(tmp_path / "lambda") == outputs(tmp_path / "local") != {}
    by_id = {e["id"]: (e["status"], e["file"], e["size"]) for e in manifest_lines(tmp_path / "local")}
    assert {
        e["id"]: (e["status"], e["file"], e["size"]) for e in manifest_lines(tmp_path / "lambda")
    } == by_id
    assert assert_samples_are_obspys(tmp_path / "lambda") == 7
    rerun = run(
        s3.url,
        "http://127.0.0.1:9",
        picks,
        *ARGS,
        "--out",
        str(tmp_path / "lambda"),
        "--executor",
        "lambda=function",
    )
    assert rerun.returncode == 0 and "8 windows: 8 done before, 0 this run" in rerun.stderr, rerun.stderr
    unnamed = run(s3.url, url, picks, *ARGS, "--out", str(tmp_path / "x"), "--executor", "lambda")
    assert unnamed.returncode == 2 and "lambda=FUNCTION" in unnamed.stderr, unnamed.stderr
    nowhere = run(
        s3.url, url, picks, *ARGS, "--out", str(tmp_path / "x"), "--executor", "lambda=function", region=None
    )
    assert nowhere.returncode == 2 and "AWS_REGION" in nowhere.stderr, nowhere.stderr


def test_throttles_are_retried_and_the_job_completes(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    out = tmp_path / "job"
    with function_server(s3.url) as (url, faults):
        faults.planned = [THROTTLED, THROTTLED, UNAVAILABLE, THROTTLED]
        job = run(
            s3.url,
            url,
            str(tmp_path / "picks.csv"),
            *ARGS,
            "--out",
            str(out),
            "--executor",
            "lambda=function",
            "--workers",
            "2",
        )
        assert not faults.planned
    assert job.returncode == 0, job.stderr
    assert "8 this run (6 ok, 1 partial, 1 nodata)" in job.stderr, job.stderr
    assert assert_samples_are_obspys(out) == 7


def test_a_failing_function_fails_its_windows_and_a_rerun_completes_them(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    out = tmp_path / "job"
    args = (str(tmp_path / "picks.csv"), *ARGS, "--out", str(out), "--executor", "lambda=function")
    with function_server(s3.url) as (url, faults):
        faults.always = FUNCTION_ERROR
        failed = run(s3.url, url, *args)
    assert failed.returncode == 1, failed.stderr
    assert "8 this run (8 error)" in failed.stderr, failed.stderr
    assert "the function failed: RuntimeError: boom" in (out / "failures.log").read_text()
    assert len(manifest_lines(out)) == 8  # every window is there, none lost
    with function_server(s3.url) as (url, _):
        again = run(s3.url, url, *args)
    assert again.returncode == 0, again.stderr
    assert "8 windows: 0 done before, 8 this run (6 ok, 1 partial, 1 nodata)" in again.stderr, again.stderr
    assert assert_samples_are_obspys(out) == 7


def _job_windows(*windows: Window) -> list[JobWindow]:
    return [JobWindow(id=f"{i:016x}", window=w, source=f"line {i + 1}") for i, w in enumerate(windows)]


def test_retries_stop_in_bounded_time(s3) -> None:
    items = _job_windows(Window.from_nslc("CI.WBM..LHZ", "2022-01-02T10:00:00", "2022-01-02T10:01:00"))
    with function_server(s3.url) as (url, faults):
        faults.always = UNAVAILABLE
        executor = LambdaExecutor("function", client=lambda_client(url), retry_seconds=1.0)
        started = time.monotonic()
        [(item, result)] = list(executor.run([Batch("key", tuple(items))]))
        elapsed = time.monotonic() - started
    assert result.status is Status.ERROR and "503" in result.message and "attempts" in result.message
    assert faults.invocations > 1 and elapsed < 1.0 + 20.0 * 0.1 + 2.0


def test_workers_bound_the_invocations_in_flight(s3) -> None:
    """Eight day files' windows, two invocations at a time: never more, and the pool is used."""
    days = [f"2022-01-0{d}T{h:02d}:00:00" for d in (1, 2, 3) for h in (10, 11, 12)][:8]
    items = _job_windows(*(Window.from_nslc("CI.WBM..LHZ", t, t[:14] + "01:00") for t in days))
    groups = [Batch(f"key{i}", (item,)) for i, item in enumerate(items)]
    with function_server(s3.url) as (url, faults):
        faults.delay_s = 0.2
        executor = LambdaExecutor("function", client=lambda_client(url), workers=2)
        results = list(executor.run(groups))
    assert sorted(item.id for item, _ in results) == sorted(item.id for item in items)
    assert {result.status for _, result in results} == {Status.OK}
    assert faults.invocations == 8 and faults.most_in_flight == 2


def test_an_answer_too_large_is_asked_again_in_halves(s3) -> None:
    """A function whose answers are bounded below the estimate (413) answers every window
    when asked for fewer at a time."""
    starts = [f"2022-01-02T{h:02d}:00:00" for h in range(1, 5)]
    items = _job_windows(*(Window.from_nslc("CI.CCA..BHN", t, t[:14] + "00:20") for t in starts))
    with function_server(s3.url, limits=Limits(max_response_bytes=8_000)) as (url, faults):
        executor = LambdaExecutor("function", client=lambda_client(url))
        results = dict((item.id, result) for item, result in executor.run([Batch("key", tuple(items))]))
    assert [results[item.id].status for item in items] == [Status.OK] * 4
    assert faults.invocations == 1 + 2 + 4  # the whole, two halves (413 each), four windows
    first = results[items[0].id]
    assert first.segments[0].samples.dtype == np.int32 and first.npts == 801


def test_a_batch_that_runs_out_of_the_functions_time_is_asked_again_in_halves(s3) -> None:
    starts = [f"2022-01-02T{h:02d}:00:00" for h in range(1, 5)]
    items = _job_windows(*(Window.from_nslc("CI.CCA..BHN", t, t[:14] + "00:20") for t in starts))
    with function_server(s3.url) as (url, faults):
        request = orjson.dumps({"Windows": [items[0].window.to_request()]})
        reply = lambda_client(url).invoke(FunctionName="function", Payload=request)
        assert reply["StatusCode"] == 200 and reply["ExecutedVersion"] == "$LATEST"  # as Lambda's API
        assert orjson.loads(reply["Payload"].read())[0]["station"] == "CCA"
        faults.invocations = 0
        faults.planned = [TIMED_OUT]
        executor = LambdaExecutor("function", client=lambda_client(url))
        results = dict((item.id, result) for item, result in executor.run([Batch("key", tuple(items))]))
        assert faults.invocations == 1 + 2
        faults.always = TIMED_OUT  # a single window that cannot be answered in time fails
        [(_, alone)] = list(executor.run([Batch("key", tuple(items[:1]))]))
    assert [results[item.id].status for item in items] == [Status.OK] * 4
    assert alone.status is Status.ERROR and "Task timed out after 3.00 seconds" in alone.message


def test_invocations_fit_lambdas_answer() -> None:
    hour = [
        Window.from_nslc("CI.CCA..BHN", f"2022-01-02T{h:02d}:00:00", f"2022-01-02T{h:02d}:05:00")
        for h in range(24)
    ]
    groups = invocations(Batch("key", tuple(_job_windows(*hour))))
    # 5 min at 80 Hz (BH's highest rate): 24,001 samples, 13 bytes each at most, 64 KiB besides.
    per = (6 * 1024 * 1024 - 16 * 1024) // ((12 * 24_001 + 65_536) * 13 // 12)
    assert [len(g) for g in groups] == [per] * (24 // per) + ([24 % per] if 24 % per else [])
    assert [item for g in groups for item in g] == _job_windows(*hour)
    day = Window.from_nslc("CI.CCA..BHN", "2022-01-02T00:00:00", "2022-01-03T00:00:00")
    assert [len(g) for g in invocations(Batch("key", tuple(_job_windows(day, day))))] == [1, 1]


@pytest.fixture
def results_bucket(moto_endpoint: str) -> str:
    client = s3_client(moto_endpoint)
    with suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(
            Bucket="seiswindow-results", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    return "s3://seiswindow-results/answers"


def test_an_answer_over_6_mb_comes_through_the_results_bucket(
    s3, moto_endpoint: str, results_bucket: str, tmp_path: Path
) -> None:
    window = Window.from_nslc("CI.CCA..BHN", "2022-01-02T04:00:00", "2022-01-02T14:00:00")
    items = _job_windows(window)
    with function_server(s3.url, results=results_bucket) as (url, faults):
        executor = LambdaExecutor("function", client=lambda_client(url))
        [(_, result)] = list(executor.run([Batch("key", tuple(items))]))
    assert result.status is Status.OK, result.message
    assert faults.invocations == 1
    listed = s3_client(moto_endpoint).list_objects_v2(Bucket="seiswindow-results", Prefix="answers/")
    [stored] = listed["Contents"]
    assert stored["Size"] > 6 * 1024 * 1024
    files = sorted((DATA / "scedc-pds").glob("continuous_waveforms/2022/*/CICCA__BHN___*.ms"))
    expected = oracle(files, window)[0]
    [segment] = result.segments
    np.testing.assert_array_equal(segment.samples, expected.data)
    assert abs(segment.start - expected.stats.starttime.ns) <= 1_000
