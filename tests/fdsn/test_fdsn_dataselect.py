"""fdsnws-dataselect through ObsPy's own FDSN client, unmodified, over a real socket, with
moto S3 behind; ObsPy reading the shared files directly is the oracle."""

from __future__ import annotations

import datetime as dt
import io
import struct
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fdsn_helpers import archive_channels, assert_same_stream, records_overlapping, serve_fdsn
from obspy import Stream, UTCDateTime, read
from obspy.clients.fdsn import Client
from obspy.clients.fdsn.header import FDSNNoDataException, FDSNRequestTooLargeException
from obspy.io.mseed.util import get_record_information
from pymseed import MS3Record

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.config import Settings
from seiswindow.fdsn import router
from seiswindow.model import Limits, Nslc
from seiswindow.store import LocalStore
from support.s3server import REGION, S3Proxy, s3_client
from support.serving import serving

CCA_BHN = Nslc("CI", "CCA", "", "BHN")
HEC_BHN = Nslc("CI", "HEC", "", "BHN")
WBM_LHZ = Nslc("CI", "WBM", "", "LHZ")
THIS_LHZ = Nslc("BK", "THIS", "00", "LHZ")
SCEDC_CCA = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"

T0 = UTCDateTime("2022-01-02T10:00:00")
T1 = UTCDateTime("2022-01-02T10:05:00")


@pytest.fixture(scope="module")
def client(scedc_url: str) -> Client:
    return Client(scedc_url)


def http_get(url: str, params: dict[str, str]) -> tuple[int, bytes, str]:
    """Status, body and content type of a GET (errors included)."""
    full = f"{url}/fdsnws/dataselect/1/query?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(full, timeout=60) as answer:
            return answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


# -- ObsPy's Client ----------------------------------------------------------------------------


def test_exact_codes(client: Client, expected: Callable[..., Stream]) -> None:
    ours = client.get_waveforms("CI", "CCA", "", "BHN", T0, T1)
    assert_same_stream(ours, expected([CCA_BHN], T0, T1))


def test_question_mark_wildcard_and_lists(client: Client, expected: Callable[..., Stream]) -> None:
    ours = client.get_waveforms("CI", "CCA,HEC", "", "BH?", T0, T1)
    assert_same_stream(ours, expected([CCA_BHN, HEC_BHN], T0, T1))


def test_star_wildcards_match_what_the_bucket_holds(
    client: Client, expected: Callable[..., Stream], shared_data: Path
) -> None:
    t0, t1 = UTCDateTime("2022-01-02T23:00:00"), UTCDateTime("2022-01-02T23:10:00")
    every = archive_channels(shared_data, "scedc-pds", dt.date(2022, 1, 2))
    lhz = [n for n in every if n.channel == "LHZ"]
    assert {n.station for n in lhz} >= {"WBM", "FOX2", "NCH", "THIS"}  # the data we rely on
    ours = client.get_waveforms("*", "*", "*", "LHZ", t0, t1)
    assert_same_stream(ours, expected(lhz, t0, t1))
    ours = client.get_waveforms("CI", "*", "*", "*", t0, t1)
    assert_same_stream(ours, expected([n for n in every if n.network == "CI"], t0, t1))


@pytest.mark.parametrize("location", ["", "--", "  "])
def test_blank_location(client: Client, expected: Callable[..., Stream], location: str) -> None:
    ours = client.get_waveforms("CI", "WBM", location, "LHZ", T0, T1)
    assert_same_stream(ours, expected([WBM_LHZ], T0, T1))


def test_non_blank_location_and_other_network(client: Client, expected: Callable[..., Stream]) -> None:
    ours = client.get_waveforms("BK", "THIS", "00", "LHZ", T0, T1)
    assert_same_stream(ours, expected([THIS_LHZ], T0, T1))
    with pytest.raises(FDSNNoDataException):
        client.get_waveforms("BK", "THIS", "--", "LHZ", T0, T1)


