"""fdsnws-availability 1.0 served under uvicorn from a record index built over real files
(the shared sample data in moto S3, and a generated two-day archive with gaps), checked
against ObsPy reading the same files: earliest/latest are ObsPy's trace start and end,
the spans of ``/query`` are those between ObsPy's ``Stream.get_gaps()``. EarthScope's ROVER
retrieves a day through the service end to end."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from obspy import Stream, UTCDateTime, read, read_inventory
from obspy.io.mseed.util import get_record_information

from seiswindow.archive import ScedcLayout
from seiswindow.config import Settings, open_archive, open_index
from seiswindow.demo_archive import write_day_file
from seiswindow.extract import Extractor
from seiswindow.fdsn import router
from seiswindow.indexbuild import build_index
from seiswindow.model import Nslc
from seiswindow.tsindex import IndexStore
from support.s3server import S3Proxy
from support.serving import serving

AVAILABILITY = "/fdsnws/availability/1"
SCEDC = "continuous_waveforms/2022"
#: Left out of the index: its day is answered from the listing.
UNINDEXED = f"{SCEDC}/2022_003/CIWBM__LHZ___2022003.ms"
GAP_DAYS = (dt.date(2024, 1, 1), dt.date(2024, 1, 2))
#: BHZ day 1: a 30 s gap at 10:00 and a 0.3 s gap (12 samples) at 13:53:20.
GAPS = ((36_000.0, 36_030.0), (50_000.0, 50_000.3))
#: Index update times (file modification times): BHZ older than BHN.
MTIMES = {"BHZ": dt.datetime(2024, 2, 1, tzinfo=dt.UTC), "BHN": dt.datetime(2024, 3, 1, tzinfo=dt.UTC)}


@contextlib.contextmanager
def serve_indexed(settings: Settings) -> Iterator[str]:
    """The FDSN router under uvicorn on the archive and index ``settings`` name."""
    extractor = Extractor(open_archive(settings), limits=settings.limits, index=open_index(settings))
    app = FastAPI()
    app.include_router(router(extractor, settings))
    try:
        with serving(app) as url:
            yield url
    finally:
        extractor.close()


@pytest.fixture(scope="module")
def scedc_index(
    s3proxy: S3Proxy, station_table: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The service on the SCEDC sample bucket with an index of every 2022 file but one (and
    the station table of the stations without StationXML)."""
    db = tmp_path_factory.mktemp("index") / "timeseries.sqlite"
    settings = Settings(
        archive="s3://scedc-pds", endpoint_url=s3proxy.url, index=str(db), stations=str(station_table)
    )
    archive = open_archive(settings)
    keys = [k for k in archive.store.list(f"{SCEDC}/") if k != UNINDEXED]
    with IndexStore(db) as store:
        report = build_index(archive.store, keys, store)
    archive.store.close()
    assert report.indexed == len(keys) == 7
    with serve_indexed(settings) as url:
        yield url


@pytest.fixture(scope="module")
def gap_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of XX.GAP..BHZ (gaps on day 1) and XX.GAP..BHN (none), 40 Hz, SCEDC layout."""
    root = tmp_path_factory.mktemp("gaps")
    for channel, mtime in MTIMES.items():
        for day in GAP_DAYS:
            path = root / ScedcLayout().key(Nslc("XX", "GAP", "", channel), day)
            path.parent.mkdir(parents=True, exist_ok=True)
            gaps = GAPS if channel == "BHZ" and day == GAP_DAYS[0] else ()
            write_day_file(
                path,
                network="XX",
                station="GAP",
                location="",
                channel=channel,
                day=day,
                sampling_rate=40.0,
                gaps=gaps,
            )
            os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return root


@pytest.fixture(scope="module")
def gap_url(gap_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("gapindex") / "timeseries.sqlite"
    settings = Settings(archive=str(gap_archive), index=str(db))
    archive = open_archive(settings)
    with IndexStore(db) as store:
        build_index(archive.store, archive.store.list("continuous_waveforms/"), store)
    with serve_indexed(settings) as url:
        yield url


@pytest.fixture(scope="module")
def mseedindex_url(gap_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on the gap archive with an index EarthScope's mseedindex wrote (no
    summary table, no object identities), one file per run as its 3.0.8 needs."""
    db = tmp_path_factory.mktemp("mseedindex") / "timeseries.sqlite"
    binary = Path(sys.executable).parent / "mseedindex"
    for path in sorted(gap_archive.rglob("*.ms")):
        subprocess.run(
            [str(binary), "-sqlite", str(db), str(path)], check=True, capture_output=True, timeout=120
        )
    with serve_indexed(Settings(archive=str(gap_archive), index=str(db))) as url:
        yield url


