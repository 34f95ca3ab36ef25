"""The Dask executor on a real ``distributed.LocalCluster`` of two worker processes reading
the moto S3 server through the counting proxy: the samples are ObsPy's read/merge/trim of
the same windows, windows are sent to workers by day file, and a lost task fails its windows
(for the next run) instead of the job."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from obspy import read

from seiswindow import Settings, open_archive
from seiswindow.bulk import MANIFEST_NAME, MseedWriter, batches, read_input, resolve, run_job
from seiswindow.bulk.dask import DaskExecutor
from seiswindow.model import Status
from support.oracle import oracle
from support.s3server import default_data_root

ROOT = default_data_root() / "scedc-pds"

WINDOWS = """network,station,location,channel,starttime,endtime
CI,WBM,,LHZ,2022-01-01T23:59:30,2022-01-02T00:00:30
CI,WBM,,LHZ,2022-01-02T10:00:00,2022-01-02T10:01:00
CI,WBM,,LHZ,2022-01-02T23:59:00,2022-01-03T00:01:00
CI,CCA,,BHN,2022-01-02T05:00:00.5,2022-01-02T05:01:00
CI,CCA,,BHN,2022-01-02T17:00:00,2022-01-02T17:01:00
CI,HEC,,BHN,2022-01-02T05:00:03,2022-01-02T05:01:00
CI,HEC,,BHN,2022-01-02T12:30:00,2022-01-02T12:30:30
CI,FOX2,,LHZ,2022-01-02T22:50:00,2022-01-02T23:00:00
CI,NOPE,,LHZ,2022-01-02T05:00:00,2022-01-02T05:01:00
BK,THIS,00,LHZ,2022-01-02T10:00:00,2022-01-02T10:01:00
"""


@pytest.fixture(scope="module")
def executor(s3proxy) -> Iterator[DaskExecutor]:  # type: ignore[no-untyped-def]
    """One LocalCluster for the module (it takes seconds to start); tests use ``s3``, the
    same proxy, cleared."""
    settings = Settings(archive="s3://scedc-pds", endpoint_url=s3proxy.url)
    dask = DaskExecutor(functools.partial(open_archive, settings, check=False), workers=2, threads=4)
    try:
        yield dask
    finally:
        dask.close()


def test_two_worker_processes_answer_obspys_samples(s3, executor: DaskExecutor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert len(executor.client.scheduler_info()["workers"]) == 2
    settings = Settings(archive="s3://scedc-pds", endpoint_url=s3.url)
    archive = open_archive(settings, check=False)
    windows = resolve(read_input(WINDOWS), lambda s: [])
    summary = run_job(
        windows,
        directory=tmp_path,
        writer=MseedWriter(),
        executor=executor,
        layout=archive.layout,
        batch_size=2,
    )
    assert summary.counts == {Status.OK: 8, Status.PARTIAL: 1, Status.NODATA: 1}
    assert s3.count(path_contains="CICCA") > 0  # the workers read the S3 server
    assert summary.requests > 0
    entries = {
        e["id"]: e
        for e in (orjson.loads(x) for x in (tmp_path / MANIFEST_NAME).read_bytes().splitlines()[1:])
    }
    for item in windows:
        net, sta, loc, cha = item.window.nslc
        files = sorted(ROOT.glob(f"continuous_waveforms/2022/*/{net}{sta:_<5}{cha}{loc or '__':_<2}_*.ms"))
        expected = oracle(files, item.window)
        entry = entries[item.id]
        if not expected:
            assert entry["status"] == "nodata"
            continue
        ours = read(str(tmp_path / entry["file"]))
        ours.merge()
        assert abs(ours[0].stats.starttime - expected[0].stats.starttime) <= 1e-6
        np.testing.assert_array_equal(ours[0].data, expected[0].data)


def test_batches_group_windows_by_day_file() -> None:
    from seiswindow.archive import ScedcLayout

    windows = resolve(read_input(WINDOWS), lambda s: [])
    grouped = batches(windows, ScedcLayout(), size=2)
    keys = [b.key for b in grouped]
    assert keys == sorted(keys)
    assert sum(len(b.windows) for b in grouped) == len(windows)
    for batch in grouped:
        assert 1 <= len(batch.windows) <= 2
        for item in batch.windows:
            assert f"{item.window.network}{item.window.station:_<5}{item.window.channel}" in batch.key
    wbm_day2 = [b for b in grouped if b.key.endswith("CIWBM__LHZ___2022002.ms")]
    assert [len(b.windows) for b in wbm_day2] == [2]  # 10:00 and 23:59 start that day


def test_a_failed_task_fails_its_windows_not_the_job(s3, executor: DaskExecutor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    windows = resolve(read_input(WINDOWS), lambda s: [])
    # Workers that cannot open the archive: every task raises in the worker.
    bad = functools.partial(open_archive, Settings(archive="s3://scedc-pds", layout="nope"), check=False)
    broken = DaskExecutor(bad, client=executor.client, in_flight=2)
    archive = open_archive(Settings(archive="s3://scedc-pds", endpoint_url=s3.url), check=False)
    summary = run_job(
        windows, directory=tmp_path, writer=MseedWriter(), executor=broken, layout=archive.layout
    )
    broken.close()
    assert executor.client.status == "running"  # a client it was given is not closed
    assert summary.counts == {Status.ERROR: len(windows)} and summary.exit_code == 1
    assert "dask task failed" in summary.failures[0][2] and "nope" in summary.failures[0][2]
    again = run_job(
        windows, directory=tmp_path, writer=MseedWriter(), executor=executor, layout=archive.layout
    )
    assert again.skipped == 0 and again.counts[Status.OK] == 8  # every failed window retried
