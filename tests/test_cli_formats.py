"""`seiswindow get` with IRIS's processing options and formats (by --format or the output's
extension), the real command in a subprocess on the SCEDC bucket (moto), against ObsPy."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from obspy import read

from seiswindow import Window
from support.oracle import oracle
from support.s3server import default_data_root

DATA = default_data_root()
DAY_FILE = DATA / "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
ARGS = ("get", "CI.CCA..BHN", "2022-01-02T01:00:00", "2022-01-02T01:05:00", "--archive", "s3://scedc-pds")


def run(*args: str, endpoint: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "seiswindow.cli", *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, "AWS_ENDPOINT_URL_S3": endpoint},
    )


def _obspy(*steps: str) -> np.ndarray:
    (tr,) = oracle([DAY_FILE], Window.create("CI", "CCA", "", "BHN", ARGS[2], ARGS[3]))
    tr.data = tr.data.astype(np.float64)
    for step in steps:
        if step == "demean":
            tr.detrend("demean")
        else:  # IRIS's band-pass: the mean kept out of the filter
            mean = tr.data.mean()
            tr.data = tr.data - mean
            tr.filter("bandpass", freqmin=0.1, freqmax=2.0, corners=4, zerophase=False)
            tr.data = tr.data + mean
    return tr.data


def test_get_to_sac_by_extension_with_steps_in_the_order_given(s3, tmp_path: Path) -> None:
    first = tmp_path / "demean-bp.sac"
    second = tmp_path / "bp-demean.sac"
    done = run(*ARGS, "-o", str(first), "--demean", "--bp", "0.1-2", endpoint=s3.url)
    assert done.returncode == 0, done.stderr
    done = run(*ARGS, "-o", str(second), "--bp", "0.1-2", "--demean", endpoint=s3.url)
    assert done.returncode == 0, done.stderr
    for path, steps in ((first, ("demean", "bp")), (second, ("bp", "demean"))):
        trace = read(str(path), format="SAC")[0]
        expected = _obspy(*steps)
        np.testing.assert_allclose(trace.data, expected, rtol=0, atol=np.abs(expected).max() * 2e-7)
    assert not np.allclose(read(str(first))[0].data, read(str(second))[0].data, rtol=0, atol=1e-3)


def test_format_option_wins_over_stdout_json(s3) -> None:
    done = run(*ARGS, "--format", "sac.zip", "--decimate", "10", endpoint=s3.url)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(io.BytesIO(done.stdout)) as archive:
        (name,) = archive.namelist()
        trace = read(io.BytesIO(archive.read(name)), format="SAC")[0]
    assert trace.stats.sampling_rate == 10.0 and name == "CI.CCA..BHN.2022.002.010000.SAC"


def test_a_bad_step_or_extension_fails_before_reading(s3, tmp_path: Path) -> None:
    s3.reset()
    done = run(*ARGS, "-o", str(tmp_path / "x.docx"), endpoint=s3.url)
    assert done.returncode == 2 and b"--format" in done.stderr
    done = run(*ARGS, "-o", str(tmp_path / "x.sac"), "--taper", "0.9", endpoint=s3.url)
    assert done.returncode == 2 and b"taper" in done.stderr
    assert not list(tmp_path.iterdir())
    assert s3.records == []  # nothing was read