def gap_files(root: Path, channel: str) -> list[Path]:
    return [root / ScedcLayout().key(Nslc("XX", "GAP", "", channel), day) for day in GAP_DAYS]


def obspy_spans(paths: list[Path]) -> list[tuple[str, str]]:
    """The continuous spans of the files as ObsPy sees them: from the first trace's start to
    the last trace's end, cut at each of ``Stream.get_gaps()``."""
    stream = Stream()
    for path in paths:
        stream += read(str(path))
    stream.sort()
    bounds = [min(tr.stats.starttime for tr in stream)]
    for gap in stream.get_gaps():
        bounds += [gap[4], gap[5]]
    bounds.append(max(tr.stats.endtime for tr in stream))
    return [(str(bounds[i]), str(bounds[i + 1])) for i in range(0, len(bounds), 2)]


def text_rows(body: str) -> list[list[str]]:
    return [line.split() for line in body.splitlines() if line and not line.startswith("#")]


def get(base: str, endpoint: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}{AVAILABILITY}/{endpoint}", params=params, timeout=60)


# -- against ObsPy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "nslc"),
    [
        (f"{SCEDC}/2022_002/CICCA__BHN___2022002.ms", ("CI", "CCA", "--", "BHN")),
        (f"{SCEDC}/2022_002/CIFOX2_LHZ___2022002.ms", ("CI", "FOX2", "--", "LHZ")),
        (f"{SCEDC}/2022_002/BKTHIS_LHZ00_2022002.ms", ("BK", "THIS", "00", "LHZ")),
    ],
)
def test_query_of_a_sample_file_is_obspys_trace(
    scedc_index: str, shared_data: Path, key: str, nslc: tuple[str, str, str, str]
) -> None:
    net, sta, loc, cha = nslc
    answer = get(
        scedc_index, "query", net=net, sta=sta, loc=loc, cha=cha, start="2022-01-02", end="2022-01-03"
    )
    assert answer.status_code == 200, answer.text
    assert (
        answer.text.splitlines()[0] == "#Network Station Location Channel Quality SampleRate Earliest Latest"
    )
    path = shared_data / "scedc-pds" / key
    (trace,) = read(str(path))
    # The latest sample is the last record's (libmseed's, mseedindex's): ObsPy's merged trace
    # extrapolates its end from the first record, microseconds away when the clock drifts.
    stats = trace.stats
    expected = [
        [
            net,
            sta,
            loc,
            cha,
            stats.mseed.dataquality,
            repr(stats.sampling_rate),
            str(stats.starttime),
            str(last_record_end(path)),
        ]
    ]
    assert text_rows(answer.text) == expected


def test_query_spans_are_obspys_gaps(gap_url: str, gap_archive: Path) -> None:
    answer = get(gap_url, "query", net="XX", sta="GAP", cha="BHZ", start="2024-01-01", end="2024-01-03")
    spans = [(row[6], row[7]) for row in text_rows(answer.text)]
    assert spans == obspy_spans(gap_files(gap_archive, "BHZ"))
    assert len(spans) == 3  # two gaps; the two days joined at midnight


def test_an_index_mseedindex_wrote_answers_alike(mseedindex_url: str, gap_archive: Path) -> None:
    answer = get(
        mseedindex_url, "query", net="XX", sta="GAP", cha="BHZ", start="2024-01-01", end="2024-01-03"
    )
    assert [(row[6], row[7]) for row in text_rows(answer.text)] == obspy_spans(gap_files(gap_archive, "BHZ"))
    assert "listed" not in answer.text  # its rows name the files: none is answered from the listing


