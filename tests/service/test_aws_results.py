"""Answers over Lambda's 6 MB through a results bucket (issue 10, item 8): with
``SEISWINDOW_RESULTS`` set, the handler stores the whole answer in S3 (moto here) and answers
with a presigned URL; fetched, it is the answer the local service gives for the same request.
Without it, 413 with advice, as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from service_helpers import event, proxy_body

from seiswindow import aws
from seiswindow.aws import LocalContext, handle_event
from seiswindow.aws.results import ResultsBucket
from seiswindow.config import Settings, open_service
from seiswindow.errors import ConfigError
from seiswindow.service import HTTP

#: One day of two 40 Hz channels: about 7 MB of JSON, over Lambda's 6 MB.
BIG = {
    "Windows": [
        {"Network": "CI", "Station": s, "Channel": "BHN", "Location": "",
         "Starttime": "2022-01-02T00:00:00", "Endtime": "2022-01-02T23:59:59"}
        for s in ("CCA", "HEC")
    ]
}  # fmt: skip


@pytest.fixture
def results_bucket(moto_endpoint: str) -> Iterator[str]:
    name = "seiswindow-results-test"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    yield name
    for obj in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


def _post(body: dict[str, Any], *, accept_gzip: bool = False) -> dict[str, Any]:
    ev = event("apigw-http-v2")
    ev["body"] = json.dumps(body)
    ev["isBase64Encoded"] = False
    ev["headers"] = {
        "content-type": "application/json",
        **({"accept-encoding": "gzip"} if accept_gzip else {}),
    }
    return ev


@pytest.mark.parametrize("accept_gzip", [False, True], ids=["plain", "gzip"])
def test_a_large_answer_is_handed_over_through_the_bucket(
    s3: Any, moto_endpoint: str, results_bucket: str, accept_gzip: bool
) -> None:
    service = open_service(Settings(archive="s3://scedc-pds", endpoint_url=s3.url))
    results = ResultsBucket(f"s3://{results_bucket}/big", endpoint_url=moto_endpoint)
    try:
        answer = handle_event(
            _post(BIG, accept_gzip=accept_gzip), LocalContext(), service=service, results=results
        )
        assert answer["statusCode"] == 200, answer["body"][:300]
        doc = json.loads(proxy_body(answer))
        handed = doc["results"]
        assert handed["bucket"] == results_bucket and handed["key"].startswith("big/")
        assert handed["key"].endswith(f"{doc['request_id']}.json")
        fetched = httpx.get(handed["url"], timeout=60)  # httpx undoes a Content-Encoding itself
        assert fetched.status_code == 200
        assert fetched.headers.get("content-encoding") == handed["content_encoding"]
        assert handed["content_encoding"] == ("gzip" if accept_gzip else None)
        assert int(fetched.headers["content-length"]) == handed["size"]
        raw = fetched.content
        # what the local service answers (no Lambda limit) for the same request
        local = service.timewindows(json.dumps(BIG).encode(), transport=HTTP)
        assert local.status == 200
        whole = local.whole()  # streamed over HTTP: larger than STREAM_AFTER_BYTES
        assert json.loads(raw) == json.loads(whole)
        assert len(whole) > 6 * 1024 * 1024
    finally:
        service.close()


def test_without_a_results_bucket_it_is_413_with_advice(s3: Any) -> None:
    service = open_service(Settings(archive="s3://scedc-pds", endpoint_url=s3.url))
    try:
        answer = handle_event(_post(BIG), LocalContext(), service=service)
        assert answer["statusCode"] == 413
        assert "over the limit" in json.loads(proxy_body(answer))["error"]
    finally:
        service.close()


def test_the_handler_reads_the_results_bucket_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, s3: Any, moto_endpoint: str, results_bucket: str
) -> None:
    monkeypatch.setenv("SEISWINDOW_ARCHIVE", "s3://scedc-pds")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    monkeypatch.setenv("SEISWINDOW_RESULTS", f"s3://{results_bucket}")
    monkeypatch.setattr(aws, "_SERVICE", None)
    monkeypatch.setattr(aws, "_RESULTS", None)
    try:
        answer = aws.handler(_post(BIG), LocalContext())
        assert answer["statusCode"] == 200
        assert json.loads(proxy_body(answer))["results"]["bucket"] == results_bucket
    finally:
        if aws._SERVICE is not None:
            aws._SERVICE.close()


def test_a_results_url_that_is_not_s3_is_refused() -> None:
    with pytest.raises(ConfigError, match="SEISWINDOW_RESULTS"):
        ResultsBucket("/tmp/results", client=object())
