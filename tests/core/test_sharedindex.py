"""A shared record index (:mod:`seiswindow.sharedindex`): one object per day file under an
S3 prefix (moto, behind the counting proxy), published in bulk, fetched on a miss into a
local cache; a window of an indexed file costs one GET of its object and one ranged GET of
the day file, the next windows one GET; a changed day file is searched, never answered
from the stale object; samples always ObsPy's."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.bulk.sinks import DirectorySink, S3Sink
from seiswindow.config import Settings, open_index
from seiswindow.errors import ConfigError
from seiswindow.indexbuild import build_index, filename_of
from seiswindow.recordindex import index_file
from seiswindow.sharedindex import SharedIndex, dumps, loads, object_name, publish_index
from seiswindow.store import LocalStore, MemoryStore, S3Store
from seiswindow.tsindex import IndexStore
from support.oracle import assert_matches_oracle, oracle
from support.s3server import S3Proxy, s3_client

CCA = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
WBM = "continuous_waveforms/2022/2022_002/CIWBM__LHZ___2022002.ms"
HEC = "continuous_waveforms/2022/2022_002/CIHEC__BHN___2022002.ms"


def _window(nslc: str, start: str, end: str) -> Window:
    net, sta, loc, cha = nslc.split(".")
    return Window.create(net, sta, loc, cha, start, end)


def _sample_objects(shared_data: Path) -> dict[str, bytes]:
    root = shared_data / "scedc-pds"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.ms"))}


# -- the object ---------------------------------------------------------------------------


def test_an_object_round_trips_and_equals_the_sqlite_rows_of_build_index(
    shared_data: Path, tmp_path: Path
) -> None:
    objects = _sample_objects(shared_data)
    objects.update({f"ncedc/{p.name}": p.read_bytes() for p in (shared_data / "ncedc-pds").rglob("*.ms")})
    memory = MemoryStore(objects)
    with IndexStore(tmp_path / "bulk.sqlite") as db:
        assert build_index(memory, sorted(objects), db).indexed == len(objects)
        for key, data in objects.items():
            info = memory.stat(key)
            indexed = index_file(
                data,
                key=key,
                filename=filename_of(memory, key),
                size=info.size,
                etag=info.etag,
                modified=info.modified,
            )
            body = dumps(indexed)
            assert loads(body) == indexed  # lossless, the whole time index included
            assert dumps(loads(body)) == body  # the same rows, the same bytes
            again = loads(body)
            assert db.identities([again.filename])[again.filename] == (again.size, again.etag)
            for row in again.rows:
                stored = [r for name, r in db.rows(row.nslc, row.start, row.end) if name == again.filename]
                assert row in stored
            stored_all = {
                r
                for nslc in {row.nslc for row in again.rows}
                for name, r in db.rows(nslc, 0, 2**62)
                if name == again.filename
            }
            assert stored_all == set(again.rows)


def test_the_object_is_a_fraction_of_the_sqlite_text(shared_data: Path) -> None:
    data = (shared_data / "scedc-pds" / CCA).read_bytes()
    indexed = index_file(
        data, key=CCA, filename=f"s3://scedc-pds/{CCA}", size=len(data), etag="e", modified=0
    )
    text = sum(len(row.timeindex_text() or "") for row in indexed.rows)
    assert sum(len(row.timeindex) for row in indexed.rows) == len(data) // 512  # every record
    assert len(dumps(indexed)) * 10 < text  # 11.8 kB against 200 kB (docs/index.md)


@pytest.mark.parametrize("damage", [b"", b"not gzip", b"\x1f\x8b\x08\x00"])
def test_a_damaged_object_is_a_data_error(damage: bytes) -> None:
    from seiswindow.errors import DataError

    with pytest.raises(DataError):
        loads(damage)


def test_object_names_keep_archives_apart() -> None:
    assert object_name(f"s3://scedc-pds/{CCA}") == f"scedc-pds/{CCA}.idx.json.gz"
    assert object_name("/data/sds/2022/CI/CCA/BHN.D/x") == "data/sds/2022/CI/CCA/BHN.D/x.idx.json.gz"


# -- on S3 --------------------------------------------------------------------------------


@dataclass
class Shared:
    """An archive bucket of our own (copies of sample files) and an index bucket, on moto."""

    proxy: S3Proxy
    archive: str
    index: str
    prefix: str = "team/index"

    @property
    def url(self) -> str:
        return f"s3://{self.index}/{self.prefix}"

    def archive_store(self) -> S3Store:
        return S3Store(self.archive, endpoint_url=self.proxy.url)

    def prefix_store(self) -> S3Store:
        return S3Store(self.index, prefix=self.prefix, endpoint_url=self.proxy.url, anonymous=False)

    def writer(self) -> S3Sink:
        return S3Sink(self.url, endpoint_url=self.proxy.url)

    def publish(self, keys: list[str]) -> tuple[int, int]:
        store, prefix = self.archive_store(), self.prefix_store()
        try:
            report = publish_index(store, keys, prefix, self.writer(), reclen=512)
        finally:
            store.close()
            prefix.close()
        assert not report.failed, report
        return report.indexed, report.skipped

    def extractor(self, *, writer: S3Sink | None = None) -> Extractor:
        archive = Archive(self.archive_store(), layout_named("scedc"))
        return Extractor(archive, index=SharedIndex(self.prefix_store(), writer=writer))


@pytest.fixture
def shared(s3: S3Proxy, moto_endpoint: str, shared_data: Path) -> Iterator[Shared]:
    client = s3_client(moto_endpoint)
    names = (f"archive-{uuid.uuid4().hex[:8]}", f"index-{uuid.uuid4().hex[:8]}")
    for name in names:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    client.put_bucket_acl(Bucket=names[0], ACL="public-read")
    for key in (CCA, WBM, HEC):
        body = (shared_data / "scedc-pds" / key).read_bytes()
        client.put_object(Bucket=names[0], Key=key, Body=body, ACL="public-read")
    yield Shared(s3, *names)
    for name in names:
        for item in client.list_objects_v2(Bucket=name).get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)


def _gets(proxy: S3Proxy, text: str) -> int:
    return proxy.count("GET", path_contains=text)


def test_a_window_of_a_published_file_is_one_get_of_its_object_and_one_ranged_get(
    shared: Shared, shared_data: Path
) -> None:
    assert shared.publish([CCA, WBM]) == (2, 0)
    window = _window("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    expected = oracle([shared_data / "scedc-pds" / CCA], window)
    for _process in range(2):  # two processes share the prefix: each its own cache
        with shared.extractor() as extractor:
            shared.proxy.reset()
            (result,) = extractor.extract([window])
            assert result.status is Status.OK
            assert_matches_oracle(result, expected)
            assert _gets(shared.proxy, f"{CCA}.idx.json.gz") == 1
            data_gets = [r for r in shared.proxy.records if r.key == CCA]
            assert len(data_gets) == 1 and data_gets[0].range is not None
            assert len(shared.proxy.records) == 2
            # A second window of the file: one GET, the object is in the cache now.
            shared.proxy.reset()
            later = _window("CI.CCA..BHN", "2022-01-02T20:00:00", "2022-01-02T20:01:00")
            (second,) = extractor.extract([later])
            assert_matches_oracle(second, oracle([shared_data / "scedc-pds" / CCA], later))
            assert [r.key for r in shared.proxy.records] == [CCA]


def test_publishing_again_skips_what_is_there_and_redoes_what_changed(
    shared: Shared, moto_endpoint: str, shared_data: Path
) -> None:
    assert shared.publish([CCA, WBM]) == (2, 0)
    shared.proxy.reset()
    assert shared.publish([CCA, WBM, HEC]) == (1, 2)  # resumed: HEC only
    assert shared.proxy.count("PUT") == 1
    whole_reads = [r for r in shared.proxy.records if r.method == "GET" and r.key in (CCA, WBM)]
    assert whole_reads == []  # unchanged files are not read
    data = (shared_data / "scedc-pds" / WBM).read_bytes()
    s3_client(moto_endpoint).put_object(
        Bucket=shared.archive, Key=WBM, Body=data[: 100 * 512], ACL="public-read"
    )
    assert shared.publish([CCA, WBM, HEC]) == (1, 2)


def test_a_changed_day_file_is_searched_not_answered_from_the_stale_object(
    shared: Shared, moto_endpoint: str, shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert shared.publish([WBM]) == (1, 0)
    whole = (shared_data / "scedc-pds" / WBM).read_bytes()
    replaced = whole[: 150 * 512]  # the day's first part only: another size, another ETag
    s3_client(moto_endpoint).put_object(Bucket=shared.archive, Key=WBM, Body=replaced, ACL="public-read")
    (tmp_path / "wbm.ms").write_bytes(replaced)
    window = _window("CI.WBM..LHZ", "2022-01-02T01:00:00", "2022-01-02T01:30:00")
    with caplog.at_level(logging.WARNING), shared.extractor(writer=shared.writer()) as extractor:
        (result,) = extractor.extract([window])
        assert_matches_oracle(result, oracle([tmp_path / "wbm.ms"], window))
        assert "the record index is stale" in caplog.text
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
    # Writable: the file, indexed again, was published back; a new process reads it so.
    prefix = shared.prefix_store()
    try:
        republished = loads(prefix.get(object_name(f"s3://{shared.archive}/{WBM}")).data)
    finally:
        prefix.close()
    assert republished.size == len(replaced)
    with shared.extractor() as extractor:
        shared.proxy.reset()
        (again,) = extractor.extract([window])
        assert_matches_oracle(again, oracle([tmp_path / "wbm.ms"], window))
        assert sorted(r.key.rsplit("/", 1)[-1] for r in shared.proxy.records) == [
            "CIWBM__LHZ___2022002.ms",
            "CIWBM__LHZ___2022002.ms.idx.json.gz",
        ]


def test_read_only_by_default_and_an_absent_object_is_asked_once(shared: Shared, shared_data: Path) -> None:
    window = _window("CI.HEC..BHN", "2022-01-02T03:00:00", "2022-01-02T03:01:00")
    with shared.extractor() as extractor:
        for _ in range(2):
            (result,) = extractor.extract([window])
            assert_matches_oracle(result, oracle([shared_data / "scedc-pds" / HEC], window))
        assert _gets(shared.proxy, ".idx.json.gz") == 1  # the 404 is remembered
        assert extractor.indexread is not None
        extractor.indexread.settle(30)
    assert shared.proxy.count("PUT") == 0  # nothing published back


def test_the_shared_index_in_configuration(shared: Shared) -> None:
    settings = Settings(archive=f"s3://{shared.archive}", endpoint_url=shared.proxy.url, index=shared.url)
    index = open_index(settings)
    assert isinstance(index, SharedIndex) and index.writer is None
    cache = index.path
    assert cache.is_file()
    index.close()
    assert not cache.exists()  # the temporary cache goes with the process
    writable = open_index(Settings(endpoint_url=shared.proxy.url, index=shared.url, index_writable=True))
    assert isinstance(writable, SharedIndex) and writable.writer is not None
    writable.close()
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/index"
    with pytest.raises(ConfigError, match="cannot be read"):
        open_index(Settings(endpoint_url=shared.proxy.url, index=missing))
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        open_index(Settings(index="http://example.com/index"))


def test_a_local_prefix_works_the_same(shared_data: Path, tmp_path: Path) -> None:
    """A directory as the prefix (a LocalStore and a DirectorySink): the same objects."""
    objects = _sample_objects(shared_data)
    store = LocalStore(shared_data / "scedc-pds")
    sink = DirectorySink(tmp_path / "prefix")
    sink.open()
    report = publish_index(store, sorted(objects), LocalStore(tmp_path / "prefix"), sink)
    assert report.indexed == len(objects)
    with IndexStore(tmp_path / "local.sqlite") as db:  # --publish with --db: both written
        again = publish_index(store, sorted(objects), LocalStore(tmp_path / "prefix"), sink, db=db)
        assert (again.indexed, again.skipped) == (0, len(objects))
        assert db.identities([filename_of(store, CCA)]) == {}  # skipped files are not read
        (tmp_path / "prefix" / object_name(filename_of(store, CCA))).unlink()
        third = publish_index(store, sorted(objects), LocalStore(tmp_path / "prefix"), sink, db=db)
        assert (third.indexed, third.skipped) == (1, len(objects) - 1)
        assert list(db.identities([filename_of(store, CCA)])) == [filename_of(store, CCA)]
    name = object_name(filename_of(store, CCA))
    assert loads((tmp_path / "prefix" / name).read_bytes()).key == CCA
    window = _window("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    shared = SharedIndex(LocalStore(tmp_path / "prefix"))
    with Extractor(Archive(store, layout_named("scedc")), index=shared) as extractor:
        (result,) = extractor.extract([window])
        assert_matches_oracle(result, oracle([shared_data / "scedc-pds" / CCA], window))
        assert shared.identities([filename_of(store, CCA)])


def test_a_dask_worker_opens_the_shared_index_itself(shared: Shared, shared_data: Path) -> None:
    """What a Dask worker runs (``extract_batch``) opens the shared index from settings
    it was sent (picklable): the same one GET of the object and one ranged GET."""
    import functools
    import pickle

    from seiswindow.bulk.dask import extract_batch
    from seiswindow.config import open_archives

    assert shared.publish([CCA]) == (1, 0)
    settings = Settings(archive=f"s3://{shared.archive}", endpoint_url=shared.proxy.url, index=shared.url)
    in_worker = functools.partial(open_index, settings)
    pickle.dumps(in_worker)
    window = _window("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    shared.proxy.reset()
    (result,) = extract_batch(
        functools.partial(open_archives, settings, check=False),
        [window],
        threads=2,
        samples_ahead=1_000_000,
        index=in_worker,
    )
    assert_matches_oracle(result, oracle([shared_data / "scedc-pds" / CCA], window))
    # The worker opening the index lists its prefix once (the check); then the two GETs.
    gets = [r.key.rsplit("/", 1)[-1] for r in shared.proxy.records if r.method == "GET" and r.key]
    assert gets == ["CICCA__BHN___2022002.ms.idx.json.gz", "CICCA__BHN___2022002.ms"]


def test_the_objects_of_a_requests_files_are_fetched_in_one_round(shared: Shared, shared_data: Path) -> None:
    """Three windows of three published files in a fresh process: the three objects in one
    round (held at the proxy: requests under way together), then the three ranges."""
    assert shared.publish([CCA, WBM, HEC]) == (3, 0)
    windows = [
        _window("CI.CCA..BHN", "2022-01-02T10:00:00", "2022-01-02T10:01:00"),
        _window("CI.WBM..LHZ", "2022-01-02T10:00:00", "2022-01-02T10:30:00"),
        _window("CI.HEC..BHN", "2022-01-02T10:00:00", "2022-01-02T10:01:00"),
    ]
    with shared.extractor() as extractor:
        shared.proxy.reset()
        shared.proxy.hold_s = 0.15
        results = extractor.extract(windows)
        assert shared.proxy.rounds() == 2
        assert _gets(shared.proxy, ".idx.json.gz") == 3 and len(shared.proxy.records) == 6
    for result, key in zip(results, (CCA, WBM, HEC), strict=True):
        assert_matches_oracle(result, oracle([shared_data / "scedc-pds" / key], result.window))


def test_a_damaged_object_is_not_used_and_the_window_is_searched(
    shared: Shared, moto_endpoint: str, shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = object_name(f"s3://{shared.archive}/{WBM}")
    s3_client(moto_endpoint).put_object(Bucket=shared.index, Key=f"{shared.prefix}/{name}", Body=b"garbage")
    window = _window("CI.WBM..LHZ", "2022-01-02T01:00:00", "2022-01-02T01:30:00")
    with caplog.at_level(logging.WARNING), shared.extractor() as extractor:
        for _ in range(2):
            (result,) = extractor.extract([window])
            assert_matches_oracle(result, oracle([shared_data / "scedc-pds" / WBM], window))
        assert "is not used: not a readable index object" in caplog.text
        assert _gets(shared.proxy, ".idx.json.gz") == 1  # not asked again for a while