def test_extent_is_obspys_start_end_and_span_count(gap_url: str, gap_archive: Path) -> None:
    answer = get(
        gap_url, "extent", net="XX", sta="GAP", cha="BH?", start="2024-01-01", end="2024-01-03", format="json"
    )
    sources = {s["channel"]: s for s in answer.json()["datasources"]}
    for channel in ("BHZ", "BHN"):
        spans = obspy_spans(gap_files(gap_archive, channel))
        source = sources[channel]
        assert (source["earliest"], source["latest"]) == (spans[0][0], spans[-1][1])
        assert source["timespanCount"] == len(spans)
        assert source["restriction"] == "OPEN"
        assert "listed" not in source
    assert sources["BHZ"]["updated"] == str(UTCDateTime(MTIMES["BHZ"]))


def test_query_clips_to_the_request(gap_url: str, gap_archive: Path) -> None:
    start, end = "2024-01-01T09:00:00.000000Z", "2024-01-01T12:00:00.000000Z"
    answer = get(gap_url, "query", net="XX", sta="GAP", cha="BHZ", start=start, end=end)
    gap = obspy_spans(gap_files(gap_archive, "BHZ"))[0][1], obspy_spans(gap_files(gap_archive, "BHZ"))[1][0]
    assert [(row[6], row[7]) for row in text_rows(answer.text)] == [(start, gap[0]), (gap[1], end)]


def test_mergegaps_joins_the_short_gap_only(gap_url: str, gap_archive: Path) -> None:
    spans = obspy_spans(gap_files(gap_archive, "BHZ"))
    params = {"net": "XX", "sta": "GAP", "cha": "BHZ", "start": "2024-01-01", "end": "2024-01-03"}
    short = get(gap_url, "query", mergegaps="1.0", **params)
    assert [(r[6], r[7]) for r in text_rows(short.text)] == [spans[0], (spans[1][0], spans[2][1])]
    wide = get(gap_url, "query", mergegaps="60", **params)
    assert [(r[6], r[7]) for r in text_rows(wide.text)] == [(spans[0][0], spans[2][1])]


def test_formats_geocsv_and_request(gap_url: str, gap_archive: Path) -> None:
    params = {"net": "XX", "sta": "GAP", "cha": "BHZ", "start": "2024-01-01", "end": "2024-01-03"}
    spans = obspy_spans(gap_files(gap_archive, "BHZ"))
    geocsv = get(gap_url, "query", format="geocsv", **params)
    assert geocsv.text.startswith("#dataset: GeoCSV 2.0\n")
    rows = list(
        csv.DictReader((line for line in io.StringIO(geocsv.text) if not line.startswith("#")), delimiter="|")
    )
    assert [(r["Earliest"], r["Latest"]) for r in rows] == spans
    assert {(r["Network"], r["Location"], r["Quality"], r["SampleRate"]) for r in rows} == {
        ("XX", "", "D", "40.0")
    }
    lines = get(gap_url, "query", format="request", **params).text.splitlines()
    assert lines == [f"XX GAP -- BHZ {a} {b}" for a, b in spans]
    as_json = get(gap_url, "query", format="json", show="latestupdate", **params).json()
    assert as_json["version"] == 1.0
    assert [tuple(s) for s in as_json["datasources"][0]["timespans"]] == spans
    assert as_json["datasources"][0]["updated"] == str(UTCDateTime(MTIMES["BHZ"]))


def test_merge_drops_the_merged_columns(gap_url: str) -> None:
    params = {"net": "XX", "sta": "GAP", "cha": "BHZ", "start": "2024-01-01", "end": "2024-01-02"}
    answer = get(gap_url, "extent", merge="samplerate,quality", **params)
    assert (
        answer.text.splitlines()[0]
        == "#Network Station Location Channel Earliest Latest Updated TimeSpans Restriction"
    )
    assert len(text_rows(answer.text)[0]) == 9


