"""Faults: S3 errors and dropped connections recover; missing files are ``nodata``;
truncated and corrupt files are reported, never turned into wrong samples."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from obspy import read
from pymseed import MS3Record

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.store import S3Store
from support.oracle import assert_matches_oracle, oracle
from support.s3server import REGION, default_data_root, s3_client

KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = default_data_root() / "scedc-pds" / KEY
WINDOW = ("CI", "CCA", "", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")


def _extractor(url: str, bucket: str = "scedc-pds", **options: object) -> Extractor:
    store = S3Store(bucket, endpoint_url=url, **options)  # type: ignore[arg-type]
    return Extractor(Archive(store, layout_named("scedc")))


@pytest.mark.parametrize("kind", ["503", "500", "drop", "reset"])
def test_transient_faults_are_retried(s3, kind: str) -> None:
    window = Window.create(*WINDOW)
    s3.inject(kind, count=3, path_contains="CICCA")
    with _extractor(s3.url) as extractor:
        (result,) = extractor.extract([window])
    assert s3.pending_injections == 0  # every fault was met ...
    assert result.status is Status.OK, result.message  # ... and recovered from
    assert_matches_oracle(result, oracle([CCA], window))


def test_persistent_faults_give_an_error_within_bounded_time(s3) -> None:
    s3.inject("503", count=1000, path_contains="CICCA")
    with _extractor(s3.url, max_attempts=3, max_seconds=5.0) as extractor:
        ok, failing = extractor.extract(
            [
                Window.create("CI", "HEC", "", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00"),
                Window.create(*WINDOW),
            ]
        )
    s3.clear_injections()
    assert failing.status is Status.ERROR
    assert "503" in failing.message or "SlowDown" in failing.message or "Service" in failing.message
    assert s3.count(path_contains="CICCA") <= 2 * 3  # head and tail reads, 3 attempts each
    assert ok.status is Status.OK  # one failing window does not fail the others


def test_missing_day_file_is_nodata_naming_the_file(s3) -> None:
    with _extractor(s3.url) as extractor:
        (result,) = extractor.extract(
            [Window.create("CI", "CCA", "", "BHZ", "2022-01-02T10:00:00", "2022-01-02T10:05:00")]
        )
    assert result.status is Status.NODATA
    assert "CICCA__BHZ___2022002.ms" in result.message
    assert result.segments == ()


@pytest.fixture
def scratch(moto_endpoint: str) -> Iterator[tuple[str, object]]:
    """A fresh public bucket on the moto server for damaged copies of the sample files."""
    client = s3_client(moto_endpoint)
    bucket = f"scratch-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    yield bucket, client


def _put(scratch: tuple[str, object], data: bytes) -> None:
    bucket, client = scratch
    client.put_object(Bucket=bucket, Key=KEY, Body=data, ACL="public-read")  # type: ignore[attr-defined]


def _record_window(data: bytes, first: int, last: int) -> tuple[str, str]:
    """A window from the start of record ``first`` to the end of record ``last``."""
    a = MS3Record.parse(data[first * 512 : (first + 1) * 512])
    b = MS3Record.parse(data[last * 512 : (last + 1) * 512])
    return a.starttime_str(), b.endtime_str()


def test_truncated_file_is_reported_and_good_samples_kept(s3, scratch, tmp_path) -> None:
    data = CCA.read_bytes()
    nrec = len(data) // 512
    truncated = data[: (nrec - 10) * 512 + 300]  # the file stops in the middle of a record
    _put(scratch, truncated)
    start, end = _record_window(data, nrec - 30, nrec - 1)
    window = Window.create("CI", "CCA", "", "BHN", start, end)
    with _extractor(s3.url, scratch[0]) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.PARTIAL
    assert "truncated" in result.message
    # ObsPy reading the whole records of the truncated file is the oracle for what is kept.
    whole = tmp_path / "whole.ms"
    whole.write_bytes(truncated[: (nrec - 10) * 512])
    assert_matches_oracle(result, oracle([whole], window))
    assert result.gaps[-1].end == window.end  # the lost tail is a gap, not invented samples


def test_corrupt_record_is_left_out_and_reported(s3, scratch, tmp_path) -> None:
    data = bytearray(CCA.read_bytes())
    bad = 4000
    data[bad * 512 + 300] ^= 0x10  # a flipped bit in the Steim2 frames of one record
    _put(scratch, bytes(data))
    start, end = _record_window(bytes(data), bad - 5, bad + 5)
    window = Window.create("CI", "CCA", "", "BHN", start, end)
    with _extractor(s3.url, scratch[0]) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.PARTIAL
    assert f"byte {bad * 512}" in result.message and "Steim" in result.message
    assert (
        len(result.segments) == 2
        and result.gaps[0].samples == MS3Record.parse(bytes(data[bad * 512 : (bad + 1) * 512])).samplecnt
    )
    # The samples kept are exactly ObsPy's reading of the file without that record.
    clean = tmp_path / "clean.ms"
    clean.write_bytes(bytes(data[: bad * 512] + data[(bad + 1) * 512 :]))
    expected = oracle([clean], window)
    ours = np.concatenate([s.samples for s in result.segments])
    np.testing.assert_array_equal(ours, expected[0].data.compressed())
    # ... and none of them is one ObsPy would decode from the damaged record.
    damaged = tmp_path / "damaged.ms"
    damaged.write_bytes(bytes(data[bad * 512 : (bad + 1) * 512]))
    assert read(str(damaged))[0].stats.npts > 0


def test_a_silent_server_costs_bounded_time() -> None:
    """An S3 endpoint that accepts connections and never answers: the read gives up at its
    time budget, having retried within it, not after attempts x timeouts."""
    import socket
    import threading
    import time

    from seiswindow import ArchiveError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    store = S3Store("scedc-pds", endpoint_url=url, read_timeout=0.5, max_seconds=1.0, max_attempts=20)
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=r"time budget \(1 s\) ran out"):
        store.get_range(KEY, start=0, end=512)
    elapsed = time.monotonic() - began
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()
    assert elapsed < 1.0 + 1.0  # the budget and slack
    assert len(held) >= 2  # it did retry within the budget


def test_windows_of_a_stalling_file_cost_one_budget_not_one_each(s3) -> None:
    """100 windows of one file whose every read stalls: the windows share the file's first
    round, and once it failed the others fail at once with the same message (issue 16:
    213 s for 100 windows; 500 would pass Lambda's 15 minutes)."""
    import time

    from seiswindow import Archive, Extractor
    from seiswindow.archive import layout_named
    from seiswindow.model import Status, Window
    from seiswindow.store import S3Store

    key = "CICCA__BHN___2022002"
    s3.inject("stall_head", count=10_000, path_contains=key, seconds=60.0)
    budget = 2.0
    store = S3Store("scedc-pds", endpoint_url=s3.url, max_seconds=budget)
    windows = [
        Window.from_nslc("CI.CCA..BHN", f"2022-01-02T{h:02d}:{m:02d}:00", f"2022-01-02T{h:02d}:{m:02d}:30")
        for h in range(1, 21)
        for m in range(0, 50, 10)
    ]
    windows.append(Window.from_nslc("CI.HEC..BHN", "2022-01-02T10:00:00", "2022-01-02T10:00:30"))
    with Extractor(Archive(store, layout_named("scedc"))) as extractor:
        began = time.monotonic()
        results = extractor.extract(windows)
        took = time.monotonic() - began
    assert [r.status for r in results[:-1]] == [Status.ERROR] * 100
    assert results[-1].status is Status.OK, results[-1].message
    assert len({r.message for r in results[:-1]}) == 1, {r.message for r in results[:-1]}
    assert "time budget" in results[0].message
    cca = [r for r in s3.records if key in r.path]
    assert len(cca) <= 2, len(cca)  # the one shared first round: a head and a tail read
    assert took < 2 * budget + 3.0, took  # generous: one budget, not one per window
