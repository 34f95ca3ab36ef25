"""Configuration, parsed once at the edge (API call, CLI, service start, Lambda cold start)
into typed values that the core receives. The core reads no environment variables.

Environment variables:

- ``SEISWINDOW_ARCHIVE``: ``s3://bucket[/prefix]``, a local directory, or ``demo``
  (default ``s3://scedc-pds``); or several archives, ``;``-separated, each
  ``URL[?layout=NAME&region=NAME]=NETWORKS`` (networks: codes or shell patterns,
  ``,``-separated; none: every network), e.g.
  ``s3://scedc-pds=CI,AZ;s3://ncedc-pds=BK,NC;/data/sds?layout=sds=*``. A window goes to
  the first archive that serves its network (:func:`parse_archives`, :func:`open_archives`).
- ``SEISWINDOW_LAYOUT``: ``scedc``, ``ncedc``, ``sds``, ``geonet`` or ``earthscope``
  (default: inferred from the archive name); for one archive only: each archive of a list
  names its own (``?layout=``) or has it inferred from its name.
- ``SEISWINDOW_REGION``: the bucket's region (default: the known region of scedc-pds,
  ncedc-pds, earthscope-geophysical-data and geonet-open-data, else ``AWS_REGION``).
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
  or ``s3://bucket/prefix`` of a *shared* index (one object per day file, published by
  ``seiswindow index build --publish``; requests signed with the default AWS credentials),
  cached in a temporary SQLite file; unset: no index.
- ``SEISWINDOW_INDEX_WRITABLE``: ``1`` to publish back to a shared index the rows this
  process makes (files read whole, files changed since published); default: read-only.
- ``SEISWINDOW_ROUND_COST``: ``LATENCY_MS,BANDWIDTH_MBPS`` of the archive's store, which
  decides when a file not in the index is searched in 2 rounds (a speculative range) instead
  of 3 (a round of 64-byte probes; docs/index.md), or ``off`` (always probe: fewest bytes);
  default ``20,100`` for an S3 archive, ``off`` for a local one.
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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .archive import Archive, layout_named
from .archives import Archives, Route
from .errors import ArchiveError, ConfigError, NoSuchKey
from .model import Limits
from .store import LocalStore, S3Store, Store

if TYPE_CHECKING:
    from .extract import Extractor
    from .fdsn.stationtable import StationTable
    from .locate import RoundCost
    from .service import Service
    from .sharedindex import SharedIndex
    from .tsindex import IndexStore

__all__ = [
    "DEFAULT_ARCHIVE",
    "Archive",
    "ArchiveSpec",
    "Settings",
    "open_archive",
    "open_archives",
    "open_extractor",
    "index_prefix",
    "open_index",
    "open_shared_index",
    "open_service",
    "open_station_table",
    "parse_archives",
    "round_cost",
]

DEFAULT_ARCHIVE = "s3://scedc-pds"
_REGIONS = {
    "scedc-pds": "us-west-2",
    "ncedc-pds": "us-east-2",
    "earthscope-geophysical-data": "us-east-2",
    "geonet-open-data": "ap-southeast-2",
}


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
    #: the record index, a tsindex SQLite path or ``s3://bucket/prefix`` of a shared one
    #: (docs/index.md); None: no index
    index: str | None = None
    #: publish rows made here back to a shared index (default: read-only)
    index_writable: bool = False
    #: what a round of requests and a byte cost ("LATENCY_MS,BANDWIDTH_MBPS" or "off");
    #: None: the default for the archive (see above)
    round_cost: str | None = None
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
            "index_writable": env.get("SEISWINDOW_INDEX_WRITABLE", "").lower() in ("1", "true", "yes"),
            "round_cost": env.get("SEISWINDOW_ROUND_COST") or None,
        }
        if not values["region"]:
            values["region"] = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def open_archive(settings: Settings, *, check: bool = True) -> Archive:
    """The archive the settings name: an S3 bucket, a local directory, or the demo
    (settings naming several archives: :func:`open_archives`).

    With ``check`` (the default), the archive is asked once whether it holds day files of
    its layout (one LIST of at most one key): a bucket that does not exist, a private one
    read anonymously, or a directory one level off is an error here, at start, naming what
    to set, instead of "no data" for every window.

    Raises:
        ConfigError: the archive or layout is invalid, or the archive holds no day file,
            or the settings name several archives.
    """
    if len(specs := parse_archives(settings.archive)) > 1:
        raise ConfigError(f"{len(specs)} archives are configured where one is needed: {settings.archive!r}")
    archive = _open(settings)
    if check:
        _check(archive, settings)
    return archive


@dataclass(frozen=True, slots=True)
class ArchiveSpec:
    """One archive of ``SEISWINDOW_ARCHIVE``: its URL, the layout and region it names
    (None: inferred), and the networks it serves (codes or shell patterns)."""

    url: str
    layout: str | None = None
    region: str | None = None
    networks: tuple[str, ...] = ("*",)


_NETWORK_PATTERN = re.compile(r"^[A-Z0-9*?\[\]!]{1,8}$")


def parse_archives(text: str) -> tuple[ArchiveSpec, ...]:
    """The archives of a ``SEISWINDOW_ARCHIVE`` value: one URL (every network), or
    ``;``-separated ``URL[?layout=NAME&region=NAME]=NETWORKS`` entries.

    Raises:
        ConfigError: an entry is empty, names an unknown option or layout, or a network
            that is no code or pattern.
    """
    entries = [e.strip() for e in text.split(";")]
    if "=" not in text and len(entries) == 1:
        return (ArchiveSpec(text),)  # one archive, exactly as always
    if not all(entries):
        raise ConfigError(f"SEISWINDOW_ARCHIVE={text!r}: an entry between ';' is empty")
    return tuple(_parse_entry(entry) for entry in entries)


def _parse_entry(entry: str) -> ArchiveSpec:
    url, networks = entry, "*"
    head, sep, tail = entry.rpartition("=")
    # "URL?layout=sds" ends in an option, not in networks: its query would lack a '='.
    if sep and ("?" not in head or all("=" in p for p in head.partition("?")[2].split("&"))):
        url, networks = head, tail
    url, _, query = url.partition("?")
    options: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        if name not in ("layout", "region") or not value:
            raise ConfigError(f"archive {entry!r}: unknown option {pair!r} (known: layout=, region=)")
        options[name] = value
    if "layout" in options:
        layout_named(options["layout"])  # an unknown layout is an error here, naming the entry
    codes = tuple(n.strip().upper() for n in networks.split(","))
    bad = [c for c in codes if not _NETWORK_PATTERN.match(c)]
    if not url.strip() or bad:
        what = f"networks {bad}" if bad else "no URL"
        raise ConfigError(f"archive {entry!r}: {what}; give URL[?layout=NAME&region=NAME]=NET,NET")
    return ArchiveSpec(url.strip(), options.get("layout"), options.get("region"), codes)


def open_archives(settings: Settings, *, check: bool = True) -> Archives:
    """The archives the settings name, each with its store (an S3 client of its own, in
    its region), layout and networks; each checked as :func:`open_archive` checks one.

    Raises:
        ConfigError: an entry is invalid, or an archive cannot be read or holds no day file.
    """
    routes = []
    specs = parse_archives(settings.archive)
    for spec in specs:
        # SEISWINDOW_LAYOUT names the layout of one archive; in a list, each entry names its
        # own (or its name tells it): one setting for all would misread every other archive.
        layout = spec.layout or (settings.layout if len(specs) == 1 else None)
        one = replace(settings, archive=spec.url, layout=layout)
        archive = _open(one, region=spec.region)
        if check:
            _check(archive, one)
        routes.append(Route(archive, spec.networks))
    return Archives(tuple(routes))


def _check(archive: Archive, settings: Settings) -> None:
    root = archive.layout.root
    try:
        holds = archive.store.holds(root)
    except ArchiveError as exc:
        raise ConfigError(f"the archive {settings.archive!r} cannot be read: {exc}") from exc
    if not holds and not root:  # a layout whose keys start with the year (SDS)
        raise ConfigError(
            f"the archive {settings.archive!r} is empty: check the URL or directory (the "
            f"{archive.layout.name} tree's root, the folder that holds the year folders)"
        )
    if not holds:
        raise ConfigError(
            f"the archive {settings.archive!r} holds no {root} (the {archive.layout.name} layout's day "
            "files): check the URL or directory (the archive's root, the folder that holds "
            f"{root.rstrip('/')}) and SEISWINDOW_LAYOUT"
        )


def _open(settings: Settings, *, region: str | None = None) -> Archive:
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
        layout = layout_named(settings.layout or _guess_layout(bucket))
        region = region or _REGIONS.get(bucket) or settings.region or "us-west-2"
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
    layout = layout_named(settings.layout or _guess_layout(path.name))
    return Archive(LocalStore(path), layout)


def _guess_layout(name: str) -> str:
    """The layout an archive's name suggests (``ncedc-pds``, ``geonet-open-data``...)."""
    return next((known for known in ("ncedc", "geonet", "earthscope") if known in name), "scedc")


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
    from .service import Service

    return Service(open_extractor(settings), owns_extractor=True)


