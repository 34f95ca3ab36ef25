"""`S3Store` against a misbehaving S3, measured at the proxy: the time budget holds whatever
the endpoint does, final answers are not retried, retries wait their backoff, and answers
are checked against the range asked."""

from __future__ import annotations

import random
import time

import pytest

from seiswindow import ArchiveError, NoSuchKey
from seiswindow.store import S3Store
from support.s3server import FaultKind, S3Proxy, default_data_root

KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = default_data_root() / "scedc-pds" / KEY
WBM_KEY = "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"
WBM = default_data_root() / "scedc-pds" / WBM_KEY
BUDGET_S = 2.0
SLACK_S = 1.5  # generous: thread wake-ups on a loaded machine, not a speed claim


def _store(url: str, **options: object) -> S3Store:
    return S3Store("scedc-pds", endpoint_url=url, **options)  # type: ignore[arg-type]


# -- the time budget -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("stall_head", {"seconds": 60.0}),  # silent for longer than the read timeout
        ("stall_body", {"seconds": 60.0}),  # headers, then silence
        ("trickle_head", {"bytes_per_s": 2.0}),  # a byte now and then: no read ever times out
        ("trickle_body", {"bytes_per_s": 2.0}),
    ],
)
def test_a_sick_endpoint_costs_the_budget_not_more(s3: S3Proxy, kind: FaultKind, options: dict) -> None:
    s3.inject(kind, count=100, path_contains="CICCA", **options)
    store = _store(s3.url, read_timeout=10.0, max_seconds=BUDGET_S, max_attempts=3)
    began = time.monotonic()
    with pytest.raises(ArchiveError) as info:
        store.get_range(KEY, start=0, end=4096)
    elapsed = time.monotonic() - began
    message = str(info.value)
    assert KEY in message and f"time budget ({BUDGET_S:g} s) ran out" in message
    assert elapsed < BUDGET_S + SLACK_S, elapsed
    # At the proxy too: the client hung up on the sick answer within the budget.
    (record,) = s3.wait_for_records(1)
    assert record.hung_up and record.elapsed_s < BUDGET_S + SLACK_S
    # The connection shut at the deadline is not handed to the next read.
    s3.clear_injections()
    assert store.get_range(KEY, start=0, end=512).data == CCA.read_bytes()[:512]
    store.close()


def test_retries_after_a_stall_stay_within_the_budget(s3: S3Proxy) -> None:
    """A first attempt that stalls leaves no extra time for the retries after it."""
    s3.inject("stall_body", count=1, path_contains="CICCA", seconds=60.0)
    s3.inject("503", count=100, path_contains="CICCA")
    store = _store(s3.url, read_timeout=1.0, max_seconds=BUDGET_S, max_attempts=50)
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=r"time budget \(2 s\) ran out"):
        store.get(KEY)
    assert time.monotonic() - began < BUDGET_S + SLACK_S
    assert s3.count() >= 2  # it did retry after the read timeout, inside the budget
    store.close()


def test_a_listing_that_stalls_costs_the_budget(s3: S3Proxy) -> None:
    s3.inject("stall_head", count=100, seconds=60.0)
    store = _store(s3.url, read_timeout=10.0, max_seconds=BUDGET_S)
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=r"time budget \(2 s\) ran out"):
        store.list("continuous_waveforms/2022/2022_002/")
    assert time.monotonic() - began < BUDGET_S + SLACK_S
    store.close()


# -- what is retried and how -----------------------------------------------------------------


def test_a_missing_key_is_one_request(s3: S3Proxy) -> None:
    store = _store(s3.url)
    with pytest.raises(NoSuchKey):
        store.get_range("continuous_waveforms/2022/2022_002/CIXXX__BHZ___2022002.ms", start=0, end=512)
    assert [r.status for r in s3.records] == [404]


def test_access_denied_is_one_request(s3: S3Proxy) -> None:
    s3.inject("403", count=10, path_contains="CICCA")
    store = _store(s3.url)
    with pytest.raises(ArchiveError, match="AccessDenied") as info:
        store.get_suffix(KEY, length=512)
    assert KEY in str(info.value)
    assert [(r.status, r.fault) for r in s3.records] == [(403, "403")]


def test_a_missing_bucket_is_an_error_not_a_missing_file(s3: S3Proxy) -> None:
    """A wrong bucket name must not answer `nodata` for every window."""
    store = S3Store("no-such-bucket-seiswindow", endpoint_url=s3.url)
    with pytest.raises(ArchiveError, match="NoSuchBucket"):
        store.get_range(KEY, start=0, end=512)
    assert s3.count() == 1


