"""The S3 test infrastructure itself: moto loaded with the shared data, and `S3Proxy`.

These pin down what the rest of the suite relies on: bytes through the proxy are the bytes on
disk, the proxy's counts are exact, injected faults reach botocore as the real ones would, and
shaping slows things down. They also record how moto answers edge-case ranges.
"""

from __future__ import annotations

import http.client
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ResponseStreamingError,
)

from support.s3server import BUCKETS, REGION, S3Proxy, s3_client

CCA = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"  # 3.8 MB
WBM = "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"
RUSS = "continuous_waveforms/BK/2022/2022.002/RUSS.BK.LHZ.00.D.2022.002"

NO_RETRY = Config(retries={"total_max_attempts": 1})


def _file(shared_data: Path, bucket: str, key: str) -> bytes:
    return (shared_data / bucket / key).read_bytes()


def _client(url: str, config: Config | None = None) -> Any:
    return s3_client(url, config=config)


# -- moto and the data -----------------------------------------------------------------------


def test_every_shared_file_is_in_its_bucket(moto_endpoint: str, shared_data: Path) -> None:
    client = _client(moto_endpoint)
    for bucket in BUCKETS:
        on_disk = {
            p.relative_to(shared_data / bucket).as_posix(): p.stat().st_size
            for p in (shared_data / bucket).rglob("*")
            if p.is_file()
        }
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        in_s3 = {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}
        assert on_disk
        assert in_s3 == on_disk
        assert "README.md" not in in_s3


def test_buckets_are_readable_anonymously(s3: S3Proxy, shared_data: Path) -> None:
    # The real SCEDC/NCEDC buckets are public; code may read them with unsigned requests.
    client = _client(s3.url, Config(signature_version=UNSIGNED))
    head = client.head_object(Bucket="scedc-pds", Key=WBM)
    assert head["ContentLength"] == len(_file(shared_data, "scedc-pds", WBM))
    body = client.get_object(Bucket="ncedc-pds", Key=RUSS, Range="bytes=0-4095")["Body"].read()
    assert body == _file(shared_data, "ncedc-pds", RUSS)[:4096]


# -- bytes and counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "key", "first", "last"),
    [
        ("scedc-pds", CCA, 0, 511),
        ("scedc-pds", CCA, 1_000_448, 1_000_448 + 8 * 512 - 1),
        ("scedc-pds", WBM, 512, 512),
        ("ncedc-pds", RUSS, 4096, 3 * 4096 - 1),
    ],
)
def test_ranged_get_returns_the_bytes_on_disk(
    s3: S3Proxy, shared_data: Path, bucket: str, key: str, first: int, last: int
) -> None:
    expected = _file(shared_data, bucket, key)[first : last + 1]
    response = _client(s3.url).get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
    assert response["Body"].read() == expected
    assert response["ContentRange"].startswith(f"bytes {first}-{last}/")

    (record,) = s3.records
    assert (record.method, record.bucket, record.key) == ("GET", bucket, key)
    assert record.range == f"bytes={first}-{last}"
    assert (record.status, record.body_bytes, record.fault) == (206, last - first + 1, None)
    assert s3.total_bytes() == last - first + 1


def test_counts_and_bytes_over_many_requests(s3: S3Proxy, shared_data: Path) -> None:
    client = _client(s3.url)
    ranges = [(0, 511), (4096, 8191), (100_000, 100_099)]
    for first, last in ranges:
        client.get_object(Bucket="scedc-pds", Key=CCA, Range=f"bytes={first}-{last}")["Body"].read()
    client.get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-99")["Body"].read()
    client.head_object(Bucket="scedc-pds", Key=WBM)

    assert s3.count() == 5
    assert s3.count(method="GET") == 4
    assert s3.count(method="head") == 1
    assert s3.count(path_contains="CICCA") == 3
    assert s3.count(method="GET", path_contains="CIWBM") == 1
    assert s3.total_bytes("CICCA") == sum(b - a + 1 for a, b in ranges)
    assert s3.total_bytes("CIWBM") == 100  # HEAD answers carry no body
    assert s3.total_bytes() == s3.total_bytes("CICCA") + 100

    s3.reset()
    assert s3.records == [] and s3.count() == 0 and s3.total_bytes() == 0


def test_whole_object_get(s3: S3Proxy, shared_data: Path) -> None:
    expected = _file(shared_data, "scedc-pds", CCA)
    assert _client(s3.url).get_object(Bucket="scedc-pds", Key=CCA)["Body"].read() == expected
    assert [(r.status, r.body_bytes, r.range) for r in s3.records] == [(200, len(expected), None)]


