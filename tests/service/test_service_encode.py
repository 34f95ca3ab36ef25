"""The encoders against ObsPy: one grid with nulls as ``Stream.merge()`` + ``tolist()``,
segments, miniSEED records read back by ObsPy, and the size rule of :class:`Body`."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import obspy
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from obspy import Stream, Trace, UTCDateTime
from service_helpers import day_files

from seiswindow import Archive, Extractor, Window
from seiswindow.archive import layout_named
from seiswindow.demo import build_demo_archive
from seiswindow.encode import (
    GZIP_MIN_BYTES,
    Body,
    encode_json,
    encode_mseed,
    json_samples,
    merge_segments,
    window_json,
)
from seiswindow.errors import LimitExceeded
from seiswindow.model import Segment, Status, WindowResult
from seiswindow.store import LocalStore
from support.oracle import oracle

T0 = 1_700_000_000 * 1_000_000_000


@pytest.fixture(scope="module")
def scedc(shared_data: Path) -> Iterator[Extractor]:
    archive = Archive(LocalStore(shared_data / "scedc-pds"), layout_named("scedc"))
    with Extractor(archive) as extractor:
        yield extractor


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-archive")
    build_demo_archive(root)
    return root


def _expected(files: list[Path], window: Window) -> Trace:
    stream = oracle(files, window)
    assert len(stream) == 1
    return stream[0]


@pytest.mark.parametrize(
    ("nslc", "start", "end"),
    [
        ("CI.WBM..LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00"),  # across midnight
        ("CI.CCA..BHN", "2022-01-02T00:00:00", "2022-01-02T00:01:00.0125"),  # start of day, sub-sample
        ("CI.NCH..LHZ", "2022-01-02T22:00:00", "2022-01-02T23:30:00"),  # partly outside the data
        ("BK.THIS.00.LHZ", "2022-01-02T23:59:00", "2022-01-03T00:00:00"),  # end of day
    ],
)
def test_json_window_is_the_tutorials_obspy_answer(
    scedc: Extractor, shared_data: Path, nslc: str, start: str, end: str
) -> None:
    window = Window.from_nslc(nslc, start, end)
    [result] = scedc.extract([window])
    tr = _expected(day_files(shared_data, "scedc-pds", window), window)
    ours = orjson.loads(window_json(result))
    assert ours["data"] == tr.data.tolist()
    assert ours["starttime"] == str(tr.stats.starttime)
    assert ours["endtime"] == str(tr.stats.endtime)
    assert ours["sampling_rate"] == tr.stats.sampling_rate
    assert ours["delta"] == tr.stats.delta
    assert ours["location"] == tr.stats.location
    assert [ours["network"], ours["station"], ours["channel"]] == [
        tr.stats.network,
        tr.stats.station,
        tr.stats.channel,
    ]


def test_json_gap_is_null_at_each_missing_sample_as_obspy(demo_root: Path) -> None:
    # The demo's BHZ lacks 10:00:00-10:00:30 on 2024-01-01.
    archive = Archive(LocalStore(demo_root), layout_named("scedc"))
    window = Window.from_nslc("SY.DEMO..BHZ", "2024-01-01T09:59:50", "2024-01-01T10:00:40")
    with Extractor(archive) as extractor:
        [result] = extractor.extract([window])
    assert result.status is Status.PARTIAL and len(result.segments) == 2
    tr = _expected(day_files(demo_root, "", window), window)
    assert np.ma.is_masked(tr.data)
    expected = tr.data.tolist()  # None where masked
    ours = orjson.loads(window_json(result))
    assert ours["data"] == expected
    assert ours["data"].count(None) == int(tr.data.mask.sum()) == 1200
    assert ours["endtime"] == str(tr.stats.endtime)
    gap = ours["gaps"][0]
    assert gap["samples"] == 1200
    # Segments instead: the same samples, split where ObsPy masked them.
    split = orjson.loads(window_json(result, segments=True))
    assert "data" not in split
    assert [x for seg in split["segments"] for x in seg["data"]] == [x for x in expected if x is not None]
    assert [seg["starttime"] for seg in split["segments"]] == [str(t.stats.starttime) for t in tr.split()]


# -- merging, against ObsPy's Stream.merge() ---------------------------------------------

_BASE = np.random.default_rng(7).integers(-1000, 1000, 400).astype(np.int32)


@st.composite
def _pieces(draw: st.DrawFn) -> list[tuple[int, np.ndarray]]:
    """Segments on a 1 Hz grid, possibly overlapping, contained, disagreeing or apart."""
    out = []
    for _ in range(draw(st.integers(1, 5))):
        offset = draw(st.integers(0, 300))
        length = draw(st.integers(1, 80))
        data = _BASE[offset : offset + length].copy()
        if draw(st.booleans()) and draw(st.booleans()):
            data[draw(st.integers(0, len(data) - 1))] += 1  # disagree somewhere
        out.append((offset, data))
    return out


@settings(max_examples=500, deadline=None)
@given(_pieces())
def test_merge_is_obspy_merge(pieces: list[tuple[int, np.ndarray]]) -> None:
    segments = [Segment(T0 + off * 1_000_000_000, 1.0, data) for off, data in pieces]
    stream = Stream(
        [
            Trace(data=data.copy(), header={"starttime": UTCDateTime(ns=s.start)})
            for s, (_, data) in zip(segments, pieces, strict=True)
        ]
    )
    stream.merge()
    [tr] = stream
    merged = merge_segments(segments)
    assert merged is not None
    assert merged.start == tr.stats.starttime.ns
    assert merged.end == tr.stats.endtime.ns
    assert json.loads(json_samples(merged.samples, merged.mask)) == tr.data.tolist()


def test_float32_samples_print_as_tolist() -> None:
    samples = np.array([0.1, -2.5e-7, 3.4028235e38, 1.0, 123456.789], dtype=np.float32)
    # The same doubles as tolist() (not float32's shortest forms, 0.1 prints 0.10000000149011612);
    # only the spelling of exponents may differ (orjson writes e-7 where Python writes e-07).
    text = json_samples(samples)
    assert b"0.10000000149011612" in text
    assert json.loads(text) == samples.tolist()


def test_nodata_window_keeps_its_place() -> None:
    window = Window.from_nslc("CI.XX..LHZ", "2022-01-02T00:00:00", "2022-01-02T00:01:00")
    answer = orjson.loads(encode_json([WindowResult(window, Status.NODATA, message="no day file")]))
    assert answer == [
        {
            "network": "CI",
            "station": "XX",
            "channel": "LHZ",
            "delta": None,
            "location": "",
            "starttime": "2022-01-02T00:00:00.000000Z",
            "endtime": "2022-01-02T00:01:00.000000Z",
            "sampling_rate": None,
            "data": [],
            "status": "nodata",
            "message": "no day file",
            "gaps": [],
        }
    ]


def test_changing_rate_is_reported_not_hidden() -> None:
    window = Window.from_nslc("CI.XX..LHZ", "2022-01-02T00:00:00", "2022-01-02T00:01:00")
    segs = (
        Segment(T0, 1.0, np.arange(10, dtype=np.int32)),
        Segment(T0 + 20 * 10**9, 2.0, np.arange(10, dtype=np.int32)),
    )
    ours = orjson.loads(window_json(WindowResult(window, Status.PARTIAL, segments=segs)))
    assert ours["data"] == [] and ours["status"] == "partial"
    assert "sampling rate changes" in ours["message"] and "Segments" in ours["message"]
    split = orjson.loads(window_json(WindowResult(window, Status.PARTIAL, segments=segs), segments=True))
    assert [s["sampling_rate"] for s in split["segments"]] == [1.0, 2.0]


# -- miniSEED -------------------------------------------------------------------------------


def test_mseed_is_steim2_512_miniseed2_read_back_by_obspy(scedc: Extractor, shared_data: Path) -> None:
    window = Window.from_nslc("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:10:00")
    [result] = scedc.extract([window])
    body = encode_mseed([result])
    assert len(body) % 512 == 0
    assert body[6:7] == b"D" and body[:6].isdigit()  # a miniSEED 2 fixed header
    st_ = obspy.read(io.BytesIO(body))
    tr = _expected(day_files(shared_data, "scedc-pds", window), window)
    assert len(st_) == 1
    assert st_[0].stats.mseed.encoding == "STEIM2"
    assert st_[0].stats.mseed.record_length == 512
    assert st_[0].id == tr.id
    assert abs(st_[0].stats.starttime.ns - tr.stats.starttime.ns) <= 1_000
    np.testing.assert_array_equal(st_[0].data, tr.data)


def test_mseed_floats_and_steim2_overflow() -> None:
    window = Window.from_nslc("XX.TEST..HHZ", "2024-01-01T00:00:00", "2024-01-01T00:01:00")
    floats = np.linspace(-1, 1, 500).astype(np.float32)
    wild = np.array([0, 2**31 - 1, -(2**31), 0] * 50, dtype=np.int32)  # no Steim2 difference fits
    result = WindowResult(
        window,
        Status.PARTIAL,
        segments=(Segment(T0, 100.0, floats), Segment(T0 + 10 * 10**9, 100.0, wild)),
    )
    st_ = obspy.read(io.BytesIO(encode_mseed([result])))
    st_.sort()
    assert [t.stats.mseed.encoding for t in st_] == ["FLOAT32", "INT32"]
    np.testing.assert_array_equal(st_[0].data, floats)
    np.testing.assert_array_equal(st_[1].data, wild)


# -- the size rule -------------------------------------------------------------------------


def test_body_gzips_from_the_threshold_only() -> None:
    small = Body(limit=10**6, gzip=True)
    small.write(b"x" * (GZIP_MIN_BYTES - 1))
    assert small.finish() == b"x" * (GZIP_MIN_BYTES - 1) and not small.gzipped
    big = Body(limit=10**6, gzip=True)
    for _ in range(10):
        big.write(b"[1,2,3]" * 100)
    assert big.gzipped and gzip.decompress(big.finish()) == b"[1,2,3]" * 1000


def test_body_refuses_early_with_advice() -> None:
    body = Body(limit=1000, advice="ask for fewer windows")
    body.write(b"1" * 900)
    with pytest.raises(LimitExceeded, match="over the limit of 1000 bytes; ask for fewer windows"):
        body.write(b"1" * 200)


@pytest.mark.parametrize(
    ("binary", "piece", "travels"), [(False, b'{"a": [1,2]}', 12), (True, b"\x00" * 300, 300)]
)
def test_body_counts_the_size_as_it_travels(binary: bool, piece: bytes, travels: int) -> None:
    """Over HTTP the bytes travel as they are (Lambda's bodies: tests/service/test_aws_envelope.py)."""
    fits = Body(limit=travels, binary=binary)
    fits.write(piece)
    assert fits.finish() == piece
    too_big = Body(limit=travels - 1, binary=binary)
    with pytest.raises(LimitExceeded):
        too_big.write(piece)
        too_big.finish()
