"""A misconfigured archive is an error at start, saying what to set, not "no data" for every
window (issue 10, item 9): a bucket that does not exist, a private bucket read anonymously,
a directory one level off, a prefix that holds no day file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import seiswindow
from seiswindow import ConfigError, Settings, open_archive
from support.s3server import S3Proxy, default_data_root

DATA = default_data_root()
WINDOW = "CI.WBM..LHZ 2022-01-02T00:00:00 2022-01-02T00:01:00"


def test_a_directory_one_level_off_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="holds no continuous_waveforms/") as info:
        seiswindow.extract([WINDOW], archive=str(DATA))  # the folder of the archives, not one archive
    assert "the folder that holds continuous_waveforms" in str(info.value)
    # the archive itself opens, and answers
    (result,) = seiswindow.extract([WINDOW], archive=str(DATA / "scedc-pds"))
    assert result.status == "ok"


def test_a_missing_bucket_is_refused_at_start(s3: S3Proxy) -> None:
    settings = Settings(archive="s3://no-such-bucket-seiswindow", endpoint_url=s3.url)
    with pytest.raises(ConfigError, match="does not exist"):
        open_archive(settings)
    assert s3.count() == 1  # one LIST, no retry of a final answer


def test_a_prefix_without_day_files_is_refused_at_start(s3: S3Proxy) -> None:
    with pytest.raises(ConfigError, match="holds no continuous_waveforms/"):
        open_archive(Settings(archive="s3://scedc-pds/FDSNstationXML", endpoint_url=s3.url))
    archive = open_archive(Settings(archive="s3://scedc-pds", endpoint_url=s3.url))
    assert archive.layout.name == "scedc"
    assert [r.status for r in s3.records][-1] == 200


def test_a_private_bucket_read_anonymously_says_to_sign(s3: S3Proxy) -> None:
    s3.inject("403", count=10, path_contains="scedc-pds")
    with pytest.raises(ConfigError, match="SEISWINDOW_SIGNED=1"):
        open_archive(Settings(archive="s3://scedc-pds", endpoint_url=s3.url))


def test_the_cli_exits_2_naming_the_problem(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "seiswindow.cli", "get", *WINDOW.split(), "--archive", str(DATA)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "holds no continuous_waveforms/" in proc.stderr and "Traceback" not in proc.stderr
