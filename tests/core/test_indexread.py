"""Reading through the record index (:mod:`seiswindow.indexread`): one verified read per
window of an indexed file, windows of a file coalesced, stale indexes fallen back from and
refreshed, the index filled lazily as in bulk; samples always ObsPy's."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime, read

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.indexbuild import build_index, filename_of
from seiswindow.indexread import coalesce
from seiswindow.model import WindowResult
from seiswindow.store import MemoryStore, S3Store
from seiswindow.tsindex import IndexStore
from support.memstore import TamperingStore
from support.oracle import assert_matches_oracle, oracle
from support.s3proxy import S3Proxy
from support.s3server import default_data_root

DATA = default_data_root()
SCEDC = DATA / "scedc-pds"
NCEDC = DATA / "ncedc-pds"
CCA_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
WBM_KEYS = [f"continuous_waveforms/2022/2022_00{d}/CIWBM__LHZ___202200{d}.ms" for d in (1, 2, 3)]


def _objects(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if _is_data(p)}


def _is_data(path: Path) -> bool:
    return path.is_file() and "continuous_waveforms" in path.parts and path.suffix not in {".xml", ".md"}


def _layout(root: Path) -> str:
    return "ncedc" if "ncedc" in root.name else "scedc"


class Indexed:
    """A memory archive of ``objects``, with an index database at ``db`` built in bulk."""

    def __init__(self, objects: dict[str, bytes], layout: str, db: Path, *, build: bool = True) -> None:
        self.memory = MemoryStore(objects)
        self.layout = layout
        self.db = db
        if build:
            with IndexStore(db) as index:
                report = build_index(self.memory, sorted(objects), index)
            assert report.indexed == len(objects) and not report.failed, report

    def extractor(self) -> tuple[Extractor, TamperingStore]:
        """An extractor through the index, on a store that counts its reads."""
        store = TamperingStore(self.memory)
        archive = Archive(store, layout_named(self.layout))
        return Extractor(archive, index=IndexStore(self.db)), store


@pytest.fixture(scope="module")
def scedc(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    return Indexed(_objects(SCEDC), "scedc", tmp_path_factory.mktemp("scedc") / "index.sqlite")


@pytest.fixture(scope="module")
def ncedc(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    return Indexed(_objects(NCEDC), "ncedc", tmp_path_factory.mktemp("ncedc") / "index.sqlite")


def _channel(root: Path, path: Path) -> tuple[str, list[Path]]:
    """The codes of the day file ``path`` and every file of its channel."""
    layout = layout_named(_layout(root))
    parsed = layout.parse_key(path.relative_to(root).as_posix())
    assert parsed is not None
    nslc = parsed[0]
    same = [
        p
        for p in root.rglob("*")
        if _is_data(p) and (layout.parse_key(p.relative_to(root).as_posix()) or [0])[0] == nslc
    ]
    return str(nslc), sorted(same)


def _windows(path: Path) -> list[tuple[str, UTCDateTime, UTCDateTime]]:
    trace = read(str(path), headonly=True)[0]
    t0, t1 = trace.stats.starttime, trace.stats.endtime
    day = t0.replace(hour=0, minute=0, second=0, microsecond=0)
    mid = t0 + (t1 - t0) / 2
    return [
        ("start-of-day", day, day + 300),
        ("end-of-day", day + 86400 - 300, day + 86400),
        ("middle", mid, mid + 300.5),
        ("sub-second", mid + 0.123456, mid + 20.987654),
        ("before-data", t0 - 3600, t0 + 600.5),
    ]


FILES = [(SCEDC, p) for p in sorted(SCEDC.rglob("*.ms"))] + [(NCEDC, p) for p in sorted(NCEDC.rglob("*.D.*"))]
CASES = [
    pytest.param(root, path, name, start, end, id=f"{path.name}-{name}")
    for root, path in FILES
    for name, start, end in _windows(path)
]


@pytest.mark.parametrize(("root", "path", "name", "start", "end"), CASES)
def test_indexed_windows_equal_obspy_with_one_read_per_indexed_file(
    request: pytest.FixtureRequest, root: Path, path: Path, name: str, start: UTCDateTime, end: UTCDateTime
) -> None:
    archive: Indexed = request.getfixturevalue("ncedc" if root == NCEDC else "scedc")
    nslc, files = _channel(root, path)
    window = Window.from_nslc(nslc, start.isoformat(), end.isoformat())
    extractor, store = archive.extractor()
    with extractor:
        (result,) = extractor.extract([window])
    assert_matches_oracle(result, oracle(files, window))
    # Every file read is read once (the index holds them all; the neighbour day files
    # near midnight that do not exist cost no read), never whole, never probed.
    keys = [r.key for r in store.reads]
    assert len(keys) == len(set(keys)), store.reads
    assert all(r.call == "range" for r in store.reads), store.reads
    if name in {"middle", "sub-second"}:
        assert result.stats.requests == 1 and len(store.reads) == 1


def test_a_window_across_midnight_reads_each_day_file_once(scedc: Indexed) -> None:
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00")
    extractor, store = scedc.extractor()
    with extractor:
        (result,) = extractor.extract([window])
    assert_matches_oracle(result, oracle([SCEDC / k for k in WBM_KEYS[:2]], window))
    assert sorted(r.key for r in store.reads) == WBM_KEYS[:2]
    assert result.stats.requests == 2


def _without_records(data: bytes, first: int, count: int, reclen: int = 512) -> bytes:
    return data[: first * reclen] + data[(first + count) * reclen :]


@pytest.fixture
def gappy(tmp_path: Path) -> tuple[Indexed, Path]:
    """CI.WBM..LHZ 2022-002 without 20 records in the middle (a gap of ~1.2 hours)."""
    data = _without_records((SCEDC / WBM_KEYS[1]).read_bytes(), 100, 20)
    path = tmp_path / "gappy.ms"
    path.write_bytes(data)
    return Indexed({WBM_KEYS[1]: data}, "scedc", tmp_path / "index.sqlite"), path


def _gap_of(path: Path) -> tuple[UTCDateTime, UTCDateTime]:
    (gap,) = read(str(path)).get_gaps()
    return gap[4], gap[5]


@pytest.mark.parametrize("where", ["across", "inside", "starts-in", "ends-in"])
def test_windows_on_a_gap_equal_obspy_with_one_read(gappy: tuple[Indexed, Path], where: str) -> None:
    archive, path = gappy
    before, after = _gap_of(path)
    start, end = {
        "across": (before - 600, after + 600),
        "inside": (before + 60, after - 60),
        "starts-in": (before + 60, after + 600),
        "ends-in": (before - 600, after - 60),
    }[where]
    window = Window.from_nslc("CI.WBM..LHZ", start.isoformat(), end.isoformat())
    extractor, store = archive.extractor()
    with extractor:
        (result,) = extractor.extract([window])
    assert_matches_oracle(result, oracle([path], window))
    assert [r.key for r in store.reads] == [WBM_KEYS[1]]


def _minutes(nslc: str, day: str, count: int, step_s: int) -> list[Window]:
    t = UTCDateTime(day)
    return [
        Window.from_nslc(nslc, (t + 60 + k * step_s).isoformat(), (t + 120 + k * step_s).isoformat())
        for k in range(count)
    ]


def test_a_hundred_windows_of_a_day_are_coalesced(scedc: Indexed) -> None:
    windows = _minutes("CI.CCA..BHN", "2022-01-02", 100, 853)
    extractor, store = scedc.extractor()
    with extractor:
        results = extractor.extract(windows)
    assert len(store.reads) / len(windows) <= 1.5
    assert len(store.reads) == 1  # holes of a few 100 kB: one range
    for window, result in zip(windows[::9], results[::9], strict=True):
        assert_matches_oracle(result, oracle([SCEDC / CCA_KEY], window))
    # Only the records of the windows and the holes between them (< 1 MiB each) were read.
    assert store.bytes_read < len(scedc.memory.objects[CCA_KEY])


def test_ranges_farther_apart_than_the_threshold_are_read_apart(scedc: Indexed) -> None:
    windows = _minutes("CI.CCA..BHN", "2022-01-02", 4, 6 * 3600)  # ~1 MB apart at 40 Hz
    extractor, store = scedc.extractor()
    extractor.indexread.coalesce_bytes = 64 * 1024  # type: ignore[union-attr]
    with extractor:
        results = extractor.extract(windows)
    assert len(store.reads) == 4
    for window, result in zip(windows, results, strict=True):
        assert_matches_oracle(result, oracle([SCEDC / CCA_KEY], window))


def test_coalesce_merges_holes_under_the_threshold_only() -> None:
    assert coalesce([(0, 10), (15, 20), (100, 110)], gap=10, most=1000) == [(0, 20), (100, 110)]
    assert coalesce([(50, 60), (0, 10), (5, 30)], gap=1, most=1000) == [(0, 30), (50, 60)]
    assert coalesce([(0, 10), (12, 30)], gap=10, most=20) == [(0, 10), (12, 30)]


def test_a_replaced_file_is_read_right_and_indexed_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The index was made from the intact file; the object is replaced by one with a gap."""
    key = WBM_KEYS[1]
    intact = (SCEDC / key).read_bytes()
    archive = Indexed({key: intact}, "scedc", tmp_path / "index.sqlite")
    replaced = _without_records(intact, 100, 20)
    archive.memory.objects[key] = replaced
    path = tmp_path / "replaced.ms"
    path.write_bytes(replaced)
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T05:00:00", "2022-01-02T09:00:00")
    extractor, store = archive.extractor()
    with extractor, caplog.at_level(logging.WARNING, logger="seiswindow.extract"):
        (result,) = extractor.extract([window])
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
        assert_matches_oracle(result, oracle([path], window))
        assert f"{key}: the record index is stale (the object is {len(replaced)} bytes" in caplog.text
        # Indexed again, from the new object: the same rows a bulk build of it makes.
        info = archive.memory.stat(key)
        assert extractor.index is not None
        assert extractor.index.is_indexed(filename_of(archive.memory, key), size=info.size, etag=info.etag)
        store.reads.clear()
        (again,) = extractor.extract([window])
    assert_matches_oracle(again, oracle([path], window))
    assert len(store.reads) == 1
    assert _rows(tmp_path / "index.sqlite") == _bulk_rows(tmp_path / "bulk.sqlite", {key: replaced})


