"""The HTTP service with ``SEISWINDOW_INDEX`` (``Settings.index``): windows of indexed day
files are one ranged GET at the S3 server, coalesced across the windows of a request, and
the answer is the tutorial's (ObsPy's) values."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from service_helpers import assert_tutorial_answer, tutorial_answer

from seiswindow.config import Settings
from seiswindow.http import create_app
from seiswindow.indexbuild import build_index
from seiswindow.store import S3Store
from seiswindow.tsindex import IndexStore
from support.s3server import S3Proxy
from support.serving import serving

CCA = "CICCA__BHN___2022002.ms"
WBM = "CIWBM__LHZ___202200"


def _window(station: str, channel: str, start: str, end: str) -> dict[str, str]:
    return {
        "Network": "CI",
        "Station": station,
        "Channel": channel,
        "Location": "  ",
        "Starttime": start,
        "Endtime": end,
    }


def test_indexed_windows_are_one_get_per_file(s3: S3Proxy, tmp_path: Path, shared_data: Path) -> None:
    root = shared_data / "scedc-pds"
    keys = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*.ms"))]
    store = S3Store("scedc-pds", endpoint_url=s3.url)
    with IndexStore(tmp_path / "index.sqlite") as index:
        assert build_index(store, keys, index).indexed == len(keys)
    store.close()
    settings = Settings(archive="s3://scedc-pds", endpoint_url=s3.url, index=str(tmp_path / "index.sqlite"))
    request = {
        "Windows": [
            _window("CCA", "BHN", "2022-01-02T01:00:00", "2022-01-02T01:05:00"),
            _window("CCA", "BHN", "2022-01-02T01:10:00", "2022-01-02T01:11:00"),
            _window("CCA", "BHN", "2022-01-02T01:20:00.5", "2022-01-02T01:22:00"),
            _window("WBM", "LHZ", "2022-01-01T23:58:00", "2022-01-02T00:03:00"),
        ]
    }
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=120) as client:
        s3.reset()
        answer = client.post("/timewindows", content=json.dumps(request).encode())
    assert answer.status_code == 200, answer.text
    assert_tutorial_answer(answer.json(), tutorial_answer(shared_data, "scedc-pds", request))
    # Three windows of the CCA day: one GET (coalesced); the WBM window: one per day file.
    assert s3.count(path_contains=CCA) == 1
    assert s3.count(path_contains=WBM) == 2
    assert all(r.range is not None for r in s3.records)
