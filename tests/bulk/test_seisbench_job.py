"""``seiswindow bulk PICKS.csv --out DIR --format seisbench``, run as a user runs it (a
subprocess reading the moto S3 server through the counting proxy), its data set loaded by the
real SeisBench (``seisbench_loader.py`` in ``.venv-seisbench``), ObsPy the oracle of samples.

What the data allow: no station of the SCEDC sample set holds more than one channel (``BHN`` of
CI.CCA and CI.HEC, ``LHZ`` of the others), so each of their examples has one real component of
``ZNE`` (the others zeros): ``BH?`` at CI.HEC resolves to ``BHN`` alone. The grouping of windows
is still exercised there: ``CI,*,,LHZ`` rows resolve to three windows (WBM, FOX2, NCH) of one
input row, one example per station, whose day files are read far apart in the job (batches by
day file), and FOX2 and NCH have data only from 22:53, so most rows hold windows without data
beside one with. Two real components of one station are ObsPy's own test file of CH.BALST
(``LHE``, ``LHZ`` of 2025-314, on grids 0.375 s apart), in the SDS tree of ``support/trees.py``:
``LH?`` gives examples of Z and E (N zeros), and a kill between a row's two windows is tested
there. Three real components are the writer's own tests' stand-in (``test_seisbench.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from obspy import UTCDateTime
from test_bulk_cli import command, env, manifest_lines, run
from test_seisbench import _require_seisbench, _seisbench

from seiswindow.archive import ScedcLayout
from seiswindow.bulk.seisbenchout import EXAMPLE_PREFIX
from seiswindow.model import Nslc, Window
from support.oracle import oracle
from support.s3server import default_data_root
from support.trees import sds_tree, upload_tree

DATA = default_data_root() / "scedc-pds"
BEFORE, AFTER = 30, 90


def _picks() -> list[tuple[str, str, str, str, str, str, str]]:
    """``(net, sta, loc, cha, time, phase, event)`` rows over the sample days."""
    rows = [
        ("CI", "HEC", "", "BH?", "2022-01-02T05:00:03", "S", "e2"),
        ("CI", "CCA", "", "BHN", "2022-01-02T05:00:00.5", "P", "e2"),
        ("CI", "WBM", "", "LHZ", "2022-01-01T23:59:50", "P", "e1"),  # across midnight
        ("CI", "NOPE", "", "LHZ", "2022-01-02T05:00:00", "P", "e4"),  # no data: no example
        ("CI", "*", "", "LHZ", "2022-01-02T22:57:30.5", "P", "e3"),  # three stations with data
    ]
    for hour in range(0, 22, 3):
        rows.append(("CI", "*", "", "LHZ", f"2022-01-02T{hour:02d}:20:07.25", "P", f"h{hour}"))
        rows.append(("CI", "HEC", "", "BH?", f"2022-01-02T{hour:02d}:40:00", "S", f"h{hour}"))
        rows.append(("CI", "CCA", "", "BHN", f"2022-01-02T{hour:02d}:40:01.125", "Pg", f"h{hour}"))
    return rows


def _write_picks(path: Path) -> None:
    lines = ["network,station,location,channel,time,phase,event"]
    lines += [",".join(row) for row in _picks()]
    path.write_text("\n".join(lines) + "\n")


def _args(tmp_path: Path, out: Path) -> tuple[str, ...]:
    picks = tmp_path / "picks.csv"
    if not picks.exists():
        _write_picks(picks)
    return (
        str(picks),
        "--out",
        str(out),
        "--format",
        "seisbench",
        "--before",
        str(BEFORE),
        "--after",
        str(AFTER),
    )


def _metadata(directory: Path) -> dict[str, dict[str, str]]:
    """The rows of ``metadata.csv`` by example id, without ``trace_name`` (where in the blocks)
    and empty cells (a column for a phase not seen yet is not there)."""
    with open(directory / "metadata.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        row["trace_seiswindow_id"]: {k: v for k, v in row.items() if k != "trace_name" and v} for row in rows
    }


def _latest(directory: Path) -> dict[str, dict[str, Any]]:
    return {str(e["id"]): e for e in manifest_lines(directory)}


def _expected(entry: dict[str, Any]) -> tuple[UTCDateTime, float, np.ndarray[Any, Any]]:
    """ObsPy's read, merge and trim of the window a manifest line names, as a ZNE example."""
    codes, start, end = str(entry["window"]).split()
    window = Window.create(*codes.split("."), UTCDateTime(start).ns, UTCDateTime(end).ns)
    nslc = Nslc(*codes.split("."))
    first = dt.date.fromisoformat(start[:10])
    days = [first + dt.timedelta(days=n) for n in range((dt.date.fromisoformat(end[:10]) - first).days + 1)]
    files = [DATA / ScedcLayout().key(nslc, day) for day in days]
    (trace,) = oracle([f for f in files if f.exists()], window)
    out = np.zeros((3, trace.stats.npts), dtype=np.int32)
    out["ZNE".index(nslc.channel[-1])] = trace.data
    return trace.stats.starttime, trace.stats.sampling_rate, out