def open_extractor(settings: Settings, archive: Archive | Archives | None = None) -> Extractor:
    """The extractor the settings describe (limits, workers, record index, round cost), on
    ``archive`` or else the archives they name.

    Raises:
        ConfigError: the archive or the index cannot be opened, or a value is invalid.
    """
    from .extract import Extractor

    return Extractor(
        archive or open_archives(settings),
        limits=settings.limits,
        max_workers=settings.max_workers,
        index=open_index(settings),
        round_cost=round_cost(settings),
    )


def round_cost(settings: Settings) -> RoundCost | None:
    """What a round of requests costs against bytes on the settings' archive: S3's (20 ms,
    100 MB/s, a client in the bucket's region) unless set; None (always probe) for a local
    archive or ``off``.

    Raises:
        ConfigError: the value is not ``LATENCY_MS,BANDWIDTH_MBPS`` of positive numbers.
    """
    from .locate import RoundCost

    raw = settings.round_cost
    if raw is None:  # S3's when any archive is a bucket (a directory's reads are cheap anyway)
        return RoundCost() if "s3://" in settings.archive else None
    if raw.strip().lower() == "off":
        return None
    try:
        latency_ms, bandwidth_mbps = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(
            f"SEISWINDOW_ROUND_COST={raw!r}: give LATENCY_MS,BANDWIDTH_MBPS (e.g. 20,100) or off"
        ) from None
    if (
        not (math.isfinite(latency_ms) and math.isfinite(bandwidth_mbps))
        or min(latency_ms, bandwidth_mbps) <= 0
    ):
        raise ConfigError(f"SEISWINDOW_ROUND_COST={raw!r}: both numbers must be positive")
    return RoundCost(latency_s=latency_ms / 1000, bandwidth_bps=bandwidth_mbps * 1e6)