def test_orderby_and_limit(gap_url: str) -> None:
    params = {"net": "XX", "sta": "GAP", "start": "2024-01-01", "end": "2024-01-03"}

    def channels(endpoint: str, **more: str) -> list[str]:
        return [row[3] for row in text_rows(get(gap_url, endpoint, **params, **more).text)]

    assert channels("extent") == ["BHN", "BHZ"]
    assert channels("extent", orderby="latestupdate") == ["BHZ", "BHN"]  # BHZ's files are older
    assert channels("extent", orderby="latestupdate_desc") == ["BHN", "BHZ"]
    assert channels("extent", orderby="timespancount_desc") == ["BHZ", "BHN"]  # 3 spans, 1
    assert channels("extent", orderby="timespancount") == ["BHN", "BHZ"]
    assert channels("extent", limit="1") == ["BHN"]
    assert channels("query", limit="3") == ["BHN", "BHZ", "BHZ"]


def test_post_selection_lines(gap_url: str, gap_archive: Path) -> None:
    body = (
        "format=json\nmerge=quality\n"
        "XX GAP -- BHZ 2024-01-01T00:00:00 2024-01-01T12:00:00\n"
        "XX GAP -- BHN 2024-01-02T00:00:00 2024-01-03T00:00:00\n"
    )
    answer = httpx.post(f"{gap_url}{AVAILABILITY}/query", content=body, timeout=60)
    assert answer.status_code == 200, answer.text
    sources = {s["channel"]: s for s in answer.json()["datasources"]}
    assert "quality" not in sources["BHZ"] and sources["BHZ"]["samplerate"] == 40.0
    assert len(sources["BHZ"]["timespans"]) == 2  # the 30 s gap; the 0.3 s one is after 12:00
    day2 = read(str(gap_files(gap_archive, "BHN")[1]))[0]
    assert sources["BHN"]["timespans"] == [[str(day2.stats.starttime), str(day2.stats.endtime)]]


# -- the listing -----------------------------------------------------------------------------


def test_a_day_not_indexed_is_answered_from_the_listing_and_marked(
    scedc_index: str, shared_data: Path
) -> None:
    params = {"net": "CI", "sta": "WBM", "cha": "LHZ", "start": "2022-01-01", "end": "2022-01-03T12:00:00"}
    extent = get(scedc_index, "extent", format="json", **params).json()["datasources"]
    first = read(str(shared_data / "scedc-pds" / SCEDC / "2022_001/CIWBM__LHZ___2022001.ms"))[0]
    assert len(extent) == 1 and extent[0]["listed"] is True
    # Indexed days 1-2 and the listed day 3 join into one extent, clipped to the request.
    assert (extent[0]["earliest"], extent[0]["latest"]) == (
        str(first.stats.starttime),
        "2022-01-03T12:00:00.000000Z",
    )
    third = read(str(shared_data / "scedc-pds" / UNINDEXED))[0]
    assert (extent[0]["quality"], extent[0]["samplerate"]) == (
        third.stats.mseed.dataquality,
        third.stats.sampling_rate,
    )
    text = get(scedc_index, "extent", **params).text.splitlines()
    assert text[1].startswith("# listed, not indexed") and "CI.WBM..LHZ" in text[1]
    indexed_only = get(scedc_index, "extent", format="json", **{**params, "end": "2022-01-03"}).json()
    assert "listed" not in indexed_only["datasources"][0]


def last_record_end(path: Path) -> UTCDateTime:
    """ObsPy's end of the file's last record, read alone."""
    reclen = get_record_information(str(path))["record_length"]
    (last,) = read(io.BytesIO(path.read_bytes()[-reclen:]))
    return last.stats.endtime


