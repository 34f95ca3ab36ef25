"""Stores: ranged reads of objects from S3 or from a local directory.

The whole surface is a few keyword-only calls, the same for every store:
``get_range(key, start=, end=)`` (``end`` exclusive), ``get_suffix(key, length=)``,
``get(key)`` and ``list(prefix)``. Every read returns a :class:`Chunk` that also tells
the object's total size, so the first read of a file needs no separate HEAD request.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ArchiveError, ConfigError, NoSuchKey

__all__ = ["Chunk", "LocalStore", "S3Store", "Store"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes ``data`` read at ``offset`` of an object whose total size is ``size``."""

    data: bytes
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


class Store(ABC):
    """Read-only access to the objects of one archive."""

    url: str

    @abstractmethod
    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        """Bytes ``[start, end)`` of ``key``, clipped to the object's size.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def get_suffix(self, key: str, *, length: int) -> Chunk:
        """The last ``length`` bytes of ``key`` (all of it when it is shorter).

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def get(self, key: str) -> Chunk:
        """The whole object.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix``, sorted.

        Raises:
            ArchiveError: the store could not be listed.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class LocalStore(Store):
    """A directory laid out as the bucket is; keys are paths below ``root``.

    Keys never leave ``root``: absolute keys, ``..`` components and symlinks pointing
    outside are refused as missing objects.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"archive directory {str(root)!r} does not exist")
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
            raise NoSuchKey(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise NoSuchKey(key)
        return path

    def _read(self, key: str, start: int | None, length: int | None) -> Chunk:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if start is None:  # suffix read
                    start = max(0, size - (length or 0))
                start = min(max(start, 0), size)
                count = size - start if length is None else max(0, min(length, size - start))
                return Chunk(os.pread(fh.fileno(), count, start), start, size)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NoSuchKey(key) from None
        except OSError as exc:
            raise ArchiveError(f"cannot read {key}: {exc}") from exc

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        return self._read(key, start, max(0, end - start))

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self._read(key, None, length)

    def get(self, key: str) -> Chunk:
        return self._read(key, 0, None)

    def list(self, prefix: str) -> list[str]:
        directory = prefix.rpartition("/")[0]
        try:
            base = self._path(directory) if directory else self.root
        except NoSuchKey:
            return []
        if not base.is_dir():
            return []
        keys = []
        for entry in base.rglob("*"):
            if entry.is_file():
                key = entry.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
#: S3 error codes worth another attempt (besides any 5xx status).
_RETRYABLE_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


class S3Store(Store):
    """An S3 bucket (or a prefix in it), read anonymously by default.

    Retries: throttling, 5xx answers, connection errors and bodies that break off while
    streaming are retried here, with full-jitter exponential backoff, at most
    ``max_attempts`` times and never starting an attempt past ``max_seconds``: a failing
    archive costs bounded time (the budget plus one attempt's socket timeouts).

    Args:
        bucket: bucket name.
        prefix: key prefix inside the bucket ('' for the bucket root).
        region: the bucket's region (scedc-pds is in us-west-2, ncedc-pds in us-east-2).
        endpoint_url: another S3 endpoint (moto, MinIO); None for AWS.
        anonymous: send unsigned requests (public buckets need no account).
        max_attempts: attempts per request, including the first.
        connect_timeout, read_timeout: socket timeouts in seconds.
        max_seconds: overall time budget of one read, retries included.
        max_connections: connection pool size (the number of concurrent reads).
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
    ) -> None:
        import botocore.session
        from botocore import UNSIGNED
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds
        config = Config(
            region_name=region,
            signature_version=UNSIGNED if anonymous else None,
            # One attempt per call: retries and the time budget are ours (see _get), so a
            # read never outlives max_seconds by more than one attempt's timeouts.
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
        self._lock = threading.Lock()

    def _full_key(self, key: str) -> str:
        return self.prefix + key

    def _get(self, key: str, range_header: str | None) -> Chunk:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            IncompleteReadError,
            ResponseStreamingError,
        )

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full_key(key)}
        if range_header:
            kwargs["Range"] = range_header
        deadline = time.monotonic() + self.max_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._client.get_object(**kwargs)
                data = response["Body"].read()
                return _chunk_from_response(response, data)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                    raise NoSuchKey(key) from None
                if code == "InvalidRange" or status == 416:
                    return Chunk(b"", 0, 0)  # range past the end: the object is empty
                if code not in _RETRYABLE_CODES and not (isinstance(status, int) and status >= 500):
                    raise ArchiveError(f"S3 error reading {self.url}{key}: {code or status}") from exc
                failure: Exception = exc
                reason = f"{code or status}"
            except (ResponseStreamingError, IncompleteReadError, HTTPClientError, ConnectionError) as exc:
                failure, reason = exc, str(exc)
            except BotoCoreError as exc:
                raise ArchiveError(f"S3 read of {self.url}{key} failed: {exc}") from exc
            # Full-jitter exponential backoff, within the attempts and the time budget.
            pause = random.uniform(0, min(2.0, 0.1 * 2**attempt))
            if attempt >= self.max_attempts or time.monotonic() + pause >= deadline:
                raise ArchiveError(
                    f"S3 read of {self.url}{key} failed after {attempt} attempts: {reason}"
                ) from failure
            time.sleep(pause)

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        if end <= start:
            return Chunk(b"", start, -1)
        return self._get(key, f"bytes={start}-{end - 1}")

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self._get(key, f"bytes=-{length}")

    def get(self, key: str) -> Chunk:
        return self._get(key, None)

    def list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._full_key(prefix)}
        try:
            while True:
                page = self._client.list_objects_v2(**kwargs)
                keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
                if not page.get("IsTruncated"):
                    return sorted(keys)
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
        except (ClientError, BotoCoreError) as exc:
            raise ArchiveError(f"cannot list {self.url}{prefix}: {exc}") from exc

    def close(self) -> None:
        self._client.close()


def _chunk_from_response(response: dict[str, Any], data: bytes) -> Chunk:
    match = _CONTENT_RANGE.match(response.get("ContentRange") or "")
    if match is None:  # a whole object, or a server that ignored the Range header
        return Chunk(data, 0, len(data))
    start, _, total = match.groups()
    size = int(total) if total != "*" else int(start) + len(data)
    return Chunk(data, int(start), size)
