"""The record index (issue 11 items 1-2): rows equal to EarthScope's own ``mseedindex`` (run
as a program on the same files) and to ObsPy's view of the files; the SQLite database is read
by ObsPy's TSIndex client; ``byte_range`` is exact to the records ObsPy finds; a build is
resumable and re-indexes a changed file; S3 (moto) and a directory index alike."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime, read
from obspy.clients.filesystem.tsindex import Client
from obspy.io.mseed.util import get_record_information

from seiswindow.indexbuild import build_index, filename_of
from seiswindow.model import Nslc
from seiswindow.mseed import write_steim2_file
from seiswindow.recordindex import byte_range, format_epoch, format_time, index_records
from seiswindow.store import LocalStore, MemoryStore, S3Store
from seiswindow.tsindex import IndexStore
from support.memstore import TamperingStore
from support.s3server import default_data_root

DATA = default_data_root()
SAMPLES = sorted(
    p for p in DATA.rglob("*") if p.is_file() and "continuous_waveforms" in p.parts and p.suffix != ".xml"
)
CCA_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = DATA / "scedc-pds" / CCA_KEY
MSEEDINDEX = Path(sys.executable).parent / "mseedindex"
#: The columns compared with mseedindex's (the times of the scan and of the file are not the data's).
COLUMNS = (
    "network,station,location,channel,quality,version,starttime,endtime,samplerate,"
    "byteoffset,bytes,hash,timeindex,timespans,timerates,format"
)
NS = 1_000_000_000


def _ns(t: UTCDateTime) -> int:
    return int(t.ns)


def _records(path: Path) -> list[tuple[int, int, int, int]]:
    """``(offset, length, first, last sample ns)`` of every record, as ObsPy reads them."""
    found, offset, size = [], 0, path.stat().st_size
    while offset < size:
        info = get_record_information(str(path), offset=offset)
        last = info["starttime"] + (info["npts"] - 1) / info["samp_rate"]
        found.append((offset, info["record_length"], _ns(info["starttime"]), _ns(last)))
        offset += info["record_length"]
    return found


def _gap_file(path: Path) -> Path:
    """A 40 Hz day file of 20 minutes with a 5-minute gap after the first 10 minutes."""
    start = _ns(UTCDateTime("2022-01-02T00:00:00"))
    rng = np.random.default_rng(11)
    first = rng.integers(-5000, 5000, size=24_000, dtype=np.int32)
    second = rng.integers(-5000, 5000, size=24_000, dtype=np.int32)
    write_steim2_file(
        path,
        [(start, first), (start + 900 * NS, second)],
        nslc=Nslc("XX", "GAP", "", "BHZ"),
        sampling_rate=40.0,
    )
    return path


def _odd_files(directory: Path) -> list[Path]:
    """Files whose rows are not one plain span: a gap, an overlap, a rate change inside one
    section (``timerates``), and three sections (channels A, B, then A again)."""
    start = _ns(UTCDateTime("2022-01-02T00:00:00"))
    rng = np.random.default_rng(5)

    def samples(n: int) -> np.ndarray:
        return rng.integers(-3000, 3000, size=n, dtype=np.int32)

    def written(
        name: str, runs: list[tuple[int, np.ndarray]], *, station: str = "ODD", rate: float = 40.0
    ) -> bytes:
        path = directory / f"part-{name}.ms"
        write_steim2_file(path, runs, nslc=Nslc("XX", station, "", "BHZ"), sampling_rate=rate)
        return path.read_bytes()

    overlap = written("overlap", [(start, samples(8000)), (start + 150 * NS, samples(8000))])
    rates = written("r40", [(start, samples(8000))]) + written(
        "r20", [(start + 200 * NS, samples(4000))], rate=20.0
    )
    sections = (
        written("a", [(start, samples(6000))], station="A")
        + written("b", [(start, samples(6000))], station="B")
        + written("a2", [(start + 150 * NS, samples(6000))], station="A")
    )
    files = [_gap_file(directory / "gap.ms")]
    for name, data in (("overlap", overlap), ("rates", rates), ("sections", sections)):
        (directory / f"{name}.ms").write_bytes(data)
        files.append(directory / f"{name}.ms")
    return files


def _mseedindex(files: list[Path], db: Path) -> list[tuple[object, ...]]:
    """mseedindex's rows of ``files`` (one run per file: version 3.0.8 hashes only the
    first file of a run), every record in the time index (``-si 1``: records span > 1 s)."""
    for path in files:
        subprocess.run(
            [str(MSEEDINDEX), "-si", "1", "-sqlite", str(db), str(path)], check=True, capture_output=True
        )
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT filename,{COLUMNS} FROM tsindex ORDER BY filename,byteoffset").fetchall()


def _ours(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT filename,{COLUMNS} FROM tsindex ORDER BY filename,byteoffset").fetchall()


def test_rows_are_mseedindexs_for_every_sample_file_and_odd_ones(tmp_path: Path) -> None:
    """Byte for byte the rows EarthScope's mseedindex writes (time texts, time index, spans,
    rates, hash, offsets), through the whole path: index, SQLite store, columns. For the odd
    files (gap, overlap, rate change, three sections) too, but for the time index: there
    mseedindex ``-si 1`` leaves out a last record shorter than a second, which ours keeps
    (every record ObsPy finds but those going back in time)."""
    odd = _odd_files(tmp_path)
    files = [*SAMPLES, *odd]
    theirs = _mseedindex(files, tmp_path / "mseedindex.sqlite")
    store = LocalStore("/")
    with IndexStore(tmp_path / "ours.sqlite") as db:
        report = build_index(store, [str(p).lstrip("/") for p in files], db)
    assert report.indexed == len(files) and not report.failed
    ours = _ours(tmp_path / "ours.sqlite")
    assert len(theirs) == len(ours) == len(files) + 2  # the three sections' file has three rows
    assert any(row[15] for row in theirs) and any("],[" in str(row[14]) for row in theirs)  # rates, spans
    tindex = 13
    for mine, its in zip(ours, theirs, strict=True):
        if Path(str(its[0])) in odd:
            assert mine[:tindex] + mine[tindex + 1 :] == its[:tindex] + its[tindex + 1 :]
            entries, reference = str(mine[tindex]).split(","), str(its[tindex]).split(",")
            assert set(reference) <= set(entries) and entries[-1] == reference[-1]  # latest=>
            records = {
                f"{format_epoch(first)}=>{offset}" for offset, _, first, _ in _records(Path(str(its[0])))
            }
            assert set(entries[:-1]) <= records
            times = [float(e.split("=>")[0]) for e in entries[:-1]]
            assert times == sorted(times)  # ObsPy's reader bisects them
        else:
            assert mine == its
    # And IndexStore reads mseedindex's own database as it reads ours.
    with IndexStore(tmp_path / "mseedindex.sqlite") as foreign, IndexStore(tmp_path / "ours.sqlite") as db:
        for path in SAMPLES:
            (row,) = index_records(path.read_bytes())
            assert foreign.rows(row.nslc, row.start, row.end) == db.rows(row.nslc, row.start, row.end) != []


def test_rows_agree_with_obspy(tmp_path: Path) -> None:
    """Independently of mseedindex: each row's span, rate and gaps are ObsPy's traces, its
    time index is the start and offset of every record ObsPy finds."""
    for path in [*SAMPLES, _gap_file(tmp_path / "gap.ms")]:
        (row,) = index_records(path.read_bytes())
        stream = read(str(path))
        stream.merge(method=-1)
        # A span ends at its last record's own last sample; ObsPy's merged trace ends on the
        # grid of its first record: they may differ by the drift of the record times (< 1/2 sample).
        half = NS / stream[0].stats.sampling_rate / 2
        assert len(stream) == len(row.timespans), path
        for tr, (first, last) in zip(stream, row.timespans, strict=True):
            assert first == _ns(tr.stats.starttime) and abs(last - _ns(tr.stats.endtime)) < half, path
        assert row.samplerate == stream[0].stats.sampling_rate
        records = _records(path)
        assert (row.start, row.end) == (_ns(stream[0].stats.starttime), records[-1][3])
        assert row.timeindex == tuple((first, offset) for offset, _, first, _ in records)
        assert (row.byteoffset, row.bytes) == (0, path.stat().st_size) and row.time_ordered


def test_a_gap_makes_two_spans_in_one_section(tmp_path: Path) -> None:
    """mseedindex cuts sections at a change of channel or version or a break in the file,
    not at a gap in time: the gap shows as two time spans, ObsPy's gap between them."""
    path = _gap_file(tmp_path / "gap.ms")
    (row,) = index_records(path.read_bytes())
    (gap,) = read(str(path)).get_gaps()
    assert len(row.timespans) == 2
    assert row.timespans[0][1] == _ns(gap[4]) and row.timespans[1][0] == _ns(gap[5])