@pytest.mark.parametrize(
    ("station", "channel", "key"),
    [("CCA", "BHN", "2022_002/CICCA__BHN___2022002.ms"), ("FOX2", "LHZ", "2022_002/CIFOX2_LHZ___2022002.ms")],
)
def test_without_an_index_the_listing_answers(
    scedc_url: str, shared_data: Path, station: str, channel: str, key: str
) -> None:
    """A listed day file: one span from its first record's first sample to its last record's
    last sample (FOX2 holds only 22:55-23:59), clipped to the request, marked."""
    path = shared_data / "scedc-pds" / SCEDC / key
    (trace,) = read(str(path))
    params = {"net": "CI", "sta": station, "cha": channel, "end": "2022-01-04"}
    whole = get(scedc_url, "query", start="2022-01-01", **params)
    expected = [str(trace.stats.starttime), str(last_record_end(path))]
    codes = ["CI", station, "--", channel, trace.stats.mseed.dataquality, repr(trace.stats.sampling_rate)]
    assert text_rows(whole.text) == [codes + expected]
    assert "# listed, not indexed" in whole.text
    clipped = get(scedc_url, "query", start="2022-01-02T23:00:00", **params)
    assert text_rows(clipped.text) == [codes + ["2022-01-02T23:00:00.000000Z", expected[1]]]
    open_ended = get(scedc_url, "query", net="CI", sta=station, cha=channel)
    assert open_ended.status_code == 400 and "starttime" in open_ended.text


def test_a_listed_day_costs_a_listing_a_head_and_two_small_reads(fresh_scedc_url: str, s3: S3Proxy) -> None:
    """Without an index, a day file's span costs one LIST of its day, one HEAD and two
    ranged GETs (its first 256 bytes, its last record); asked again, nothing (cached)."""
    params = {"net": "CI", "sta": "CCA", "cha": "BHN", "start": "2022-01-02", "end": "2022-01-03"}
    assert get(fresh_scedc_url, "query", **params).status_code == 200
    methods = sorted((r.method, "list-type" in r.query) for r in s3.records)
    print(f"\nlisted day: {len(methods)} S3 requests, {s3.total_bytes()} bytes read")
    assert methods == [("GET", False), ("GET", False), ("GET", True), ("HEAD", False)]
    assert s3.total_bytes() <= 256 + 512 + 4096  # the two reads, and the listing's XML
    s3.reset()
    assert get(fresh_scedc_url, "query", **params).status_code == 200
    assert s3.count() == 0


def test_a_listed_file_with_gaps_is_one_span(gap_archive: Path) -> None:
    """What the listing cannot see: without an index, the gap file is one span, from ObsPy's
    first sample to its last (the gaps are there in the indexed answer, above)."""
    spans = obspy_spans(gap_files(gap_archive, "BHZ")[:1])
    with serve_indexed(Settings(archive=str(gap_archive))) as url:
        answer = get(url, "query", net="XX", sta="GAP", cha="BHZ", start="2024-01-01", end="2024-01-02")
    assert len(spans) == 3
    assert [(row[6], row[7]) for row in text_rows(answer.text)] == [(spans[0][0], spans[-1][1])]
    assert "# listed, not indexed" in answer.text


# -- fdsnws-station matchtimeseries ---------------------------------------------------------


def test_matchtimeseries_with_an_index_needs_samples_in_the_span(
    scedc_index: str, scedc_table_url: str, shared_data: Path
) -> None:
    """CI.FOX2's day file holds 22:55-23:59 only: with the index, a span ending a minute
    before ObsPy's first sample matches no channel, one ending a minute after does; without
    an index, the day file alone matches both."""
    (trace,) = read(str(shared_data / "scedc-pds" / SCEDC / "2022_002/CIFOX2_LHZ___2022002.ms"))
    first = trace.stats.starttime

    def channels(base: str, end: UTCDateTime) -> httpx.Response:
        params = {
            "net": "CI",
            "sta": "FOX2",
            "level": "channel",
            "format": "text",
            "matchtimeseries": "true",
            "start": "2022-01-02T00:00:00",
            "end": str(end),
        }
        return httpx.get(f"{base}/fdsnws/station/1/query", params=params, timeout=60)

    assert channels(scedc_index, first - 60).status_code == 204
    after = channels(scedc_index, first + 60)
    assert after.status_code == 200 and "|FOX2||LHZ|" in after.text
    assert channels(scedc_table_url, first - 60).status_code == 200
    # A day not indexed (CI.WBM 2022-01-03) matches from its listed extent.
    wbm = {"net": "CI", "sta": "WBM", "level": "channel", "format": "text", "matchtimeseries": "true"}
    listed = httpx.get(
        f"{scedc_index}/fdsnws/station/1/query",
        params={**wbm, "start": "2022-01-03T10:00:00", "end": "2022-01-03T11:00:00"},
        timeout=60,
    )
    assert listed.status_code == 200 and "|WBM||LHZ|" in listed.text


