"""The command line on several archives (issue 15): a bulk job mixing CI (SCEDC layout)
and BK (NCEDC layout) windows, and a wildcard resolved in the archive of its network, run
as a user runs them (a subprocess), each window equal to ObsPy reading its day file."""

from __future__ import annotations

import json
from pathlib import Path

from obspy import read

from seiswindow import Window
from support.oracle import oracle
from support.s3server import default_data_root
from test_cli import run

DATA = default_data_root()
ARCHIVES = f"{DATA / 'scedc-pds'}=CI;{DATA / 'ncedc-pds'}=BK"
NCEDC_DAY = DATA / "ncedc-pds/continuous_waveforms/BK/2022/2022.002"


def test_bulk_mixing_ci_and_bk_answers_each_from_its_archive(tmp_path: Path) -> None:
    (tmp_path / "windows.csv").write_text(
        "CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:05:00\n"
        "BK RUSS 00 LHZ 2022-01-02T10:00:00 2022-01-02T10:05:00\n"
        "NZ WEL 10 HHZ 2022-01-02T10:00:00 2022-01-02T10:05:00\n"
    )
    out = tmp_path / "out.json"
    proc = run("bulk", str(tmp_path / "windows.csv"), "-o", str(out), "--archive", ARCHIVES)
    assert proc.returncode == 0, proc.stderr
    assert "3 windows: 2 ok, 1 nodata" in proc.stderr
    wbm, russ, wel = json.loads(out.read_text())
    files = {
        "WBM": DATA / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms",
        "RUSS": NCEDC_DAY / "RUSS.BK.LHZ.00.D.2022.002",
    }
    for got in (wbm, russ):
        window = Window.create(
            got["network"],
            got["station"],
            got["location"],
            got["channel"],
            "2022-01-02T10:00:00",
            "2022-01-02T10:05:00",
        )
        assert got["status"] == "ok"
        assert got["data"] == oracle([files[got["station"]]], window)[0].data.tolist()
    assert wel["status"] == "nodata"


def test_a_wildcard_resolves_in_the_archive_of_its_network(tmp_path: Path) -> None:
    out = tmp_path / "bk.mseed"
    t0, t1 = "2022-01-02T05:00:00", "2022-01-02T05:00:30"
    proc = run("get", "BK.*.00.LHZ", t0, t1, "-o", str(out), "--archive", ARCHIVES)
    assert proc.returncode == 0, proc.stderr
    # NCEDC's three stations, not the BK.THIS file that the SCEDC sample set also holds.
    ours = {tr.id: tr for tr in read(str(out))}
    assert sorted(ours) == ["BK.RUSS.00.LHZ", "BK.THIS.00.LHZ", "BK.YUBA.00.LHZ"]
    for tr_id, trace in ours.items():
        sta = tr_id.split(".")[1]
        expected = oracle([NCEDC_DAY / f"{sta}.BK.LHZ.00.D.2022.002"], Window.from_nslc(tr_id, t0, t1))
        assert (trace.data == expected[0].data).all()


def test_a_manifest_names_each_windows_own_bucket(s3: object, moto_endpoint: str, tmp_path: Path) -> None:
    """``seiswindow bulk --format manifest`` on two buckets: each entry names the archive of
    its window's network; a worker fetching the ranges from the buckets named gets what ObsPy
    reads from the day files."""
    from io import BytesIO

    import numpy as np
    from obspy import Stream, UTCDateTime

    from support.s3server import s3_client

    start, end = "2022-01-02T10:00:00", "2022-01-02T10:05:00"
    lines = f"CI WBM -- LHZ {start} {end}\nBK RUSS 00 LHZ {start} {end}\n"
    out = tmp_path / "two.manifest.json"
    env = {"SEISWINDOW_ARCHIVE": "s3://scedc-pds=CI;s3://ncedc-pds=BK", "AWS_ENDPOINT_URL_S3": s3.url}  # type: ignore[attr-defined]
    proc = run("bulk", "-", "--format", "manifest", "-o", str(out), env=env, stdin=lines)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert [a["bucket"] for a in doc["archives"]] == ["scedc-pds", "ncedc-pds"]
    client = s3_client(moto_endpoint)
    files = {
        "CI": DATA / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms",
        "BK": NCEDC_DAY / "RUSS.BK.LHZ.00.D.2022.002",
    }
    for i, net in enumerate(("CI", "BK")):
        stream = Stream()
        for entry in (e for e in doc["contents"] if e["window"] == i):
            bucket = entry["archive"]["bucket"]
            assert bucket == ("scedc-pds" if net == "CI" else "ncedc-pds")
            answer = client.get_object(Bucket=bucket, Key=entry["object_key"], Range=entry["range"])
            stream += read(BytesIO(answer["Body"].read()))
        stream.merge()
        stream.trim(UTCDateTime(start), UTCDateTime(end))
        w = doc["windows"][i]
        window = Window.create(w["network"], w["station"], w["location"], w["channel"], start, end)
        np.testing.assert_array_equal(stream[0].data, oracle([files[net]], window)[0].data)
