"""Fixtures of the service tests: settings on the moto S3 bucket (through the counting
proxy), a service, and the HTTP app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seiswindow.aws.envelope import LAMBDA_MAX_BYTES
from seiswindow.config import Settings, open_service
from seiswindow.http import create_app
from seiswindow.model import Limits
from seiswindow.service import Service
from support.s3server import S3Proxy
from support.serving import serving


@pytest.fixture(scope="session")
def settings(s3proxy: S3Proxy) -> Settings:
    """The SCEDC bucket on moto, as ``SEISWINDOW_ARCHIVE=s3://scedc-pds`` with the endpoint set,
    and Lambda's answer limit (6 MB less the envelope) over HTTP too: the sample days exceed
    it, so the 413 paths are tested on every door (the local default, 1 GiB, they do not)."""
    return Settings(
        archive="s3://scedc-pds",
        endpoint_url=s3proxy.url,
        limits=Limits(max_response_bytes=LAMBDA_MAX_BYTES),
    )


@pytest.fixture(scope="session")
def service(settings: Settings) -> Iterator[Service]:
    svc = open_service(settings)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def live_url(settings: Settings) -> Iterator[str]:
    """Base URL of the HTTP app on the SCEDC bucket."""
    with serving(create_app(settings)) as url:
        yield url
