"""``format=manifest`` on fdsnws-dataselect: the byte ranges of the records it would send.

Oracles: a plain boto3 client fetches each range from the moto server; the records fetched
are, byte for byte, the records dataselect sends for the same request; ObsPy trimming them
gives what ObsPy gives trimming the whole day files. Errors are FDSN error text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from io import BytesIO
from typing import Any

import httpx
import numpy as np
import pytest
from obspy import Stream, UTCDateTime, read

from seiswindow.model import Nslc
from support.s3server import s3_client

QUERY = "/fdsnws/dataselect/1/query"
LINES = [
    "CI WBM -- LHZ 2022-01-01T23:55:00 2022-01-02T00:05:00",
    "CI CCA -- BH? 2022-01-02T10:00:00.012 2022-01-02T10:01:00.5",
    "CI NCH -- LHZ 2022-01-02T10:00:00 2022-01-02T10:10:00",
]


@pytest.fixture(scope="module")
def plain_s3(moto_endpoint: str) -> Any:
    return s3_client(moto_endpoint)


def _records(client: Any, bucket: str, entries: list[dict[str, Any]], reclen: int) -> list[bytes]:
    """Each entry's range fetched as a worker would, cut into records."""
    records = []
    for entry in entries:
        answer = client.get_object(Bucket=bucket, Key=entry["object_key"], Range=entry["range"])
        assert answer["ETag"].strip('"') == entry["etag"]
        data = answer["Body"].read()
        assert len(data) == entry["byte_count"]
        records.extend(data[i : i + reclen] for i in range(0, len(data), reclen))
    return records


def test_a_post_of_several_lines(scedc_url: str, plain_s3: Any, expected: Callable[..., Stream]) -> None:
    body = "format=manifest\n" + "\n".join(LINES) + "\n"
    response = httpx.post(scedc_url + QUERY, content=body, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert [p["channel"] for p in doc["dataselect_params_list"]] == ["LHZ", "BH?", "LHZ"]
    assert doc["dataselect_params_list"][1]["starttime"] == "2022-01-02T10:00:00.012000Z"
    # One window per channel the lines resolve to, sorted as dataselect sends them.
    stations = [(w["station"], w["channel"], w["status"]) for w in doc["windows"]]
    assert stations == [("CCA", "BHN", "ok"), ("NCH", "LHZ", "nodata"), ("WBM", "LHZ", "ok")]
    assert doc["archive"]["bucket"] == "scedc-pds"

    # The records are dataselect's own, byte for byte.
    records = _records(plain_s3, "scedc-pds", doc["contents"], 512)
    sent = httpx.post(scedc_url + QUERY, content="\n".join(LINES) + "\n", timeout=60).content
    assert Counter(records) == Counter(sent[i : i + 512] for i in range(0, len(sent), 512))

    # Trimmed by ObsPy, they are ObsPy's trim of the whole day files.
    for i, window in enumerate(doc["windows"]):
        entries = [e for e in doc["contents"] if e["window"] == i]
        if window["status"] == "nodata":
            assert entries == [] and window["message"].startswith("no records of CI.NCH..LHZ")
            continue
        t0, t1 = UTCDateTime(window["starttime"]), UTCDateTime(window["endtime"])
        stream = Stream()
        for record in _records(plain_s3, "scedc-pds", entries, 512):
            stream += read(BytesIO(record))
        stream.merge()
        stream.trim(t0, t1)
        nslc = Nslc(window["network"], window["station"], window["location"], window["channel"])
        (want,) = expected([nslc], t0, t1)
        (got,) = stream
        assert abs(got.stats.starttime.ns - want.stats.starttime.ns) <= 1_000
        np.testing.assert_array_equal(got.data, want.data)
        assert got.stats.npts > 600  # not vacuous


def test_a_get_on_ncedc_names_its_4096_byte_records(ncedc_url: str, plain_s3: Any) -> None:
    params = {
        "net": "BK",
        "sta": "THIS",
        "loc": "00",
        "cha": "LHZ",
        "start": "2022-01-02T10:00:00",
        "end": "2022-01-02T10:20:00",
        "format": "manifest",
    }
    response = httpx.get(ncedc_url + QUERY, params=params, timeout=60)
    assert response.status_code == 200, response.text
    doc = response.json()
    (entry,) = doc["contents"]
    assert entry["object_key"] == "continuous_waveforms/BK/2022/2022.002/THIS.BK.LHZ.00.D.2022.002"
    assert entry["source_id"] == "FDSN:BK_THIS_00_L_H_Z" and entry["offset"] % 4096 == 0
    stream = Stream()
    for record in _records(plain_s3, "ncedc-pds", [entry], 4096):
        stream += read(BytesIO(record))
    stream.merge()
    (trace,) = stream
    assert trace.stats.starttime <= UTCDateTime(params["start"]) + 0.5
    assert trace.stats.endtime >= UTCDateTime(params["end"]) - 0.5
    assert entry["byte_count"] < 0.2 * entry["object_size"]


@pytest.mark.parametrize(("nodata", "status"), [("204", 204), ("404", 404)])
def test_no_data_at_all_is_fdsns_no_data(scedc_url: str, nodata: str, status: int) -> None:
    body = f"format=manifest\nnodata={nodata}\n{LINES[2]}\n"
    response = httpx.post(scedc_url + QUERY, content=body, timeout=60)
    assert response.status_code == status
    if status == 404:
        assert response.text.startswith("Error 404")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=manifests", "format"),
        ("format=manifest&longestonly=true", "longestonly"),
        ("format=manifest&minimumlength=10", "minimumlength"),
    ],
)
def test_bad_options_are_400_naming_the_parameter(scedc_url: str, query: str, field: str) -> None:
    url = (
        f"{scedc_url}{QUERY}?net=CI&sta=WBM&loc=--&cha=LHZ&start=2022-01-01T10:00:00&end=2022-01-01T10:10:00"
    )
    response = httpx.get(f"{url}&{query}", timeout=30)
    assert response.status_code == 400
    assert response.text.startswith("Error 400")
    assert f"Parameter '{field}'" in response.text


def test_the_wadl_offers_manifest(scedc_url: str) -> None:
    wadl = httpx.get(scedc_url + "/fdsnws/dataselect/1/application.wadl", timeout=30).text
    assert 'value="manifest"' in wadl