def test_a_file_that_grew_since_it_was_indexed_is_searched(tmp_path: Path) -> None:
    """The index holds the first half of a day (a file still being written); a window in
    the second half is not answered as "no data" on its word."""
    key = WBM_KEYS[1]
    whole = (SCEDC / key).read_bytes()
    archive = Indexed({key: whole[: 100 * 512]}, "scedc", tmp_path / "index.sqlite")
    archive.memory.objects[key] = whole
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T20:00:00", "2022-01-02T20:05:00")
    extractor, store = archive.extractor()
    with extractor:
        (result,) = extractor.extract([window])
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
        assert result.status is Status.OK, result.message
        assert_matches_oracle(result, oracle([SCEDC / key], window))
        assert store.reads[0].end == 1  # the size checked, then searched
        store.reads.clear()
        (again,) = extractor.extract([window])  # indexed again: one read
    assert_matches_oracle(again, oracle([SCEDC / key], window))
    assert len(store.reads) == 1


def _rows(db: Path) -> list[object]:
    with IndexStore(db) as index:
        return sorted(
            (name, row) for nslc in ("CI.WBM..LHZ",) for name, row in index.rows(_nslc(nslc), 0, 2**62)
        )


def _nslc(text: str) -> object:
    from seiswindow.model import Nslc

    return Nslc(*text.split("."))


