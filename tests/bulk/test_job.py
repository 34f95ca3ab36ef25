"""A bulk job in this process on the real sample files: outputs are ObsPy's answer, the
manifest says what became of each window, a rerun resumes (done windows not read again,
failed ones retried), and a line cut short by a kill is dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from obspy import read

from seiswindow.archive import Archive, ScedcLayout
from seiswindow.bulk import (
    MANIFEST_NAME,
    JobWindow,
    LocalExecutor,
    Manifest,
    MseedWriter,
    NpzWriter,
    OutputWriter,
    read_input,
    resolve,
    run_job,
)
from seiswindow.errors import ArchiveError, RequestError
from seiswindow.model import Status, Window
from seiswindow.store import LocalStore
from support.memstore import TamperingStore
from support.oracle import oracle
from support.s3server import default_data_root

DATA = default_data_root()
ROOT = DATA / "scedc-pds"

PICKS = """network,station,location,channel,time,phase,event
CI,WBM,,LHZ,2022-01-01T23:59:50,P,e1
CI,CCA,,BHN,2022-01-02T05:00:00.5,P,e2
CI,HEC,,BHN,2022-01-02T05:00:03,S,e2
CI,FOX2,,LHZ,2022-01-02T22:55:00,P,e3
CI,NOPE,,LHZ,2022-01-02T05:00:00,P,e4
BK,THIS,00,LHZ,2022-01-02T10:00:00,P,e5
"""


def job_windows(text: str = PICKS) -> list[JobWindow]:
    return resolve(read_input(text, before=30, after=90), lambda s: [])


def files_of(window: Window) -> list[Path]:
    net, sta, loc, cha = window.nslc
    name = f"{net}{sta:_<5}{cha}{loc or '__':_<2}_*.ms"
    return sorted(ROOT.glob(f"continuous_waveforms/2022/*/{name}"))


def run(
    directory: Path, writer: OutputWriter, store: object | None = None, windows: list[JobWindow] | None = None
):  # type: ignore[no-untyped-def]
    archive = Archive(store or LocalStore(ROOT), ScedcLayout())  # type: ignore[arg-type]
    executor = LocalExecutor(archive, workers=4)
    try:
        return run_job(
            windows or job_windows(),
            directory=directory,
            writer=writer,
            executor=executor,
            layout=archive.layout,
        )
    finally:
        executor.close()


def entries(directory: Path) -> list[dict[str, object]]:
    lines = (directory / MANIFEST_NAME).read_bytes().splitlines()
    return [orjson.loads(line) for line in lines[1:]]


def test_mseed_outputs_are_obspys_read_merge_trim(tmp_path: Path) -> None:
    summary = run(tmp_path, MseedWriter())
    assert summary.exit_code == 0
    assert summary.counts == {Status.OK: 4, Status.PARTIAL: 1, Status.NODATA: 1}
    assert summary.requests > 0 and summary.bytes_read > 0
    by_id = {e["id"]: e for e in entries(tmp_path)}
    for item in job_windows():
        entry = by_id[item.id]
        expected = oracle(files_of(item.window), item.window)
        if not expected:
            assert entry["status"] == "nodata" and entry["file"] is None
            continue
        ours = read(str(tmp_path / str(entry["file"])))
        ours.merge()
        assert len(ours) == 1 == len(expected)
        assert ours[0].id == expected[0].id
        assert abs(ours[0].stats.starttime - expected[0].stats.starttime) <= 1e-6
        np.testing.assert_array_equal(ours[0].data, expected[0].data)
        assert entry["size"] == (tmp_path / str(entry["file"])).stat().st_size
    fox2 = next(e for e in by_id.values() if "FOX2" in str(e["window"]))
    assert fox2["status"] == "partial" and "missing" in str(fox2["message"])


def test_npz_outputs_hold_the_merged_trace_and_its_mask(tmp_path: Path) -> None:
    run(tmp_path, NpzWriter())
    by_id = {e["id"]: e for e in entries(tmp_path)}
    for item in job_windows():
        if by_id[item.id]["file"] is None:
            continue
        [expected] = oracle(files_of(item.window), item.window)
        with np.load(tmp_path / str(by_id[item.id]["file"]), allow_pickle=False) as npz:
            ours = np.ma.masked_array(npz["data"], mask=npz["mask"])
            assert abs(int(npz["starttime_ns"]) - expected.stats.starttime.ns) <= 1000
            assert float(npz["sampling_rate"]) == expected.stats.sampling_rate
            assert str(npz["id"]) == item.id and str(npz["event"]) == item.pick.event  # type: ignore[union-attr]
        theirs = np.ma.masked_array(expected.data)
        np.testing.assert_array_equal(np.ma.getmaskarray(ours), np.ma.getmaskarray(theirs))
        np.testing.assert_array_equal(ours.compressed(), theirs.compressed())


def test_a_rerun_skips_done_windows_and_retries_failed_ones(tmp_path: Path) -> None:
    def fail_cca(number: int, call: str, key: str, start: object, end: object, chunk: object) -> object:
        if "CICCA" in key:
            raise ArchiveError(f"{key}: injected failure")
        return chunk

    first = run(tmp_path, MseedWriter(), TamperingStore(LocalStore(ROOT), tamper=fail_cca))  # type: ignore[arg-type]
    assert first.exit_code == 1 and first.counts[Status.ERROR] == 1
    [(wid, source, message)] = first.failures
    assert source == "line 3" and "injected failure" in message
    assert wid in (tmp_path / "failures.log").read_text()

    store = TamperingStore(LocalStore(ROOT))
    second = run(tmp_path, MseedWriter(), store)
    assert second.exit_code == 0
    assert (second.skipped, second.counts) == (5, {Status.OK: 1})
    assert {r.key for r in store.reads} <= {k for k in _keys_near("CICCA")}  # only the failed window read
    assert store.reads
    third = run(tmp_path, MseedWriter(), TamperingStore(LocalStore(ROOT)))
    assert (third.skipped, third.answered) == (6, 0)
    latest = {e["id"]: e["status"] for e in entries(tmp_path)}
    assert latest[wid] == "ok" and len(entries(tmp_path)) == 7  # 6 windows, one twice


def _keys_near(code: str) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in ROOT.glob(f"continuous_waveforms/2022/*/{code}*")]


def test_a_line_cut_short_by_a_kill_is_dropped_and_a_lost_output_written_again(tmp_path: Path) -> None:
    run(tmp_path, MseedWriter())
    manifest = tmp_path / MANIFEST_NAME
    lines = manifest.read_bytes().splitlines(keepends=True)
    # The last entry cut in the middle, as a kill during its write would leave it.
    manifest.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])
    # An output lost (deleted), of a window whose line is whole (results come in any order).
    lost = next(e for e in map(orjson.loads, lines[1:-1]) if e["file"])
    (tmp_path / lost["file"]).unlink()
    (tmp_path / ".partial" / ".x.mseed.abc.part").write_bytes(b"half")
    again = run(tmp_path, MseedWriter())
    assert again.answered == 2 and again.skipped == 4
    assert (tmp_path / lost["file"]).is_file()
    assert not list((tmp_path / ".partial").iterdir())
    with Manifest.open(tmp_path, job={"format": "mseed"}) as reopened:
        assert len(reopened.entries) == 6
    for line in manifest.read_bytes().splitlines():
        orjson.loads(line)  # every line whole again


def test_a_directory_of_another_format_is_refused(tmp_path: Path) -> None:
    run(tmp_path, MseedWriter())
    with pytest.raises(RequestError, match="format 'mseed', not 'npz'") as caught:
        run(tmp_path, NpzWriter())
    assert caught.value.field == "format"


def test_a_window_its_writer_cannot_encode_fails_alone(tmp_path: Path) -> None:
    class Refusing(MseedWriter):
        def encode(self, item: JobWindow, result: object) -> bytes:  # type: ignore[override]
            from seiswindow.errors import DataError

            if item.window.station == "HEC":
                raise DataError("cannot pack")
            return super().encode(item, result)  # type: ignore[arg-type]

    summary = run(tmp_path, Refusing())
    assert summary.counts[Status.ERROR] == 1 and "cannot pack" in summary.failures[0][2]
    assert summary.exit_code == 1


def test_one_run_at_a_time_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    with Manifest.open(tmp_path, job={"format": "mseed"}):
        with pytest.raises(RequestError, match="another run of the job") as caught:
            run(tmp_path, MseedWriter())
        assert caught.value.field == "out"
    assert run(tmp_path, MseedWriter()).answered == 6  # the lock goes with the run that held it
    other = tmp_path / "other"
    other.mkdir()
    (other / MANIFEST_NAME).write_text("[1, 2]\n")
    with pytest.raises(RequestError, match="not the manifest of a seiswindow job"):
        run(other, MseedWriter())