def test_window_across_midnight(client: Client, expected: Callable[..., Stream]) -> None:
    t0, t1 = UTCDateTime("2022-01-01T23:50:00"), UTCDateTime("2022-01-02T00:10:00")
    ours = client.get_waveforms("CI", "WBM", "--", "LHZ", t0, t1)
    assert len(ours.copy().merge()) == 1
    assert_same_stream(ours, expected([WBM_LHZ], t0, t1))
    assert ours[0].stats.starttime < UTCDateTime("2022-01-02") < ours[-1].stats.endtime


def test_bulk(client: Client, expected: Callable[..., Stream]) -> None:
    a0, a1 = UTCDateTime("2022-01-01T23:58:00"), UTCDateTime("2022-01-02T00:03:00")
    bulk = [
        ("CI", "CCA", "", "BHN", T0, T1),
        ("CI", "WBM", "--", "LH?", a0, a1),
        ("BK", "TH*", "*", "LHZ", T0 + 3600, T1 + 3600),
    ]
    ours = client.get_waveforms_bulk(bulk)
    # Bulk answers are not trimmed by the client: trim each line's channel to its window.
    for line, channels in zip(bulk, ([CCA_BHN], [WBM_LHZ], [THIS_LHZ]), strict=True):
        t0, t1 = line[4], line[5]
        mine = Stream([tr for tr in ours if tr.id == ".".join(channels[0])]).trim(t0, t1)
        assert_same_stream(mine, expected(channels, t0, t1))


def test_bulk_text_with_options(client: Client, expected: Callable[..., Stream]) -> None:
    text = (
        f"quality=B\nminimumlength=0.0\nlongestonly=false\nCI HEC -- BHN {T0.isoformat()} {T1.isoformat()}\n"
    )
    ours = client.get_waveforms_bulk(text).trim(T0, T1)
    assert_same_stream(ours, expected([HEC_BHN], T0, T1))


def test_no_data_raises_obspys_no_data_exception(client: Client) -> None:
    with pytest.raises(FDSNNoDataException):
        client.get_waveforms(
            "CI", "WBM", "", "LHZ", UTCDateTime("2022-01-10"), UTCDateTime("2022-01-10T01:00")
        )
    with pytest.raises(FDSNNoDataException):
        client.get_waveforms("CI", "ZZ*", "*", "*", T0, T1)
    with pytest.raises(FDSNNoDataException):  # FOX2 has data from ~22:55 only
        client.get_waveforms("CI", "FOX2", "", "LHZ", T0, T1)


def test_nodata_404(scedc_url: str) -> None:
    status, body, _ = http_get(
        scedc_url,
        {
            "net": "CI",
            "sta": "WBM",
            "loc": "--",
            "cha": "LHZ",
            "start": "2022-01-10",
            "end": "2022-01-11",
            "nodata": "404",
        },
    )
    assert status == 404
    assert body.decode().startswith("Error 404: Not Found\n\n")


def test_partial_day_starts_where_the_data_start(client: Client, expected: Callable[..., Stream]) -> None:
    nch = Nslc("CI", "NCH", "", "LHZ")
    t0, t1 = UTCDateTime("2022-01-02T22:30:00"), UTCDateTime("2022-01-02T23:00:00")
    ours = client.get_waveforms("CI", "NCH", "", "LHZ", t0, t1)
    assert_same_stream(ours, expected([nch], t0, t1))


def test_ncedc_archive(ncedc_url: str, expected: Callable[..., Stream]) -> None:
    client = Client(ncedc_url)
    channels = [Nslc("BK", sta, "00", "LHZ") for sta in ("RUSS", "THIS", "YUBA")]
    ours = client.get_waveforms("BK", "*", "00", "LH?", T0, T1)
    assert_same_stream(ours, expected(channels, T0, T1, bucket="ncedc-pds"))