def test_a_pick_list_as_a_seisbench_data_set_loaded_by_seisbench(s3, tmp_path: Path) -> None:
    _require_seisbench()
    out = tmp_path / "job"
    done = run(s3.url, *_args(tmp_path, out))
    assert done.returncode == 0, done.stderr
    latest = _latest(out)
    rows = _metadata(out)
    picks = _picks()

    # Each window's line names its example; windows without data name none.
    named: dict[str, list[dict[str, Any]]] = {}
    for entry in latest.values():
        if entry["status"] == "nodata":
            assert entry["file"] is None
        else:
            assert str(entry["file"]).startswith(EXAMPLE_PREFIX), entry
            named.setdefault(str(entry["file"]).removeprefix(EXAMPLE_PREFIX), []).append(entry)
    assert set(named) == set(rows)
    assert all(len(entries) == 1 for entries in named.values())  # one component each (the data)
    stations = {rows[eid]["station_code"] for eid in rows}
    assert stations == {"HEC", "CCA", "WBM", "FOX2", "NCH"}
    assert sum(1 for r in rows.values() if r["station_code"] in ("FOX2", "NCH")) == 2  # only at 22:57

    report = _seisbench({"job": out})["job"]
    assert "error" not in report, report
    assert report["len"] == len(rows)
    assert report["data_format"]["component_order"] == "ZNE"
    assert report["data_format"]["measurement"] == "velocity"
    for row, waveform in zip(report["metadata"], report["waveforms"], strict=True):
        (entry,) = named[row["trace_seiswindow_id"]]
        start, rate, samples = _expected(entry)
        assert np.array_equal(np.asarray(waveform), samples), entry["window"]
        assert abs(UTCDateTime(row["trace_start_time"]) - start) < 1e-6
        assert row["trace_sampling_rate_hz"] == rate
        net, sta, loc, cha = str(entry["window"]).split()[0].split(".")
        assert (row["station_network_code"], row["station_code"], row["trace_channel"]) == (net, sta, cha[:2])
        assert (row["station_location_code"] or "") == loc
        line = int(str(entry["source"]).removeprefix("line "))
        *_, pick_time, phase, event = picks[line - 2]
        assert row["source_id"] == event
        arrival = (UTCDateTime(pick_time) - start) * rate
        assert row[f"trace_{phase}_arrival_sample"] == pytest.approx(arrival, abs=1e-6)
        assert BEFORE * rate - 1 <= arrival <= BEFORE * rate + 1  # the pick is where it was cut

    # A rerun adds nothing and reads nothing.
    before = (out / "metadata.csv").read_bytes()
    s3.reset()
    again = run(s3.url, *_args(tmp_path, out))
    assert again.returncode == 0, again.stderr
    assert f"{len(latest)} windows: {len(latest)} done before, 0 this run" in again.stderr, again.stderr
    assert (out / "metadata.csv").read_bytes() == before
    assert not [r for r in s3.records if r.key.endswith(".ms")]


def _windows_per_row(directory: Path) -> dict[str, set[str]]:
    """Input line → the ids of its windows the manifest records (errors excepted)."""
    rows: dict[str, set[str]] = {}
    for entry in _latest(directory).values():
        if entry["status"] != "error":
            rows.setdefault(str(entry["source"]), set()).add(str(entry["id"]))
    return rows


def _a_row_half_done(directory: Path, rows_of: dict[str, set[str]]) -> bool:
    recorded = _windows_per_row(directory)
    return any(len(rows_of[row]) == 3 and 0 < len(ids) < 3 for row, ids in recorded.items())