def test_retries_wait_the_backoff(s3: S3Proxy) -> None:
    """Each retry starts no sooner than its full-jitter pause after the failed answer."""
    seed, failures = 0, 3
    replay = random.Random(seed)
    pauses = [replay.uniform(0, min(2.0, 0.1 * 2**attempt)) for attempt in range(1, failures + 1)]
    assert min(pauses) > 0.1  # a seed whose pauses a missing sleep could not hide behind
    s3.inject("503", count=failures, path_contains="CICCA")
    store = _store(s3.url, rng=random.Random(seed))
    chunk = store.get_range(KEY, start=0, end=512)
    assert chunk.data == CCA.read_bytes()[:512]
    records = sorted(s3.records, key=lambda r: r.received_at)
    assert [r.status for r in records] == [503] * failures + [206]
    for earlier, later, pause in zip(records[:-1], records[1:], pauses, strict=True):
        answered = earlier.received_at + earlier.elapsed_s
        assert later.received_at - answered >= pause, (later.received_at - answered, pause)


def test_a_body_that_fails_its_checksum_is_read_again(s3: S3Proxy) -> None:
    s3.inject("corrupt", path_contains="CIWBM")
    chunk = _store(s3.url).get(WBM_KEY)
    assert chunk.data == WBM.read_bytes()
    assert [(r.status, r.fault) for r in s3.records] == [(200, "corrupt"), (200, None)]


# -- answers checked against the range asked -------------------------------------------------


def test_a_server_that_ignores_the_range_gives_the_bytes_asked(s3: S3Proxy) -> None:
    data = CCA.read_bytes()
    store = _store(s3.url)
    s3.inject("ignore_range")
    chunk = store.get_range(KEY, start=1000, end=1512)
    assert (chunk.offset, chunk.size, chunk.data) == (1000, len(data), data[1000:1512])
    s3.inject("ignore_range")
    tail = store.get_suffix(KEY, length=512)
    assert (tail.offset, tail.size, tail.data) == (len(data) - 512, len(data), data[-512:])
    assert [(r.status, r.body_bytes) for r in s3.records] == [(200, len(data))] * 2


def test_a_range_past_the_end_tells_the_size(s3: S3Proxy) -> None:
    size = WBM.stat().st_size
    chunk = _store(s3.url).get_range(WBM_KEY, start=size, end=size + 512)
    assert (chunk.data, chunk.offset, chunk.size) == (b"", size, size)
    assert [r.status for r in s3.records] == [416]


def test_a_partial_answer_for_other_bytes_is_an_error(s3: S3Proxy) -> None:
    """A 206 for bytes other than those asked is refused, not passed on as if asked."""
    store = _store(s3.url)
    s3.inject("shift_range")
    with pytest.raises(ArchiveError, match=r"bytes 1512-2023 .* for bytes 1000-1511") as info:
        store.get_range(KEY, start=1000, end=1512)
    assert KEY in str(info.value)
    s3.inject("shift_range")
    with pytest.raises(ArchiveError, match="for bytes"):
        store.get_suffix(KEY, length=512)
    assert [(r.status, r.fault) for r in s3.records] == [(206, "shift_range")] * 2  # not retried


def test_a_deadline_shuts_only_its_own_read(s3: S3Proxy) -> None:
    """Reads of a stalling file and of a healthy one share one store and its pool: the
    stalled ones end at their budget, the healthy ones all get their bytes."""
    from concurrent.futures import ThreadPoolExecutor

    s3.inject("stall_body", count=8, path_contains="CIWBM", seconds=60.0)
    store = _store(s3.url, read_timeout=10.0, max_seconds=BUDGET_S, max_attempts=2, max_connections=16)
    data = CCA.read_bytes()

    def read(i: int) -> bytes | str:
        key, start = (WBM_KEY, 0) if i % 3 == 0 else (KEY, i * 4096)
        try:
            return store.get_range(key, start=start, end=start + 4096).data
        except ArchiveError as exc:
            return str(exc)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(read, range(24)))
    assert time.monotonic() - began < 2 * BUDGET_S + SLACK_S  # 24 reads on 12 threads
    for i, result in enumerate(results):
        if i % 3:
            assert result == data[i * 4096 : (i + 1) * 4096], i
        else:
            assert isinstance(result, str) and "time budget" in result, (i, result)
    store.close()


def test_stat_is_retried_as_reads_are_and_tells_a_missing_key(s3: S3Proxy) -> None:
    """``stat`` (one HEAD) goes through the same retries: two 503s, then the answer."""
    s3.inject("503", count=2, path_contains="CICCA")
    store = _store(s3.url, max_seconds=BUDGET_S, max_attempts=5, rng=random.Random(1))
    info = store.stat(KEY)
    assert info.size == CCA.stat().st_size and s3.count(path_contains="CICCA") == 3
    with pytest.raises(NoSuchKey):
        store.stat("continuous_waveforms/nope.ms")
    store.close()
