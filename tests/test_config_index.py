"""The record index in configuration: SEISWINDOW_INDEX / --index open a tsindex database at
start; a wrong value is an error then, not "no data" later."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from seiswindow.config import Settings, open_index, open_service
from seiswindow.errors import ArchiveError, ConfigError
from seiswindow.model import Nslc


def test_no_index_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.index is None
    assert open_index(settings) is None


def test_index_from_env_creates_the_tsindex_database(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    settings = Settings.from_env({"SEISWINDOW_INDEX": str(path)})
    store = open_index(settings)
    assert store is not None
    try:
        tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
        assert "tsindex" in tables
    finally:
        store.close()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://example.org/index.sqlite", "path of a tsindex"),
        ("/no/such/dir/index.sqlite", "does not exist"),
    ],
)
def test_a_wrong_index_is_an_error_at_start(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        open_index(Settings(index=value))


def test_the_service_holds_the_index_and_closes_it(tmp_path: Path, shared_data: Path) -> None:
    settings = Settings(archive=str(shared_data / "scedc-pds"), index=str(tmp_path / "i.sqlite"))
    service = open_service(settings)
    index = service.extractor.index
    assert index is not None and index.path == tmp_path / "i.sqlite"
    service.close()
    with pytest.raises(ArchiveError, match="closed"):
        index.rows(Nslc("CI", "CCA", "", "BHZ"), 0, 1)


def test_round_cost_defaults_to_s3s_for_a_bucket_and_off_for_a_directory() -> None:
    from seiswindow.config import round_cost
    from seiswindow.locate import RoundCost

    assert round_cost(Settings(archive="s3://scedc-pds")) == RoundCost(latency_s=0.020, bandwidth_bps=100e6)
    assert round_cost(Settings(archive="/data/archive")) is None
    assert round_cost(Settings.from_env({"SEISWINDOW_ROUND_COST": "off"})) is None
    assert round_cost(Settings.from_env({"SEISWINDOW_ROUND_COST": "50,25"})) == RoundCost(
        latency_s=0.050, bandwidth_bps=25e6
    )
    for bad in ("fast", "20", "0,100", "20,inf"):
        with pytest.raises(ConfigError, match="SEISWINDOW_ROUND_COST"):
            round_cost(Settings(round_cost=bad))
