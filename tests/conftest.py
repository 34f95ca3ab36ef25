"""Session-wide test infrastructure shared by every test package.

- AWS environment: dummy credentials, no profile or config file, no instance metadata, loopback
  exempt from HTTP proxies, so boto3 in the code under test never finds or asks for real
  credentials and never leaves the machine;
- `shared_data`: the real sample files in ``../shared/data``; if they are missing the tests
  error out instead of being skipped;
- `moto_endpoint`: a moto S3 server on 127.0.0.1 holding them in `scedc-pds` and `ncedc-pds`;
- `s3proxy`: an `S3Proxy` in front of it that counts requests and bytes and injects faults;
  tests take `s3`, the same proxy with records, faults and shaping cleared.

The buckets are shared by the whole session: tests must not write into them (make a bucket of
your own). App-specific fixtures belong in conftest files beside the tests that use them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.s3server import BUCKETS, S3Proxy, default_data_root, load_shared_data, start_moto

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
    "AWS_EC2_METADATA_DISABLED": "true",
    # A developer's ~/.aws must not change region, retries or endpoints under test.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_AWS_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_LOOPBACK = ("127.0.0.1", "localhost")


@pytest.fixture(scope="session", autouse=True)
def aws_test_env() -> Iterator[None]:
    """Dummy AWS environment for the whole session, restored afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _AWS_ENV.items():
            mp.setenv(name, value)
        for name in _AWS_UNSET:
            mp.delenv(name, raising=False)
        # botocore honours HTTP(S)_PROXY; the loopback servers must be reached directly.
        for name in ("NO_PROXY", "no_proxy"):
            present = [h for h in os.environ.get(name, "").split(",") if h.strip()]
            mp.setenv(name, ",".join([*present, *(h for h in _LOOPBACK if h not in present)]))
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared sample data directory (``<repo>/../shared/data`` or ``$SEISWINDOW_SHARED_DATA``).

    Missing data is an error, not a skip: a suite that silently skips its real-data tests
    would pass while testing nothing.
    """
    root = default_data_root()
    missing = [b for b in BUCKETS if not (root / b).is_dir()]
    if missing:
        pytest.fail(
            f"shared sample data missing: {', '.join(str(root / b) for b in missing)}",
            pytrace=False,
        )
    return root


@pytest.fixture(scope="session")
def moto_endpoint(aws_test_env: None, shared_data: Path) -> Iterator[str]:
    """URL of a moto S3 server on 127.0.0.1 loaded with the shared data (public-read)."""
    moto = start_moto()
    try:
        load_shared_data(moto.endpoint, shared_data)
        yield moto.endpoint
    finally:
        moto.stop()


@pytest.fixture(scope="session")
def s3proxy(moto_endpoint: str) -> Iterator[S3Proxy]:
    """One `S3Proxy` in front of `moto_endpoint` for the session; tests use `s3`."""
    with S3Proxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture
def s3(s3proxy: S3Proxy) -> Iterator[S3Proxy]:
    """The session proxy with no records, no pending faults and no shaping.

    Point clients at ``s3.url``. Faults and shaping a test sets are cleared afterwards too,
    so nothing leaks into the next test.
    """
    _clear(s3proxy)
    yield s3proxy
    _clear(s3proxy)


def _clear(proxy: S3Proxy) -> None:
    proxy.reset()
    proxy.clear_injections()
    proxy.delay_s = 0.0
    proxy.hold_s = None
    proxy.bandwidth_bps = None
