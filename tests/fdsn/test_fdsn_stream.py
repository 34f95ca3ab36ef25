"""Issue 10, item 6: fdsnws-dataselect streams file by file instead of gathering.

A request whose largest answer fits the byte limit is read one day file at a time and sent
as it is read once it outgrows ``STREAM_AFTER_BYTES``; a smaller one goes whole with its
length (or 204). The archive's own records, read with ObsPy's record parser, are the oracle
of every byte; ObsPy's ``Client`` reads the streamed answer.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fdsn_helpers import assert_same_stream, records_overlapping
from obspy import Stream, UTCDateTime
from obspy.clients.fdsn import Client

from seiswindow import Archive, Extractor
from seiswindow.archive import ScedcLayout
from seiswindow.encode import STREAM_AFTER_BYTES
from seiswindow.errors import LimitExceeded
from seiswindow.fdsn.catalog import ChannelCatalog
from seiswindow.fdsn.dataselect import DataselectService
from seiswindow.fdsn.request import parse_dataselect
from seiswindow.model import Nslc, Window
from seiswindow.store import LocalStore
from support.memstore import GatedStore
from support.s3server import default_data_root

CCA = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
HEC = "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms"
WBM_DAYS = [f"continuous_waveforms/2022/2022_00{d}/CIWBM__LHZ___202200{d}.ms" for d in (1, 2, 3)]
DAY = (UTCDateTime("2022-01-02T00:00:00"), UTCDateTime("2022-01-02T23:59:59.999"))


def _get(url: str, params: dict[str, str]) -> httpx.Response:
    query = urllib.parse.urlencode(params)
    return httpx.get(f"{url}/fdsnws/dataselect/1/query?{query}", timeout=120)


def test_a_large_answer_is_streamed_byte_for_byte(scedc_url: str, shared_data: Path) -> None:
    """Two 40 Hz days (7 MB): sent chunked, no length, the archive's records in order."""
    t0, t1 = DAY
    answer = _get(
        scedc_url, {"net": "CI", "sta": "CCA,HEC", "cha": "BHN", "start": str(t0)[:-1], "end": str(t1)[:-1]}
    )
    assert answer.status_code == 200
    assert "content-length" not in answer.headers
    assert answer.headers["transfer-encoding"] == "chunked"
    root = shared_data / "scedc-pds"
    expected = records_overlapping(root / CCA, t0, t1) + records_overlapping(root / HEC, t0, t1)
    assert len(expected) > STREAM_AFTER_BYTES
    assert answer.content == expected


def test_obspys_client_reads_a_streamed_answer(scedc_url: str, expected: Callable[..., Stream]) -> None:
    t0, t1 = DAY
    ours = Client(scedc_url).get_waveforms("CI", "CCA,HEC", "", "BHN", t0, t1)
    assert_same_stream(ours, expected([Nslc("CI", "CCA", "", "BHN"), Nslc("CI", "HEC", "", "BHN")], t0, t1))


def test_a_small_answer_goes_whole_with_its_length(scedc_url: str) -> None:
    answer = _get(
        scedc_url,
        {
            "net": "CI",
            "sta": "WBM",
            "cha": "LHZ",
            "start": "2022-01-02T10:00:00",
            "end": "2022-01-02T10:05:00",
        },
    )
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content) > 0


def _gated(
    gated: str, *, stream_after: int = 1, max_parallel: int = 8
) -> tuple[DataselectService, GatedStore, Extractor]:
    store = GatedStore(LocalStore(default_data_root() / "scedc-pds"), gated=gated)
    archive = Archive(store, ScedcLayout())
    extractor = Extractor(archive)
    service = DataselectService(
        extractor,
        ChannelCatalog(store, archive.layout),
        max_bytes=1 << 30,
        stream_after=stream_after,
        max_parallel=max_parallel,
    )
    return service, store, extractor


