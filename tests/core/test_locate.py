"""The locator verifies what it reads and extends it: files built so that every estimate
misses, chunks cut short or shifted by the store, overlapping records, and the midnight
border, each compared with ObsPy reading the same files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from obspy import read
from pymseed import DataEncoding, MS3Record, MS3TraceList

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.errors import ArchiveError
from seiswindow.model import Status, Window
from seiswindow.store import Chunk, LocalStore, Store
from support.memstore import MemoryStore, TamperingStore
from support.oracle import assert_matches_oracle, oracle

KEYS = {
    "UNEV": "continuous_waveforms/2022/2022_002/SYUNEV_BHZ___2022002.ms",
    "BURST": "continuous_waveforms/2022/2022_002/SYBURSTBHZ___2022002.ms",
    "EARLY": "continuous_waveforms/2022/2022_002/SYEARLYLHZ___2022002.ms",
}
DAY0 = 1_641_081_600 * 10**9  # 2022-01-02T00:00:00
RATE = 40.0


def _pack(path: Path, station: str, samples: np.ndarray, *, rate: float = RATE) -> bytes:
    """Steim2 512-byte records of ``samples`` from midnight, packed by libmseed."""
    band = "B" if rate == RATE else "L"
    traces = MS3TraceList()
    try:
        traces.add_data(f"FDSN:SY_{station}__{band}_H_Z", samples, "i", rate, starttime=DAY0)
        traces.to_file(
            str(path), overwrite=True, max_record_length=512, encoding=DataEncoding.STEIM2, format_version=2
        )
    finally:
        traces.close()
    return path.read_bytes()


@pytest.fixture(scope="module")
def uneven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Days that compress unevenly: zeros take a few hundred samples per record, loud
    noise under 100. UNEV: 23 h of zeros, then 1 h of noise; BURST: zeros with one loud
    hour (11:00-12:00); EARLY (1 Hz, a file small enough to be read without probes): a
    loud first hour, then zeros. Interpolating between known records misses by thousands
    of records (EARLY: by most of its records), and so do probes spread around that guess."""
    root = tmp_path_factory.mktemp("uneven")
    rng = np.random.default_rng(7)

    def quiet(hours: int) -> np.ndarray:
        return np.zeros(int(hours * 3600 * RATE), dtype=np.int32)

    loud = rng.integers(-(2**27), 2**27, int(3600 * RATE), dtype=np.int32)
    days = {"UNEV": [quiet(23), loud], "BURST": [quiet(11), loud, quiet(12)]}
    for station, parts in days.items():
        path = root / KEYS[station]
        path.parent.mkdir(parents=True, exist_ok=True)
        _pack(path, station, np.concatenate(parts))
    early = np.concatenate(
        [rng.integers(-(2**27), 2**27, 3600, dtype=np.int32), np.zeros(23 * 3600, np.int32)]
    )
    _pack(root / KEYS["EARLY"], "EARLY", early, rate=1.0)
    return root


def _bytes_of_records_in(path: Path, window: Window) -> int:
    """Bytes of the records of ``path`` that hold samples of ``window`` (read by libmseed)."""
    return sum(
        record.reclen
        for record in MS3Record.from_file(str(path))
        if record.endtime >= window.start and record.starttime <= window.end
    )


def _extractor(store: Store) -> Extractor:
    return Extractor(Archive(store, layout_named("scedc")), max_workers=2)


WINDOWS = [
    ("UNEV", "2022-01-02T23:10:00", "2022-01-02T23:15:00"),  # just after the change
    ("UNEV", "2022-01-02T23:40:00", "2022-01-02T23:59:59.975"),  # to the end
    ("UNEV", "2022-01-02T12:00:00", "2022-01-02T12:00:30"),  # in the zeros
    ("UNEV", "2022-01-02T22:59:50", "2022-01-02T23:00:10"),  # across the change
    ("BURST", "2022-01-02T10:59:00", "2022-01-02T11:30:00"),  # into the burst
    ("BURST", "2022-01-02T11:30:00", "2022-01-02T12:01:00"),  # out of the burst
    ("BURST", "2022-01-02T11:58:00", "2022-01-02T12:30:00"),  # the burst's end, then zeros
    ("BURST", "2022-01-02T10:00:00", "2022-01-02T13:00:00"),  # around it
    ("EARLY", "2022-01-02T00:20:00", "2022-01-02T00:30:00"),  # every estimate falls short
    ("EARLY", "2022-01-02T00:50:00", "2022-01-02T02:00:00"),
]


@pytest.mark.parametrize(("station", "start", "end"), WINDOWS)
def test_windows_where_every_estimate_misses_equal_obspy(
    uneven: Path, station: str, start: str, end: str
) -> None:
    key = KEYS[station]
    window = Window.from_nslc(f"SY.{station}..{'LHZ' if station == 'EARLY' else 'BHZ'}", start, end)
    store = TamperingStore(MemoryStore({key: (uneven / key).read_bytes()}))
    with _extractor(store) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([uneven / key], window))
    # Verified and extended, not read whole: little more than the records the window needs.
    needed = _bytes_of_records_in(uneven / key, window)
    assert store.bytes_read < 1.25 * needed + 64 * 512, (store.bytes_read, needed, store.reads)
    assert not any(r.call == "get" for r in store.reads)


