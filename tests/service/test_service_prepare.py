"""Requests are parsed and checked without touching the archive, so the HTTP app answers a
bad request at once instead of queueing it behind extractions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.service import Prepared, Response, Service
from seiswindow.store import LocalStore


class UntouchableStore(LocalStore):
    """A store that fails the test if anything reads it."""

    def _read(self, key: str, start: int | None, length: int | None):  # type: ignore[no-untyped-def]
        pytest.fail(f"prepare read the archive: {key}")


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(Extractor(Archive(UntouchableStore(tmp_path), layout_named("scedc"))), owns_extractor=True)


def test_prepare_checks_without_the_archive(service: Service) -> None:
    good = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "WBM",
                "Channel": "LHZ",
                "Location": "  ",
                "Starttime": "2022-01-01T00:00:00",
                "Endtime": "2022-01-01T00:05:00",
            }
        ]
    }
    prepared = service.prepare(json.dumps(good).encode())
    assert isinstance(prepared, Prepared) and prepared.windows[0].station == "WBM"
    bad = dict(good["Windows"][0], Channel="BHZZ")
    answer = service.prepare(json.dumps({"Windows": [good["Windows"][0], bad]}).encode())
    assert isinstance(answer, Response) and answer.status == 400
    error = json.loads(answer.body)
    assert error["index"] == 1 and error["field"] == "Channel"
    too_many = service.prepare(json.dumps({"Windows": good["Windows"] * 10_000}).encode())
    assert isinstance(too_many, Response) and too_many.status == 413
    service.close()