def test_list_query_is_recorded(s3: S3Proxy) -> None:
    listing = _client(s3.url).list_objects_v2(
        Bucket="scedc-pds", Prefix="continuous_waveforms/2022/2022_002/"
    )
    assert listing["KeyCount"] == 6
    (record,) = s3.records
    assert (record.path, record.bucket, record.key) == ("/scedc-pds", "scedc-pds", "")
    assert "list-type=2" in record.query and "prefix=" in record.query
    assert record.body_bytes > 0


def test_concurrent_clients_share_keep_alive_connections(s3: S3Proxy, shared_data: Path) -> None:
    data = _file(shared_data, "scedc-pds", CCA)
    client = _client(s3.url, Config(max_pool_connections=8))
    starts = [i * 4096 for i in range(64)]

    def fetch(start: int) -> bytes:
        rng = f"bytes={start}-{start + 4095}"
        body: bytes = client.get_object(Bucket="scedc-pds", Key=CCA, Range=rng)["Body"].read()
        return body

    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(fetch, starts))

    assert bodies == [data[s : s + 4096] for s in starts]
    assert s3.count() == 64
    assert s3.total_bytes() == 64 * 4096
    connections = {r.connection for r in s3.records}
    assert len(connections) <= 8  # pooled connections were reused, not one per request


def test_keep_alive_on_one_raw_connection(s3: S3Proxy) -> None:
    host, port = s3.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:  # unsigned requests: the objects are public-read
        for rng in ("bytes=0-9", "bytes=10-19", "bytes=-5"):
            conn.request("GET", f"/scedc-pds/{WBM}", headers={"Range": rng})
            response = conn.getresponse()
            assert response.status == 206
            assert len(response.read()) in (10, 5)
    finally:
        conn.close()
    assert [r.body_bytes for r in s3.records] == [10, 10, 5]
    assert len({r.connection for r in s3.records}) == 1


def test_upload_with_expect_100_continue(s3: S3Proxy) -> None:
    # A file-like body makes botocore send `Expect: 100-continue` and wait for the interim
    # answer, which the proxy gives itself. Own bucket: the shared ones stay untouched.
    client = _client(s3.url, NO_RETRY)
    bucket, payload = "s3support-scratch", bytes(range(256)) * 8192
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        client.put_object(Bucket=bucket, Key="blob", Body=io.BytesIO(payload))
        assert client.get_object(Bucket=bucket, Key="blob")["Body"].read() == payload
    finally:
        client.delete_object(Bucket=bucket, Key="blob")
        client.delete_bucket(Bucket=bucket)
    assert [(r.method, r.status) for r in s3.records][1:3] == [("PUT", 200), ("GET", 200)]


# -- how moto answers edge-case ranges (the real S3 answers the same) --------------------------


def test_suffix_range(s3: S3Proxy, shared_data: Path) -> None:
    data = _file(shared_data, "scedc-pds", CCA)
    response = _client(s3.url).get_object(Bucket="scedc-pds", Key=CCA, Range="bytes=-512")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert response["ContentRange"] == f"bytes {len(data) - 512}-{len(data) - 1}/{len(data)}"
    assert response["Body"].read() == data[-512:]


def test_range_past_eof_is_clipped(s3: S3Proxy, shared_data: Path) -> None:
    data = _file(shared_data, "scedc-pds", WBM)
    size = len(data)
    client = _client(s3.url)
    for rng, first in ((f"bytes={size - 100}-{size + 10_000}", size - 100), ("bytes=-99999999", 0)):
        response = client.get_object(Bucket="scedc-pds", Key=WBM, Range=rng)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert response["ContentRange"] == f"bytes {first}-{size - 1}/{size}"
        assert response["Body"].read() == data[first:]


def test_range_starting_at_eof_is_416(s3: S3Proxy, shared_data: Path) -> None:
    size = len(_file(shared_data, "scedc-pds", WBM))
    with pytest.raises(ClientError) as info:
        _client(s3.url).get_object(Bucket="scedc-pds", Key=WBM, Range=f"bytes={size}-")
    assert info.value.response["Error"]["Code"] == "InvalidRange"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


# -- faults ------------------------------------------------------------------------------------


def test_injected_503_reaches_a_client_without_retries(s3: S3Proxy) -> None:
    s3.inject("503")
    with pytest.raises(ClientError) as info:
        _client(s3.url, NO_RETRY).get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-511")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert info.value.response["Error"]["Code"] == "SlowDown"
    assert [(r.status, r.fault) for r in s3.records] == [(503, "503")]
    assert s3.pending_injections == 0


