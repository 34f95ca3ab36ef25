"""libmseed's warnings are not all corruption (issue 10, item 1).

A warning about a record's header only (the blockette count of the fixed header, a blockette
present but discarded) leaves its samples whole: the record is kept, as ObsPy keeps it, and
the warning is named in the window's message. A message about the samples or about where
they are (a failed Steim check, a blockette libmseed cannot size) leaves the record out and
reported, never turned into samples. ObsPy reading the same bytes is the oracle.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import obspy
import pytest
from obspy import read

from seiswindow import Archive, Extractor
from seiswindow.archive import ScedcLayout
from seiswindow.model import Status, Window
from seiswindow.mseed import decode, scan_records
from seiswindow.store import LocalStore, MemoryStore
from support.oracle import assert_matches_oracle, oracle
from support.s3server import default_data_root

#: ObsPy's own test file: every record's fixed header says 2 blockettes, 1 is there.
OBSPY_FILE = Path(obspy.__file__).parent / "io/mseed/tests/data/wrong_blockette_numbers_specified.mseed"
DATA = default_data_root() / "scedc-pds"
KEY = "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"
RECLEN = 512
#: Records 100..103 of CI.WBM..LHZ 2022-001 (1 Hz).
MODIFIED = range(100, 104)


@pytest.fixture(autouse=True)
def _quiet_obspy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ObsPy repeats libmseed's warnings; they are the point here
        yield


def test_obspy_file_with_a_wrong_blockette_count_is_read_whole() -> None:
    data = OBSPY_FILE.read_bytes()
    expected = read(str(OBSPY_FILE))
    assert len(expected) == 1
    trace = expected[0]
    window = Window.from_nslc("SK.MODS..HHZ", "2016-01-06T23:59:10", "2016-01-06T23:59:50")
    # The file starts at 23:59:05 of 2016-006: its day file in the SCEDC layout.
    key = ScedcLayout().key(window.nslc, trace.stats.starttime.datetime.date())
    extractor = Extractor(Archive(MemoryStore({key: data}), ScedcLayout()))
    try:
        (result,) = extractor.extract([window])
    finally:
        extractor.close()
    assert result.status is Status.OK, result.message
    assert "Number of blockettes in fixed header (2) does not match the number parsed (1)" in result.message
    assert "kept despite libmseed's warning" in result.message
    expected.trim(obspy.UTCDateTime(ns=window.start), obspy.UTCDateTime(ns=window.end))
    assert_matches_oracle(result, expected)


def test_the_whole_obspy_file_decodes_as_obspy_reads_it() -> None:
    data = OBSPY_FILE.read_bytes()
    headers, bad = scan_records(data, offset=0)
    assert bad == []
    decoded = decode([("f", 0, data, headers)])
    assert decoded.problems == []
    assert len(decoded.warnings) == 1 and f"{len(headers)} records kept" in decoded.warnings[0]
    (segment,) = decoded.segments
    np.testing.assert_array_equal(segment.samples, read(str(OBSPY_FILE))[0].data)


def _modified_day(tmp_path: Path, offset: int, fmt: str, value: int) -> Path:
    data = bytearray((DATA / KEY).read_bytes())
    for record in MODIFIED:
        struct.pack_into(fmt, data, record * RECLEN + offset, value)
    path = tmp_path / KEY
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(data))
    return path


def _window_over_the_modified_records() -> Window:
    """From a minute before record 100 to a minute after record 103 (ObsPy reads the times)."""
    data = (DATA / KEY).read_bytes()
    first = read(io.BytesIO(data[MODIFIED[0] * RECLEN : (MODIFIED[0] + 1) * RECLEN]))[0].stats
    last = read(io.BytesIO(data[MODIFIED[-1] * RECLEN : (MODIFIED[-1] + 1) * RECLEN]))[0].stats
    return Window.from_nslc("CI.WBM..LHZ", str(first.starttime - 60), str(last.endtime + 60))


def _extract(root: Path, window: Window):
    extractor = Extractor(Archive(LocalStore(root), ScedcLayout()))
    try:
        return extractor.extract([window])[0]
    finally:
        extractor.close()


def test_a_header_warning_keeps_the_samples(tmp_path: Path) -> None:
    """Byte 39 of the fixed header (the number of blockettes) one too high."""
    original = bytearray((DATA / KEY).read_bytes())
    path = _modified_day(tmp_path, 39, ">B", original[100 * RECLEN + 39] + 1)
    window = _window_over_the_modified_records()
    result = _extract(tmp_path, window)
    assert result.status is Status.OK, result.message
    assert f"{len(MODIFIED)} records kept despite libmseed's warning" in result.message
    assert "Number of blockettes in fixed header (3) does not match the number parsed (2)" in result.message
    assert_matches_oracle(result, oracle([path], window))
    # ... and ObsPy reads the same samples as from the untouched file.
    assert_matches_oracle(result, oracle([DATA / KEY], window))


def test_a_blockette_libmseed_cannot_size_leaves_the_record_out(tmp_path: Path) -> None:
    """Blockette 1001 (at byte 56) turned into an unknown type: libmseed logs an error, ObsPy
    refuses the record; its samples are not ours either."""
    _modified_day(tmp_path, 56, ">H", 1234)
    window = _window_over_the_modified_records()
    result = _extract(tmp_path, window)
    assert result.status is Status.PARTIAL
    assert "Unknown blockette length for type 1234" in result.message
    assert "left out" in result.message
    # What is kept equals ObsPy on the intact file; the left-out records are a gap.
    intact = oracle([DATA / KEY], window)[0]
    span = result.span
    assert span is not None
    for segment in result.segments:
        k = round((segment.start - intact.stats.starttime.ns) / 1e9 * intact.stats.sampling_rate)
        np.testing.assert_array_equal(segment.samples, intact.data[k : k + segment.npts])
    data = (DATA / KEY).read_bytes()
    left_out = sum(read(io.BytesIO(data[r * RECLEN : (r + 1) * RECLEN]))[0].stats.npts for r in MODIFIED)
    assert sum(s.npts for s in result.segments) == intact.stats.npts - left_out