def _expected_range(
    records: list[tuple[int, int, int, int]], spans: list[tuple[int, int]], t0: int, t1: int
) -> tuple[int, int] | None:
    """The records a window ``[t0, t1]`` needs, from ObsPy's records and traces: from the
    record in which ``t0`` falls (the last one starting at or before it: its last sample may
    be the nearest to ``t0``), or the first record after ``t0`` when ``t0`` is in a gap or
    before the data, to the last record starting at or before ``t1``."""
    if t1 < records[0][2] or t0 > records[-1][3]:
        return None
    if not any(a <= t0 <= b for a, b in spans):
        t0 = min((a for a, _ in spans if a > t0), default=t0)
    if t0 > t1:
        return None
    lo = max([i for i, r in enumerate(records) if r[2] <= t0], default=0)
    hi = max(i for i, r in enumerate(records) if r[2] <= t1)
    return records[lo][0], records[hi][0] + records[hi][1]


@pytest.mark.parametrize("name", ["cca", "gap", "rates"])
def test_byte_range_is_exactly_the_records_holding_the_span(tmp_path: Path, name: str) -> None:
    """For windows anywhere (edges of records, inside the gap, before and after the data),
    from the rows in memory and from the rows read back from SQLite."""
    path = CCA if name == "cca" else tmp_path / f"{name}.ms"
    if name != "cca":
        _odd_files(tmp_path)
    records = _records(path)
    rows = index_records(path.read_bytes())
    with IndexStore(tmp_path / "i.sqlite") as db:
        build_index(LocalStore(path.parent), [path.name], db)
        stored = [row for _, row in db.rows(rows[0].nslc, rows[0].start - NS, rows[0].end + NS)]
    stream = read(str(path))
    if len({tr.stats.sampling_rate for tr in stream}) == 1:
        stream.merge(-1)  # ObsPy merges only traces of one rate; a rate change is two traces anyway
    spans_seen = [(_ns(tr.stats.starttime), _ns(tr.stats.endtime)) for tr in stream]
    rng = np.random.default_rng(3)
    day = rows[0].start
    spans = [
        (int(a), int(a) + int(w))
        for a, w in zip(
            rng.integers(day - 60 * NS, rows[0].end + 60 * NS, 150),
            rng.integers(0, 600 * NS, 150),
            strict=True,
        )
    ]
    spans += [(first, first) for _, _, first, _ in records[:5]] + [
        (last, last + 1) for *_, last in records[-5:]
    ]
    spans += [(day + 700 * NS, day + 800 * NS), (day + 650 * NS, day + 1000 * NS)]  # in / across the gap
    for t0, t1 in spans:
        expected = _expected_range(records, spans_seen, t0, t1)
        assert byte_range(rows, t0, t1) == expected, (format_time(t0), format_time(t1))
        assert byte_range(stored, t0, t1) == expected, (format_time(t0), format_time(t1))