def test_max_attempts_1_means_one_retry(s3: S3Proxy) -> None:
    # botocore's `max_attempts` counts retries, not attempts: 1 means two requests.
    client = _client(s3.url, Config(retries={"max_attempts": 1}))
    s3.inject("503", count=2)
    with pytest.raises(ClientError) as info:
        client.head_object(Bucket="scedc-pds", Key=WBM)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert s3.count() == 2

    s3.reset()
    s3.inject("503")
    client.get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-511")["Body"].read()
    assert [r.status for r in s3.records] == [503, 206]


def test_injected_500(s3: S3Proxy) -> None:
    s3.inject("500")
    with pytest.raises(ClientError) as info:
        _client(s3.url, NO_RETRY).get_object(Bucket="scedc-pds", Key=WBM)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert info.value.response["Error"]["Code"] == "InternalError"


def test_injection_only_hits_matching_paths_and_runs_out(s3: S3Proxy) -> None:
    client = _client(s3.url, NO_RETRY)
    s3.inject("503", count=2, path_contains="CICCA")
    client.head_object(Bucket="scedc-pds", Key=WBM)  # not matching: untouched
    for _ in range(2):
        with pytest.raises(ClientError):
            client.head_object(Bucket="scedc-pds", Key=CCA)
    client.head_object(Bucket="scedc-pds", Key=CCA)  # used up
    assert [(r.key, r.status) for r in s3.records] == [
        (WBM, 200),
        (CCA, 503),
        (CCA, 503),
        (CCA, 200),
    ]


def test_drop_is_a_connection_error(s3: S3Proxy) -> None:
    s3.inject("drop")
    with pytest.raises(ConnectionClosedError):
        _client(s3.url, NO_RETRY).get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-511")
    assert [(r.status, r.body_bytes, r.fault) for r in s3.records] == [(None, 0, "drop")]


def test_reset_truncates_the_body(s3: S3Proxy) -> None:
    s3.inject("reset")
    response = _client(s3.url, NO_RETRY).get_object(Bucket="scedc-pds", Key=CCA, Range="bytes=0-65535")
    with pytest.raises(ResponseStreamingError):
        response["Body"].read()
    assert [(r.status, r.body_bytes, r.fault) for r in s3.records] == [(206, 32768, "reset")]


def test_reset_without_body_cuts_the_head(s3: S3Proxy) -> None:
    s3.inject("reset")
    with pytest.raises(ConnectionClosedError):
        _client(s3.url, NO_RETRY).head_object(Bucket="scedc-pds", Key=WBM)


def test_client_recovers_after_faults(s3: S3Proxy, shared_data: Path) -> None:
    client = _client(s3.url, NO_RETRY)
    for kind in ("drop", "reset", "503"):
        s3.inject(kind)
        with pytest.raises((ClientError, ConnectionClosedError, ResponseStreamingError)):
            client.get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-1023")["Body"].read()
    body = client.get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-1023")["Body"].read()
    assert body == _file(shared_data, "scedc-pds", WBM)[:1024]


def test_inject_rejects_nonsense(s3: S3Proxy) -> None:
    with pytest.raises(ValueError):
        s3.inject("404")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        s3.inject("503", count=0)
    with pytest.raises(ValueError):
        s3.inject("trickle_body", bytes_per_s=0)
    with pytest.raises(ValueError):
        s3.inject("stall_head", seconds=-1)
    assert s3.pending_injections == 0


def test_injected_403(s3: S3Proxy) -> None:
    s3.inject("403")
    with pytest.raises(ClientError) as info:
        _client(s3.url, NO_RETRY).get_object(Bucket="scedc-pds", Key=WBM)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert [(r.status, r.fault) for r in s3.records] == [(403, "403")]


