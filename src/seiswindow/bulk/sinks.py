"""Where the files of a job go: a local directory or an S3 prefix, each written whole.

A :class:`Sink` puts one named file at a time, so that it appears whole or not at all, and
says which names it holds. :class:`DirectorySink` writes to a temporary file in
``DIR/.partial`` (emptied when it opens: what a killed run left there was never reported
done), fsyncs and renames it into place. :class:`S3Sink` puts objects under
``s3://bucket/prefix/`` (a PUT is atomic: an object is there whole or not at all) and lists
the prefix once when it opens, to answer :meth:`Sink.holds` without a request per window.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ArchiveError, ConfigError

__all__ = ["TEMPORARY_DIR", "DirectorySink", "S3Sink", "Sink", "write_whole"]

#: Where outputs are written before they are renamed into place (emptied when a job opens).
TEMPORARY_DIR = ".partial"


@runtime_checkable
class Sink(Protocol):
    """Named files, each written whole."""

    url: str

    def open(self) -> None:
        """Get ready to write (and learn what is there already).

        Raises:
            OSError: the place cannot be written or listed.
        """

    def put(self, name: str, body: bytes) -> None:
        """Write ``name`` whole or not at all.

        Raises:
            OSError: it could not be written.
        """

    def holds(self, name: str) -> bool:
        """Whether ``name`` is there (written by this run or an earlier one)."""


def write_whole(path: Path, body: bytes, *, temporary_dir: Path | None = None) -> None:
    """Write ``path`` whole or not at all: to a temporary file (in ``temporary_dir``, which
    must be on the same file system, else beside ``path``), fsynced, then renamed over
    ``path`` (atomic on POSIX). A kill leaves at most a ``.part`` file, which no rerun takes
    for an output.

    Raises:
        OSError: the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    where = temporary_dir or path.parent
    fd, temporary = tempfile.mkstemp(dir=where, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DirectorySink:
    """Files under a local directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = str(directory)

    def open(self) -> None:
        shutil.rmtree(self.directory / TEMPORARY_DIR, ignore_errors=True)
        (self.directory / TEMPORARY_DIR).mkdir(parents=True)

    def put(self, name: str, body: bytes) -> None:
        write_whole(self.directory / name, body, temporary_dir=self.directory / TEMPORARY_DIR)

    def holds(self, name: str) -> bool:
        return (self.directory / name).is_file()


class S3Sink:
    """Objects under ``s3://bucket/prefix/``.

    Args:
        url: ``s3://bucket[/prefix]``.
        endpoint_url: another S3 endpoint (moto, MinIO).
        client: a boto3 S3 client to use instead of one built here.

    Raises:
        ConfigError: ``url`` is not ``s3://bucket[/prefix]``.
    """

    def __init__(self, url: str, *, endpoint_url: str | None = None, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise ConfigError(f"{url!r} is not s3://bucket[/prefix]")
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self._client = client
        self._names: set[str] = set()

    def open(self) -> None:
        self._names = set()
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                self._names.update(item["Key"][len(self.prefix) :] for item in page.get("Contents", ()))
        except Exception as exc:  # botocore's errors, named for the user
            raise ArchiveError(f"cannot list {self.url}: {exc}") from exc

    def put(self, name: str, body: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=body)
        except Exception as exc:  # botocore's errors: the window fails, and is retried next run
            raise ArchiveError(f"cannot write {self.url.rstrip('/')}/{name}: {exc}") from exc
        self._names.add(name)

    def get(self, name: str) -> bytes | None:
        """The object ``name``, or None when there is none (a job's manifest, to resume).

        Raises:
            ArchiveError: it could not be read.
        """
        if name not in self._names:
            return None
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self.prefix + name)
            return bytes(answer["Body"].read())
        except Exception as exc:
            raise ArchiveError(f"cannot read {self.url.rstrip('/')}/{name}: {exc}") from exc

    def holds(self, name: str) -> bool:
        return name in self._names