def test_obspys_tsindex_client_reads_the_database(tmp_path: Path) -> None:
    """The issue's acceptance: ObsPy's TSIndex client, given the database seiswindow built,
    returns the samples ObsPy reads from the files."""
    db_path = tmp_path / "index.sqlite"
    with IndexStore(db_path) as db:
        build_index(
            LocalStore(DATA / "scedc-pds"),
            [p.relative_to(DATA / "scedc-pds").as_posix() for p in SAMPLES if "scedc-pds" in p.parts],
            db,
        )
    client = Client(str(db_path))
    cases = [
        ("CI", "CCA", "", "BHN", "2022-01-02T05:00:00", "2022-01-02T05:10:00", CCA),
        ("CI", "WBM", "", "LHZ", "2022-01-01T23:50:00", "2022-01-02T00:10:00", None),
        ("BK", "THIS", "00", "LHZ", "2022-01-02T12:00:00", "2022-01-02T13:00:00", None),
    ]
    for net, sta, loc, cha, start, end, _ in cases:
        t0, t1 = UTCDateTime(start), UTCDateTime(end)
        got = client.get_waveforms(net, sta, loc, cha, t0, t1)
        files = [p for p in SAMPLES if "scedc-pds" in p.parts and sta in p.name and cha in p.name]
        expected = read(str(files[0]))
        for extra in files[1:]:
            expected += read(str(extra))
        expected.merge(-1)
        expected.trim(t0, t1)
        got.trim(t0, t1)
        assert len(got) == len(expected) == 1, (sta, got, expected)
        assert got[0].stats.starttime == expected[0].stats.starttime
        np.testing.assert_array_equal(got[0].data, expected[0].data)
    # The summary table resolves wildcards, as ObsPy's own build_tsindex_summary makes it.
    assert sorted(n[1] for n in client.get_nslc("CI", "*", "*", "BH?")) == ["CCA", "HEC"]


