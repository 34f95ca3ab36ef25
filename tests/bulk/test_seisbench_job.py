"""``seiswindow bulk PICKS.csv --out DIR --format seisbench``, run as a user runs it (a
subprocess reading the moto S3 server through the counting proxy), its data set loaded by the
real SeisBench (``seisbench_loader.py`` in ``.venv-seisbench``), ObsPy the oracle of samples.

What the sample data allow: no station holds more than one channel (``BHN`` of CI.CCA and
CI.HEC, ``LHZ`` of the others), so every example here has one real component of ``ZNE`` (the
others zeros): ``BH?`` at CI.HEC resolves to ``BHN`` alone. The grouping of windows is still
exercised: ``CI,*,,LHZ`` rows resolve to three windows (WBM, FOX2, NCH) of one input row, one
example per station, whose day files are read far apart in the job (batches by day file), and
FOX2 and NCH have data only from 22:53, so most rows hold windows without data beside one with.
Examples of three real components are the writer's own tests' (``test_seisbench.py``).
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