def _bulk_rows(db: Path, objects: dict[str, bytes]) -> list[object]:
    Indexed(objects, "scedc", db)
    return _rows(db)


def test_a_file_read_whole_is_indexed_lazily_as_in_bulk(tmp_path: Path) -> None:
    """A day whose records are not in time order (its two halves swapped) is read whole
    by the search; its rows are then written, the same as a bulk build writes."""
    key = WBM_KEYS[1]
    data = (SCEDC / key).read_bytes()
    half = (len(data) // 512 // 2) * 512
    swapped = data[half:] + data[:half]
    path = tmp_path / "swapped.ms"
    path.write_bytes(swapped)
    archive = Indexed({key: swapped}, "scedc", tmp_path / "lazy.sqlite", build=False)
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    extractor, store = archive.extractor()
    with extractor:
        (result,) = extractor.extract([window])
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
    assert [r.call for r in store.reads if r.call == "get"] == ["get"]
    assert_matches_oracle(result, oracle([path], window))
    lazy = _rows(tmp_path / "lazy.sqlite")
    assert lazy and lazy == _bulk_rows(tmp_path / "bulk.sqlite", {key: swapped})
    # Now indexed: the next windows are one read each (the section is read whole, since
    # its records are not in time order, and answered as the search answers a whole file).
    later = Window.from_nslc("CI.WBM..LHZ", "2022-01-02T02:00:00", "2022-01-02T02:05:00")
    extractor, store = archive.extractor()
    with extractor:
        (result,) = extractor.extract([later])
    assert_matches_oracle(result, oracle([path], later))
    assert [(r.call, r.start, r.end) for r in store.reads] == [("range", 0, len(swapped))]


def test_a_ranged_search_writes_no_partial_rows(tmp_path: Path) -> None:
    key = CCA_KEY
    archive = Indexed({key: (SCEDC / key).read_bytes()}, "scedc", tmp_path / "lazy.sqlite", build=False)
    window = Window.from_nslc("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    extractor, _ = archive.extractor()
    with extractor:
        (result,) = extractor.extract([window])
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
    assert result.status is Status.OK
    with IndexStore(tmp_path / "lazy.sqlite") as index:
        assert index.identities([filename_of(archive.memory, key)]) == {}


RECLEN = 512
NEAR = Window.from_nslc("CI.CCA..BHN", "2022-01-02T00:18:00", "2022-01-02T00:22:00")  # holds record 100
FAR = Window.from_nslc("CI.CCA..BHN", "2022-01-02T05:00:00", "2022-01-02T05:01:00")
CORRUPTIONS = [
    ("rate factor 0", 32, ">h", 0),
    ("time correction +0.45 s", 40, ">i", 4500),
    ("fraction over 9999", 28, ">h", 12000),
    ("year 1990", 20, ">h", 1990),
]


def _samples_agree_with(result: WindowResult, path: Path) -> None:
    trace = read(str(path)).merge()[0]
    for segment in result.segments:
        k = round((segment.start - trace.stats.starttime.ns) / 1e9 * trace.stats.sampling_rate)
        np.testing.assert_array_equal(segment.samples, trace.data[k : k + len(segment.samples)])


@pytest.mark.parametrize("indexed_when", ["before", "after"])
@pytest.mark.parametrize(("name", "at", "fmt", "value"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_a_corrupt_record_in_an_indexed_range_is_reported(
    tmp_path: Path, indexed_when: str, name: str, at: int, fmt: str, value: int
) -> None:
    """One record of the 40 Hz day damaged in place (same size), the index made from the
    intact file (``before``) or from the damaged one (``after``)."""
    intact = (SCEDC / CCA_KEY).read_bytes()
    damaged = bytearray(intact)
    struct.pack_into(fmt, damaged, 100 * RECLEN + at, value)
    source = intact if indexed_when == "before" else bytes(damaged)
    archive = Indexed({CCA_KEY: source}, "scedc", tmp_path / "index.sqlite")
    archive.memory.objects[CCA_KEY] = bytes(damaged)
    extractor, _ = archive.extractor()
    with extractor:
        near, far = extractor.extract([NEAR, FAR])
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
    assert near.status is not Status.OK, name
    assert "left out" in near.message or "ignored" in near.message, near.message
    _samples_agree_with(near, SCEDC / CCA_KEY)
    assert far.status is Status.OK, far.message
    assert_matches_oracle(far, oracle([SCEDC / CCA_KEY], FAR))


@pytest.fixture
def s3_indexed(s3: S3Proxy, tmp_path: Path) -> Iterator[tuple[Extractor, S3Proxy]]:
    """An extractor on the moto S3 server, through the counting proxy, with the SCEDC
    files indexed in bulk through the same store."""
    store = S3Store("scedc-pds", endpoint_url=s3.url)
    keys = [p.relative_to(SCEDC).as_posix() for p in sorted(SCEDC.rglob("*.ms"))]
    with IndexStore(tmp_path / "index.sqlite") as index:
        assert build_index(store, keys, index).indexed == len(keys)
    s3.reset()
    archive = Archive(S3Store("scedc-pds", endpoint_url=s3.url), layout_named("scedc"))
    with Extractor(archive, index=IndexStore(tmp_path / "index.sqlite")) as extractor:
        yield extractor, s3
    store.close()


def test_through_s3_an_indexed_window_is_one_request(s3_indexed: tuple[Extractor, S3Proxy]) -> None:
    extractor, proxy = s3_indexed
    window = Window.from_nslc("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    (result,) = extractor.extract([window])
    assert_matches_oracle(result, oracle([SCEDC / CCA_KEY], window))
    assert proxy.count(path_contains="CICCA") == 1
    windows = _minutes("CI.CCA..BHN", "2022-01-02", 100, 853)
    proxy.reset()
    results = extractor.extract(windows)
    assert proxy.count(path_contains="CICCA") == 1  # coalesced: 0.01 request per window
    assert all(r.status is Status.OK for r in results[1:-1])
