"""Answers too large for Lambda's 6 MB, handed over through an S3 bucket the deployment owns.

With ``SEISWINDOW_RESULTS=s3://bucket/prefix``, an answer that would be 413 through Lambda is
written whole to ``prefix/YYYY-MM-DD/<request id>.json`` (or ``.mseed``; gzipped when the
client accepts gzip) and the answer is a small JSON object naming it, with a presigned URL
to fetch it (as SCEDC's earlier time-window function returned an S3 key)::

    {"results": {"url": "https://...", "bucket": "...", "key": "...", "size": 7254112,
                 "content_type": "application/json", "content_encoding": "gzip",
                 "expires": "2026-12-02T15:00:00.000000Z"},
     "request_id": "..."}

The bucket's lifecycle rule (the SAM template creates one) deletes the objects after a day.
The client is signed with the function's own credentials: presigned URLs need them.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import orjson

from ..errors import ConfigError
from ..nstime import NS_PER_S, format_time
from ..service import Response

__all__ = ["ResultsBucket"]


class ResultsBucket:
    """Where large answers go, and how their URLs are signed.

    Args:
        url: ``s3://bucket[/prefix]``.
        region: the bucket's region (default: the function's).
        endpoint_url: another S3 endpoint (moto, MinIO).
        expires_s: how long a presigned URL is valid.
        client: an S3 client to use instead of one built here (tests).

    Raises:
        ConfigError: ``url`` is not an ``s3://`` URL with a bucket.
    """

    def __init__(
        self,
        url: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        expires_s: int = 3600,
        client: Any = None,
    ) -> None:
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise ConfigError(f"SEISWINDOW_RESULTS={url!r} is not s3://bucket[/prefix]")
        bucket, _, prefix = url[5:].partition("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.expires_s = expires_s
        if client is None:
            import boto3

            client = boto3.client("s3", region_name=region, endpoint_url=endpoint_url)
        self._client = client

    def hand_over(self, response: Response, *, request_id: str) -> Response:
        """Store ``response``'s body and answer with where it is.

        Raises:
            botocore's errors: the object could not be written (the caller answers 500).
        """
        media_type = response.headers.get("Content-Type", "application/json")
        encoding = response.headers.get("Content-Encoding")
        suffix = "mseed" if "mseed" in media_type else "json"
        key = f"{self.prefix}{dt.datetime.now(dt.UTC):%Y-%m-%d}/{request_id}.{suffix}"
        extra = {"ContentEncoding": encoding} if encoding else {}
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=response.body, ContentType=media_type, **extra
        )
        url = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.expires_s
        )
        expires = format_time(int((time.time() + self.expires_s) * NS_PER_S))
        results = {
            "url": url,
            "bucket": self.bucket,
            "key": key,
            "size": len(response.body),
            "content_type": media_type,
            "content_encoding": encoding,
            "expires": expires,
        }
        body = orjson.dumps({"results": results, "request_id": request_id})
        headers = {"Content-Type": "application/json"}
        if "X-Request-Id" in response.headers:
            headers["X-Request-Id"] = response.headers["X-Request-Id"]
        return Response(200, headers, body)
