"""A real S3 API on loopback for tests and benchmarks, loaded with the shared sample data.

- `start_moto` runs moto's S3 server in a thread on 127.0.0.1 (a free port);
- `load_shared_data` creates the `scedc-pds` and `ncedc-pds` buckets in it and uploads the real
  sample files of ``../shared/data`` under their bucket keys, readable anonymously like the
  public data sets;
- `S3Proxy` (from `s3proxy`, re-exported here) goes between the code under test and moto to
  count requests and bytes, inject faults, and shape latency and bandwidth.

Usage from a benchmark (``python -m benchmarks`` from the project root)::

    from tests.support.s3server import S3Proxy, load_shared_data, s3_client, start_moto

    moto = start_moto()
    load_shared_data(moto.endpoint)
    with S3Proxy(moto.endpoint, delay_s=0.02, bandwidth_bps=20e6) as proxy:
        client = s3_client(proxy.url)
        ...
    moto.stop()
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from .s3proxy import FaultKind, ProxyRecord, S3Proxy

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

__all__ = [
    "BUCKETS",
    "DATA_ROOT_ENV",
    "DUMMY_CREDENTIALS",
    "REGION",
    "FaultKind",
    "MotoHandle",
    "ProxyRecord",
    "S3Proxy",
    "default_data_root",
    "load_shared_data",
    "s3_client",
    "start_moto",
]

#: The buckets of the shared data, named as on AWS.
BUCKETS: tuple[str, ...] = ("scedc-pds", "ncedc-pds")
#: Region of every client made here. (ncedc-pds really lives in us-east-2; moto does not care.)
REGION = "us-west-2"
#: Credentials moto accepts; passed explicitly so no real credential chain is ever consulted.
DUMMY_CREDENTIALS: dict[str, str] = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
#: Environment variable that overrides where the shared data lives.
DATA_ROOT_ENV = "SEISWINDOW_SHARED_DATA"


def default_data_root() -> Path:
    """Where the shared sample data lives: ``$SEISWINDOW_SHARED_DATA`` or ``<repo>/../shared/data``.

    The default is computed from this file's location (``<repo>/tests/support/s3server.py``),
    not from the working directory, so it is right wherever pytest or a benchmark is started.
    """
    override = os.environ.get(DATA_ROOT_ENV)
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


@dataclass(frozen=True)
class MotoHandle:
    """A running in-process moto server: its endpoint URL and how to stop it."""

    endpoint: str
    host: str
    port: int
    _server: ThreadedMotoServer = field(repr=False, compare=False)

    def stop(self) -> None:
        """Shut the server down and wait for its thread (safe to call twice)."""
        self._server.stop()


def start_moto(host: str = "127.0.0.1", *, quiet: bool = True) -> MotoHandle:
    """Start `moto.server.ThreadedMotoServer` on ``host`` and a free port.

    Port 0 is passed to the server, which binds it and reports the port it got, so there is
    no window in which another process could take a port picked beforehand.

    Beware that moto keeps its state in process-global backends: a ``moto.mock_aws`` used in
    the same process resets them when it exits, which would empty this server too.

    Args:
        host: address to listen on; keep it on loopback.
        quiet: silence werkzeug's one-line-per-request access log (a process-wide logger).

    Returns:
        A `MotoHandle`; call ``stop()`` when done.
    """
    from moto.server import ThreadedMotoServer

    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    bound_host, port = server.get_host_and_port()
    return MotoHandle(endpoint=f"http://{bound_host}:{port}", host=bound_host, port=port, _server=server)


def s3_client(endpoint: str, *, config: Config | None = None) -> Any:
    """A boto3 S3 client for ``endpoint`` with the dummy credentials and `REGION`.

    Credentials are passed explicitly so the client never walks the credential chain
    (environment, ``~/.aws``, instance metadata).
    """
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, config=config, **DUMMY_CREDENTIALS)


def load_shared_data(endpoint: str, data_root: Path | str | None = None) -> dict[str, list[str]]:
    """Create the `BUCKETS` in the S3 at ``endpoint`` and upload the shared sample files.

    Every file under ``data_root/<bucket>/`` is uploaded with its path relative to that
    directory as key (``README.md`` at the top of ``data_root`` is not inside a bucket
    directory, so it is never uploaded). Buckets and objects are made public-read, as the real
    SCEDC and NCEDC data sets are, so unsigned clients work too (moto denies anonymous
    requests otherwise; a bucket policy is not enough, as moto ignores it for HeadObject).
    Loading twice is harmless: existing buckets are reused and objects overwritten.

    Args:
        endpoint: S3 endpoint URL, normally `MotoHandle.endpoint` (not the proxy, so loading
            is not counted).
        data_root: directory holding one sub-directory per bucket; `default_data_root()` if None.

    Returns:
        The uploaded keys, sorted, per bucket.

    Raises:
        FileNotFoundError: a bucket directory is missing or holds no file; tests must fail
            loudly rather than run against an empty archive.
    """
    root = Path(data_root) if data_root is not None else default_data_root()
    client = s3_client(endpoint)
    loaded: dict[str, list[str]] = {}
    for bucket in BUCKETS:
        bucket_dir = root / bucket
        files = sorted(p for p in bucket_dir.rglob("*") if p.is_file()) if bucket_dir.is_dir() else []
        if not files:
            raise FileNotFoundError(
                f"no sample data for bucket {bucket!r} under {bucket_dir} "
                f"(set ${DATA_ROOT_ENV} or put the shared data beside the repository)"
            )
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_bucket_acl(Bucket=bucket, ACL="public-read")
        keys = []
        for path in files:
            key = path.relative_to(bucket_dir).as_posix()
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")
            keys.append(key)
        loaded[bucket] = keys
    return loaded