def test_a_job_killed_part_way_gives_the_data_set_of_an_uninterrupted_run(s3, tmp_path: Path) -> None:
    _require_seisbench()
    reference = tmp_path / "reference"
    whole = run(s3.url, *_args(tmp_path, reference))
    assert whole.returncode == 0, whole.stderr
    total = len(_latest(reference))

    killed = tmp_path / "killed"
    s3.delay_s = 0.05  # slow enough to be killed part-way
    process = subprocess.Popen(
        command(*_args(tmp_path, killed), "--workers", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(s3.url),
    )
    rows_of = _windows_per_row(reference)
    try:
        # Killed while a row of three windows (CI,*,,LHZ) has one or two of them recorded.
        deadline = time.monotonic() + 120
        while not _a_row_half_done(killed, rows_of) or len(manifest_lines(killed)) < total // 3:
            assert process.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    s3.delay_s = 0.0
    assert 0 < len(manifest_lines(killed)) < total
    # Nothing half-written: every example written so far is the reference's, whole.
    left = _metadata(killed)
    reference_rows = _metadata(reference)
    assert all(row == reference_rows[eid] for eid, row in left.items())
    assert len(left) < len(reference_rows)

    # A window is done only when every window of its row is: a row half done is done again.
    recorded = _windows_per_row(killed)
    assert any(len(ids) < len(rows_of[row]) for row, ids in recorded.items())
    done_before = sum(len(ids) for row, ids in recorded.items() if ids == rows_of[row])
    resumed = run(s3.url, *_args(tmp_path, killed))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total} windows: {done_before} done before, {total - done_before} this run" in resumed.stderr
    assert _metadata(killed) == reference_rows
    latest = {wid: (e["status"], e["file"]) for wid, e in _latest(killed).items()}
    assert latest == {wid: (e["status"], e["file"]) for wid, e in _latest(reference).items()}
    report = _seisbench({"killed": killed, "reference": reference})
    by_id = {
        name: {
            row["trace_seiswindow_id"]: waveform
            for row, waveform in zip(report[name]["metadata"], report[name]["waveforms"], strict=True)
        }
        for name in ("killed", "reference")
    }
    assert by_id["killed"] == by_id["reference"]
    assert len(by_id["killed"]) == len(reference_rows)


def test_seisbench_output_to_s3_and_channels_that_are_no_component_are_refused(s3, tmp_path: Path) -> None:
    to_s3 = run(s3.url, *_args(tmp_path, tmp_path / "unused")[:1], "--out", "s3://bucket/prefix", "--format",
                "seisbench", "--before", "1", "--after", "1")  # fmt: skip
    assert to_s3.returncode == 2 and "give a local --out DIR" in to_s3.stderr, to_s3.stderr
    odd = tmp_path / "odd.csv"
    odd.write_text("network,station,location,channel,time,phase\nCI,CCA,,BHX,2022-01-02T05:00:00,P\n")
    refused = run(s3.url, str(odd), "--out", str(tmp_path / "odd"), "--format", "seisbench",
                  "--before", "1", "--after", "1")  # fmt: skip
    assert refused.returncode == 2 and "line 2: channel BHX is no component of ZNE" in refused.stderr, (
        refused.stderr
    )
    assert not [r for r in s3.records if r.key.endswith(".ms")]


# -- two real components: ObsPy's CH.BALST LHE and LHZ of 2025-314, in an SDS tree ------------

BALST_PICKS = [f"2025-11-10T{hour:02d}:10:00.5" for hour in range(1, 24, 2)] + ["2025-11-10T00:03:00"]


def _balst_job(s3: Any, tmp_path: Path, tree: Path, out: Path, *extra: str) -> list[str]:
    """The pick list and command line of a job over the SDS tree's CH.BALST ``LH?``."""
    picks = tmp_path / "balst.csv"
    lines = ["network,station,location,channel,time,phase,event"]
    lines += [f"CH,BALST,,LH?,{t},P,b{i}" for i, t in enumerate(BALST_PICKS)]
    picks.write_text("\n".join(lines) + "\n")
    return command(str(picks), "--out", str(out), "--format", "seisbench", "--before", "60", "--after", "60",
                   *extra)  # fmt: skip


def _balst_env(s3: Any) -> dict[str, str]:
    return {**env(s3.url), "SEISWINDOW_ARCHIVE": "s3://sbjob-sds", "SEISWINDOW_LAYOUT": "sds"}


@pytest.fixture
def sds(s3: Any, moto_endpoint: str, tmp_path: Path) -> Path:
    (tmp_path / "sds").mkdir()
    root = sds_tree(tmp_path / "sds")
    upload_tree(moto_endpoint, "sbjob-sds", root)
    return root


def _balst_expected(tree: Path, pick: str) -> tuple[UTCDateTime, np.ndarray[Any, Any], int]:
    """ObsPy's trim of both channels around ``pick``, placed as SeisBench places components:
    each at ``round((its start - the earliest start) * rate)``, zeros elsewhere; and how many
    samples the channels hold."""
    t = UTCDateTime(pick)
    traces = {}
    for channel in ("LHE", "LHZ"):  # each channel its own window (a Stream's trim snaps all
        window = Window.create("CH", "BALST", "", channel, (t - 60).ns, (t + 60).ns)  # to one grid)
        (trace,) = oracle(list(tree.rglob(f"CH.BALST..{channel}.D.2025.314")), window)
        traces[channel[-1]] = trace
    assert set(traces) == {"E", "Z"}
    start = min(tr.stats.starttime for tr in traces.values())
    offsets = {c: round((tr.stats.starttime - start) * 1.0) for c, tr in traces.items()}
    out = np.zeros((3, max(offsets[c] + tr.stats.npts for c, tr in traces.items())), dtype=np.int32)
    for c, tr in traces.items():
        out["ZNE".index(c), offsets[c] : offsets[c] + tr.stats.npts] = tr.data
    return start, out, sum(tr.stats.npts for tr in traces.values())