def test_the_answer_begins_before_the_last_file_is_read(shared_data: Path) -> None:
    """Three days of one channel: the first day's records are handed over while the third
    day's file is still unread (gathering would wait for it), and the whole is each file's
    records once, in day order."""
    service, store, extractor = _gated("2022003")
    t0, t1 = UTCDateTime("2022-01-01T00:00:00"), UTCDateTime("2022-01-03T23:00:00")
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", str(t0)[:-1]), ("end", str(t1)[:-1])]
    try:
        answer = service.answer(parse_dataselect(params, None))
        assert answer.size is None  # streamed
        pieces = answer.chunks()
        first = next(pieces)
        assert store.waited and not store.gate.is_set()
        store.gate.set()
        body = first + b"".join(pieces)
    finally:
        store.gate.set()
        extractor.close()
    root = shared_data / "scedc-pds"
    assert body == b"".join(records_overlapping(root / key, t0, t1) for key in WBM_DAYS)


def test_a_small_threshold_not_reached_gives_the_whole_answer_with_its_size(shared_data: Path) -> None:
    service, store, extractor = _gated("no such key", stream_after=1 << 30)
    t0, t1 = UTCDateTime("2022-01-01T00:00:00"), UTCDateTime("2022-01-03T23:00:00")
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", str(t0)[:-1]), ("end", str(t1)[:-1])]
    try:
        answer = service.answer(parse_dataselect(params, None))
    finally:
        extractor.close()
    body = b"".join(answer.chunks())
    assert answer.size == len(body)
    root = shared_data / "scedc-pds"
    assert body == b"".join(records_overlapping(root / key, t0, t1) for key in WBM_DAYS)


def test_no_data_is_known_before_any_byte(shared_data: Path) -> None:
    service, store, extractor = _gated("no such key")
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", "2023-01-01"), ("end", "2023-01-03")]
    try:
        answer = service.answer(parse_dataselect(params, None))
    finally:
        extractor.close()
    assert answer.empty and answer.size == 0


class _LyingBound(DataselectService):
    """A service whose bound says every answer fits (as a band code that lies would)."""

    def most_bytes(self, windows: list[Window]) -> int:
        return 0


def test_a_bound_that_lies_is_caught_before_the_first_byte(shared_data: Path) -> None:
    """The records gathered before the answer begins pass the limit: 413, not 200 with more
    than the limit (nor 500 once the status is sent)."""
    root = shared_data / "scedc-pds"
    t0, t1 = UTCDateTime("2022-01-01T00:00:00"), UTCDateTime("2022-01-03T23:00:00")
    size = sum(len(records_overlapping(root / key, t0, t1)) for key in WBM_DAYS)
    store = LocalStore(root)
    extractor = Extractor(Archive(store, ScedcLayout()))
    service = _LyingBound(extractor, ChannelCatalog(store, ScedcLayout()), max_bytes=size // 2)
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", str(t0)[:-1]), ("end", str(t1)[:-1])]
    try:
        with pytest.raises(LimitExceeded, match="exceed"):
            service.answer(parse_dataselect(params, None))
    finally:
        extractor.close()


def test_an_answer_closed_unsent_reads_no_further_file(shared_data: Path) -> None:
    """What HEAD (and a client gone) does: closing the answer stops the reads not begun."""
    service, store, extractor = _gated("2022003", max_parallel=1)
    t0, t1 = UTCDateTime("2022-01-01T00:00:00"), UTCDateTime("2022-01-03T23:00:00")
    params = [("net", "CI"), ("sta", "WBM"), ("cha", "LHZ"), ("start", str(t0)[:-1]), ("end", str(t1)[:-1])]
    try:
        answer = service.answer(parse_dataselect(params, None))
        assert answer.size is None  # streamed: the rest is still to read
        answer.close()
        assert store.waited == []  # the third day's file was never asked for
    finally:
        store.gate.set()
        extractor.close()


def test_a_head_request_answers_the_headers_of_get_without_a_body(scedc_url: str) -> None:
    t0, t1 = DAY
    params = {"net": "CI", "sta": "CCA,HEC", "cha": "BHN", "start": str(t0)[:-1], "end": str(t1)[:-1]}
    query = urllib.parse.urlencode(params)
    head = httpx.head(f"{scedc_url}/fdsnws/dataselect/1/query?{query}", timeout=120)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/vnd.fdsn.mseed"
    assert "content-length" not in head.headers  # as GET, which streams this answer
