"""``seiswindow bulk INPUT --out DIR`` run as a user runs it, a subprocess reading the moto
S3 server through the counting proxy: exit status and summary, failures retried by a rerun,
and a job killed with SIGKILL half-way that a rerun completes without reading again a
window that was done, its outputs those of an uninterrupted run."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
from obspy import read

from seiswindow import Window
from seiswindow.bulk import MANIFEST_NAME
from support.oracle import oracle
from support.s3server import REGION, default_data_root, s3_client

DATA = default_data_root()

PICKS = """network,station,location,channel,time,phase,event
CI,WBM,,LHZ,2022-01-01T23:59:50,P,e1
CI,CCA,,BHN,2022-01-02T05:00:00.5,P,e2
CI,HEC,,BH?,2022-01-02T05:00:03,S,e2
CI,FOX2,,LHZ,2022-01-02T22:55:00,P,e3
CI,NOPE,,LHZ,2022-01-02T05:00:00,P,e4
BK,THIS,00,LHZ,2022-01-02T10:00:00,P,e5
"""


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "seiswindow.cli", "bulk", *args]


def env(s3_url: str) -> dict[str, str]:
    return {**os.environ, "SEISWINDOW_ARCHIVE": "s3://scedc-pds", "AWS_ENDPOINT_URL_S3": s3_url}


def run(s3_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=180, env=env(s3_url))


def manifest_lines(directory: Path) -> list[dict[str, object]]:
    path = directory / MANIFEST_NAME
    if not path.exists():
        return []
    return [
        orjson.loads(line) for line in path.read_bytes().splitlines(keepends=True)[1:] if line.endswith(b"\n")
    ]


def outputs(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*.mseed")
        if ".partial" not in p.parts
    }


def test_exit_status_summary_and_failures_retried(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    out = tmp_path / "job"
    args = (str(tmp_path / "picks.csv"), "--out", str(out), "--before", "30", "--after", "90")
    s3.inject("403", count=1000, path_contains="CICCA")
    failed = run(s3.url, *args, "--progress")
    assert failed.returncode == 1, failed.stderr
    assert "win/s" in failed.stderr and "failed=1" in failed.stderr and "read=" in failed.stderr  # the bar
    assert "6 windows: 0 done before, 6 this run (3 ok, 1 partial, 1 nodata, 1 error)" in failed.stderr, (
        failed.stderr
    )
    assert "requests" in failed.stderr and "windows/s" in failed.stderr
    [error] = [e for e in manifest_lines(out) if e["status"] == "error"]
    assert f"failed: {error['id']} (line 3)" in failed.stderr
    assert "CICCA" in (out / "failures.log").read_text()

    s3.clear_injections()
    s3.reset()
    again = run(s3.url, *args)
    assert again.returncode == 0, again.stderr
    assert "6 windows: 5 done before, 1 this run (1 ok)" in again.stderr, again.stderr
    read_keys = {r.key for r in s3.records if r.method == "GET" and r.key.endswith(".ms")}
    assert read_keys and all("CICCA" in key for key in read_keys), read_keys
    assert manifest_lines(out)[-1]["id"] == error["id"] and manifest_lines(out)[-1]["status"] == "ok"


def test_bad_options_are_refused_before_any_read(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    no_offsets = run(s3.url, str(tmp_path / "picks.csv"), "--out", str(tmp_path / "job"))
    assert no_offsets.returncode == 2 and "line 2: no offset before the pick" in no_offsets.stderr
    bad = run(
        s3.url,
        str(tmp_path / "picks.csv"),
        "--out",
        str(tmp_path / "job"),
        "--before",
        "1",
        "--after",
        "1",
        "--executor",
        "spark",
    )
    assert bad.returncode == 2 and "'spark' is not an executor" in bad.stderr
    segments = run(s3.url, str(tmp_path / "picks.csv"), "--out", str(tmp_path / "job"), "--segments")
    assert segments.returncode == 2 and "--segments" in segments.stderr
    without_out = run(s3.url, str(tmp_path / "picks.csv"), "--before", "1")
    assert without_out.returncode == 2 and "needs --out" in without_out.stderr
    assert not [r for r in s3.records if r.key.endswith(".ms")]


def _windows_csv(path: Path) -> int:
    """One-minute windows over the sample days: WBM (3 days), CCA and HEC (40 Hz), THIS."""
    lines = []
    for hour in range(0, 24, 2):
        for minute in (5, 35):
            lines.append(
                f"CI,WBM,,LHZ,2022-01-02T{hour:02d}:{minute:02d}:00,2022-01-02T{hour:02d}:{minute + 1:02d}:00"
            )
    for hour in range(0, 24, 3):
        lines.append(f"CI,CCA,,BHN,2022-01-02T{hour:02d}:10:00,2022-01-02T{hour:02d}:11:00")
        lines.append(f"CI,HEC,,BHN,2022-01-02T{hour:02d}:20:00,2022-01-02T{hour:02d}:21:00")
        lines.append(f"BK,THIS,00,LHZ,2022-01-02T{hour:02d}:30:00,2022-01-02T{hour:02d}:31:00")
    lines.append("CI,WBM,,LHZ,2022-01-01T23:59:30,2022-01-02T00:00:30")
    lines.append("CI,WBM,,LHZ,2022-01-02T23:59:30,2022-01-03T00:00:30")
    path.write_text("network,station,location,channel,starttime,endtime\n" + "\n".join(lines) + "\n")
    return len(lines)


def test_a_job_killed_half_way_resumes_without_reading_a_done_window_again(s3, tmp_path: Path) -> None:
    total = _windows_csv(tmp_path / "windows.csv")
    reference = tmp_path / "reference"
    whole = run(s3.url, str(tmp_path / "windows.csv"), "--out", str(reference))
    assert whole.returncode == 0, whole.stderr
    assert len(manifest_lines(reference)) == total

    killed_dir = tmp_path / "killed"
    s3.delay_s = 0.05  # slow enough to be killed half-way
    process = subprocess.Popen(
        command(str(tmp_path / "windows.csv"), "--out", str(killed_dir), "--workers", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(s3.url),
    )
    try:
        deadline = time.monotonic() + 120
        while len(manifest_lines(killed_dir)) < total // 3 and time.monotonic() < deadline:
            assert process.poll() is None, "the job ended before it could be killed"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    s3.delay_s = 0.0
    done_before = {e["id"] for e in manifest_lines(killed_dir) if e["status"] != "error"}
    first_run_lines = len(manifest_lines(killed_dir))
    assert 0 < len(done_before) < total
    # Every output a done entry names is whole (the reference run's bytes).
    for entry in manifest_lines(killed_dir):
        if entry["file"]:
            assert (killed_dir / str(entry["file"])).read_bytes() == (
                reference / str(entry["file"])
            ).read_bytes()

    resumed = run(s3.url, str(tmp_path / "windows.csv"), "--out", str(killed_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert (
        f"{total} windows: {len(done_before)} done before, {total - len(done_before)} this run"
        in resumed.stderr
    )
    again = manifest_lines(killed_dir)[first_run_lines:]
    assert not {e["id"] for e in again} & done_before  # no window done was fetched again
    assert {e["id"] for e in again} | done_before == {e["id"] for e in manifest_lines(reference)}
    assert outputs(killed_dir) == outputs(reference)
    latest = {e["id"]: (e["status"], e["file"]) for e in manifest_lines(killed_dir)}
    assert latest == {e["id"]: (e["status"], e["file"]) for e in manifest_lines(reference)}


def test_outputs_to_an_s3_prefix_and_a_resume_from_another_machine(
    s3, moto_endpoint: str, tmp_path: Path
) -> None:
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket="bulk-out", CreateBucketConfiguration={"LocationConstraint": REGION})
    (tmp_path / "picks.csv").write_text(PICKS)
    args = (str(tmp_path / "picks.csv"), "--out", "s3://bulk-out/jobs/one", "--before", "30", "--after", "90")
    first = run(s3.url, *args, "--state", str(tmp_path / "state-a"))
    assert first.returncode == 0, first.stderr
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="bulk-out", Prefix="jobs/one/")["Contents"]}
    assert "jobs/one/manifest.jsonl" in keys
    published = [
        orjson.loads(x)
        for x in client.get_object(Bucket="bulk-out", Key="jobs/one/manifest.jsonl")["Body"]
        .read()
        .splitlines()[1:]
    ]
    assert (tmp_path / "state-a" / MANIFEST_NAME).read_bytes().splitlines()[1:] == [
        orjson.dumps(e) for e in published
    ]
    files = {f"jobs/one/{e['file']}" for e in published if e["file"]}
    assert len(files) == 5 and files <= keys
    wbm = next(e for e in published if "WBM" in str(e["window"]))
    body = client.get_object(Bucket="bulk-out", Key=f"jobs/one/{wbm['file']}")["Body"].read()
    ours = read(io.BytesIO(body))
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-01T23:59:20", "2022-01-02T00:01:20")
    expected = oracle(
        sorted((DATA / "scedc-pds").glob("continuous_waveforms/2022/*/CIWBM__LHZ___*.ms")), window
    )
    ours.merge()
    np.testing.assert_array_equal(ours[0].data, expected[0].data)

    # Another machine (no state directory): it starts from the published manifest.
    s3.reset()
    again = run(s3.url, *args, "--state", str(tmp_path / "state-b"))
    assert again.returncode == 0, again.stderr
    assert "6 windows: 6 done before, 0 this run" in again.stderr, again.stderr
    assert not [r for r in s3.records if r.key.endswith(".ms")]  # no window read again


def test_the_dask_executor_from_the_command_line(s3, tmp_path: Path) -> None:
    (tmp_path / "picks.csv").write_text(PICKS)
    args = (str(tmp_path / "picks.csv"), "--before", "30", "--after", "90")
    local = run(s3.url, *args, "--out", str(tmp_path / "local"))
    on_dask = run(s3.url, *args, "--out", str(tmp_path / "dask"), "--executor", "dask", "--workers", "1")
    assert local.returncode == on_dask.returncode == 0, on_dask.stderr
    assert "6 this run (4 ok, 1 partial, 1 nodata)" in on_dask.stderr, on_dask.stderr
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "local") != {}
    unreachable = run(s3.url, *args, "--out", str(tmp_path / "x"), "--executor", "dask=tcp://127.0.0.1:9")
    assert unreachable.returncode == 2 and "Dask scheduler" in unreachable.stderr, unreachable.stderr


def test_a_job_reads_indexed_day_files_once_per_window_or_less(s3, tmp_path: Path) -> None:
    """With the record index (``seiswindow index build``, then SEISWINDOW_INDEX), each window
    of an indexed day file is one ranged read, windows of one file coalesced: the issue's
    goal of at most 1.5 S3 requests per window. Samples still ObsPy's."""
    db = tmp_path / "index.sqlite"
    build = subprocess.run(
        [sys.executable, "-m", "seiswindow.cli", "index", "build", "--db", str(db), "--start", "2022-01-02"]
        + ["--end", "2022-01-03", "--channels", "CI.CCA..BHN"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env(s3.url),
    )
    assert build.returncode == 0, build.stderr
    picks = "network,station,location,channel,time,phase,event\n" + "".join(
        f"CI,CCA,,BHN,2022-01-02T{h:02d}:{m:02d}:00,P,e{h}{m}\n" for h in range(1, 21) for m in (7, 37)
    )
    (tmp_path / "picks.csv").write_text(picks)
    out = tmp_path / "job"
    s3.reset()
    done = subprocess.run(
        command(str(tmp_path / "picks.csv"), "--out", str(out), "--before", "10", "--after", "50"),
        capture_output=True,
        text=True,
        timeout=180,
        env={**env(s3.url), "SEISWINDOW_INDEX": str(db)},
    )
    assert done.returncode == 0, done.stderr
    gets = [r for r in s3.records if r.method == "GET" and "CICCA" in r.path]
    assert 0 < len(gets) <= 1.5 * 40, len(gets)
    path = DATA / "scedc-pds" / "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    for entry in manifest_lines(out)[:5]:
        assert entry["status"] == "ok", entry
        (trace,) = read(str(out / str(entry["file"])))
        _, start, end = str(entry["window"]).split()
        (expected,) = oracle([path], Window.create("CI", "CCA", "", "BHN", start, end))
        np.testing.assert_array_equal(trace.data, expected.data)
