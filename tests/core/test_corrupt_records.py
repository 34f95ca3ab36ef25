"""One corrupt record of a real day file (CI.CCA BHN, 40 Hz): the windows that need it
are told and get no wrong sample; every other window equals ObsPy reading the intact
file. Each case is a defect seen before (issue 16)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime, read

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.model import Status, Window, WindowResult
from seiswindow.store import LocalStore
from support.oracle import assert_matches_oracle, oracle

KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
RECLEN = 512
NEAR = Window.from_nslc("CI.CCA..BHN", "2022-01-02T00:18:00", "2022-01-02T00:22:00")  # holds record 100
FAR = Window.from_nslc("CI.CCA..BHN", "2022-01-02T05:00:00", "2022-01-02T05:01:00")
START = Window.from_nslc("CI.CCA..BHN", "2022-01-02T00:00:00", "2022-01-02T00:00:30")  # holds record 0
OTHER = Window.from_nslc("CI.HEC..BHN", "2022-01-02T05:00:00", "2022-01-02T05:01:00")

Mutation = Callable[[bytearray, int], None]


def _put(offset: int, fmt: str, value: int) -> Mutation:
    def mutate(data: bytearray, base: int) -> None:
        struct.pack_into(fmt, data, base + offset, value)

    return mutate


def _flip(offset: int, bit: int) -> Mutation:
    def mutate(data: bytearray, base: int) -> None:
        data[base + offset] ^= 1 << bit

    return mutate


#: (name, record, mutation): offsets in the miniSEED 2 fixed header and blockette 1000.
CASES = [
    ("rate factor 0", 100, _put(32, ">h", 0)),
    ("rate factor bit flip (32 Hz)", 100, _flip(33, 3)),
    ("rate factor 8", 100, _put(32, ">h", 8)),
    ("channel byte not UTF-8", 100, _put(17, ">B", 0xFF)),
    ("text encoding in a Steim2 file", 100, _put(52, ">B", 0)),
    ("time correction +0.45 s", 100, _put(40, ">i", 4500)),
    ("year 1990", 100, _put(20, ">h", 1990)),
    ("fraction over 9999", 100, _put(28, ">h", 12000)),
    ("first record: fraction over 9999", 0, _put(28, ">h", 12000)),
    ("first record: channel byte not UTF-8", 0, _put(17, ">B", 0xFF)),
    ("first record: time correction +0.4512 s", 0, _put(40, ">i", 4512)),
    ("first record: rate factor 0", 0, _put(32, ">h", 0)),
]


@pytest.fixture(scope="module")
def intact(shared_data: Path) -> Path:
    return shared_data / "scedc-pds"


def _archive(root: Path, intact: Path, mutate: Mutation, record: int) -> Path:
    data = bytearray((intact / KEY).read_bytes())
    mutate(data, record * RECLEN)
    for key, content in ((KEY, bytes(data)), (OTHER_KEY, (intact / OTHER_KEY).read_bytes())):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


OTHER_KEY = "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms"


def _samples_agree_with(result: WindowResult, path: Path) -> None:
    """Every sample we answer, at its time, is the intact file's sample at that time."""
    trace = read(str(path)).merge()[0]
    for segment in result.segments:
        assert segment.sampling_rate == trace.stats.sampling_rate
        k = round((segment.start - trace.stats.starttime.ns) / 1e9 * trace.stats.sampling_rate)
        assert abs(UTCDateTime(ns=segment.start) - (trace.stats.starttime + k * trace.stats.delta)) < 1e-5
        np.testing.assert_array_equal(segment.samples, trace.data[k : k + len(segment.samples)])


@pytest.mark.parametrize(("name", "record", "mutate"), CASES, ids=[c[0] for c in CASES])
def test_one_corrupt_record_costs_only_its_own_samples(
    tmp_path: Path, intact: Path, name: str, record: int, mutate: Mutation
) -> None:
    root = _archive(tmp_path, intact, mutate, record)
    hit = NEAR if record else START
    with Extractor(Archive(LocalStore(root), layout_named("scedc"))) as extractor:
        results = extractor.extract([hit, FAR, OTHER])  # one request: no exception escapes
    touched, far, other = results
    # The window that needs the bad record is told, and what it gets is right.
    assert touched.status is not Status.OK, name
    assert "left out" in touched.message or "ignored" in touched.message, touched.message
    _samples_agree_with(touched, intact / KEY)
    # The others are exact, as ObsPy reads the intact files.
    assert far.status is Status.OK, far.message
    assert_matches_oracle(far, oracle([intact / KEY], FAR))
    assert other.status is Status.OK, other.message
    assert_matches_oracle(other, oracle([intact / OTHER_KEY], OTHER))