def test_two_real_components_one_example_and_a_kill_between_them(s3: Any, sds: Path, tmp_path: Path) -> None:
    _require_seisbench()
    reference = tmp_path / "reference"
    whole = subprocess.run(_balst_job(s3, tmp_path, sds, reference), capture_output=True, text=True,
                           timeout=180, env=_balst_env(s3))  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    latest = _latest(reference)
    assert len(latest) == 2 * len(BALST_PICKS)
    rows = _metadata(reference)
    assert len(rows) == len(BALST_PICKS)
    # Both windows of a pick name its one example.
    named: dict[str, set[str]] = {}
    for entry in latest.values():
        named.setdefault(str(entry["file"]), set()).add(str(entry["window"]).split()[0])
    assert all(channels == {"CH.BALST..LHE", "CH.BALST..LHZ"} for channels in named.values())
    assert {name.removeprefix(EXAMPLE_PREFIX) for name in named} == set(rows)

    # Killed after the LHE windows of some rows and before their LHZ ones (LHE's day file first).
    killed = tmp_path / "killed"
    s3.delay_s = 0.05
    process = subprocess.Popen(_balst_job(s3, tmp_path, sds, killed, "--workers", "1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_balst_env(s3))  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(manifest_lines(killed)) < len(BALST_PICKS) // 2:
            assert process.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    s3.delay_s = 0.0
    lines = manifest_lines(killed)
    with_z = {e["source"] for e in lines if str(e["window"]).startswith("CH.BALST..LHZ")}
    halves = [e for e in lines if str(e["window"]).startswith("CH.BALST..LHE") and e["source"] not in with_z]
    assert halves and len(manifest_lines(killed)) < len(latest)
    # Lines name examples the data set does not hold: nothing half-written, none marked done.
    left = _metadata(killed) if (killed / "metadata.csv").exists() else {}
    assert not {str(e["file"]).removeprefix(EXAMPLE_PREFIX) for e in halves} & set(left)
    assert all(row == rows[eid] for eid, row in left.items())
    resumed = subprocess.run(_balst_job(s3, tmp_path, sds, killed), capture_output=True, text=True,
                             timeout=180, env=_balst_env(s3))  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(latest)} windows: {2 * len(left)} done before" in resumed.stderr, resumed.stderr
    assert _metadata(killed) == rows

    report = _seisbench({"reference": reference, "killed": killed})
    pick_of = {f"b{i}": t for i, t in enumerate(BALST_PICKS)}
    for name in ("reference", "killed"):
        loaded = report[name]
        assert "error" not in loaded, loaded
        assert loaded["len"] == len(BALST_PICKS)
        for row, waveform in zip(loaded["metadata"], loaded["waveforms"], strict=True):
            pick = pick_of[row["source_id"]]
            start, samples, real = _balst_expected(sds, pick)
            assert np.array_equal(np.asarray(waveform), samples), pick
            assert abs(UTCDateTime(row["trace_start_time"]) - start) < 1e-6
            assert row["trace_P_arrival_sample"] == pytest.approx(UTCDateTime(pick) - start, abs=1e-6)
            # Completeness: the two channels' samples of the three components' grid.
            assert row["trace_completeness"] == pytest.approx(real / samples.size)


def test_a_failed_component_keeps_its_example_unwritten_until_a_rerun(
    s3: Any, sds: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    whole = subprocess.run(_balst_job(s3, tmp_path, sds, reference), capture_output=True, text=True,
                           timeout=180, env=_balst_env(s3))  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "job"
    s3.inject("403", count=10_000, path_contains="LHZ.D")
    failed = subprocess.run(_balst_job(s3, tmp_path, sds, out), capture_output=True, text=True,
                            timeout=180, env=_balst_env(s3))  # fmt: skip
    assert failed.returncode == 1, failed.stderr
    n = len(BALST_PICKS)
    summary = f"{2 * n} windows: 0 done before, {2 * n} this run ("  # the LHE at 00:02:53 is partial
    assert summary in failed.stderr and f"{n} error)" in failed.stderr, failed.stderr
    assert _metadata(out) == {}  # no example with its Z missing for a failure
    assert all(str(e["file"]).startswith(EXAMPLE_PREFIX) for e in manifest_lines(out) if e["status"] == "ok")

    s3.clear_injections()
    again = subprocess.run(_balst_job(s3, tmp_path, sds, out), capture_output=True, text=True,
                           timeout=180, env=_balst_env(s3))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert summary in again.stderr and "error" not in again.stderr, again.stderr
    assert _metadata(out) == _metadata(reference)