def test_ignore_range_answers_the_whole_object(s3: S3Proxy, shared_data: Path) -> None:
    s3.inject("ignore_range")
    client = _client(s3.url, Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    response = client.get_object(Bucket="scedc-pds", Key=WBM, Range="bytes=0-511")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in response
    assert response["Body"].read() == _file(shared_data, "scedc-pds", WBM)
    (record,) = s3.records
    assert (record.range, record.fault, record.status) == ("bytes=0-511", "ignore_range", 200)


def _raw_get(s3: S3Proxy, rng: str, timeout: float = 10.0) -> tuple[http.client.HTTPConnection, Any]:
    host, port = s3.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request("GET", f"/scedc-pds/{WBM}", headers={"Range": rng})
    return conn, conn.getresponse()


@pytest.mark.parametrize("kind", ["stall_head", "stall_body"])
def test_stall_waits_then_answers(s3: S3Proxy, shared_data: Path, kind: str) -> None:
    s3.inject(kind, seconds=0.5)  # type: ignore[arg-type]
    t0 = time.monotonic()
    conn, response = _raw_get(s3, "bytes=0-99")
    head_s = time.monotonic() - t0
    body = response.read()
    conn.close()
    assert body == _file(shared_data, "scedc-pds", WBM)[:100]
    assert time.monotonic() - t0 >= 0.5
    if kind == "stall_head":
        assert head_s >= 0.5  # nothing came before the stall ended
    (record,) = s3.records
    assert (record.status, record.body_bytes, record.hung_up) == (206, 100, False)


@pytest.mark.parametrize("kind", ["trickle_head", "trickle_body"])
def test_trickle_paces_the_answer(s3: S3Proxy, shared_data: Path, kind: str) -> None:
    s3.inject(kind, bytes_per_s=200.0)  # type: ignore[arg-type]
    t0 = time.monotonic()
    conn, response = _raw_get(s3, "bytes=0-39")
    body = response.read()
    conn.close()
    assert body == _file(shared_data, "scedc-pds", WBM)[:40]
    assert time.monotonic() - t0 >= 40 / 200.0  # the body alone takes 0.2 s at that pace
    (record,) = s3.records
    assert (record.status, record.body_bytes, record.hung_up) == (206, 40, False)


@pytest.mark.parametrize("kind", ["stall_head", "trickle_body"])
def test_a_client_that_hangs_up_ends_a_sick_answer(s3: S3Proxy, kind: str) -> None:
    s3.inject(kind, seconds=60.0, bytes_per_s=1.0)  # type: ignore[arg-type]
    host, port = s3.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=0.5)
    conn.request("GET", f"/scedc-pds/{WBM}", headers={"Range": "bytes=0-99"})
    with pytest.raises(TimeoutError):
        conn.getresponse().read()
    conn.close()
    (record,) = s3.wait_for_records(1)
    assert record.hung_up and record.elapsed_s < 30  # ended by the hang-up, not the fault
    assert record.body_bytes < 100


def test_held_requests_are_released_in_batches(s3: S3Proxy) -> None:
    """Requests sent together are one batch; a request sent after an answer is the next."""
    s3.hold_s = 0.3
    client = _client(s3.url, Config(max_pool_connections=4))

    def head(_: int) -> int:
        status: int = client.head_object(Bucket="scedc-pds", Key=WBM)["ResponseMetadata"]["HTTPStatusCode"]
        return status

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(head, range(3))) == [200] * 3
    assert s3.rounds() == 1
    head(0)  # sent after the three were answered
    assert s3.rounds() == 2
    batches = [r.batch for r in sorted(s3.records, key=lambda r: r.received_at)]
    assert batches[0] == batches[1] == batches[2] != batches[3]


def test_rounds_need_held_requests(s3: S3Proxy) -> None:
    _client(s3.url).head_object(Bucket="scedc-pds", Key=WBM)
    with pytest.raises(ValueError, match="hold_s"):
        s3.rounds()


# -- shaping -----------------------------------------------------------------------------------


def test_delay_adds_latency(s3: S3Proxy) -> None:
    client = _client(s3.url)
    client.head_object(Bucket="scedc-pds", Key=WBM)  # open the connection first
    s3.delay_s = 0.25
    t0 = time.monotonic()
    client.head_object(Bucket="scedc-pds", Key=WBM)
    assert time.monotonic() - t0 >= 0.25
    assert s3.records[-1].elapsed_s >= 0.25


def test_bandwidth_caps_throughput(s3: S3Proxy) -> None:
    s3.bandwidth_bps = 1_000_000  # bytes per second
    client = _client(s3.url)
    t0 = time.monotonic()
    body = client.get_object(Bucket="scedc-pds", Key=CCA, Range="bytes=0-299999")["Body"].read()
    assert len(body) == 300_000
    assert time.monotonic() - t0 >= 0.3


# -- lifecycle ---------------------------------------------------------------------------------


def test_own_proxy_stops_with_idle_keep_alive_connections(moto_endpoint: str) -> None:
    with S3Proxy(moto_endpoint) as proxy:
        client = _client(proxy.url)
        client.head_object(Bucket="scedc-pds", Key=WBM)  # leaves a pooled connection open
        url = proxy.url
    # stop() returned although the client kept its connection: the port is closed now.
    host, port = url.removeprefix("http://").split(":")
    with pytest.raises(OSError):
        http.client.HTTPConnection(host, int(port), timeout=2).connect()


def test_unreachable_upstream_is_a_502(moto_endpoint: str) -> None:
    with S3Proxy(moto_endpoint) as dead:
        dead_url = dead.url
    with S3Proxy(dead_url) as proxy:
        with pytest.raises(ClientError) as info:
            _client(proxy.url, NO_RETRY).head_object(Bucket="scedc-pds", Key=WBM)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert [r.status for r in proxy.records] == [502]