def test_a_changed_file_is_indexed_again_an_unchanged_one_skipped(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / "day").mkdir(parents=True)
    shutil.copyfile(CCA, root / "day" / "cca.ms")
    store = TamperingStore(LocalStore(root))
    with IndexStore(tmp_path / "i.sqlite") as db:
        first = build_index(store, ["day/cca.ms", "day/missing.ms"], db)
        assert (first.indexed, first.skipped, first.missing) == (1, 0, 1)
        assert [r.call for r in store.reads if r.key == "day/cca.ms"] == ["stat", "get"]
        store.reads.clear()
        again = build_index(store, ["day/cca.ms"], db)
        assert (again.indexed, again.skipped) == (0, 1)
        assert [r.call for r in store.reads] == ["stat"]  # no byte read
        nslc = Nslc("CI", "CCA", "", "BHN")
        assert db.rows(nslc, 0, 2**62)[0][1].bytes == CCA.stat().st_size  # parsed, and kept parsed
        # Rewritten with its first hour only: new size and mtime.
        data = CCA.read_bytes()
        (root / "day" / "cca.ms").write_bytes(data[: 512 * 300])
        os.utime(root / "day" / "cca.ms", ns=(1, 2))
        store.reads.clear()
        changed = build_index(store, ["day/cca.ms"], db)
        assert changed.indexed == 1 and [r.call for r in store.reads] == ["stat", "get"]
        ((name, row),) = db.rows(nslc, 0, 2**62)
        assert name == filename_of(store, "day/cca.ms") == str(root / "day" / "cca.ms")
        assert row.bytes == 512 * 300 and row.timeindex[-1][1] == 512 * 299


