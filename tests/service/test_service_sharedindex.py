"""The service on a shared index (``SEISWINDOW_INDEX=s3://bucket/prefix``): the prefix is
published by ``seiswindow index build --publish`` (a process of its own), then two services
(each its own cache) and a ``seiswindow get`` process read through it: a window of a
published day file is one GET of its object and one ranged GET of the file, counted at the
S3 proxy; the answer is the tutorial's (ObsPy's) values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from obspy import read
from service_helpers import assert_tutorial_answer, tutorial_answer

from seiswindow import Window
from seiswindow.config import Settings
from seiswindow.http import create_app
from support.oracle import oracle
from support.s3server import S3Proxy, s3_client
from support.serving import serving

CCA = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
HEC = "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seiswindow.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.fixture
def index_url(s3: S3Proxy, moto_endpoint: str) -> Iterator[str]:
    client = s3_client(moto_endpoint)
    bucket = f"index-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    yield f"s3://{bucket}/shared/index"
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


def test_services_share_a_published_prefix(
    s3: S3Proxy, index_url: str, shared_data: Path, tmp_path: Path
) -> None:
    env = {"SEISWINDOW_ARCHIVE": "s3://scedc-pds", "AWS_ENDPOINT_URL_S3": s3.url}
    span = ("--start", "2022-01-02", "--end", "2022-01-03", "--channels", "CI.*..BHN")
    published = _cli("index", "build", "--publish", index_url, *span, env=env)
    assert published.returncode == 0, published.stderr
    assert "2 files: 2 indexed (2 rows), 0 unchanged" in published.stderr
    assert s3.count("PUT", path_contains=".idx.json.gz") == 2
    again = _cli("index", "build", "--publish", index_url, *span, env=env)
    assert again.returncode == 0 and "0 indexed (0 rows), 2 unchanged" in again.stderr

    neither = _cli("index", "build", *span, env=env)
    assert neither.returncode == 2 and "--publish" in neither.stderr

    settings = Settings(archive="s3://scedc-pds", endpoint_url=s3.url, index=index_url)
    request = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "CCA",
                "Channel": "BHN",
                "Location": "  ",
                "Starttime": "2022-01-02T10:00:00",
                "Endtime": "2022-01-02T10:05:00",
            }
        ]
    }
    expected = tutorial_answer(shared_data, "scedc-pds", request)
    for _service in range(2):
        with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=120) as client:
            s3.reset()
            answer = client.post("/timewindows", content=json.dumps(request).encode())
            assert answer.status_code == 200, answer.text
            assert_tutorial_answer(answer.json(), expected)
            assert [r.key.rsplit("/", 1)[-1] for r in s3.records] == [
                "CICCA__BHN___2022002.ms.idx.json.gz",
                "CICCA__BHN___2022002.ms",
            ]
            assert s3.records[1].range is not None
            s3.reset()
            answer = client.post("/timewindows", content=json.dumps(request).encode())
            assert answer.status_code == 200
            assert [r.key for r in s3.records] == [CCA]  # warm: the day file's range only

    # A third process, the CLI, reads through the same prefix.
    out = tmp_path / "hec.mseed"
    s3.reset()
    start, end = "2022-01-02T03:00:00", "2022-01-02T03:02:00"
    got = _cli("get", "CI.HEC..BHN", start, end, "-o", str(out), env={**env, "SEISWINDOW_INDEX": index_url})
    assert got.returncode == 0, got.stderr
    assert [r.key.rsplit("/", 1)[-1] for r in s3.records if r.method == "GET" and "HEC" in r.key] == [
        "CIHEC__BHN___2022002.ms.idx.json.gz",
        "CIHEC__BHN___2022002.ms",
    ]
    window = Window.create("CI", "HEC", "", "BHN", start, end)
    expected_trace = oracle([shared_data / "scedc-pds" / HEC], window)[0]
    ours = read(str(out))[0]
    assert ours.stats.starttime == expected_trace.stats.starttime
    assert list(ours.data) == list(expected_trace.data)


def test_a_prefix_that_cannot_be_read_is_an_error_at_start(s3: S3Proxy) -> None:
    from seiswindow.errors import ConfigError

    settings = Settings(archive="s3://scedc-pds", endpoint_url=s3.url, index="s3://no-such-index-bucket/p")
    with pytest.raises(ConfigError, match="shared index"):
        create_app(settings)