# -- the bytes on the wire -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "nslc", "t0", "t1"),
    [
        (SCEDC_CCA, CCA_BHN, T0, T1),
        (
            "continuous_waveforms/2022/2022_001/CIWBM__LHZ___2022001.ms",
            WBM_LHZ,
            UTCDateTime("2022-01-01T00:00:00"),
            UTCDateTime("2022-01-01T00:30:00.5"),
        ),
    ],
)
def test_records_byte_for_byte(
    scedc_url: str, shared_data: Path, key: str, nslc: Nslc, t0: UTCDateTime, t1: UTCDateTime
) -> None:
    params = {"net": nslc.network, "sta": nslc.station, "loc": "--", "cha": nslc.channel}
    status, body, media = http_get(scedc_url, {**params, "start": str(t0)[:-1], "end": str(t1)[:-1]})
    assert status == 200
    assert media == "application/vnd.fdsn.mseed"
    assert body == records_overlapping(shared_data / "scedc-pds" / key, t0, t1)


def test_bounds_within_half_a_sample_of_a_record_edge(
    client: Client, scedc_url: str, shared_data: Path, expected: Callable[..., Stream]
) -> None:
    """A window starting 0.3 samples after a record's last sample (and ending 0.3 samples
    before a record's first) still holds that sample when ObsPy trims the day file
    (nearest sample): the record holding it must be returned."""
    path = shared_data / "scedc-pds/continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
    data = path.read_bytes()
    edge = get_record_information(io.BytesIO(data), offset=10 * 512)
    later = get_record_information(io.BytesIO(data), offset=20 * 512)
    delta = 1.0 / edge["samp_rate"]
    t0 = edge["starttime"] + (edge["npts"] - 1) * delta + 0.3 * delta
    t1 = later["starttime"] - 0.3 * delta
    ours = client.get_waveforms("CI", "WBM", "", "LHZ", t0, t1)
    reference = expected([WBM_LHZ], t0, t1)
    assert reference[0].stats.starttime < t0 and reference[0].stats.endtime > t1  # the samples at stake
    assert_same_stream(ours, reference)
    params = {"net": "CI", "sta": "WBM", "cha": "LHZ", "start": str(t0)[:-1], "end": str(t1)[:-1]}
    assert http_get(scedc_url, params)[1] == records_overlapping(path, t0, t1) == data[10 * 512 : 21 * 512]


def test_five_minutes_read_few_bytes(fresh_scedc_url: str, s3: S3Proxy, shared_data: Path) -> None:
    """A 5-minute request reads from S3 at most 1.5x the bytes of the records it returns."""
    params = {
        "net": "CI",
        "sta": "CCA",
        "loc": "--",
        "cha": "BHN",
        "start": "2022-01-02T10:00:00",
        "end": "2022-01-02T10:05:00",
    }
    status, body, _ = http_get(fresh_scedc_url, params)
    assert status == 200
    read_bytes = s3.total_bytes()
    requests = s3.count()
    whole = (shared_data / "scedc-pds" / SCEDC_CCA).stat().st_size
    print(
        f"\n5-minute CI.CCA..BHN: returned {len(body)} B, read {read_bytes} B in {requests} requests (file {whole} B)"
    )
    assert 0 < len(body) <= read_bytes <= 1.5 * len(body)
    assert [r for r in s3.records if "list-type" in r.query] == []  # exact codes need no listing
    assert {r.key for r in s3.records} == {SCEDC_CCA}


def test_wildcards_list_each_day_once(fresh_scedc_url: str, s3: S3Proxy) -> None:
    """Wildcards are resolved by listing the day prefixes (2 days here), cached per day."""
    params = {
        "net": "CI",
        "sta": "W*",
        "cha": "LH?",
        "start": "2022-01-01T23:59:00",
        "end": "2022-01-02T00:01:00",
    }
    for _ in range(3):
        status, _, _ = http_get(fresh_scedc_url, params)
        assert status == 200
    listings = [r for r in s3.records if "list-type" in r.query]
    assert sorted(urllib.parse.parse_qs(r.query)["prefix"][0] for r in listings) == [
        "continuous_waveforms/2022/2022_001/CI",
        "continuous_waveforms/2022/2022_002/CI",
    ]


