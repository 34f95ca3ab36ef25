"""One service on two archives (issue 15): a POST /timewindows mixing CI (SCEDC layout) and
BK (NCEDC layout) windows answers both, each from its own bucket, over a real socket;
/health lists the archives; the tutorial's request and answer shapes are unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from seiswindow.config import Settings
from seiswindow.http import create_app
from seiswindow.model import Window
from support.oracle import oracle
from support.s3server import S3Proxy, default_data_root
from support.serving import serving

DATA = default_data_root()
WINDOWS = [
    {"Network": "CI", "Station": "WBM", "Location": "", "Channel": "LHZ",
     "Starttime": "2022-01-01T23:59:00", "Endtime": "2022-01-02T00:01:00"},
    {"Network": "BK", "Station": "RUSS", "Location": "00", "Channel": "LHZ",
     "Starttime": "2022-01-02T12:00:00", "Endtime": "2022-01-02T12:10:00"},
]  # fmt: skip


@pytest.fixture(scope="module")
def two_archives(s3proxy: S3Proxy) -> Iterator[tuple[str, S3Proxy]]:
    settings = Settings(archive="s3://scedc-pds=CI,AZ;s3://ncedc-pds=BK,NC", endpoint_url=s3proxy.url)
    with serving(create_app(settings)) as url:
        yield url, s3proxy


def test_mixed_ci_and_bk_request_answers_both_from_their_buckets(two_archives: tuple[str, S3Proxy]) -> None:
    url, proxy = two_archives
    proxy.reset()
    answer = httpx.post(f"{url}/timewindows", json={"Windows": WINDOWS}, timeout=60)
    assert answer.status_code == 200, answer.text
    ci, bk = answer.json()
    assert (ci["status"], bk["status"]) == ("ok", "ok"), (ci, bk)
    scedc = DATA / "scedc-pds/continuous_waveforms/2022"
    ncedc = DATA / "ncedc-pds/continuous_waveforms/BK/2022/2022.002"
    files = {
        0: [scedc / "2022_001/CIWBM__LHZ___2022001.ms", scedc / "2022_002/CIWBM__LHZ___2022002.ms"],
        1: [ncedc / "RUSS.BK.LHZ.00.D.2022.002"],
    }
    for i, got in enumerate((ci, bk)):
        w = WINDOWS[i]
        window = Window.create(
            w["Network"], w["Station"], w["Location"], w["Channel"], w["Starttime"], w["Endtime"]
        )
        (trace,) = oracle(files[i], window)
        np.testing.assert_array_equal(np.asarray(got["data"]), trace.data)
    # Each window read from its own bucket, in its own layout.
    assert proxy.count(path_contains="/scedc-pds/continuous_waveforms/2022/2022_00") > 0
    assert proxy.count(path_contains="/ncedc-pds/continuous_waveforms/BK/2022/2022.002/RUSS.BK.LHZ.00") > 0
    assert proxy.count(path_contains="/scedc-pds/continuous_waveforms/BK") == 0
    assert proxy.count(path_contains="/ncedc-pds/continuous_waveforms/CI") == 0


def test_a_network_no_archive_serves_is_nodata_not_an_error(two_archives: tuple[str, S3Proxy]) -> None:
    url, _ = two_archives
    window = dict(WINDOWS[0], Network="NZ")
    answer = httpx.post(f"{url}/timewindows", json={"Windows": [window, WINDOWS[1]]}, timeout=60)
    assert answer.status_code == 200, answer.text
    nz, bk = answer.json()
    assert nz["status"] == "nodata" and "no archive serves network NZ" in nz["message"]
    assert bk["status"] == "ok"


def test_health_lists_the_archives(two_archives: tuple[str, S3Proxy]) -> None:
    url, _ = two_archives
    health = httpx.get(f"{url}/health", timeout=10).json()
    assert health["archives"] == [
        {"url": "s3://scedc-pds/", "layout": "scedc", "networks": ["CI", "AZ"], "stationxml": True},
        {"url": "s3://ncedc-pds/", "layout": "ncedc", "networks": ["BK", "NC"], "stationxml": True},
    ]
    assert health["archive"] == {"url": "s3://scedc-pds/", "layout": "scedc"}


def test_lambda_direct_invoke_on_two_archives_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, s3proxy: S3Proxy
) -> None:
    """The Lambda handler builds its service from SEISWINDOW_ARCHIVE listing two buckets and
    answers the tutorial's direct invoke event (a list of window objects) from both."""
    from seiswindow import aws
    from seiswindow.aws import LocalContext

    monkeypatch.setenv("SEISWINDOW_ARCHIVE", "s3://scedc-pds=CI;s3://ncedc-pds=BK")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3proxy.url)
    monkeypatch.setattr(aws, "_SERVICE", None)
    try:
        answer = aws.handler({"Windows": WINDOWS}, LocalContext())
    finally:
        if aws._SERVICE is not None:
            aws._SERVICE.close()
    assert isinstance(answer, list)
    assert [(w["network"], w["status"]) for w in answer] == [("CI", "ok"), ("BK", "ok")]