def _cut_first_big_range(reclen: int, how: str) -> Callable[..., Chunk]:
    def tamper(number: int, call: str, key: str, start: int | None, end: int | None, chunk: Chunk) -> Chunk:
        del number, key
        if call != "range" or start is None or end is None or end - start < 8 * reclen:
            return chunk
        if getattr(tamper, "done", False):
            return chunk
        tamper.done = True  # type: ignore[attr-defined]
        if how == "short":  # a body cut short at a record boundary, the size still right
            return Chunk(chunk.data[: len(chunk.data) - 8 * reclen], chunk.offset, chunk.size)
        # "shifted": the bytes from eight records later, labelled as asked
        return Chunk(chunk.data[8 * reclen :], chunk.offset, chunk.size)

    return tamper


@pytest.mark.parametrize("how", ["short", "shifted"])
def test_chunks_cut_short_or_shifted_never_give_wrong_samples(shared_data: Path, how: str) -> None:
    root = shared_data / "scedc-pds"
    key = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    window = Window.from_nslc("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    store = TamperingStore(LocalStore(root), tamper=_cut_first_big_range(512, how))
    with _extractor(store) as extractor:
        (result,) = extractor.extract([window])
    assert getattr(store.tamper, "done", False), "the tampering never happened"
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([root / key], window))


def test_overlapping_records_are_reported_as_obspy_sees_them(shared_data: Path, tmp_path: Path) -> None:
    """A day file with a record repeated (its samples twice): never ``ok``; the overlap is
    a negative gap, as ObsPy's ``get_gaps`` reports it."""
    source = shared_data / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
    data = source.read_bytes()
    copy = data[: 101 * 512] + data[100 * 512 : 101 * 512] + data[101 * 512 :]
    path = tmp_path / "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
    path.parent.mkdir(parents=True)
    path.write_bytes(copy)
    stream = read(str(path))
    first = stream[0].stats.starttime
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T00:00:00", "2022-01-02T23:59:59")
    theirs = [g for g in stream.get_gaps() if g[6] < 0]  # (..., delta, samples): overlaps
    assert len(theirs) == 1 and first.year == 2022
    with _extractor(LocalStore(tmp_path)) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.PARTIAL, result.message
    overlaps = [g for g in result.gaps if g.samples < 0]
    assert len(overlaps) == 1, result.gaps
    assert "1 overlaps" in result.message
    assert overlaps[0].samples == theirs[0][7], (overlaps, theirs)


def test_a_window_ending_just_before_midnight_takes_the_next_days_nearest_sample(
    scedc, shared_data: Path
) -> None:
    """WBM's samples sit at .07 s: the sample nearest 23:59:59.7 is the next day's first."""
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-01T23:59:50", "2022-01-01T23:59:59.7")
    base = shared_data / "scedc-pds/continuous_waveforms/2022"
    files = [base / "2022_001/CIWBM__LHZ___2022001.ms", base / "2022_002/CIWBM__LHZ___2022002.ms"]
    expected = oracle(files, window)
    assert expected[0].stats.endtime.julday == 2  # the oracle does take the next day's sample
    (result,) = scedc.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, expected)


class _FailingStore(MemoryStore):
    def __init__(self, objects: dict[str, bytes], failing: str) -> None:
        super().__init__(objects)
        self.failing = failing
        self.calls = 0

    def _object(self, key: str) -> bytes:
        if key == self.failing:
            self.calls += 1
            raise ArchiveError(f"S3 read of {key} failed after 5 attempts: SlowDown")
        return super()._object(key)


def test_a_file_the_store_fails_on_fails_the_other_windows_at_once(shared_data: Path) -> None:
    root = shared_data / "scedc-pds"
    key = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    other = "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms"
    store = _FailingStore({other: (root / other).read_bytes()}, failing=key)
    windows = [
        Window.from_nslc("CI.CCA..BHN", f"2022-01-02T{h:02d}:00:00", f"2022-01-02T{h:02d}:01:00")
        for h in range(1, 21)
    ]
    windows.append(Window.from_nslc("CI.HEC..BHN", "2022-01-02T10:00:00", "2022-01-02T10:01:00"))
    with Extractor(Archive(store, layout_named("scedc")), max_workers=1) as extractor:
        results = extractor.extract(windows)
    assert [r.status for r in results] == [Status.ERROR] * 20 + [Status.OK]
    assert len({r.message for r in results[:20]}) == 1 and "SlowDown" in results[0].message
    assert store.calls <= 2, store.calls  # the first window's first round; the others fail at once
