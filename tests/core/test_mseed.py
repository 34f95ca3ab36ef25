"""seiswindow.mseed: records packed by libmseed, read back by ObsPy (the oracle) and by our
own decoder; the Steim2 day files of the demo written the way SCEDC writes them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import obspy
import pytest
from obspy import Trace

from seiswindow.errors import DataError
from seiswindow.model import Nslc
from seiswindow.mseed import decode, pack_records, scan_records, write_steim2_file

WBM = "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
THIS = "scedc-pds/continuous_waveforms/2022/2022_002/BKTHIS_LHZ00_2022002.ms"


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Trace:
    [trace] = obspy.read(str(shared_data / WBM)).merge()
    return trace


def _nslc(trace: Trace) -> Nslc:
    s = trace.stats
    return Nslc(s.network, s.station, s.location, s.channel)


def _read(records: list[bytes]) -> obspy.Stream:
    return obspy.read(io.BytesIO(b"".join(records)), format="MSEED")


@pytest.mark.parametrize("record_length", [512, 4096])
def test_packed_real_samples_read_back_by_obspy(real: Trace, record_length: int) -> None:
    samples = real.data[:5000]
    records = pack_records(
        samples,
        nslc=_nslc(real),
        start=real.stats.starttime.ns,
        sampling_rate=real.stats.sampling_rate,
        record_length=record_length,
    )
    assert all(len(r) == record_length for r in records)
    [trace] = _read(records)
    assert trace.id == real.id
    assert trace.stats.starttime.ns == real.stats.starttime.ns
    assert trace.stats.sampling_rate == real.stats.sampling_rate
    np.testing.assert_array_equal(trace.data, samples)
    assert trace.stats.mseed.encoding == "STEIM2"
    assert trace.stats.mseed.record_length == record_length


def test_packed_location_code_travels(shared_data: Path) -> None:
    [real] = obspy.read(str(shared_data / THIS)).merge()
    assert real.stats.location == "00"
    records = pack_records(
        real.data[:100],
        nslc=_nslc(real),
        start=real.stats.starttime.ns,
        sampling_rate=real.stats.sampling_rate,
    )
    assert _read(records)[0].id == real.id


@pytest.mark.parametrize(
    ("dtype", "encoding"), [(np.float32, "FLOAT32"), (np.float64, "FLOAT64"), (np.int16, "STEIM2")]
)
def test_sample_types_pack_as_obspy_reads_them(dtype: type, encoding: str) -> None:
    samples: np.ndarray[Any, Any] = (np.arange(300) % 17 - 8).astype(dtype)
    records = pack_records(samples, nslc=Nslc("SY", "X", "", "BHZ"), start=10**18, sampling_rate=40.0)
    [trace] = _read(records)
    assert trace.stats.mseed.encoding == encoding
    np.testing.assert_array_equal(trace.data, samples)
    assert trace.stats.starttime.ns == 10**18


def test_differences_steim2_cannot_hold_fall_back_to_int32() -> None:
    # Steim2 holds differences of at most 30 bits.
    samples = np.array([0, 1 << 29] * 100, dtype=np.int32)
    records = pack_records(samples, nslc=Nslc("SY", "X", "", "BHZ"), start=0, sampling_rate=1.0)
    [trace] = _read(records)
    assert trace.stats.mseed.encoding == "INT32"
    np.testing.assert_array_equal(trace.data, samples)


def test_samples_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(DataError, match="cannot be written as miniSEED"):
        pack_records(np.array(["a", "b"]), nslc=Nslc("SY", "X", "", "BHZ"), start=0, sampling_rate=1.0)


@pytest.mark.parametrize("format_version", [2, 3])  # ObsPy reads no miniSEED 3: our decoder does
def test_pack_then_decode_round_trip(real: Trace, format_version: int) -> None:
    samples = real.data[:3000]
    records = pack_records(
        samples,
        nslc=_nslc(real),
        start=real.stats.starttime.ns,
        sampling_rate=1.0,
        format_version=format_version,
    )
    data = b"".join(records)
    headers, bad = scan_records(data, offset=0)
    assert bad == []
    decoded = decode([("packed", 0, data, headers)])
    assert decoded.problems == []
    [segment] = decoded.segments
    assert segment.nslc == _nslc(real)
    assert segment.start == real.stats.starttime.ns
    np.testing.assert_array_equal(segment.samples, samples)


def test_steim2_file_as_scedc_writes_them(real: Trace, tmp_path: Path) -> None:
    delta_ns = int(real.stats.delta * 1e9)
    start = real.stats.starttime.ns
    first, second = real.data[:1000].astype(np.int32), real.data[1500:2500].astype(np.int32)
    path = tmp_path / "day.ms"
    path.write_bytes(b"stale bytes are overwritten, not appended to")
    write_steim2_file(
        path, [(start, first), (start + 1500 * delta_ns, second)], nslc=_nslc(real), sampling_rate=1.0
    )
    stream = obspy.read(str(path))
    assert [tr.stats.mseed.encoding for tr in stream] == ["STEIM2", "STEIM2"]
    assert {tr.stats.mseed.record_length for tr in stream} == {512}
    assert path.stat().st_size % 512 == 0
    np.testing.assert_array_equal(stream[0].data, first)
    np.testing.assert_array_equal(stream[1].data, second)
    assert stream[1].stats.starttime.ns == start + 1500 * delta_ns
    assert len(stream.get_gaps()) == 1
