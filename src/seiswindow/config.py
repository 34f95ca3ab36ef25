"""Configuration, parsed once at the edge (API call, CLI, service start, Lambda cold start)
into typed values that the core receives. The core reads no environment variables.

Environment variables:

- ``SEISWINDOW_ARCHIVE``: ``s3://bucket[/prefix]``, a local directory, or ``demo``
  (default ``s3://scedc-pds``).
- ``SEISWINDOW_LAYOUT``: ``scedc`` or ``ncedc`` (default: inferred from the archive name).
- ``SEISWINDOW_REGION``: the bucket's region (default: us-west-2, us-east-2 for ncedc-pds,
  else ``AWS_REGION``).
- ``SEISWINDOW_SIGNED``: ``1`` to sign S3 requests with the default AWS credentials
  (default: anonymous, as public buckets need).
- ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``: another S3 endpoint (moto, MinIO).
- ``SEISWINDOW_MAX_WINDOWS``, ``SEISWINDOW_MAX_SAMPLES`` (estimated from band codes),
  ``SEISWINDOW_MAX_WINDOW_SECONDS`` (no bound in time by default),
  ``SEISWINDOW_MAX_RESPONSE_BYTES``: request limits.
- ``SEISWINDOW_MAX_WORKERS``: concurrent file reads (default 16).
- ``SEISWINDOW_STATIONS``: a path or ``s3://bucket/key`` of a station table (an FDSN station
  text file, station or channel level) giving coordinates of stations that have day files but
  no StationXML, so that fdsnws-station lists them (docs/fdsn.md); read once, at start.
- ``SEISWINDOW_INDEX``: a path of the record index (a ``tsindex`` SQLite database, created when
  missing; docs/index.md) that the service reads windows through and fills as it reads;
  unset: no index.
- ``SEISWINDOW_RESULTS``: ``s3://bucket[/prefix]`` where Lambda hands over answers larger than
  its 6 MB (a presigned URL instead of 413); unset: 413 with advice.

The demo archive (``demo``) is built under ``Settings.demo_root`` when given, else under
the XDG cache directory of this process's environment (``XDG_CACHE_HOME``, ``HOME``).
:class:`~seiswindow.archive.Archive` is defined in :mod:`seiswindow.archive` and
re-exported here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .archive import Archive, layout_named
from .errors import ArchiveError, ConfigError, NoSuchKey
from .model import Limits
from .store import LocalStore, S3Store, Store

if TYPE_CHECKING:
    from .fdsn.stationtable import StationTable
    from .service import Service
    from .tsindex import IndexStore

__all__ = [
    "DEFAULT_ARCHIVE",
    "Archive",
    "Settings",
    "open_archive",
    "open_index",
    "open_service",
    "open_station_table",
]

DEFAULT_ARCHIVE = "s3://scedc-pds"
_REGIONS = {"scedc-pds": "us-west-2", "ncedc-pds": "us-east-2"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with the defaults a user of the public SCEDC bucket wants."""

    archive: str = DEFAULT_ARCHIVE
    layout: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    signed: bool = False
    limits: Limits = field(default_factory=Limits)
    max_workers: int = 16
    #: ``s3://bucket[/prefix]`` for answers too large for Lambda (seiswindow.aws.results).
    results: str | None = None
    #: a station table (path or ``s3://bucket/key``) for stations without StationXML
    stations: str | None = None
    #: the record index, a tsindex SQLite path (docs/index.md); None: no index
    index: str | None = None
    #: where ``archive="demo"`` is built; None: the XDG cache directory (see above)
    demo_root: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from environment variables; ``overrides`` that are not None win.

        Raises:
            ConfigError: a value cannot be parsed.
        """
        env = os.environ if env is None else env

        def number(name: str, default: float, kind: type = int) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = float(kind(raw))
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a number") from None
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive finite number")
            return value

        defaults = Limits()
        limits = Limits(
            max_windows=int(number("SEISWINDOW_MAX_WINDOWS", defaults.max_windows)),
            max_samples=int(number("SEISWINDOW_MAX_SAMPLES", defaults.max_samples)),
            max_window_seconds=float(
                number("SEISWINDOW_MAX_WINDOW_SECONDS", defaults.max_window_seconds, float)
            ),
            max_response_bytes=int(number("SEISWINDOW_MAX_RESPONSE_BYTES", defaults.max_response_bytes)),
        )
        values: dict[str, object] = {
            "archive": env.get("SEISWINDOW_ARCHIVE") or DEFAULT_ARCHIVE,
            "layout": env.get("SEISWINDOW_LAYOUT") or None,
            "region": env.get("SEISWINDOW_REGION") or None,
            "endpoint_url": env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            "signed": env.get("SEISWINDOW_SIGNED", "").lower() in ("1", "true", "yes"),
            "limits": limits,
            "max_workers": int(number("SEISWINDOW_MAX_WORKERS", 16)),
            "results": env.get("SEISWINDOW_RESULTS") or None,
            "stations": env.get("SEISWINDOW_STATIONS") or None,
            "index": env.get("SEISWINDOW_INDEX") or None,
        }
        if not values["region"]:
            values["region"] = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def open_archive(settings: Settings, *, check: bool = True) -> Archive:
    """The archive the settings name: an S3 bucket, a local directory, or the demo.

    With ``check`` (the default), the archive is asked once whether it holds day files of
    its layout (one LIST of at most one key): a bucket that does not exist, a private one
    read anonymously, or a directory one level off is an error here, at start, naming what
    to set, instead of "no data" for every window.

    Raises:
        ConfigError: the archive or layout is invalid, or the archive holds no day file.
    """
    archive = _open(settings)
    if check:
        _check(archive, settings)
    return archive


def _check(archive: Archive, settings: Settings) -> None:
    root = archive.layout.root
    try:
        holds = archive.store.holds(root)
    except ArchiveError as exc:
        raise ConfigError(f"the archive {settings.archive!r} cannot be read: {exc}") from exc
    if not holds:
        raise ConfigError(
            f"the archive {settings.archive!r} holds no {root} (the {archive.layout.name} layout's day "
            "files): check the URL or directory (the archive's root, the folder that holds "
            f"{root.rstrip('/')}) and SEISWINDOW_LAYOUT"
        )


def _open(settings: Settings) -> Archive:
    url = settings.archive
    if url == "demo":
        from .demo import build_demo_archive, default_demo_root

        # The edge decides where the demo lives: the explicit root, else this process's
        # environment, passed to demo's helper explicitly.
        root = Path(settings.demo_root) if settings.demo_root else default_demo_root(os.environ)
        build_demo_archive(root)
        return Archive(LocalStore(root), layout_named(settings.layout or "scedc"))
    if url.startswith("s3://"):
        bucket, _, prefix = url[5:].partition("/")
        if not bucket:
            raise ConfigError(f"archive {url!r} names no bucket")
        layout = layout_named(settings.layout or ("ncedc" if "ncedc" in bucket else "scedc"))
        region = _REGIONS.get(bucket) or settings.region or "us-west-2"
        store: Store = S3Store(
            bucket,
            prefix=prefix,
            region=region,
            endpoint_url=settings.endpoint_url,
            anonymous=not settings.signed,
            max_connections=max(32, 2 * settings.max_workers),
        )
        return Archive(store, layout)
    if "://" in url:
        raise ConfigError(f"archive {url!r}: use s3://bucket, a directory path, or 'demo'")
    path = Path(url).expanduser()
    layout = layout_named(settings.layout or ("ncedc" if "ncedc" in path.name else "scedc"))
    return Archive(LocalStore(path), layout)


def open_station_table(settings: Settings) -> StationTable | None:
    """The station table the settings name (None when they name none), read and parsed now.

    Raises:
        ConfigError: the table cannot be read or parsed.
    """
    source = settings.stations
    if not source:
        return None
    # Imported here: the table is an FDSN concern, and `import seiswindow` stays light.
    from .fdsn.stationtable import parse_station_table

    try:
        data = _read_table(source, settings)
    except (OSError, NoSuchKey) as exc:  # ArchiveError is an OSError
        raise ConfigError(f"the station table {source!r} cannot be read: {exc}") from None
    return parse_station_table(data, source=source)


def _read_table(source: str, settings: Settings) -> bytes:
    """The bytes of a local file or an S3 object.

    Raises:
        ConfigError: ``source`` is another kind of URL, or names no object.
        OSError: the file cannot be read (ArchiveError: the object cannot be read).
        NoSuchKey: the object does not exist.
    """
    if source.startswith("s3://"):
        bucket, _, key = source[5:].partition("/")
        if not bucket or not key:
            raise ConfigError(f"station table {source!r}: give s3://bucket/key")
        store = S3Store(
            bucket,
            region=_REGIONS.get(bucket) or settings.region or "us-west-2",
            endpoint_url=settings.endpoint_url,
            anonymous=not settings.signed,
        )
        return store.get(key).data
    if "://" in source:
        raise ConfigError(f"station table {source!r}: use a file path or s3://bucket/key")
    return Path(source).expanduser().read_bytes()


def open_service(settings: Settings) -> Service:
    """The service on the archive the settings name, with their limits and workers.

    Raises:
        ConfigError: the archive cannot be opened.
    """
    # Imported here: `import seiswindow` (which imports this module) stays free of the
    # service and its encoders; only the front ends that serve pay for them.
    from .extract import Extractor
    from .service import Service

    archive = open_archive(settings)
    extractor = Extractor(
        archive, limits=settings.limits, max_workers=settings.max_workers, index=open_index(settings)
    )
    return Service(extractor, owns_extractor=True)


def open_index(settings: Settings) -> IndexStore | None:
    """The record index the settings name (None when they name none), opened now.

    Raises:
        ConfigError: the index is not a local path, or cannot be opened or created.
    """
    source = settings.index
    if not source:
        return None
    if "://" in source:
        raise ConfigError(f"index {source!r}: give the path of a tsindex SQLite database")
    # Imported here: `import seiswindow` stays free of sqlite3 and the index modules.
    from .tsindex import IndexStore

    path = Path(source).expanduser()
    if not path.parent.is_dir():
        raise ConfigError(f"index {source!r}: the directory {str(path.parent)!r} does not exist")
    try:
        return IndexStore(path)
    except OSError as exc:  # ArchiveError is an OSError
        raise ConfigError(f"the index {source!r} cannot be opened: {exc}") from None