def test_quality_is_accepted_and_returns_the_archives_records(scedc_url: str) -> None:
    params = {
        "net": "CI",
        "sta": "WBM",
        "loc": "--",
        "cha": "LHZ",
        "start": "2022-01-02T10:00:00",
        "end": "2022-01-02T10:30:00",
    }
    bodies = {q: http_get(scedc_url, {**params, "quality": q}) for q in "DRQMB"}
    assert {status for status, _, _ in bodies.values()} == {200}
    assert len({body for _, body, _ in bodies.values()}) == 1


WBM_KEY = "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
#: Runs cut from the WBM day by ObsPy: the first is the longest of the day, the last is the
#: longest inside the window (05:00-12:00): longestonly counts within the window.
RUNS = (("00:00", "06:00"), ("06:10", "08:00"), ("08:05", "13:00"))


@pytest.fixture(scope="module")
def gapped(s3proxy: S3Proxy, moto_endpoint: str, shared_data: Path) -> Iterator[tuple[str, bytes]]:
    """The FDSN services on a bucket of their own holding a WBM day file with two gaps,
    written by ObsPy from the sample file; yields the URL and the file's bytes."""
    day = read(str(shared_data / "scedc-pds" / WBM_KEY))
    pieces = Stream(
        [day[0].slice(UTCDateTime(f"2022-01-02T{a}:00"), UTCDateTime(f"2022-01-02T{b}:00")) for a, b in RUNS]
    )
    buffer = io.BytesIO()
    pieces.write(buffer, format="MSEED", reclen=512, encoding="STEIM2")
    bucket = f"fdsn-gaps-{uuid.uuid4().hex[:12]}"
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key=WBM_KEY, Body=buffer.getvalue(), ACL="public-read")
    with serve_fdsn(bucket, s3proxy.url) as url:
        yield url, buffer.getvalue()


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        ({}, lambda durations: [True, True, True]),
        ({"longestonly": "true"}, lambda durations: [d == max(durations) for d in durations]),
        ({"minimumlength": "5400"}, lambda durations: [d >= 5400 for d in durations]),
        (
            {"minimumlength": "5400", "longestonly": "true"},
            lambda durations: [d == max(durations) for d in durations],
        ),
        ({"minimumlength": "20000"}, lambda durations: [False, False, False]),
    ],
)
def test_minimumlength_and_longestonly_as_obspy_sees_the_runs(
    gapped: tuple[str, bytes], options: dict[str, str], kept: Callable[[list[float]], list[bool]]
) -> None:
    """The continuous segments are ObsPy's traces of the file trimmed to the window; the
    answer, trimmed alike, holds exactly those the options keep (FDSN dataselect 1.1:
    ``longestonly`` keeps the longest segment, ``minimumlength`` drops shorter ones)."""
    url, data = gapped
    t0, t1 = UTCDateTime("2022-01-02T05:00:00"), UTCDateTime("2022-01-02T12:00:00")
    runs = read(io.BytesIO(data)).merge().split().trim(t0, t1)  # ObsPy's continuous segments
    runs.sort(keys=["starttime"])
    durations = [tr.stats.endtime - tr.stats.starttime for tr in runs]
    assert len(runs) == 3 and durations.index(max(durations)) == 2  # the window decides the longest
    expected = Stream([tr for tr, keep in zip(runs, kept(durations), strict=True) if keep])
    params = {
        "net": "CI",
        "sta": "WBM",
        "loc": "--",
        "cha": "LHZ",
        "start": str(t0)[:-1],
        "end": str(t1)[:-1],
    }
    status, body, _ = http_get(url, {**params, **options})
    if not expected:
        assert status == 204
        return
    assert status == 200
    ours = read(io.BytesIO(body)).merge().split().trim(t0, t1)
    ours.sort(keys=["starttime"])
    assert [(tr.id, tr.stats.starttime, tr.stats.npts) for tr in ours] == [
        (tr.id, tr.stats.starttime, tr.stats.npts) for tr in expected
    ]
    assert all((a.data == b.data).all() for a, b in zip(ours, expected, strict=True))