@pytest.mark.parametrize("served", ["scedc_index", "scedc_url"])
def test_includeavailability_gives_channel_extents(
    served: str, request: pytest.FixtureRequest, shared_data: Path
) -> None:
    """CI.WBM..LHZ over three days (with the index: days 1-2 indexed, day 3 listed; without:
    all listed): ObsPy reads the extent as the first file's first sample and the last
    file's last record's end."""
    base = request.getfixturevalue(served)
    params = {
        "net": "CI",
        "sta": "WBM",
        "cha": "LHZ",
        "level": "channel",
        "includeavailability": "true",
        "start": "2022-01-01",
        "end": "2022-01-04",
    }
    answer = httpx.get(f"{base}/fdsnws/station/1/query", params=params, timeout=60)
    assert answer.status_code == 200, answer.text
    channels = read_inventory(io.BytesIO(answer.content)).select(channel="LHZ")[0][0].channels
    (first,) = read(str(shared_data / "scedc-pds" / SCEDC / "2022_001/CIWBM__LHZ___2022001.ms"))
    expected = (first.stats.starttime, last_record_end(shared_data / "scedc-pds" / UNINDEXED))
    assert channels
    assert [(c.data_availability.start, c.data_availability.end) for c in channels] == [expected] * len(
        channels
    )


# -- protocol ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "params", "named"),
    [
        ("query", {"merge": "channel"}, "merge"),
        ("extent", {"merge": "overlap"}, "merge"),
        ("extent", {"mergegaps": "1"}, "mergegaps"),
        ("query", {"mergegaps": "-1"}, "mergegaps"),
        ("query", {"orderby": "timespancount"}, "orderby"),
        ("query", {"orderby": "size"}, "orderby"),
        ("query", {"limit": "0"}, "limit"),
        ("query", {"format": "xml"}, "format"),
        ("query", {"quality": "X"}, "quality"),
        ("query", {"show": "restriction"}, "show"),
        ("extent", {"show": "latestupdate"}, "show"),
        ("query", {"starttime": "yesterday"}, "starttime"),
        ("query", {"starttime": "2024-01-02", "endtime": "2024-01-01"}, "endtime"),
        ("query", {"minimumlength": "1"}, "minimumlength"),
        ("query", {"nodata": "500"}, "nodata"),
    ],
)
def test_bad_parameters_are_400_with_fdsn_text(
    gap_url: str, endpoint: str, params: dict[str, str], named: str
) -> None:
    answer = get(gap_url, endpoint, net="XX", **params)
    assert answer.status_code == 400
    assert answer.text.startswith("Error 400: Bad Request\n")
    assert f"Parameter '{named}'" in answer.text


def test_nodata(gap_url: str) -> None:
    params = {"net": "XX", "sta": "NONE", "start": "2024-01-01", "end": "2024-01-02"}
    assert get(gap_url, "query", **params).status_code == 204
    missing = get(gap_url, "extent", nodata="404", **params)
    assert missing.status_code == 404 and missing.text.startswith("Error 404: Not Found")
    outside = get(gap_url, "query", net="XX", start="2025-01-01", end="2025-01-02", nodata="404")
    assert outside.status_code == 404


