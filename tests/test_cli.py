"""The command line, run as a user runs it: a subprocess with the archive from its flags
or the environment (the moto S3 server, or the sample directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from obspy import UTCDateTime, read

from seiswindow import Window
from support.oracle import oracle
from support.s3server import default_data_root

DATA = default_data_root()
WBM = sorted((DATA / "scedc-pds").glob("continuous_waveforms/2022/*/CIWBM__LHZ___*.ms"))


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seiswindow.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def test_get_to_miniseed_across_midnight_from_s3(s3, tmp_path: Path) -> None:
    out = tmp_path / "wbm.mseed"
    proc = run(
        "get",
        "CI.WBM..LHZ",
        "2022-01-01T23:55:00",
        "2022-01-02T00:05:00",
        "-o",
        str(out),
        env={"SEISWINDOW_ARCHIVE": "s3://scedc-pds", "AWS_ENDPOINT_URL_S3": s3.url},
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 windows: 1 ok" in proc.stderr
    assert s3.count(path_contains="CIWBM") > 0  # it really read the S3 server
    ours = read(str(out))
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00")
    expected = oracle(WBM, window)
    assert len(ours) == 1 and ours[0].id == "CI.WBM..LHZ"
    np.testing.assert_array_equal(ours[0].data, expected[0].data)
    assert abs(ours[0].stats.starttime - expected[0].stats.starttime) <= 1e-6


def test_get_json_to_stdout_from_a_directory() -> None:
    proc = run(
        "get",
        "BK.THIS.00.LHZ",
        "2022-01-02T10:00:00",
        "2022-01-02T10:01:00",
        "--archive",
        str(DATA / "scedc-pds"),
    )
    assert proc.returncode == 0, proc.stderr
    (answer,) = json.loads(proc.stdout)
    trace = read(str(DATA / "scedc-pds/continuous_waveforms/2022/2022_002/BKTHIS_LHZ00_2022002.ms"))[0]
    trace.trim(UTCDateTime("2022-01-02T10:00:00"), UTCDateTime("2022-01-02T10:01:00"))
    assert answer["network"] == "BK" and answer["location"] == "00"
    assert answer["data"] == trace.data.tolist()
    assert answer["starttime"] == str(trace.stats.starttime)


def test_bulk_tutorial_json_and_csv_are_obspys_answer(tmp_path: Path) -> None:
    request = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "CCA",
                "Channel": "BHN",
                "Location": "  ",
                "Starttime": "2022-01-02T05:00:00",
                "Endtime": "2022-01-02T05:00:10",
            },
            {
                "Network": "CI",
                "Station": "NOPE",
                "Channel": "BHN",
                "Location": "",
                "Starttime": "2022-01-02T05:00:00",
                "Endtime": "2022-01-02T05:00:10",
            },
        ]
    }
    # A request.json saved with a byte order mark (as Windows editors do) is read too.
    (tmp_path / "request.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(request).encode())
    (tmp_path / "request.csv").write_text(
        "# net sta loc cha start end\n"
        "CI CCA -- BHN 2022-01-02T05:00:00 2022-01-02T05:00:10\n"
        "CI,NOPE,,BHN,2022-01-02T05:00:00,2022-01-02T05:00:10\n"
    )
    window = Window.create("CI", "CCA", "", "BHN", "2022-01-02T05:00:00", "2022-01-02T05:00:10")
    [trace] = oracle([DATA / "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"], window)
    for name in ("request.json", "request.csv"):
        out = tmp_path / f"{name}.out.json"
        proc = run("bulk", str(tmp_path / name), "-o", str(out), "--archive", str(DATA / "scedc-pds"))
        assert proc.returncode == 0, proc.stderr
        assert "2 windows: 1 ok, 1 nodata" in proc.stderr
        assert "CINOPE_BHN___2022002.ms" in proc.stderr
        cca, nope = json.loads(out.read_text())
        assert cca["status"] == "ok"
        assert cca["data"] == trace.data.tolist()
        assert cca["starttime"] == str(trace.stats.starttime) and cca["endtime"] == str(trace.stats.endtime)
        assert cca["sampling_rate"] == trace.stats.sampling_rate and cca["delta"] == trace.stats.delta
        assert [cca[k] for k in ("network", "station", "location", "channel")] == ["CI", "CCA", "", "BHN"]
        assert nope["status"] == "nodata" and nope["data"] == [] and nope["sampling_rate"] is None
        assert nope["starttime"] == "2022-01-02T05:00:00.000000Z"  # the window asked, as the docs say


def test_bad_input_is_a_clear_error_with_status_2(tmp_path: Path) -> None:
    proc = run("get", "CI.W/BM..LHZ", "2022-01-01", "2022-01-02", "--archive", str(DATA / "scedc-pds"))
    assert proc.returncode == 2
    assert "Station" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "bad.csv").write_text("CI WBM -- LHZ 2022-01-01\n")
    proc = run("bulk", str(tmp_path / "bad.csv"), "--archive", str(DATA / "scedc-pds"))
    assert proc.returncode == 2 and "line 1" in proc.stderr


def test_progress_bar_and_stdin(tmp_path: Path) -> None:
    lines = "".join(f"CI WBM -- LHZ 2022-01-02T{h:02d}:00:00 2022-01-02T{h:02d}:10:00\n" for h in range(12))
    proc = run(
        "bulk",
        "-",
        "--progress",
        "-o",
        str(tmp_path / "o.json"),
        "--archive",
        str(DATA / "scedc-pds"),
        stdin=lines,
    )
    assert proc.returncode == 0, proc.stderr
    assert "12/12 windows" in proc.stderr and "12 windows: 12 ok" in proc.stderr


def test_version_is_the_package_metadata() -> None:
    from importlib import metadata

    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"seiswindow {metadata.version('seiswindow')}"


# -- issue 10, item 10: outputs, headers, wildcards -------------------------------------


def _get_minute(nslc: str, out: Path) -> subprocess.CompletedProcess[str]:
    """``seiswindow get`` of one minute of 2022-002 from the sample archive into ``out``."""
    return run(
        "get",
        nslc,
        "2022-01-02T00:00:00",
        "2022-01-02T00:01:00",
        "-o",
        str(out),
        "--archive",
        str(DATA / "scedc-pds"),
    )


def test_an_unknown_output_extension_is_an_error_before_any_read(tmp_path: Path) -> None:
    out = tmp_path / "x.sac"
    proc = _get_minute("CI.WBM..LHZ", out)
    assert proc.returncode == 2, proc.stderr
    assert "x.sac" in proc.stderr and ".mseed" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_a_get_without_samples_leaves_no_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "nothing.mseed"
    proc = _get_minute("CI.NOPE..LHZ", out)
    assert proc.returncode == 0, proc.stderr
    assert "1 nodata" in proc.stderr and "not written" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no temporary left either


def test_a_csv_header_row_naming_the_columns_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "windows.csv").write_text(
        "Network,Station,Location,Channel,Starttime,Endtime\n"
        "CI,WBM,,LHZ,2022-01-02T00:00:00,2022-01-02T00:01:00\n"
    )
    out = tmp_path / "out.json"
    proc = run("bulk", str(tmp_path / "windows.csv"), "-o", str(out), "--archive", str(DATA / "scedc-pds"))
    assert proc.returncode == 0, proc.stderr
    (answer,) = json.loads(out.read_text())
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-02T00:00:00", "2022-01-02T00:01:00")
    assert answer["status"] == "ok" and answer["data"] == oracle(WBM, window)[0].data.tolist()


def test_wildcards_resolve_to_the_channels_the_archive_holds(tmp_path: Path) -> None:
    """CI.*..BHN on 2022-002: the two BHN day files of the sample archive, each equal to
    ObsPy reading it; a pattern matching nothing is a clear error."""
    out = tmp_path / "bhn.mseed"
    t0, t1 = "2022-01-02T05:00:00", "2022-01-02T05:00:30"
    proc = run("get", "CI.*..BH?", t0, t1, "-o", str(out), "--archive", str(DATA / "scedc-pds"))
    assert proc.returncode == 0, proc.stderr
    ours = {tr.id: tr for tr in read(str(out))}
    files = sorted((DATA / "scedc-pds/continuous_waveforms/2022/2022_002").glob("CI*BH?___2022002.ms"))
    assert sorted(ours) == sorted(f"CI.{f.name[2:7].rstrip('_')}..{f.name[7:10]}" for f in files)
    for path in files:
        tr_id = f"CI.{path.name[2:7].rstrip('_')}..{path.name[7:10]}"
        window = Window.from_nslc(tr_id, t0, t1)
        np.testing.assert_array_equal(ours[tr_id].data, oracle([path], window)[0].data)
    proc = run("get", "CI.ZZ*..BH?", t0, t1, "--archive", str(DATA / "scedc-pds"))
    assert proc.returncode == 2 and "no channel" in proc.stderr and "CI.ZZ*..BH?" in proc.stderr


def test_index_build_resolves_wildcards_and_resumes(tmp_path: Path) -> None:
    """``index build`` over CI.*..BH? on 2022-002 indexes the two BHN day files (rows as
    ObsPy reads their spans); run again, it reads nothing and says so; the progress bar counts files."""
    db = tmp_path / "index.sqlite"
    args = ("index", "build", "--archive", str(DATA / "scedc-pds"), "--db", str(db))
    span = ("--start", "2022-01-02", "--end", "2022-01-03", "--channels", "CI.*..BH?")
    proc = run(*args, *span, "--progress")
    assert proc.returncode == 0, proc.stderr
    assert "2/2 files" in proc.stderr and "2 files: 2 indexed (2 rows), 0 unchanged" in proc.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT station, filename, starttime, endtime FROM tsindex ORDER BY station"
        ).fetchall()
    assert [f[0] for f in found] == ["CCA", "HEC"]
    for station, filename, start, end in found:
        tr = read(filename)[0]
        assert station in filename and UTCDateTime(start) == tr.stats.starttime
        assert abs(UTCDateTime(end) - tr.stats.endtime) < 0.5 / tr.stats.sampling_rate
    again = run(*args, *span)
    assert again.returncode == 0 and "2 files: 0 indexed (0 rows), 2 unchanged" in again.stderr
    bad = run(*args, "--start", "2022-01-02", "--end", "2022-01-03", "--channels", "CI.CCA")
    assert bad.returncode == 2 and "NET.STA.LOC.CHA" in bad.stderr
    none = run(*args, "--start", "2022-01-02", "--end", "2022-01-03", "--channels", "CI.ZZ*..BH?")
    assert none.returncode == 2 and "no channel" in none.stderr and "CI.ZZ*..BH?" in none.stderr


def test_index_build_from_s3_heads_then_reads_each_file_once(s3, tmp_path: Path) -> None:
    """Through S3 (moto behind the counting proxy): one HEAD and one GET per file the first
    time, HEADs only the second; rows name the objects ``s3://bucket/key``."""
    db = tmp_path / "index.sqlite"
    args = (
        "index",
        "build",
        "--db",
        str(db),
        "--start",
        "2022-01-02",
        "--end",
        "2022-01-03",
        "--channels",
        "CI.*..BHN",
    )
    env = {"SEISWINDOW_ARCHIVE": "s3://scedc-pds", "AWS_ENDPOINT_URL_S3": s3.url}
    proc = run(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "2 files: 2 indexed (2 rows)" in proc.stderr
    assert s3.count("HEAD", path_contains="BHN") == 2 and s3.count("GET", path_contains="BHN___") == 2
    again = run(*args, env=env)
    assert again.returncode == 0 and "2 unchanged" in again.stderr
    assert s3.count("HEAD", path_contains="BHN") == 4 and s3.count("GET", path_contains="BHN___") == 2
    import sqlite3

    with sqlite3.connect(db) as conn:
        names = [name for (name,) in conn.execute("SELECT filename FROM tsindex ORDER BY filename")]
    assert names == [
        "s3://scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms",
        "s3://scedc-pds/continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms",
    ]


def test_serve_refuses_a_station_table_it_cannot_read(tmp_path: Path) -> None:
    """`serve --stations` (or $SEISWINDOW_STATIONS) is read at start: a bad table stops it."""
    missing = str(tmp_path / "no-such-table.txt")
    archive = str(DATA / "scedc-pds")
    for args, env in (
        (["serve", "--archive", archive, "--port", "0", "--stations", missing], None),
        (["serve", "--archive", archive, "--port", "0"], {"SEISWINDOW_STATIONS": missing}),
    ):
        done = run(*args, env=env)
        assert done.returncode != 0
        assert "station table" in done.stderr and "no-such-table.txt" in done.stderr, done.stderr
