"""Fixtures of the core tests: archives over the shared data, as S3 (moto) and local dirs,
and the ObsPy oracle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.store import LocalStore, S3Store


def s3_archive(endpoint: str, bucket: str, **store_options: object) -> Archive:
    """An archive on the moto S3 server (through the proxy), read anonymously."""
    store = S3Store(bucket, endpoint_url=endpoint, **store_options)  # type: ignore[arg-type]
    return Archive(store, layout_named("ncedc" if "ncedc" in bucket else "scedc"))


def _extractor(request: pytest.FixtureRequest, shared_data: Path, bucket: str) -> Iterator[Extractor]:
    if request.param == "s3":
        archive = s3_archive(request.getfixturevalue("s3").url, bucket)
    else:
        archive = Archive(LocalStore(shared_data / bucket), layout_named(bucket.split("-")[0]))
    with Extractor(archive) as extractor:
        yield extractor


@pytest.fixture(params=["s3", "local"])
def scedc(request: pytest.FixtureRequest, shared_data: Path) -> Iterator[Extractor]:
    """An extractor on the SCEDC sample files, once through S3 and once as a directory."""
    yield from _extractor(request, shared_data, "scedc-pds")


@pytest.fixture(params=["s3", "local"])
def ncedc(request: pytest.FixtureRequest, shared_data: Path) -> Iterator[Extractor]:
    """An extractor on the NCEDC sample files, once through S3 and once as a directory."""
    yield from _extractor(request, shared_data, "ncedc-pds")
