"""Issue 10, item 6: answers of any size are streamed within the limits, their status
decided before the first byte.

Over HTTP an answer that outgrows ``STREAM_AFTER_BYTES`` while it is made is sent as it is
made (chunked, no length) when the largest answer its windows may make fits the limit; a
smaller answer goes whole with its length (and ``X-Window-Status`` for miniSEED); an answer
whose bound does not fit is gathered and refused exactly (413) as before. ObsPy reading the
day files is the oracle of every sample.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import obspy
import orjson
import pytest
from service_helpers import assert_tutorial_answer, tutorial_answer

from seiswindow.archive import Archive, ScedcLayout
from seiswindow.config import Settings
from seiswindow.encode import STREAM_AFTER_BYTES, OutputFormat
from seiswindow.extract import Extractor
from seiswindow.http import create_app
from seiswindow.model import Limits, Window, parse_windows
from seiswindow.service import HTTP, WHOLE, Service
from seiswindow.store import LocalStore
from support.memstore import GatedStore
from support.oracle import oracle
from support.s3server import default_data_root
from support.serving import serving


def _request(*windows: tuple[str, str, str, str, str, str]) -> dict[str, Any]:
    keys = ("Network", "Station", "Channel", "Location", "Starttime", "Endtime")
    return {"Windows": [dict(zip(keys, w, strict=True)) for w in windows]}


#: One day of two 40 Hz channels: 17 MB of JSON, 7 MB of miniSEED (both over the threshold).
TWO_DAYS_40HZ = _request(
    ("CI", "CCA", "BHN", "  ", "2022-01-02T00:00:00", "2022-01-02T23:59:59"),
    ("CI", "HEC", "BHN", "  ", "2022-01-02T00:00:00", "2022-01-02T23:59:59"),
)
SMALL = _request(("CI", "WBM", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00"))
#: Two whole days of CI.WBM..LHZ, the second day's file read only when a test lets it.
TWO_WBM_DAYS = _request(
    ("CI", "WBM", "LHZ", "", "2022-01-01T00:00:10", "2022-01-01T23:59:50"),
    ("CI", "WBM", "LHZ", "", "2022-01-03T00:00:10", "2022-01-03T23:59:50"),
)


@pytest.fixture(scope="module")
def local_url(s3proxy: Any) -> Iterator[str]:
    """The HTTP app with the local default limits (a workstation's: 1 GiB)."""
    with serving(create_app(Settings(archive="s3://scedc-pds", endpoint_url=s3proxy.url))) as url:
        yield url


def _stream_post(
    url: str, body: object, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    """POST and read the raw body as it arrives (no decoding), with its headers; no gzip
    unless ``headers`` ask for it (httpx asks by default)."""
    asked = {"Accept-Encoding": "identity", **(headers or {})}
    with (
        httpx.Client(base_url=url, timeout=120) as client,
        client.stream("POST", "/timewindows", content=json.dumps(body).encode(), headers=asked) as r,
    ):
        raw = b"".join(r.iter_raw())
    return r, raw


def _assert_samples_are_obspys(answer: list[dict[str, Any]], request: dict[str, Any]) -> None:
    expected = tutorial_answer(default_data_root(), "scedc-pds", request)
    assert_tutorial_answer(answer, expected)


def test_a_large_json_answer_is_streamed_and_is_obspys(local_url: str) -> None:
    response, raw = _stream_post(local_url, TWO_DAYS_40HZ)
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert len(raw) > STREAM_AFTER_BYTES
    _assert_samples_are_obspys(json.loads(raw), TWO_DAYS_40HZ)


def test_an_answer_by_segment_is_gathered_with_its_length(local_url: str) -> None:
    """A window's segments, each an object with its own keys (as many as the data has gaps):
    the bound of an answer does not hold, so it is gathered whole (an exact 413 possible),
    never streamed."""
    response, raw = _stream_post(local_url, {**TWO_DAYS_40HZ, "Segments": True})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(raw) > STREAM_AFTER_BYTES
    windows = json.loads(raw)
    assert [w["station"] for w in windows] == ["CCA", "HEC"]
    assert all(w["segments"] for w in windows)


def test_a_large_gzipped_answer_is_streamed_gzipped(local_url: str) -> None:
    response, raw = _stream_post(local_url, TWO_DAYS_40HZ, {"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    _assert_samples_are_obspys(json.loads(gzip.decompress(raw)), TWO_DAYS_40HZ)


def test_a_large_miniseed_answer_is_streamed(local_url: str) -> None:
    response, raw = _stream_post(local_url, {**TWO_DAYS_40HZ, "Format": "miniseed"})
    assert response.status_code == 200
    assert response.headers["content-type"] == OutputFormat.MINISEED.media_type
    assert "content-length" not in response.headers
    # The windows' statuses are not known when a streamed answer's headers go.
    assert "x-window-status" not in response.headers
    ours = obspy.read(io.BytesIO(raw)).merge()
    for window in parse_windows(TWO_DAYS_40HZ):
        files = [default_data_root() / "scedc-pds" / ScedcLayout().key(window.nslc, _day(window))]
        (expected,) = oracle(files, window)
        (mine,) = ours.select(station=window.station)
        assert mine.stats.npts == expected.stats.npts
        assert abs(mine.stats.starttime.ns - expected.stats.starttime.ns) <= 1_000
        np.testing.assert_array_equal(mine.data, expected.data)


def test_a_small_answer_goes_whole_with_its_length(local_url: str) -> None:
    response, raw = _stream_post(local_url, {**SMALL, "Format": "miniseed"})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(raw)
    assert response.headers["x-window-status"] == "ok"


def test_an_answer_whose_bound_passes_the_limit_is_gathered_and_refused_exactly(s3proxy: Any) -> None:
    """The bound of a 40 Hz day (80 Hz from band B, 12 bytes a sample) is 83 MB; with a limit
    of 96 MB for two such days (answer: 34 MB) the answer is gathered and sent with its
    length; with 10 MB it is 413."""
    for limit, status in ((96 << 20, 200), (10 << 20, 413)):
        settings = Settings(
            archive="s3://scedc-pds", endpoint_url=s3proxy.url, limits=Limits(max_response_bytes=limit)
        )
        assert OutputFormat.JSON.most_bytes(parse_windows(TWO_DAYS_40HZ)) > limit
        with serving(create_app(settings)) as url:
            response, raw = _stream_post(url, TWO_DAYS_40HZ)
        assert response.status_code == status, raw[:300]
        if status == 200:
            assert int(response.headers["content-length"]) == len(raw) > STREAM_AFTER_BYTES
            _assert_samples_are_obspys(json.loads(raw), TWO_DAYS_40HZ)
        else:
            assert "over the limit" in json.loads(raw)["error"]


def _gated_service(gated: str, *, stream_after: int = 1) -> tuple[Service, GatedStore]:
    store = GatedStore(LocalStore(default_data_root() / "scedc-pds"), gated=gated)
    extractor = Extractor(Archive(store, ScedcLayout()))
    return Service(extractor, owns_extractor=True, stream_after=stream_after), store


def test_the_answer_begins_before_the_last_window_is_read() -> None:
    """A streamed answer is sent while it is made: its first window goes to the client while
    the second window's day file is still unread (a gathered answer would wait for it)."""
    service, store = _gated_service("2022003")
    try:
        response = service.timewindows(json.dumps(TWO_WBM_DAYS).encode(), transport=HTTP)
        assert response.status == 200 and response.chunks is not None
        first = next(response.chunks)
        assert store.waited and not store.gate.is_set()  # the second day is waiting, unread
        assert first.startswith(b'[{"network":"CI"')
        store.gate.set()
        answer = json.loads(first + b"".join(response.chunks))
        _assert_samples_are_obspys(answer, TWO_WBM_DAYS)
    finally:
        store.gate.set()
        service.close()


def test_a_transport_that_keeps_the_answer_gets_it_whole() -> None:
    """A caller that keeps the answer (a results bucket: the ``WHOLE`` transport) is never
    streamed to, however large the answer."""
    service, store = _gated_service("no such key")
    try:
        response = service.timewindows(json.dumps(TWO_WBM_DAYS).encode(), transport=WHOLE)
        assert response.status == 200 and response.chunks is None
        _assert_samples_are_obspys(json.loads(response.body), TWO_WBM_DAYS)
    finally:
        service.close()


def test_a_caller_of_the_python_api_gets_the_answer_whole_by_default() -> None:
    """``Service.timewindows`` without a transport: ``body`` holds the answer, however large
    (only the HTTP front end asks for streaming)."""
    service, store = _gated_service("no such key")
    try:
        response = service.timewindows(json.dumps(TWO_WBM_DAYS).encode())
        # This service streams over HTTP past 1 byte: the answer would be streamed there.
        assert response.status == 200 and response.chunks is None and len(response.body) > 1
        _assert_samples_are_obspys(json.loads(response.body), TWO_WBM_DAYS)
    finally:
        service.close()


def test_a_store_failure_after_the_answer_began_is_that_windows_status() -> None:
    """When the second window's read fails after the first window was sent, that window
    says so (``error``, with the store's message) and the answer still ends well."""
    service, store = _gated_service("2022003")
    store.timeout = 0.5  # the gate is never opened: the read fails
    try:
        response = service.timewindows(json.dumps(TWO_WBM_DAYS).encode(), transport=HTTP)
        assert response.status == 200 and response.chunks is not None
        answer = json.loads(b"".join(response.chunks))
        assert answer[0]["status"] == "ok" and answer[1]["status"] == "error"
        assert "before the gate opened" in answer[1]["message"]
    finally:
        service.close()


def test_a_bug_after_the_answer_began_cuts_it_short_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected failure after the first bytes cannot become a 500: the body stops short
    of a JSON list's end, and the log names the request."""
    service, store = _gated_service("2022003")
    store.gate.set()
    calls = {"n": 0}
    original = service.extractor.iter_extract

    def failing(windows: list[Window], **options: Any) -> Iterator[tuple[int, Any]]:
        for item in original(windows, **options):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("boom")
            yield item

    monkeypatch.setattr(service.extractor, "iter_extract", failing)
    try:
        response = service.timewindows(json.dumps(TWO_WBM_DAYS).encode(), transport=HTTP)
        assert response.status == 200 and response.chunks is not None
        received = []
        with caplog.at_level(logging.ERROR, logger="seiswindow.service"), pytest.raises(RuntimeError):
            for piece in response.chunks:
                received.append(piece)
        body = b"".join(received)
        assert body.startswith(b"[") and not body.endswith(b"]")
        assert any("after its answer began" in r.getMessage() for r in caplog.records)
    finally:
        service.close()


def _day(window: Window) -> Any:
    return obspy.UTCDateTime(ns=window.start).datetime.date()


def test_the_bound_is_exact_for_integer_samples() -> None:
    """The bound counts 12 bytes a JSON sample: the longest int32 and a comma."""
    assert len(orjson.dumps([-(2**31)] * 2)) - len(b"[]") == 2 * 12 - 1
    window = parse_windows(SMALL)[0]
    # L is at most 1 Hz: 301 samples in 5 minutes, and the window's other keys
    assert OutputFormat.JSON.most_bytes([window]) == 12 * 301 + 64 * 1024
    assert OutputFormat.MINISEED.most_bytes([window]) == 10 * 301 + 64 * 1024
