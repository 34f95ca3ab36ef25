"""``format=manifest`` on ``/timewindows``: where each window's records lie in the bucket.

The oracle is a worker elsewhere: a plain boto3 client fetches every range the manifest
names from the moto S3 server, ObsPy decodes and trims what it fetched, and that must be
exactly what ``/timewindows`` answers for the window (samples, start, rate). The ETag is
S3's own; a window without data says ``nodata``; a bad format is a 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from obspy import Stream, UTCDateTime, read

from seiswindow.archive import Archive, layout_named
from seiswindow.errors import ArchiveError
from seiswindow.extract import Extractor
from seiswindow.http import INVOCATIONS_PATH
from seiswindow.indexbuild import build_index
from seiswindow.model import Limits
from seiswindow.service import WHOLE, Service
from seiswindow.store import Chunk, S3Store
from seiswindow.tsindex import IndexStore
from support.memstore import MemoryStore, TamperingStore
from support.s3server import S3Proxy, s3_client


def _w(sta: str, cha: str, start: str, end: str, net: str = "CI", loc: str = "") -> dict[str, str]:
    return {
        "Network": net,
        "Station": sta,
        "Location": loc,
        "Channel": cha,
        "Starttime": start,
        "Endtime": end,
    }


WINDOWS = [
    _w("WBM", "LHZ", "2022-01-01T10:00:00", "2022-01-01T10:30:00"),  # inside one day
    _w("WBM", "LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00"),  # across midnight: two files
    _w("CCA", "BHN", "2022-01-02T10:00:00.012", "2022-01-02T10:01:00.5"),  # 40 Hz, fractions
    _w("FOX2", "LHZ", "2022-01-02T22:50:00", "2022-01-02T23:00:00"),  # the data begin inside it
    _w("WBM", "LHZ", "2021-01-01T10:00:00", "2021-01-01T10:10:00"),  # no day file
    _w("NCH", "LHZ", "2022-01-02T10:00:00", "2022-01-02T10:10:00"),  # a day file, no data then
]
NODATA = {4, 5}


def _post(url: str, windows: list[dict[str, str]], **params: str) -> httpx.Response:
    return httpx.post(f"{url}/timewindows", params=params, json={"Windows": windows}, timeout=60)


def _fetch(client: Any, bucket: str, entry: dict[str, Any]) -> bytes:
    """What a worker does with one entry: a ranged GET of that version of the object (S3
    answers 412 to ``IfMatch`` when the object changed)."""
    answer = client.get_object(
        Bucket=bucket, Key=entry["object_key"], Range=entry["range"], IfMatch=entry["etag"]
    )
    assert answer["ETag"].strip('"') == entry["etag"]
    data: bytes = answer["Body"].read()
    assert len(data) == entry["byte_count"]
    return data


def _trimmed(pieces: list[bytes], start: str, end: str) -> Stream:
    stream = Stream()
    for piece in pieces:
        stream += read(BytesIO(piece))
    stream.merge()
    stream.trim(UTCDateTime(start), UTCDateTime(end))
    return stream


@pytest.fixture(scope="module")
def plain_s3(moto_endpoint: str) -> Any:
    """A plain boto3 client on the moto server (not through the service's proxy)."""
    return s3_client(moto_endpoint)


@pytest.fixture(scope="module")
def manifest(live_url: str) -> dict[str, Any]:
    response = _post(live_url, WINDOWS, format="manifest")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-encoding"] == "gzip"  # httpx accepts it; a manifest is JSON
    doc: dict[str, Any] = response.json()
    return doc


def test_the_document_names_the_archive_and_every_window(manifest: dict[str, Any], s3proxy: S3Proxy) -> None:
    archive = manifest["archive"]
    assert archive["type"] == "s3" and archive["bucket"] == "scedc-pds" and archive["prefix"] == ""
    assert archive["region"] == "us-west-2" and archive["endpoint_url"] == s3proxy.url
    assert manifest["version"] == "0.1.0"
    assert UTCDateTime(manifest["request_time"]) > UTCDateTime(2026, 1, 1)
    assert [w["status"] for w in manifest["windows"]] == ["ok", "ok", "ok", "ok", "nodata", "nodata"]
    for i, window in enumerate(manifest["windows"]):
        assert (window["station"], UTCDateTime(window["starttime"])) == (
            WINDOWS[i]["Station"],
            UTCDateTime(WINDOWS[i]["Starttime"]),
        )
    assert {e["window"] for e in manifest["contents"]} == set(range(len(WINDOWS))) - NODATA
    across = [e for e in manifest["contents"] if e["window"] == 1]
    assert [e["object_key"][-10:] for e in across] == ["2022001.ms", "2022002.ms"]
    for entry in manifest["contents"]:
        assert entry["type"] == "channel_day_object" and entry["located_by"] == "records"
        assert entry["object_path"] == f"s3://scedc-pds/{entry['object_key']}"
        assert entry["range"] == f"bytes={entry['offset']}-{entry['offset'] + entry['byte_count'] - 1}"
        assert entry["offset"] % 512 == 0 and entry["byte_count"] % 512 == 0
        assert entry["object_version_id"] is None  # the sample bucket is not versioned


def test_nodata_windows_say_why(manifest: dict[str, Any]) -> None:
    no_file, no_data = (manifest["windows"][i] for i in sorted(NODATA))
    assert "no day file continuous_waveforms/2021/2021_001/CIWBM__LHZ___2021001.ms" in no_file["message"]
    assert no_data["message"].startswith("no records of CI.NCH..LHZ between 2022-01-02T10:00:00")


def test_the_etag_is_s3s(manifest: dict[str, Any], plain_s3: Any) -> None:
    for entry in manifest["contents"]:
        head = plain_s3.head_object(Bucket="scedc-pds", Key=entry["object_key"])
        assert entry["etag"] == head["ETag"].strip('"')
        assert entry["object_size"] == head["ContentLength"]


def test_each_entry_says_the_times_of_its_records(manifest: dict[str, Any], plain_s3: Any) -> None:
    for entry in manifest["contents"]:
        stream = read(BytesIO(_fetch(plain_s3, "scedc-pds", entry)))
        assert str(min(tr.stats.starttime for tr in stream)) == entry["start"]
        # libmseed and ObsPy compute a record's last sample time each its own way: 1 µs apart.
        assert abs(max(tr.stats.endtime for tr in stream).ns - UTCDateTime(entry["end"]).ns) <= 1_000
        net, sta, loc, *band_source_subsource = entry["source_id"].removeprefix("FDSN:").split("_")
        assert {tr.id for tr in stream} == {f"{net}.{sta}.{loc}.{''.join(band_source_subsource)}"}


def test_the_ranges_cover_the_window(manifest: dict[str, Any], plain_s3: Any, shared_data: Path) -> None:
    for i, window in enumerate(manifest["windows"]):
        entries = [e for e in manifest["contents"] if e["window"] == i]
        if i in NODATA:
            assert entries == []
            continue
        stream = Stream()
        for entry in entries:
            stream += read(BytesIO(_fetch(plain_s3, "scedc-pds", entry)))
        stream.merge()
        (trace,) = stream
        half = trace.stats.delta / 2
        start, end = UTCDateTime(window["starttime"]), UTCDateTime(window["endtime"])
        # The data's own edges, read from the whole day files.
        whole = Stream()
        for entry in entries:
            whole += read(str(shared_data / "scedc-pds" / entry["object_key"]))
        whole.merge()
        data_start, data_end = whole[0].stats.starttime, whole[0].stats.endtime
        assert trace.stats.starttime <= max(start + half, data_start)
        assert trace.stats.endtime >= min(end - half, data_end)
        if data_start > start:  # FOX2: its data begin inside the window, so do the ranges
            assert trace.stats.starttime == data_start
        # Not the whole day: a range is the window's records, a record or so either side.
        assert sum(e["byte_count"] for e in entries) < 0.1 * sum(e["object_size"] for e in entries)


def test_trimming_the_ranges_gives_what_timewindows_answers(
    manifest: dict[str, Any], plain_s3: Any, live_url: str
) -> None:
    answer = _post(live_url, WINDOWS)
    assert answer.status_code == 200
    objects = answer.json()
    for i, window in enumerate(manifest["windows"]):
        pieces = [_fetch(plain_s3, "scedc-pds", e) for e in manifest["contents"] if e["window"] == i]
        ours = objects[i]
        if i in NODATA:
            assert pieces == [] and ours["data"] == [] and ours["status"] == "nodata"
            continue
        (trace,) = _trimmed(pieces, window["starttime"], window["endtime"])
        # The same grid to within the clock's microsecond: ObsPy puts a trace's samples on its
        # first record's time, a day file's first or, here, a record inside the day.
        assert abs(UTCDateTime(ours["starttime"]).ns - trace.stats.starttime.ns) <= 1_000
        assert ours["sampling_rate"] == trace.stats.sampling_rate
        assert ours["data"] == np.ma.masked_array(trace.data).tolist()
        assert len(ours["data"]) > 200  # not vacuous: every window with data has hundreds


def test_the_lambda_invoke_route_answers_a_manifest_named_in_the_body(live_url: str) -> None:
    """The tutorial's invoke route (the Lambda runtime's direct invocation), the format a
    body key in any case."""
    body = {"Windows": WINDOWS[:1], "Format": "Manifest"}
    response = httpx.post(f"{live_url}{INVOCATIONS_PATH}", content=orjson.dumps(body), timeout=60)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert [w["status"] for w in doc["windows"]] == ["ok"] and len(doc["contents"]) == 1
    assert doc["contents"][0]["object_key"].endswith("CIWBM__LHZ___2022001.ms")


@pytest.mark.parametrize(
    ("params", "body_format", "field"),
    [({"format": "manifests"}, None, "format"), ({}, "xml", "Format"), ({"FORMAT": ""}, None, "FORMAT")],
)
def test_a_bad_format_is_400_naming_the_field(
    live_url: str, params: dict[str, str], body_format: str | None, field: str
) -> None:
    body: dict[str, Any] = {"Windows": WINDOWS[:1]}
    if body_format is not None:
        body["Format"] = body_format
    response = httpx.post(f"{live_url}/timewindows", params=params, json=body, timeout=30)
    assert response.status_code == 400
    error = response.json()
    assert error["field"] == field and "manifest" in error["error"]


def test_with_the_record_index_a_manifest_reads_no_record(
    s3: S3Proxy, tmp_path: Path, manifest: dict[str, Any]
) -> None:
    """Files indexed at their current size and ETag are answered from the index: HEADs only,
    and the same ranges as the locator found (exact to records: every record is indexed)."""
    store = S3Store("scedc-pds", endpoint_url=s3.url)
    no_data_then = "continuous_waveforms/2022/2022_002/CINCH__LHZ___2022002.ms"
    keys = sorted({e["object_key"] for e in manifest["contents"]} | {no_data_then})
    db = IndexStore(tmp_path / "tsindex.sqlite")
    extractor = Extractor(Archive(store, layout_named("scedc")), limits=Limits(), index=db)
    try:
        report = build_index(store, keys, db, scanned=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        assert report.indexed == len(keys)
        s3.reset()
        body = orjson.dumps({"Windows": WINDOWS})
        response = Service(extractor).timewindows(body, query={"format": "manifest"}, transport=WHOLE)
        assert response.status == 200
        doc = orjson.loads(response.body)
        assert s3.count("GET") == 0 and s3.count("HEAD") > 0
    finally:
        extractor.close()  # and the index
    assert [w["status"] for w in doc["windows"]] == [w["status"] for w in manifest["windows"]]
    assert {e["located_by"] for e in doc["contents"]} == {"index"}

    def ranges(d: dict[str, Any]) -> list[tuple[int, str, str]]:
        return [(e["window"], e["object_key"], e["range"]) for e in d["contents"]]

    assert ranges(doc) == ranges(manifest)
    # The times come from the index's record starts: the end is the next record's start less
    # a period (the clock's microsecond apart from the header's own end).
    for indexed, located in zip(doc["contents"], manifest["contents"], strict=True):
        assert indexed["start"] == located["start"]
        assert abs(UTCDateTime(indexed["end"]).ns - UTCDateTime(located["end"]).ns) <= 1_000


def test_ranges_of_a_file_read_whole_are_where_the_records_lie_in_it(shared_data: Path) -> None:
    """A file the locator cannot read by ranges (here: 100 bytes of junk after its last
    record, so its size is no multiple of the record length) is read whole, and its records
    rebuilt into one run of bytes: the manifest still names their offsets in the file."""
    key = "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms"
    data = (shared_data / "scedc-pds" / key).read_bytes() + b"\0" * 100
    store = TamperingStore(MemoryStore({key: data}))
    window = _w("WBM", "LHZ", "2022-01-01T10:00:00", "2022-01-01T10:30:00")
    with Extractor(Archive(store, layout_named("scedc"))) as extractor:
        service = Service(extractor)
        body = orjson.dumps({"Windows": [window]})
        doc = orjson.loads(service.timewindows(body, query={"format": "manifest"}, transport=WHOLE).body)
        assert any(read.call == "get" for read in store.reads)  # it was read whole
        (answer,) = orjson.loads(service.timewindows(body, transport=WHOLE).body)
    (entry,) = doc["contents"]
    assert entry["offset"] > 40_000 and entry["object_size"] == len(data)
    (trace,) = _trimmed([data[entry["offset"] : entry["offset"] + entry["byte_count"]]], *_times(window))
    assert abs(UTCDateTime(answer["starttime"]).ns - trace.stats.starttime.ns) <= 1_000
    assert answer["data"] == trace.data.tolist() and len(answer["data"]) == 1801


def _times(window: dict[str, str]) -> tuple[str, str]:
    return window["Starttime"], window["Endtime"]


def test_a_file_the_archive_fails_on_is_an_error_of_its_window_only(shared_data: Path) -> None:
    good = "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
    bad = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    objects = {key: (shared_data / "scedc-pds" / key).read_bytes() for key in (good, bad)}

    def fail(number: int, call: str, key: str, start: int | None, end: int | None, chunk: Chunk) -> Chunk:
        if key == bad:
            raise ArchiveError(f"S3 error reading {key}: SlowDown, out of time")
        return chunk

    store = TamperingStore(MemoryStore(objects), tamper=fail)
    windows = [
        _w("WBM", "LHZ", "2022-01-02T10:00:00", "2022-01-02T10:10:00"),
        _w("CCA", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:10:00"),
    ]
    with Extractor(Archive(store, layout_named("scedc"))) as extractor:
        body = orjson.dumps({"Windows": windows})
        response = Service(extractor).timewindows(body, query={"format": "manifest"}, transport=WHOLE)
    assert response.status == 200
    doc = orjson.loads(response.body)
    assert [w["status"] for w in doc["windows"]] == ["ok", "error"]
    assert "SlowDown" in doc["windows"][1]["message"]
    assert {e["window"] for e in doc["contents"]} == {0}