def test_s3_and_a_directory_index_alike(s3, tmp_path: Path) -> None:
    """The same rows through moto S3 as from the directory, but for the filename
    (``s3://bucket/key``), which ObsPy's client maps to a local mirror."""
    keys = [CCA_KEY, "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"]
    with IndexStore(tmp_path / "s3.sqlite") as db:
        report = build_index(S3Store("scedc-pds", endpoint_url=s3.url), keys, db)
    assert report.indexed == 2
    with IndexStore(tmp_path / "local.sqlite") as db:
        build_index(LocalStore(DATA / "scedc-pds"), keys, db)
    on_s3, local = _ours(tmp_path / "s3.sqlite"), _ours(tmp_path / "local.sqlite")
    assert [r[1:] for r in on_s3] == [r[1:] for r in local]
    assert [r[0] for r in on_s3] == [f"s3://scedc-pds/{k}" for k in sorted(keys)]
    # ObsPy normalises the filename before replacing (os.path.normpath: "s3:/scedc-pds/...").
    mirror = ("^s3:/scedc-pds/", str(DATA / "scedc-pds") + "/")
    client = Client(str(tmp_path / "s3.sqlite"), datapath_replace=mirror)
    t0, t1 = UTCDateTime("2022-01-02T07:00:00"), UTCDateTime("2022-01-02T07:01:00")
    got = client.get_waveforms("CI", "CCA", "", "BHN", t0, t1).trim(t0, t1)
    np.testing.assert_array_equal(got[0].data, read(str(CCA)).trim(t0, t1)[0].data)


def test_every_store_tells_an_objects_identity(s3, tmp_path: Path) -> None:
    """Sizes agree on every store; S3's ETag of an object put in one part is its MD5, as
    MemoryStore's; a directory's changes when the file is rewritten."""
    data = CCA.read_bytes()
    on_s3 = S3Store("scedc-pds", endpoint_url=s3.url).stat(CCA_KEY)
    memory = MemoryStore({CCA_KEY: data}).stat(CCA_KEY)
    local_store = LocalStore(tmp_path)
    (tmp_path / "a.ms").write_bytes(data)
    local = local_store.stat("a.ms")
    assert on_s3.size == memory.size == local.size == len(data)
    assert on_s3.etag == memory.etag
    os.utime(tmp_path / "a.ms", ns=(1, 5))
    assert local_store.stat("a.ms").etag != local.etag and local_store.stat("a.ms").modified == 5
    assert on_s3.modified > 0


def test_a_touched_file_keeps_its_sections_updated_time(tmp_path: Path) -> None:
    """Indexed again after a touch (new mtime, same bytes): ``filemodtime`` follows the file,
    ``updated`` stays, as mseedindex keeps it for a section whose hash did not change."""
    root = tmp_path / "archive"
    root.mkdir()
    shutil.copyfile(
        DATA / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms", root / "w.ms"
    )
    os.utime(root / "w.ms", (1_600_000_000, 1_600_000_000))
    with IndexStore(tmp_path / "i.sqlite") as db:
        build_index(LocalStore(root), ["w.ms"], db)
        os.utime(root / "w.ms", (1_700_000_000, 1_700_000_000))
        assert build_index(LocalStore(root), ["w.ms"], db).indexed == 1
    with sqlite3.connect(tmp_path / "i.sqlite") as conn:
        ((filemodtime, updated),) = conn.execute("SELECT filemodtime, updated FROM tsindex").fetchall()
    assert filemodtime == "2023-11-14T22:13:20" and updated == "2020-09-13T12:26:40"


def test_the_hourly_index_is_mseedindexs_default(tmp_path: Path) -> None:
    """``subindex=3600`` writes the time index mseedindex writes by default (one entry an hour)."""
    for path in (CCA, DATA / "scedc-pds/continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"):
        db = tmp_path / f"{path.name}.sqlite"
        subprocess.run([str(MSEEDINDEX), "-sqlite", str(db), str(path)], check=True, capture_output=True)
        with sqlite3.connect(db) as conn:
            ((theirs,),) = conn.execute("SELECT timeindex FROM tsindex").fetchall()
        (row,) = index_records(path.read_bytes(), subindex=3600)
        assert row.timeindex_text() == theirs and theirs.count("=>") > 20
