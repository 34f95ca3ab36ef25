"""An S3 bucket (or a prefix in it): ranged reads, retried with backoff in a time budget."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ArchiveError, NoSuchKey
from ._base import Chunk, ObjectInfo, Store
from ._watch import Watch, install_watch

__all__ = ["S3Store"]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
#: S3 error codes worth another attempt (besides any 5xx status).
_RETRYABLE_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)
#: Backoff between attempts: full jitter, uniform in [0, min(cap, base * 2**attempt)).
_BACKOFF_BASE_S = 0.1
_BACKOFF_CAP_S = 2.0

#: The asked part of an object: ``(start, end)`` for a range, ``length`` for a suffix, or
#: None for the whole object.
_Want = tuple[int, int] | int | None
#: Keys of a listing (a name of its own: inside S3Store, ``list`` is the method).
_Keys = list[str]
_T = TypeVar("_T")


class _Transient(Exception):
    """One attempt failed in a way another attempt may not (throttling, 5xx, a broken
    connection or body)."""


class S3Store(Store):
    """An S3 bucket (or a prefix in it), read anonymously by default.

    Time budget: one read (``get_range``, ``get_suffix``, ``get`` or a whole ``list``)
    takes at most ``max_seconds`` plus a small epsilon (thread wake-up and the close of a
    socket, milliseconds), retries, connects and body included: at the deadline the
    connection in use is shut down, whether the endpoint is silent, stalls after its
    headers or trickles bytes, and the read fails with an :class:`ArchiveError` naming the
    key and the budget. It is not ``max_seconds`` plus ``read_timeout``: ``read_timeout``
    only makes an attempt on a silent socket give up sooner, to leave time for another.

    Retries: throttling, 5xx answers, connection errors, bodies that break off while
    streaming and bodies that fail S3's checksum are retried here, with full-jitter
    exponential backoff, at most ``max_attempts`` times and never past the deadline.
    Answers that another attempt would not change are final at once: a missing key
    (:class:`NoSuchKey`), a missing bucket, 403 AccessDenied and other 4xx.

    Answers are checked against the range asked: a server that ignores ``Range`` (200 and
    the whole object) is cut to the range; a ``206`` whose ``Content-Range`` is absent,
    does not match the range or the body is an :class:`ArchiveError`.

    Args:
        bucket: bucket name.
        prefix: key prefix inside the bucket ('' for the bucket root).
        region: the bucket's region (scedc-pds is in us-west-2, ncedc-pds in us-east-2).
        endpoint_url: another S3 endpoint (moto, MinIO); None for AWS.
        anonymous: send unsigned requests (public buckets need no account).
        max_attempts: attempts per read, including the first.
        connect_timeout, read_timeout: socket timeouts of one attempt, in seconds.
        max_seconds: time budget of one read, retries and body included (see above).
        max_connections: connection pool size (the number of concurrent reads).
        rng: the random source of the backoff jitter (a seeded one makes it repeatable).

    Raises:
        ConfigError: the installed botocore offers no way to enforce the time budget.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str = "us-west-2",
        endpoint_url: str | None = None,
        anonymous: bool = True,
        max_attempts: int = 5,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_seconds: float = 30.0,
        max_connections: int = 32,
        rng: random.Random | None = None,
    ) -> None:
        import botocore.session
        from botocore import UNSIGNED
        from botocore.config import Config

        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        self.max_attempts = max_attempts
        self.anonymous = anonymous
        self.max_seconds = max_seconds
        self._rng = rng or random.Random()
        config = Config(
            region_name=region,
            signature_version=UNSIGNED if anonymous else None,
            # One attempt per call: retries and the time budget are ours (see _get).
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_connections,
            tcp_keepalive=True,
        )
        session = botocore.session.get_session()
        self._client: Any = session.create_client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=config
        )
        install_watch(self._client)

    def _full_key(self, key: str) -> str:
        return self.prefix + key

    def _get(self, key: str, range_header: str | None, want: _Want) -> Chunk:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full_key(key)}
        if range_header:
            kwargs["Range"] = range_header
        return self._retrying(key, lambda: self._attempt(kwargs, key, want))

    def _retrying(self, key: str, attempt_once: Callable[[], _T]) -> _T:
        """The answer of ``attempt_once``, attempted again after transient failures with
        full-jitter backoff, within the time budget.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: a final failure, the attempts or the time budget ran out.
        """
        where = f"{self.url}{key}"
        with Watch(self.max_seconds) as watch:
            attempt, failure = 0, None
            while True:
                attempt += 1
                try:
                    answer = attempt_once()
                    # After the deadline nothing is returned: the watchdog may have cut
                    # the body, and the time is spent anyway.
                    if not watch.expired:
                        return answer
                except _Transient as exc:
                    if not watch.expired:  # a failure of its own, not the watchdog's cut
                        failure = exc
                except ArchiveError:
                    if not watch.expired:
                        raise
                if watch.expired:
                    raise self._out_of_time(where, attempt, failure)
                assert failure is not None  # the attempt failed on its own
                if attempt >= self.max_attempts:
                    raise ArchiveError(
                        f"S3 read of {where} failed after {attempt} attempts: {failure}"
                    ) from failure.__cause__
                pause = self._rng.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt))
                if pause >= watch.remaining():  # the next attempt could not start in time
                    raise self._out_of_time(where, attempt, failure)
                time.sleep(pause)

    def _out_of_time(self, where: str, attempts: int, failure: Exception | None) -> ArchiveError:
        """The error of a read whose budget ran out; ``failure``: the last attempt that
        failed on its own (None when every attempt was still waiting for its answer)."""
        plural = "s" if attempts != 1 else ""
        detail = f"; the last failure: {failure}" if failure is not None else ", with no complete answer"
        error = ArchiveError(
            f"S3 read of {where}: the time budget ({self.max_seconds:g} s) ran out "
            f"after {attempts} attempt{plural}{detail}"
        )
        if failure is not None:
            error.__cause__ = failure.__cause__ or failure
        return error

    def _attempt(self, kwargs: dict[str, Any], key: str, want: _Want) -> Chunk:
        """One GET, its body read whole and checked against ``want``.

        Raises:
            _Transient: another attempt may succeed.
            NoSuchKey: the object does not exist.
            ArchiveError: the bucket is missing, access is denied, another 4xx, or the
                answer does not match the range asked.
        """
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            FlexibleChecksumError,
            HTTPClientError,
            IncompleteReadError,
            ResponseStreamingError,
        )

        where = f"{self.url}{key}"
        try:
            response = self._client.get_object(**kwargs)
            data = response["Body"].read()
        except ClientError as exc:
            return self._answer_of_error(exc, key, want)
        except (
            ResponseStreamingError,
            IncompleteReadError,
            HTTPClientError,
            ConnectionError,
            FlexibleChecksumError,  # bytes damaged on the way: another copy may be whole
        ) as exc:
            raise _Transient(str(exc)) from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"S3 read of {where} failed: {exc}") from exc
        return _chunk_from_response(response, data, want, where)

    def _answer_of_error(self, exc: Any, key: str, want: _Want) -> Chunk:
        """The chunk an S3 error answer stands for (an empty one past the end), or raise.

        Raises:
            _Transient: throttling or a 5xx.
            NoSuchKey: the key does not exist.
            ArchiveError: anything else.
        """
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchKey" or (status == 404 and code in ("", "404", "NotFound")):
            raise NoSuchKey(key) from None
        if code == "InvalidRange" or status == 416:
            # The range starts at or past the end (S3 says so for any range of an empty
            # object); S3 tells the size in the error, so the chunk is still truthful.
            size = error.get("ActualObjectSize")
            if isinstance(size, str) and size.isdigit():
                total = int(size)
                start = want[0] if isinstance(want, tuple) else total
                return Chunk(b"", min(start, total), total)
            raise ArchiveError(f"S3 answered {self.url}{key} with 416 and no object size") from exc
        if code in _RETRYABLE_CODES or (isinstance(status, int) and status >= 500):
            raise _Transient(code or str(status)) from exc
        hint = self._hint(exc)
        detail = f"{code or status}" + (f"; {hint}" if hint != str(exc) else "")
        raise ArchiveError(f"S3 error reading {self.url}{key}: {detail}") from exc

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        if end <= start:
            return Chunk(b"", start, -1)
        return self._get(key, f"bytes={start}-{end - 1}", (start, end))

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self._get(key, f"bytes=-{length}", length)

    def get(self, key: str) -> Chunk:
        return self._get(key, None, None)

    def stat(self, key: str) -> ObjectInfo:
        """One HEAD request (retried as reads are): the size, ETag and LastModified."""
        return self._retrying(key, lambda: self._head(key))

    def _head(self, key: str) -> ObjectInfo:
        """One HEAD.

        Raises:
            _Transient: another attempt may succeed.
            NoSuchKey: the object does not exist.
            ArchiveError: a final error.
        """
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._full_key(key))
        except ClientError as exc:
            self._answer_of_error(exc, key, None)
            raise ArchiveError(f"S3 HEAD of {self.url}{key} failed: {exc}") from exc  # pragma: no cover
        except (HTTPClientError, ConnectionError) as exc:
            raise _Transient(str(exc)) from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"S3 HEAD of {self.url}{key} failed: {exc}") from exc
        modified = head.get("LastModified")
        return ObjectInfo(
            size=int(head["ContentLength"]),
            etag=str(head.get("ETag", "")).strip('"'),
            modified=int(modified.timestamp() * 1_000_000) * 1000 if modified is not None else 0,
            version_id=head.get("VersionId") or None,
        )

    def list(self, prefix: str) -> list[str]:
        return sorted(self._listing(prefix, whole=True))

    def holds(self, prefix: str) -> bool:
        return bool(self._listing(prefix, whole=False))

    def _listing(self, prefix: str, *, whole: bool) -> _Keys:
        """The keys under ``prefix``: all of them (``whole``), or at most the first one.

        Raises:
            ArchiveError: the listing failed, or its time budget ran out.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        keys: _Keys = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._full_key(prefix)}
        if not whole:
            kwargs["MaxKeys"] = 1
        out_of_time = f"cannot list {self.url}{prefix}: the time budget ({self.max_seconds:g} s) ran out"
        with Watch(self.max_seconds) as watch:
            try:
                while True:
                    page = self._client.list_objects_v2(**kwargs)
                    keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
                    if not whole or not page.get("IsTruncated"):
                        break
                    kwargs["ContinuationToken"] = page["NextContinuationToken"]
            except (ClientError, BotoCoreError) as exc:
                if watch.expired:
                    raise ArchiveError(out_of_time) from exc
                raise ArchiveError(f"cannot list {self.url}{prefix}: {self._hint(exc)}") from exc
            if watch.expired:
                raise ArchiveError(out_of_time)
        return keys

    def _hint(self, exc: Exception) -> str:
        """What went wrong, with what to set when the answer says what it is."""
        error = getattr(exc, "response", {}).get("Error", {})
        code = str(error.get("Code", ""))
        if code == "NoSuchBucket":
            return f"the bucket {self.bucket!r} does not exist (check the archive URL and its region)"
        if code in ("AccessDenied", "AllAccessDisabled", "403"):
            if self.anonymous:
                return (
                    f"access denied to the bucket {self.bucket!r} for anonymous requests: if it is private, "
                    "sign requests with your AWS credentials (SEISWINDOW_SIGNED=1)"
                )
            return f"access denied to the bucket {self.bucket!r} for these AWS credentials"
        return str(exc)

    def close(self) -> None:
        self._client.close()


def _chunk_from_response(response: dict[str, Any], data: bytes, want: _Want, where: str) -> Chunk:
    """The chunk of a successful GET, checked against the range asked.

    Raises:
        ArchiveError: a partial answer without ``Content-Range``, or one whose range or
            length is not the one asked.
    """
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    match = _CONTENT_RANGE.match(response.get("ContentRange") or "")
    if match is None:
        if status == 206:
            raise ArchiveError(f"S3 answered {where} with 206 but no Content-Range")
        # The whole object: asked for, or a server that ignored the Range header. Either
        # way the caller gets what it asked, cut from it.
        size = len(data)
        if isinstance(want, tuple):
            start = min(want[0], size)
            return Chunk(data[start : want[1]], start, size)
        if isinstance(want, int):
            start = max(0, size - want)
            return Chunk(data[start:], start, size)
        return Chunk(data, 0, size)
    first, last, total = (int(g) if g != "*" else -1 for g in match.groups())
    size = total if total >= 0 else first + len(data)
    if isinstance(want, tuple):
        expected = (want[0], min(want[1], size) - 1)
    elif isinstance(want, int):
        expected = (max(0, size - want), size - 1)
    else:
        expected = (0, size - 1)
    if (first, last) != expected or len(data) != last - first + 1:
        raise ArchiveError(
            f"S3 answered {where} with bytes {first}-{last} ({len(data)} bytes of body) "
            f"for bytes {expected[0]}-{expected[1]}"
        )
    return Chunk(data, first, size)
