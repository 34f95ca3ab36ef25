"""``seiswindow get/bulk`` writing a manifest (``-o x.manifest.json`` or ``--format manifest``),
run as a user runs it; the ranges are fetched as a worker would and trimmed by ObsPy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
from obspy import Stream, UTCDateTime, read

from seiswindow import Window
from support.oracle import oracle
from support.s3server import default_data_root, s3_client

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


def test_get_writes_a_manifest_from_its_extension(s3, moto_endpoint: str, tmp_path: Path) -> None:
    out = tmp_path / "wbm.manifest.json"
    start, end = "2022-01-01T23:55:00", "2022-01-02T00:05:00"
    env = {"SEISWINDOW_ARCHIVE": "s3://scedc-pds", "AWS_ENDPOINT_URL_S3": s3.url}
    proc = run("get", "CI.WBM..LHZ", start, end, "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "1 windows: 1 ok; 2 byte ranges" in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["archive"]["bucket"] == "scedc-pds" and [w["status"] for w in doc["windows"]] == ["ok"]
    client = s3_client(moto_endpoint)
    stream = Stream()
    for entry in doc["contents"]:
        answer = client.get_object(Bucket="scedc-pds", Key=entry["object_key"], Range=entry["range"])
        assert answer["ETag"].strip('"') == entry["etag"]
        stream += read(BytesIO(answer["Body"].read()))
    stream.merge()
    stream.trim(UTCDateTime(start), UTCDateTime(end))
    (expected,) = oracle(WBM, Window.create("CI", "WBM", "", "LHZ", start, end))
    np.testing.assert_array_equal(stream[0].data, expected.data)
    assert len(expected.data) == 601


def test_bulk_with_format_manifest_from_a_directory(tmp_path: Path) -> None:
    lines = "CI WBM -- LHZ 2022-01-01T10:00:00 2022-01-01T10:10:00\nCI WBM -- LHZ 2021-01-01T10:00:00 2021-01-01T10:10:00\n"
    proc = run("bulk", "-", "--format", "manifest", "--archive", str(DATA / "scedc-pds"), stdin=lines)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["archive"]["type"] == "local"
    assert [w["status"] for w in doc["windows"]] == ["ok", "nodata"]
    (entry,) = doc["contents"]
    path = Path(entry["object_path"])
    assert path == DATA.resolve() / "scedc-pds" / entry["object_key"]
    with path.open("rb") as fh:
        fh.seek(entry["offset"])
        (trace,) = read(BytesIO(fh.read(entry["byte_count"])))
    assert trace.stats.starttime <= UTCDateTime("2022-01-01T10:00:00")
    assert trace.stats.endtime >= UTCDateTime("2022-01-01T10:10:00")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    proc = run("get", "CI.WBM..LHZ", "2022-01-01T10:00", "2022-01-01T10:10", "--format", "xml")
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr
