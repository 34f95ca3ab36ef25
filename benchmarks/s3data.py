"""The S3 server both systems read: moto on 127.0.0.1 with the real sample files, plus
generated day files for what the samples lack, and the shaping proxy in front.

Why generated files: the shared sample data hold 40 Hz and 1 Hz days only. The headline
figures are for a 100 Hz day (what broadband stations record today) and for a day with
gaps; both are written with :func:`seiswindow.demo.write_day_file` (libmseed, 512-byte
Steim2 records, realistic noise at ~1.6 bytes per sample), then uploaded in SCEDC layout
to a bucket of their own, readable anonymously like the public data sets.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from seiswindow.archive import layout_named
from seiswindow.demo import write_day_file
from seiswindow.model import Nslc

from ._paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # tests.support is not installed; it lives in the repository
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.s3server import (  # noqa: E402
    REGION,
    MotoHandle,
    default_data_root,
    load_shared_data,
    s3_client,
    start_moto,
)

__all__ = [
    "BENCH_BUCKET",
    "DAY",
    "GAPPY",
    "GAPPY_GAPS_S",
    "HUNDRED_HZ",
    "BenchS3",
    "GeneratedFile",
    "start_bench_s3",
]

#: The bucket of the generated files.
BENCH_BUCKET = "seiswindow-bench"
#: The day of every generated file (the day of most shared sample files).
DAY = dt.date(2022, 1, 2)
#: A gap-free 100 Hz day.
HUNDRED_HZ = Nslc("SY", "BENCH", "", "HHZ")
#: A 100 Hz day with gaps.
GAPPY = Nslc("SY", "GAPS", "", "HHZ")
#: Spans without samples in the gappy day, in seconds after midnight: two inside the
#: 10:00-11:00 hour the 1-hour case asks for, one elsewhere.
GAPPY_GAPS_S: tuple[tuple[float, float], ...] = (
    (10 * 3600 + 12 * 60, 10 * 3600 + 12 * 60 + 30),
    (10 * 3600 + 40 * 60, 10 * 3600 + 41 * 60),
    (17 * 3600, 17 * 3600 + 300),
)


@dataclass(frozen=True)
class GeneratedFile:
    """One generated day file: its codes, key in the bench bucket, and size."""

    nslc: Nslc
    key: str
    size: int
    sampling_rate: float

    @property
    def bytes_per_sample(self) -> float:
        return self.size / (86_400 * self.sampling_rate)


@dataclass
class BenchS3:
    """The running moto server and what it holds. Call :meth:`stop` when done."""

    moto: MotoHandle
    data_root: Path
    shared_keys: dict[str, list[str]]
    generated: list[GeneratedFile] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.moto.endpoint

    def stop(self) -> None:
        self.moto.stop()


def _generate(root: Path) -> list[tuple[Nslc, Path]]:
    layout = layout_named("scedc")
    files = []
    for nslc, gaps, seed in ((HUNDRED_HZ, (), 1), (GAPPY, GAPPY_GAPS_S, 2)):
        path = root / layout.key(nslc, DAY)
        write_day_file(
            path,
            network=nslc.network,
            station=nslc.station,
            location=nslc.location,
            channel=nslc.channel,
            day=DAY,
            sampling_rate=100.0,
            gaps=gaps,
            seed=seed,
        )
        files.append((nslc, path))
    return files


def start_bench_s3(*, generate: bool = True) -> BenchS3:
    """Start moto on 127.0.0.1, load the shared sample data (buckets ``scedc-pds`` and
    ``ncedc-pds``) and, when ``generate``, the generated files (bucket :data:`BENCH_BUCKET`,
    created either way).

    Raises:
        FileNotFoundError: the shared sample data are missing.
    """
    moto = start_moto()
    try:
        root = default_data_root()
        shared = load_shared_data(moto.endpoint, root)
        client = s3_client(moto.endpoint)
        client.create_bucket(Bucket=BENCH_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_bucket_acl(Bucket=BENCH_BUCKET, ACL="public-read")
        generated: list[GeneratedFile] = []
        with tempfile.TemporaryDirectory(prefix="seiswindow-bench-") as tmp:
            for nslc, path in _generate(Path(tmp)) if generate else []:
                key = path.relative_to(tmp).as_posix()
                body = path.read_bytes()
                client.put_object(Bucket=BENCH_BUCKET, Key=key, Body=body, ACL="public-read")
                generated.append(GeneratedFile(nslc, key, len(body), 100.0))
    except BaseException:
        moto.stop()
        raise
    return BenchS3(moto, root, shared, generated)