def test_over_the_byte_limit_is_413_before_any_byte(s3proxy: S3Proxy) -> None:
    with serve_fdsn("scedc-pds", s3proxy.url, max_bytes=20_000) as url:
        status, body, media = http_get(
            url,
            {
                "net": "CI",
                "sta": "CCA",
                "cha": "BHN",
                "start": "2022-01-02T10:00:00",
                "end": "2022-01-02T11:00:00",
            },
        )
        assert status == 413
        assert media.startswith("text/plain")
        assert body.decode().startswith("Error 413: ")
        with pytest.raises(FDSNRequestTooLargeException):
            Client(url).get_waveforms("CI", "CCA", "", "BHN", T0, T0 + 3600)
        # a small request still fits
        assert len(Client(url).get_waveforms("CI", "WBM", "", "LHZ", T0, T1)) == 1


def test_too_many_channels_is_413(s3proxy: S3Proxy) -> None:
    with serve_fdsn("scedc-pds", s3proxy.url, limits=Limits(max_windows=2)) as url:
        status, body, _ = http_get(
            url,
            {
                "net": "*",
                "sta": "*",
                "cha": "LHZ",
                "start": "2022-01-02T23:00:00",
                "end": "2022-01-02T23:10:00",
            },
        )
        assert status == 413
        assert "at most 2" in body.decode()


@pytest.mark.parametrize("whole", [False, True], ids=["ranged", "read-whole"])
def test_a_window_inside_a_record_without_a_rate_gets_the_archives_record(
    shared_data: Path, tmp_path: Path, whole: bool
) -> None:
    """A record whose sample-rate factor is 0 has no times for its samples: seiswindow
    leaves it out of samples, but dataselect passes the archive's records on as they are
    (it used to answer 204 for a window inside such a record)."""
    key = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
    data = bytearray((shared_data / "scedc-pds" / key).read_bytes())
    struct.pack_into(">h", data, 100 * 512 + 32, 0)  # record 100: rate factor 0
    if whole:  # a truncated tail sends every window to a whole read
        data = data[:-100]
    path = tmp_path / key
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(data))
    record = MS3Record.parse(bytes(data[100 * 512 : 101 * 512]))  # its start is intact
    inside = UTCDateTime(ns=record.starttime) + 5
    with Extractor(Archive(LocalStore(tmp_path), layout_named("scedc"))) as extractor:
        app = FastAPI()
        app.include_router(router(extractor, Settings(archive=str(tmp_path))))
        with serving(app) as url:
            query = {"net": "CI", "sta": "CCA", "loc": "--", "cha": "BHN"}
            query |= {"start": str(inside)[:-1], "end": str(inside + 2)[:-1]}
            answer = httpx.get(f"{url}/fdsnws/dataselect/1/query", params=query, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.content == bytes(data[100 * 512 : 101 * 512])


@pytest.mark.parametrize("fmt", ["mseed", "MSEED", "miniseed"])
def test_format_mseed_is_miniseed(scedc_url: str, shared_data: Path, fmt: str) -> None:
    """``format=mseed``, as other servers take it and some clients send it, over a raw GET;
    the oracle is ObsPy's record parser on the archive's file."""
    params = {"net": "CI", "sta": "CCA", "loc": "--", "cha": "BHN", "format": fmt}
    status, body, media = http_get(scedc_url, {**params, "start": str(T0), "end": str(T1)})
    assert (status, media) == (200, "application/vnd.fdsn.mseed"), body[:300]
    assert body == records_overlapping(shared_data / "scedc-pds" / SCEDC_CCA, T0, T1)
