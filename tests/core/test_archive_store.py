"""Layouts name the real files; stores read exact byte ranges and refuse to leave their root."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from seiswindow.archive import NcedcLayout, ScedcLayout, layout_named
from seiswindow.errors import ConfigError, NoSuchKey
from seiswindow.model import Nslc
from seiswindow.store import Chunk, LocalStore, MemoryStore, S3Store, Store
from support.s3server import default_data_root

DATA = default_data_root()


@pytest.mark.parametrize(("bucket", "layout"), [("scedc-pds", ScedcLayout()), ("ncedc-pds", NcedcLayout())])
def test_every_sample_file_parses_and_is_named_back(bucket: str, layout) -> None:
    keys = [
        p.relative_to(DATA / bucket).as_posix()
        for p in (DATA / bucket / "continuous_waveforms").rglob("*")
        if p.is_file()
    ]
    assert keys
    for key in keys:
        parsed = layout.parse_key(key)
        assert parsed is not None, key
        nslc, day = parsed
        assert layout.key(nslc, day) == key
        assert key.startswith(layout.day_prefix(day, nslc.network))


def test_scedc_names_as_documented() -> None:
    layout = layout_named("scedc")
    assert layout.key(Nslc("CI", "WBM", "", "LHZ"), dt.date(2022, 1, 1)) == (
        "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"
    )
    assert layout.key(Nslc("BK", "THIS", "00", "LHZ"), dt.date(2022, 1, 2)).endswith(
        "BKTHIS_LHZ00_2022002.ms"
    )
    assert layout.parse_key("continuous_waveforms/index/csv/year=2022/index.csv") is None


def test_unknown_layout() -> None:
    with pytest.raises(ConfigError, match="scedc"):
        layout_named("sds-someday")


def test_local_store_reads_ranges(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.bin").write_bytes(bytes(range(256)) * 4)
    store = LocalStore(tmp_path)
    chunk = store.get_range("a/f.bin", start=10, end=20)
    assert chunk.data == bytes(range(10, 20)) and chunk.offset == 10 and chunk.size == 1024
    assert store.get_suffix("a/f.bin", length=5).data == bytes(range(251, 256))
    assert store.get_range("a/f.bin", start=1000, end=2000).data == (bytes(range(256)) * 4)[1000:]
    assert store.list("a/") == ["a/f.bin"]
    with pytest.raises(NoSuchKey):
        store.get("a/missing")


@pytest.mark.parametrize(
    "key", ["../secret", "/etc/passwd", "a/../../secret", "a//f.bin", "link/secret", "a\\f.bin"]
)
def test_local_store_never_leaves_its_root(tmp_path: Path, key: str) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.bin").write_bytes(b"x")
    (tmp_path / "secret").write_bytes(b"secret")
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(NoSuchKey):
        LocalStore(root).get(key)


def test_s3_store_reads_what_the_file_holds(s3) -> None:
    key = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    data = (DATA / "scedc-pds" / key).read_bytes()
    store = S3Store("scedc-pds", endpoint_url=s3.url)
    chunk = store.get_range(key, start=512 * 7, end=512 * 9)
    assert chunk.data == data[512 * 7 : 512 * 9] and chunk.size == len(data)
    tail = store.get_suffix(key, length=512)
    assert tail.data == data[-512:] and tail.offset == len(data) - 512
    assert s3.records[0].range == "bytes=3584-4607"
    with pytest.raises(NoSuchKey):
        store.get_range("continuous_waveforms/nope.ms", start=0, end=10)
    listed = store.list("continuous_waveforms/2022/2022_002/CI")
    assert key in listed and all(k.startswith("continuous_waveforms/2022/2022_002/CI") for k in listed)


_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
#: (call, arguments): inside, at both ends, past the end, empty, longer than the object.
_READS = [
    ("get_range", {"start": 0, "end": 512}),
    ("get_range", {"start": 1000, "end": 3000}),
    ("get_range", {"start": 512 * 7, "end": 10**9}),
    ("get_range", {"start": 10**9, "end": 10**9 + 10}),
    ("get_suffix", {"length": 700}),
    ("get_suffix", {"length": 10**9}),
    ("get", {}),
]


def _answers(store: Store) -> list[Chunk]:
    return [getattr(store, call)(_KEY, **kwargs) for call, kwargs in _READS]


def test_every_store_answers_a_read_the_same(s3, tmp_path: Path) -> None:
    """MemoryStore is the seam of the logic tests: it must read as S3 (moto) and a directory do."""
    data = (DATA / "scedc-pds" / _KEY).read_bytes()
    local = tmp_path / _KEY
    local.parent.mkdir(parents=True)
    local.write_bytes(data)
    on_s3 = _answers(S3Store("scedc-pds", endpoint_url=s3.url))
    assert [(c.data, c.offset, c.size) for c in _answers(MemoryStore({_KEY: data}))] == [
        (c.data, c.offset, c.size) for c in on_s3
    ]
    assert [(c.data, c.offset, c.size) for c in _answers(LocalStore(tmp_path))] == [
        (c.data, c.offset, c.size) for c in on_s3
    ]
    assert on_s3[1].data == data[1000:3000] and on_s3[4].data == data[-700:]
    # stat: the same size everywhere, the same answer for a missing key.
    stores = [S3Store("scedc-pds", endpoint_url=s3.url), MemoryStore({_KEY: data}), LocalStore(tmp_path)]
    assert [store.stat(_KEY).size for store in stores] == [len(data)] * 3
    for store in stores:
        with pytest.raises(NoSuchKey):
            store.stat("continuous_waveforms/nope.ms")
    with pytest.raises(NoSuchKey):
        MemoryStore({_KEY: data}).get("continuous_waveforms/nope.ms")
