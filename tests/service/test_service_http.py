"""The HTTP app over a real socket: routes, errors, options, and answers over 6 MB (gzip
path and 413 path) with the default limits, on the shared data in moto S3."""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import obspy
import pytest
from service_helpers import assert_tutorial_answer, day_files, oracle_segments, tutorial_answer

from seiswindow.config import Settings, open_archive
from seiswindow.extract import Extractor
from seiswindow.http import TUTORIAL_REQUEST, create_app
from seiswindow.model import Limits, Window, WindowResult
from seiswindow.negotiate import accepts_gzip
from seiswindow.service import Service
from support.oracle import oracle
from support.s3server import default_data_root
from support.serving import serving

SIX_MB = 6 * 1024 * 1024


def _request(*windows: tuple[str, str, str, str, str, str]) -> dict[str, Any]:
    keys = ("Network", "Station", "Channel", "Location", "Starttime", "Endtime")
    return {"Windows": [dict(zip(keys, w, strict=True)) for w in windows]}


HALF_DAY_CCA = _request(("CI", "CCA", "BHN", "  ", "2022-01-02T00:00:00", "2022-01-02T12:00:00"))
TWO_DAYS_40HZ = _request(
    ("CI", "CCA", "BHN", "  ", "2022-01-02T00:00:00", "2022-01-02T23:59:59"),
    ("CI", "HEC", "BHN", "  ", "2022-01-02T00:00:00", "2022-01-02T23:59:59"),
)
SMALL = _request(("CI", "WBM", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00"))


@pytest.fixture(scope="module")
def client(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=120) as c:
        yield c


def _post(client: httpx.Client, body: object, **kwargs: Any) -> httpx.Response:
    return client.post("/timewindows", content=json.dumps(body).encode(), **kwargs)


def test_health_and_limits(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["archive"]["url"].rstrip("/") == "s3://scedc-pds"
    assert health["archive"]["layout"] == "scedc"
    assert health["limits"] == client.get("/limits").json()
    assert health["limits"]["max_response_bytes"] <= SIX_MB


def test_docs_show_the_tutorials_request(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/timewindows"]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"] == TUTORIAL_REQUEST
    assert TUTORIAL_REQUEST["Windows"][0]["Location"] == "  "


def test_unknown_route_404_and_wrong_method_405(client: httpx.Client) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.json()["error"]
    r = client.get("/timewindows")
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]
    assert r.json()["status"] == 405
    r = client.put("/health")
    assert r.status_code == 405


def test_bad_request_names_window_and_field(client: httpx.Client) -> None:
    body = _request(
        ("CI", "WBM", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00"),
        ("CI", "WB-M", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00"),
    )
    r = _post(client, body)
    assert r.status_code == 400
    doc = r.json()
    assert doc["index"] == 1 and doc["field"] == "Station"
    assert "window 1" in doc["error"] and "WB-M" in doc["error"]
    r = client.post("/timewindows", content=b'{"Windows": [')
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    # Not case-folded into another code: "ß".upper() is "SS".
    r = _post(client, _request(("ß", "WBM", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00")))
    assert r.status_code == 400 and r.json()["field"] == "Network" and "SEED code" in r.json()["error"]


def test_too_many_windows_is_413_before_any_read(client: httpx.Client, s3: Any) -> None:
    limits = client.get("/limits").json()
    window = SMALL["Windows"][0]
    r = _post(client, {"Windows": [window] * (limits["max_windows"] + 1)})
    assert r.status_code == 413 and r.json()["field"] == "Windows"
    assert s3.count() == 0


def test_segments_option_in_query_and_body(client: httpx.Client, shared_data: Path) -> None:
    # FOX2's data start inside the window: one segment, from ObsPy's first sample.
    late = _request(("CI", "FOX2", "LHZ", "", "2022-01-02T22:50:00", "2022-01-02T23:00:00"))
    [expected] = oracle_segments(shared_data, "scedc-pds", late)
    assert len(expected) == 1 and expected[0]["starttime"] > "2022-01-02T22:55"
    by_query = client.post("/timewindows?segments=true", content=json.dumps(late).encode()).json()
    by_body = _post(client, {**late, "Segments": True}).json()
    for answer in (by_query, by_body):
        assert answer[0]["segments"] == expected and "data" not in answer[0]
    r = client.post("/timewindows?segments=maybe", content=json.dumps(SMALL).encode())
    assert r.status_code == 400 and r.json()["field"] == "segments"


def test_miniseed_by_accept_and_query(client: httpx.Client, shared_data: Path) -> None:
    by_accept = _post(client, SMALL, headers={"Accept": "application/vnd.fdsn.mseed"})
    by_query = client.post("/timewindows?format=miniseed", content=json.dumps(SMALL).encode())
    assert by_accept.status_code == by_query.status_code == 200
    assert by_accept.headers["content-type"] == "application/vnd.fdsn.mseed"
    assert by_accept.headers["x-window-status"] == "ok"
    assert by_accept.content == by_query.content
    [expected] = tutorial_answer(shared_data, "scedc-pds", SMALL)
    [tr] = obspy.read(io.BytesIO(by_accept.content))
    assert tr.data.tolist() == expected["data"]
    assert str(tr.stats.starttime) == expected["starttime"]
    nothing = _request(("CI", "NOPE", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:05:00"))
    r = client.post("/timewindows?format=miniseed", content=json.dumps(nothing).encode())
    assert r.status_code == 204 and r.headers["x-window-status"] == "nodata"


def test_small_answers_are_gzipped_when_accepted(client: httpx.Client, shared_data: Path) -> None:
    expected = tutorial_answer(shared_data, "scedc-pds", SMALL)
    for encoding in ("gzip", "identity"):
        r, sent = _raw(client, SMALL, {"Accept-Encoding": encoding})
        assert r.headers.get("content-encoding") == (encoding if encoding == "gzip" else None)
        text = gzip.decompress(sent) if encoding == "gzip" else sent
        assert_tutorial_answer(json.loads(text), expected)


# -- over 6 MB ----------------------------------------------------------------------------


def _raw(client: httpx.Client, body: object, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """Status and the body bytes as sent (httpx would decode gzip on its own)."""
    with client.stream("POST", "/timewindows", content=json.dumps(body).encode(), headers=headers) as r:
        return r, b"".join(r.iter_raw())


def test_over_6mb_without_gzip_is_413_with_advice(client: httpx.Client) -> None:
    r, sent = _raw(client, HALF_DAY_CCA, {"Accept-Encoding": "identity"})
    assert r.status_code == 413
    error = json.loads(sent)["error"]
    assert "over the limit" in error
    for advice in ("fewer or shorter windows", "Accept-Encoding: gzip", "miniseed"):
        assert advice in error


def test_over_6mb_with_gzip_is_sent_gzipped(client: httpx.Client, shared_data: Path) -> None:
    r, sent = _raw(client, HALF_DAY_CCA, {"Accept-Encoding": "gzip"})
    assert r.status_code == 200, sent[:300]
    assert r.headers["content-encoding"] == "gzip"
    assert len(sent) <= SIX_MB
    text = gzip.decompress(sent)
    assert len(text) > SIX_MB  # it would not have fitted raw
    [expected] = tutorial_answer(shared_data, "scedc-pds", HALF_DAY_CCA)
    [ours] = json.loads(text)
    assert ours["data"] == expected["data"]
    assert ours["starttime"] == expected["starttime"] and ours["endtime"] == expected["endtime"]


def test_still_over_the_limit_gzipped_is_413(client: httpx.Client) -> None:
    r, sent = _raw(client, TWO_DAYS_40HZ, {"Accept-Encoding": "gzip"})
    assert r.status_code == 413
    error = json.loads(sent)["error"]
    assert "gzipped answer" in error and "miniseed" in error and "Accept-Encoding" not in error


def test_413_is_decided_before_reading_everything(settings: Settings, s3: Any) -> None:
    # The whole 40 Hz day comes first: the answer is over the limit before the others are read.
    body = _request(
        ("CI", "CCA", "BHN", "", "2022-01-02T00:00:00", "2022-01-02T23:59:59"),
        *[("CI", "WBM", "LHZ", "", "2022-01-02T00:00:00", "2022-01-02T00:00:10")] * 2,
    )

    class InOrder(Extractor):
        """Completes windows in request order, one at a time, counting how many."""

        yielded = 0

        def iter_extract(
            self, windows: Sequence[Window], **options: Any
        ) -> Iterator[tuple[int, WindowResult]]:
            for i, window in enumerate(windows):
                InOrder.yielded += 1
                [(_, result)] = list(super().iter_extract([window], **options))
                yield i, result

    with (
        InOrder(open_archive(settings), limits=settings.limits) as extractor,
        serving(create_app(extractor=extractor)) as url,
    ):
        r = httpx.post(
            f"{url}/timewindows",
            content=json.dumps(body).encode(),
            headers={"Accept-Encoding": "identity"},
            timeout=120,
        )
    assert r.status_code == 413
    assert InOrder.yielded == 1


def test_unexpected_failure_is_500_with_only_a_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Extractor):
        def iter_extract(
            self, windows: Sequence[Window], **options: Any
        ) -> Iterator[tuple[int, WindowResult]]:
            raise RuntimeError("secret detail of the failure")

    with (
        Broken(open_archive(settings)) as extractor,
        serving(create_app(extractor=extractor)) as url,
        caplog.at_level(logging.ERROR, logger="seiswindow"),
    ):
        r = httpx.post(f"{url}/timewindows", content=json.dumps(SMALL).encode(), timeout=60)
    assert r.status_code == 500
    doc = r.json()
    assert set(doc) == {"status", "error", "field", "index", "request_id"}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert doc["request_id"] == r.headers["x-request-id"]
    logged = [rec for rec in caplog.records if doc["request_id"] in rec.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret detail" in str(logged[0].exc_info[1])


def test_gzip_decompresses_as_a_stream_too(client: httpx.Client, shared_data: Path) -> None:
    # A client that inflates incrementally (as browsers do) sees the tutorial's answer.
    r, sent = _raw(client, SMALL, {"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    inflater = zlib.decompressobj(31)
    text = b"".join(inflater.decompress(sent[i : i + 100]) for i in range(0, len(sent), 100))
    assert inflater.eof and not inflater.unused_data
    assert_tutorial_answer(json.loads(text), tutorial_answer(shared_data, "scedc-pds", SMALL))


def test_location_blank_forms_are_one(client: httpx.Client) -> None:
    answers = [
        _post(
            client, _request(("CI", "WBM", "LHZ", loc, "2022-01-02T10:00:00", "2022-01-02T10:00:05"))
        ).json()
        for loc in ("", "  ", "--")
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0]["location"] == ""


def test_tutorial_request_on_files_absent_from_the_archive(client: httpx.Client) -> None:
    # The tutorial's own request asks for CI.BOM 2024, which the sample data lacks.
    answer = _post(client, TUTORIAL_REQUEST).json()
    assert [w["status"] for w in answer] == ["nodata", "nodata"]
    assert [w["channel"] for w in answer] == ["BHZ", "BHN"]


def test_day_files_helper_finds_the_files(shared_data: Path) -> None:
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-01T23:55:00", "2022-01-02T00:05:00")
    assert len(day_files(shared_data, "scedc-pds", window)) == 3


@pytest.mark.parametrize(("gzip_", "limit", "refused_after"), [(False, 200_000, 2), (True, 40_000, 6)])
def test_413_is_decided_while_windows_wait_for_a_slower_one(
    settings: Settings, gzip_: bool, limit: int, refused_after: int
) -> None:
    """Windows that completed before an earlier one wait, encoded, to be written in order:
    once they alone cannot fit (without gzip: the limit; with it: 16 times the limit) the
    request is refused, before the remaining windows are read."""
    slow = ("CI", "WBM", "LHZ", "", "2022-01-02T10:00:00", "2022-01-02T10:00:10")
    ten_minutes = [
        ("CI", "CCA", "BHN", "", f"2022-01-02T0{h}:00:00", f"2022-01-02T0{h}:10:00") for h in range(8)
    ]
    # Each 10 minutes of 40 Hz is 120 kB of JSON, 36 kB gzipped.
    body = _request(slow, *ten_minutes)

    class SlowFirst(Extractor):
        """Completes every window but the first, in order, then the first."""

        yielded = 0

        def iter_extract(
            self, windows: Sequence[Window], **options: Any
        ) -> Iterator[tuple[int, WindowResult]]:
            for i in [*range(1, len(windows)), 0]:
                SlowFirst.yielded += 1
                [(_, result)] = list(super().iter_extract([windows[i]], **options))
                yield i, result

    with SlowFirst(open_archive(settings), limits=Limits(max_response_bytes=limit)) as extractor:
        service = Service(extractor)
        headers = {"Accept-Encoding": "gzip" if gzip_ else "identity"}
        # Each window alone fits: the answer is refused for what waits, not for one window.
        for window in body["Windows"][:2]:
            alone = service.timewindows(
                json.dumps({"Windows": [window]}).encode(), gzip=accepts_gzip(headers)
            )
            assert alone.status == 200, alone.body[:300]
        answer = service.timewindows(json.dumps(body).encode(), gzip=accepts_gzip(headers))
    assert answer.status == 413, answer.body[:300]
    assert "and growing" in json.loads(answer.body)["error"]
    assert SlowFirst.yielded == 2 + refused_after  # the two alone, then the refused request's


def test_three_days_of_1_hz_are_answered_and_the_bound_is_said(client: httpx.Client) -> None:
    """Issue 10, item 7: bounded by samples, not days (three days of CI.WBM..LHZ, 2022-001..003)."""
    limits = client.get("/limits").json()
    assert limits["max_samples"] == Limits().max_samples and limits["max_window_seconds"] is None
    answer = _post(client, _request(("CI", "WBM", "LHZ", "", "2022-01-01T00:00:00", "2022-01-04T00:00:00")))
    assert answer.status_code == 200, answer.text
    (window,) = answer.json()
    assert window["status"] in ("ok", "partial") and len(window["data"]) > 250_000
    too_many = _request(*[("CI", "CCA", "HHZ", "", "2022-01-01T00:00:00", "2022-01-03T00:00:00")] * 2)
    refused = _post(client, too_many)
    assert refused.status_code == 413
    assert "samples" in refused.json()["error"] and "band code 'H'" in refused.json()["error"]


def test_the_local_service_answers_more_than_lambda_could(s3: Any) -> None:
    """Issue 10, item 6: one day of two 40 Hz channels (7 MB of JSON) is 413 only where the
    answer travels through Lambda; the local service's default limit is a workstation's."""
    local = Settings(archive="s3://scedc-pds", endpoint_url=s3.url)
    assert local.limits.max_response_bytes == Limits().max_response_bytes > SIX_MB
    with serving(create_app(local)) as url, httpx.Client(base_url=url, timeout=120) as client:
        answer = _post(client, TWO_DAYS_40HZ)
        assert answer.status_code == 200, answer.text[:600]
        assert len(answer.content) > SIX_MB
        cca, hec = answer.json()
        day = default_data_root() / "scedc-pds/continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
        window = Window.create("CI", "CCA", "", "BHN", "2022-01-02T00:00:00", "2022-01-02T23:59:59")
        expected = oracle([day], window)[0]
        assert cca["starttime"] == str(expected.stats.starttime) and len(cca["data"]) == expected.stats.npts
        assert hec["network"] == "CI" and hec["data"]
        # the same request through the local Lambda invoke route: Lambda's 6 MB, so 413
        invoked = client.post(
            "/2015-03-31/functions/function/invocations", content=json.dumps(TWO_DAYS_40HZ).encode()
        )
        assert invoked.status_code == 413, invoked.text[:300]
        assert "over the limit of 6275072 bytes" in invoked.json()["error"]