def open_index(settings: Settings) -> IndexStore | None:
    """The record index the settings name (None when they name none), opened now.

    Raises:
        ConfigError: the index is not a local path, or cannot be opened or created.
    """
    source = settings.index
    if not source:
        return None
    if source.startswith("s3://"):
        return open_shared_index(settings)
    if "://" in source:
        raise ConfigError(
            f"index {source!r}: give the path of a tsindex SQLite database or s3://bucket/prefix"
        )
    # Imported here: `import seiswindow` stays free of sqlite3 and the index modules.
    from .tsindex import IndexStore

    path = Path(source).expanduser()
    if not path.parent.is_dir():
        raise ConfigError(f"index {source!r}: the directory {str(path.parent)!r} does not exist")
    try:
        return IndexStore(path)
    except OSError as exc:  # ArchiveError is an OSError
        raise ConfigError(f"the index {source!r} cannot be opened: {exc}") from None


def index_prefix(settings: Settings) -> S3Store:
    """The store of the shared index's prefix ``settings.index`` (``s3://bucket/prefix``),
    signed with the default AWS credentials (a prefix the user owns), not yet checked.

    Raises:
        ConfigError: the URL names no bucket.
    """
    source = settings.index or ""
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not source.startswith("s3://") or not bucket:
        raise ConfigError(f"index {source!r}: give s3://bucket/prefix")
    return S3Store(
        bucket,
        prefix=prefix,
        region=_REGIONS.get(bucket) or settings.region or "us-west-2",
        endpoint_url=settings.endpoint_url,
        anonymous=False,
        max_connections=max(32, 2 * settings.max_workers),
    )


def open_shared_index(settings: Settings) -> SharedIndex:
    """The shared index the settings name: its prefix checked now (one LIST), a local
    cache in a temporary file, publishing back only when ``index_writable``.

    Raises:
        ConfigError: the prefix cannot be listed (no such bucket, access denied).
    """
    from .bulk.sinks import S3Sink
    from .sharedindex import SharedIndex, check_prefix

    prefix = index_prefix(settings)
    try:
        check_prefix(prefix)
    except (ArchiveError, NoSuchKey) as exc:
        prefix.close()
        raise ConfigError(f"the shared index {settings.index!r} cannot be read: {exc}") from None
    url = settings.index or ""
    writer = S3Sink(url, endpoint_url=settings.endpoint_url) if settings.index_writable else None
    try:
        return SharedIndex(prefix, writer=writer)
    except OSError as exc:  # ArchiveError is an OSError
        prefix.close()
        raise ConfigError(f"the cache of the shared index {settings.index!r} cannot be made: {exc}") from None