def test_version_and_wadl(gap_url: str) -> None:
    assert httpx.get(f"{gap_url}{AVAILABILITY}/version").text == "1.0.0"
    assert httpx.get(f"{gap_url}{AVAILABILITY}/").text.startswith(
        "fdsnws-availability 1.0.0 (seiswindow): extent, query"
    )
    head = httpx.head(
        f"{gap_url}{AVAILABILITY}/extent", params={"net": "XX", "start": "2024-01-01", "end": "2024-01-02"}
    )
    assert head.status_code == 200 and head.content == b""
    options = httpx.options(f"{gap_url}{AVAILABILITY}/query")
    assert options.status_code == 204 and "POST" in options.headers["allow"]
    wadl = ET.fromstring(httpx.get(f"{gap_url}{AVAILABILITY}/application.wadl").content)
    ns = {"w": "http://wadl.dev.java.net/2009/02"}
    paths = [r.get("path") for r in wadl.iterfind(".//w:resource", ns)]
    assert paths[:2] == ["extent", "query"]
    query_params = {p.get("name") for p in wadl.iterfind(".//w:resource[@path='query']//w:param", ns)}
    assert {"mergegaps", "show", "merge", "orderby", "limit", "format", "nodata"} <= query_params


# -- ROVER -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "station", "channel", "key"),
    [
        ("scedc_index", "CCA", "BHN", "2022_002/CICCA__BHN___2022002.ms"),
        ("scedc_url", "CCA", "BHN", "2022_002/CICCA__BHN___2022002.ms"),
        ("scedc_url", "FOX2", "LHZ", "2022_002/CIFOX2_LHZ___2022002.ms"),  # a partial day, listed
    ],
)
def test_rover_retrieves_a_day(
    served: str,
    station: str,
    channel: str,
    key: str,
    request: pytest.FixtureRequest,
    shared_data: Path,
    tmp_path: Path,
) -> None:
    """EarthScope's ROVER asks the availability service (POST, merge=samplerate,quality),
    downloads from dataselect, indexes with mseedindex and checks again until nothing is
    missing: it ends successfully only when availability and the data it got agree. Served
    with the record index, and without (the listing's whole-day span is within ROVER's
    tolerance of the day's samples)."""
    base = request.getfixturevalue(served)
    bin_dir = Path(sys.executable).parent
    config = tmp_path / "rover.config"
    config.write_text(
        "\n".join(
            [
                f"data-dir={tmp_path / 'data'}",
                f"temp-dir={tmp_path / 'tmp'}",
                f"log-dir={tmp_path / 'logs'}",
                f"availability-url={base}{AVAILABILITY}/query",
                f"dataselect-url={base}/fdsnws/dataselect/1/query",
                f"mseedindex-cmd={bin_dir / 'mseedindex'} -sqlitebusyto 60000",
                f"rover-cmd={bin_dir / 'rover'}",
                "download-workers=1",
                "download-retries=2",
                "http-timeout=60",
                "web=False",
                "log-verbosity=5",
                "verbosity=4",
            ]
        )
        + "\n"
    )
    lines = tmp_path / "request.txt"
    lines.write_text(f"CI {station} -- {channel} 2022-01-02T00:00:00 2022-01-03T00:00:00\n")
    # Output to a file, not a pipe: ROVER always starts its progress web process (`rover web`,
    # a new session that exits on its own), which inherits stdout and would hold a pipe open.
    log = tmp_path / "rover.out"
    with log.open("w") as out:
        done = subprocess.run(
            [str(bin_dir / "rover"), "-f", str(config), "retrieve", str(lines)],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=240,
        )
    said = log.read_text()
    assert done.returncode == 0, said
    assert "made no downloads and had no errors, we are complete" in said
    assert "A total of 1 downloads were made, with 0 errors" in said
    got = read(str(tmp_path / "data" / "CI" / "2022" / "002" / f"{station}.CI.2022.002"))
    archive = read(str(shared_data / "scedc-pds" / SCEDC / key))
    archive.trim(UTCDateTime(2022, 1, 2), UTCDateTime(2022, 1, 3))
    got.merge()
    archive.merge()
    assert [(tr.id, tr.stats.starttime, tr.stats.endtime) for tr in got] == [
        (tr.id, tr.stats.starttime, tr.stats.endtime) for tr in archive
    ]
    assert np.array_equal(got[0].data, archive[0].data)
