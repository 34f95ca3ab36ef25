"""SeisBench data sets written by ``SeisBenchWriter``, loaded by the real SeisBench.

The samples are real (the sample day files, cut by ObsPy: ``bulk_windows.py``); the reader is
``seisbench.data.WaveformDataset``, unmodified, in its own environment (``make
install-seisbench``: SeisBench needs torch), run once for every data set of the module through
``seisbench_loader.py``; the expected values are ObsPy's samples and times, never the writer's.
Without that environment the SeisBench tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from bulk_windows import Window, cca, trio_windows
from obspy import UTCDateTime

from seiswindow.bulk.seisbench import SeisBenchError, SeisBenchWriter, align_components

REPO = Path(__file__).resolve().parents[2]
SEISBENCH_PYTHON = REPO / ".venv-seisbench" / "bin" / "python"
HERE = Path(__file__).parent


def _add(writer: SeisBenchWriter, w: Window) -> str:
    return writer.add(w.window_id, w.components(), w.metadata, w.arrivals())


def _require_seisbench() -> None:
    """Skip without SeisBench's environment, or fail under CI, where it must be there."""
    if not SEISBENCH_PYTHON.is_file():
        reason = f"{SEISBENCH_PYTHON} missing: run `make install-seisbench`"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _seisbench(paths: dict[str, Path]) -> dict[str, Any]:
    done = subprocess.run(
        [str(SEISBENCH_PYTHON), str(HERE / "seisbench_loader.py")],
        input=json.dumps({name: str(path) for name, path in paths.items()}),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _crash(shared: Path, dataset: Path, *options: str) -> None:
    """The crash child (``seisbench_crash.py``), killed after the third window's samples."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(HERE / "seisbench_crash.py"), str(shared), str(dataset), *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every data set of the module, what the writer said while writing them, and SeisBench's
    report on each (one SeisBench process: importing torch takes seconds)."""
    _require_seisbench()
    root = tmp_path_factory.mktemp("seisbench")
    w1, w2, w3 = trio_windows(shared_data)
    one = cca(shared_data, "c1", "2022-01-02T10:00:00", "2022-01-02T10:01:00", P="2022-01-02T10:00:12.3456")
    facts: dict[str, Any] = {}

    with SeisBenchWriter(root / "trio", component_order="ZNE", sampling_rate=1.0) as writer:
        facts["trio_names"] = [_add(writer, w) for w in (w1, w2)]
    with SeisBenchWriter(root / "one", component_order="ZNE", sampling_rate=40.0) as writer:
        _add(writer, one)

    # Resumed: two windows, closed, reopened (has() both), a third added.
    with SeisBenchWriter(root / "resumed", component_order="ZNE", sampling_rate=1.0) as writer:
        _add(writer, w1)
        _add(writer, w2)
    with SeisBenchWriter(root / "resumed", component_order="ZNE") as writer:
        facts["resumed_has"] = [writer.has(w.window_id) for w in (w1, w2, w3)]
        facts["resumed_rate"] = writer.sampling_rate
        _add(writer, w3)

    # Killed between the third window's samples and its row; a copy as the kill left it.
    _crash(shared_data, root / "crashed")
    shutil.copytree(root / "crashed", root / "crashed_as_left")
    with h5py.File(root / "crashed_as_left" / "waveforms.hdf5", "r") as f:
        facts["slots_after_crash"] = f["data/bucket0"].shape[0]
    with SeisBenchWriter(root / "crashed", component_order="ZNE", sampling_rate=1.0) as writer:
        facts["crashed_has"] = [writer.has(w.window_id) for w in (w1, w2, w3)]
        facts["crashed_third"] = _add(writer, w3)

    # The same kill with fsync=False: flushed to the operating system, which a kill cannot undo.
    _crash(shared_data, root / "crashed_nofsync", "nofsync")

    # No data set rate: 1 Hz and 40 Hz windows, each row with its own (two length classes).
    with SeisBenchWriter(root / "mixed", component_order="ZNE") as writer:
        facts["mixed_names"] = [_add(writer, w) for w in (w2, one)]

    # Blocks of two windows: the third opens a second block.
    with SeisBenchWriter(root / "blocks", component_order="ZNE", sampling_rate=1.0, block_size=2) as writer:
        facts["blocks_names"] = [_add(writer, w) for w in (w1, w2, w3)]

    paths = {
        name: root / name
        for name in (
            "trio",
            "one",
            "resumed",
            "crashed_as_left",
            "crashed",
            "crashed_nofsync",
            "mixed",
            "blocks",
        )
    }
    return {
        "windows": {w.window_id: w for w in (w1, w2, w3, one)},
        "facts": facts,
        "seisbench": _seisbench(paths),
    }


def _loaded(built: dict[str, Any], name: str) -> dict[str, Any]:
    report: dict[str, Any] = built["seisbench"][name]
    assert "error" not in report, report
    return report


def _assert_waveforms(report: dict[str, Any], windows: list[Window]) -> None:
    assert report["len"] == len(windows)
    for got, dtype, w in zip(report["waveforms"], report["dtypes"], windows, strict=True):
        expected = w.expected()
        assert dtype == "int32"
        assert np.array_equal(np.asarray(got, dtype=np.int32), expected)
        assert len(got[0]) == expected.shape[1]


def test_seisbench_reads_three_aligned_components_as_obspy_cut_them(built: dict[str, Any]) -> None:
    report = _loaded(built, "trio")
    w1, w2 = built["windows"]["w1"], built["windows"]["w2"]
    _assert_waveforms(report, [w1, w2])
    # The first window exercises the padding: N (FOX2) and E (NCH) start minutes late.
    assert w1.traces["N"].stats.starttime - w1.start > 300
    assert w1.traces["E"].stats.starttime - w1.start > 100
    assert report["data_format"] == {
        "dimension_order": "CW",
        "component_order": "ZNE",
        "sampling_rate": 1.0,
        "measurement": "velocity",
        "unit": "counts",
        "instrument_response": "not restituted",
    }
    assert report["shapes"] == [[3, 601], [3, 601]]
    assert built["facts"]["trio_names"] == ["bucket0$0,:3,:601", "bucket0$1,:3,:601"]


def test_seisbench_metadata_columns(built: dict[str, Any]) -> None:
    rows = _loaded(built, "trio")["metadata"]
    for row, w in zip(rows, [built["windows"]["w1"], built["windows"]["w2"]], strict=True):
        expected = w.expected()
        assert row["trace_seiswindow_id"] == w.window_id
        assert row["trace_start_time"] == str(w.start)
        assert UTCDateTime(row["trace_start_time"]) == w.start
        assert row["trace_sampling_rate_hz"] == 1.0
        assert row["trace_npts"] == expected.shape[1]
        real = sum(tr.stats.npts for tr in w.traces.values())
        assert row["trace_completeness"] == pytest.approx(real / expected.size, rel=1e-12)
        assert row["trace_component_order"] == "ZNE"
        for key in ("station_network_code", "station_code", "station_channel", "source_id", "split"):
            assert row[key] == w.metadata[key], key
        # pandas reads an empty location code as missing, as in SeisBench's own data sets.
        assert row["station_location_code"] is None
        p = (UTCDateTime(w.picks["P"]) - w.start) * w.rate
        assert row["trace_P_arrival_sample"] == pytest.approx(p, rel=1e-12, abs=1e-9)
    assert rows[0]["trace_P_arrival_sample"] == pytest.approx(450.5 - 0.071859, abs=1e-9)
    # S was picked in the first window only: the column came with it, empty for the second.
    w1 = built["windows"]["w1"]
    assert rows[0]["trace_S_arrival_sample"] == pytest.approx((UTCDateTime(w1.picks["S"]) - w1.start) * 1.0)
    assert rows[1]["trace_S_arrival_sample"] is None


def test_seisbench_reads_a_station_with_one_of_three_components(built: dict[str, Any]) -> None:
    report = _loaded(built, "one")
    w = built["windows"]["c1"]
    _assert_waveforms(report, [w])
    got = np.asarray(report["waveforms"][0])
    assert np.array_equal(got[1], w.traces["N"].data) and not got[[0, 2]].any()
    (row,) = report["metadata"]
    assert row["trace_completeness"] == pytest.approx(1 / 3)
    assert row["source_magnitude"] == 2.5 and row["split"] == "test"
    assert row["trace_P_arrival_sample"] == pytest.approx(
        (UTCDateTime(w.picks["P"]) - w.start) * 40.0, abs=1e-9
    )
    assert report["data_format"]["sampling_rate"] == 40.0


def test_a_reopened_data_set_knows_its_windows_and_appends(built: dict[str, Any]) -> None:
    assert built["facts"]["resumed_has"] == [True, True, False]
    assert built["facts"]["resumed_rate"] == 1.0  # from data_format, not given again
    report = _loaded(built, "resumed")
    windows = [built["windows"][k] for k in ("w1", "w2", "w3")]
    _assert_waveforms(report, windows)
    assert [r["trace_seiswindow_id"] for r in report["metadata"]] == ["w1", "w2", "w3"]


def test_a_kill_between_samples_and_row_leaves_only_complete_rows(built: dict[str, Any]) -> None:
    # The third window's samples reached the file (three slots), its row did not.
    assert built["facts"]["slots_after_crash"] == 3
    w1, w2, w3 = (built["windows"][k] for k in ("w1", "w2", "w3"))
    _assert_waveforms(_loaded(built, "crashed_as_left"), [w1, w2])
    _assert_waveforms(_loaded(built, "crashed_nofsync"), [w1, w2])
    # Reopened: the rows are the truth; the orphan slot is overwritten by the third window.
    assert built["facts"]["crashed_has"] == [True, True, False]
    assert built["facts"]["crashed_third"].startswith("bucket0$2,")
    _assert_waveforms(_loaded(built, "crashed"), [w1, w2, w3])


def test_windows_past_a_block_open_the_next(built: dict[str, Any]) -> None:
    names = built["facts"]["blocks_names"]
    assert [n.split(",")[0] for n in names] == ["bucket0$0", "bucket0$1", "bucket1$0"]
    _assert_waveforms(_loaded(built, "blocks"), [built["windows"][k] for k in ("w1", "w2", "w3")])


# --- the writer alone (no SeisBench needed) -------------------------------------------------------


def test_a_torn_last_row_is_cut_on_reopen(shared_data: Path, tmp_path: Path) -> None:
    w1, w2, w3 = trio_windows(shared_data)
    with SeisBenchWriter(tmp_path, sampling_rate=1.0) as writer:
        _add(writer, w1)
        _add(writer, w2)
    metadata = tmp_path / "metadata.csv"
    whole = metadata.read_bytes()
    metadata.write_bytes(whole + b"bucket0$2,:3,:601,w3,2022-01-02T23:3")  # a kill inside write()
    with SeisBenchWriter(tmp_path) as writer:
        assert len(writer) == 2 and not writer.has("w3")
        assert metadata.read_bytes() == whole
        assert _add(writer, w3).startswith("bucket0$2,")
    with open(metadata, newline="") as f:
        assert [row["trace_seiswindow_id"] for row in csv.DictReader(f)] == ["w1", "w2", "w3"]


def test_a_new_phase_rewrites_the_header_and_keeps_the_rows(shared_data: Path, tmp_path: Path) -> None:
    w1, w2, _ = trio_windows(shared_data)
    with SeisBenchWriter(tmp_path, sampling_rate=1.0) as writer:
        writer.add("a", w2.components(), w2.metadata, {"P": w2.arrivals()["P"]})
        writer.add("b", w1.components(), w1.metadata, w1.arrivals())
        writer.add("c", w2.components(), {**w2.metadata, "note": 'x,"y"'}, {})
    with open(tmp_path / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["trace_S_arrival_sample"] for r in rows] == ["", rows[1]["trace_S_arrival_sample"], ""]
    assert rows[1]["trace_S_arrival_sample"] != ""
    assert [r["note"] for r in rows] == ["", "", 'x,"y"']
    assert rows[0]["trace_P_arrival_sample"] != "" and rows[2]["trace_P_arrival_sample"] == ""
    assert not (tmp_path / "metadata.csv.tmp").exists()


def test_alignment_rounds_offsets_to_the_nearest_sample() -> None:
    a = np.arange(1, 5, dtype=np.int32)
    b = np.arange(10, 13, dtype=np.int32)
    # b starts 1.6 samples after a at 2 Hz (0.8 s): placed at sample 2.
    out = align_components({"Z": (0, 2.0, a), "E": (800_000_000, 2.0, b)}, component_order="ZNE")
    assert out.start_ns == 0 and out.sampling_rate == 2.0
    assert out.data.tolist() == [[1, 2, 3, 4, 0], [0, 0, 0, 0, 0], [0, 0, 10, 11, 12]]
    assert out.completeness == pytest.approx(7 / 15)


@pytest.mark.parametrize(
    ("traces", "message"),
    [
        ({}, "at least one component"),
        ({"1": (0, 1.0, np.zeros(3))}, "not one of"),
        ({"Z": (0, 1.0, np.zeros(3)), "N": (0, 2.0, np.zeros(3))}, "different sampling rates"),
        ({"Z": (0, 0.0, np.zeros(3))}, "not positive"),
        ({"Z": (0, 1.0, np.zeros((2, 3)))}, "1-D"),
    ],
)
def test_windows_that_cannot_be_aligned(traces: dict[str, Any], message: str) -> None:
    with pytest.raises(SeisBenchError, match=message):
        align_components(traces, component_order="ZNE")


def test_what_the_writer_refuses(shared_data: Path, tmp_path: Path) -> None:
    w1, w2, _ = trio_windows(shared_data)
    one = cca(shared_data, "c1", "2022-01-02T10:00:00", "2022-01-02T10:00:10")
    with SeisBenchWriter(tmp_path, sampling_rate=1.0) as writer:
        _add(writer, w1)
        with pytest.raises(SeisBenchError, match="already"):
            _add(writer, w1)
        with pytest.raises(SeisBenchError, match="40.0 Hz, the data set at 1.0 Hz"):
            _add(writer, one)
        for key in ("trace_name", "trace_start_time", "trace_P_arrival_sample"):
            with pytest.raises(SeisBenchError, match="fills itself"):
                writer.add("x", w2.components(), {key: 1}, {})
        with pytest.raises(SeisBenchError, match="not a str, number"):
            writer.add("x", w2.components(), {"when": UTCDateTime(0)}, {})
        with pytest.raises(SeisBenchError, match="phase"):
            writer.add("x", w2.components(), {}, {"P,S": 0})
        assert len(writer) == 1
    with pytest.raises(SeisBenchError, match="component order 'ZNE'"):
        SeisBenchWriter(tmp_path, component_order="Z12")
    with pytest.raises(SeisBenchError, match="at 1.0 Hz"):
        SeisBenchWriter(tmp_path, sampling_rate=100.0)


def test_one_writer_per_directory(tmp_path: Path) -> None:
    with SeisBenchWriter(tmp_path), pytest.raises(SeisBenchError, match="another writer"):
        SeisBenchWriter(tmp_path)
    with SeisBenchWriter(tmp_path) as again:  # released on close
        assert len(again) == 0


def test_a_block_no_row_points_to_is_filled_again(shared_data: Path, tmp_path: Path) -> None:
    """Samples stored in a new block, then no row (the kill of the crash test, one block later):
    the next writer fills that block from its first slot, over the orphan samples."""
    short = cca(shared_data, "c1", "2022-01-02T10:00:00", "2022-01-02T10:00:01")  # 41 samples
    with SeisBenchWriter(tmp_path, sampling_rate=40.0) as writer:
        writer._write_samples(np.full((3, 41), 7, dtype=np.int32))  # bucket0, no row
    with SeisBenchWriter(tmp_path) as writer:
        assert len(writer) == 0
        name = _add(writer, short)
    assert name == "bucket0$0,:3,:41"
    with h5py.File(tmp_path / "waveforms.hdf5", "r") as f:
        assert np.array_equal(f["data/bucket0"][0, :, :41], short.expected())


def test_rows_pointing_past_the_samples_are_refused(shared_data: Path, tmp_path: Path) -> None:
    w1, _, _ = trio_windows(shared_data)
    with SeisBenchWriter(tmp_path, sampling_rate=1.0) as writer:
        _add(writer, w1)
    with h5py.File(tmp_path / "waveforms.hdf5", "a") as f:
        del f["data/bucket0"]
    with pytest.raises(SeisBenchError, match="past the samples of block bucket0"):
        SeisBenchWriter(tmp_path)
    with pytest.raises(SeisBenchError, match="past the samples"):  # and the lock was released
        SeisBenchWriter(tmp_path)


def test_seisbench_reads_rates_per_row_when_the_data_set_has_none(built: dict[str, Any]) -> None:
    report = _loaded(built, "mixed")
    w2, one = built["windows"]["w2"], built["windows"]["c1"]
    _assert_waveforms(report, [w2, one])
    assert "sampling_rate" not in report["data_format"]
    assert [row["trace_sampling_rate_hz"] for row in report["metadata"]] == [1.0, 40.0]
    assert [n.split("$")[0] for n in built["facts"]["mixed_names"]] == ["bucket0", "bucket1"]
