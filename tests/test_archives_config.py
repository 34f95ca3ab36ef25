"""SEISWINDOW_ARCHIVE with several archives (issue 15): parsing with clear errors, one S3
client per archive in its own region, the check at start per archive, routing by network;
one archive alone keeps working exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

import seiswindow
from seiswindow import ConfigError, Settings, Status, open_archive
from seiswindow.archives import Archives, Route
from seiswindow.config import ArchiveSpec, open_archives, parse_archives
from seiswindow.store import LocalStore, S3Store
from support.oracle import assert_matches_oracle, oracle
from support.s3server import S3Proxy, default_data_root

DATA = default_data_root()


def test_one_archive_is_one_spec_serving_every_network() -> None:
    for text in ("s3://scedc-pds", "demo", "/data/scedc-pds", "s3://bucket/some/prefix"):
        assert parse_archives(text) == (ArchiveSpec(text),)


def test_a_list_names_url_layout_region_and_networks() -> None:
    specs = parse_archives(
        "s3://scedc-pds=CI,AZ; s3://ncedc-pds=bk,NC;"
        "s3://earthscope-geophysical-data/miniseed?layout=earthscope&region=us-east-2=I?;"
        "/data/sds?layout=sds"
    )
    assert specs == (
        ArchiveSpec("s3://scedc-pds", networks=("CI", "AZ")),
        ArchiveSpec("s3://ncedc-pds", networks=("BK", "NC")),
        ArchiveSpec("s3://earthscope-geophysical-data/miniseed", "earthscope", "us-east-2", ("I?",)),
        ArchiveSpec("/data/sds", "sds", None, ("*",)),
    )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("s3://scedc-pds=CI;;s3://ncedc-pds=BK", "empty"),
        ("s3://scedc-pds?flavour=x=CI", "unknown option 'flavour=x'"),
        ("s3://scedc-pds?layout=nope=CI", "unknown archive layout 'nope'"),
        ("s3://scedc-pds=C-I", "networks"),
        ("=CI", "no URL"),
    ],
)
def test_bad_lists_are_refused_naming_the_entry(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_archives(text)


def test_each_s3_archive_gets_its_own_client_in_its_region(s3: S3Proxy) -> None:
    settings = Settings(archive="s3://scedc-pds=CI;s3://ncedc-pds?region=us-east-1=BK", endpoint_url=s3.url)
    archives = open_archives(settings)
    scedc, ncedc = (a.store for a in archives)
    assert isinstance(scedc, S3Store) and isinstance(ncedc, S3Store)
    assert scedc._client is not ncedc._client
    assert scedc._client.meta.region_name == "us-west-2"
    assert ncedc._client.meta.region_name == "us-east-1"  # the entry's region wins
    assert [a.layout.name for a in archives] == ["scedc", "ncedc"]
    assert s3.count() == 2  # the check at start: one LIST per archive


def test_each_archive_is_checked_at_start(s3: S3Proxy) -> None:
    settings = Settings(archive="s3://scedc-pds=CI;s3://no-such-bucket-seiswindow=BK", endpoint_url=s3.url)
    with pytest.raises(ConfigError, match="no-such-bucket-seiswindow"):
        open_archives(settings)
    with pytest.raises(ConfigError, match=r"ncedc-pds.*holds no continuous_waveforms/"):
        open_archives(
            Settings(archive=f"{DATA / 'scedc-pds'}=CI;{DATA / 'ncedc-pds'}/continuous_waveforms=BK")
        )


def test_open_archive_refuses_a_list() -> None:
    with pytest.raises(ConfigError, match="2 archives"):
        open_archive(Settings(archive=f"{DATA / 'scedc-pds'}=CI;{DATA / 'ncedc-pds'}=BK"))


def test_routes_go_to_the_first_archive_that_serves_the_network() -> None:
    scedc = seiswindow.Archive(LocalStore(DATA / "scedc-pds"), seiswindow.archive.layout_named("scedc"))
    ncedc = seiswindow.Archive(LocalStore(DATA / "ncedc-pds"), seiswindow.archive.layout_named("ncedc"))
    archives = Archives((Route(scedc, ("CI", "A?")), Route(ncedc, ("B*", "CI"))))
    assert archives.for_network("CI") is scedc
    assert archives.for_network("AZ") is scedc
    assert archives.for_network("BK") is ncedc
    assert archives.for_network("NZ") is None
    with pytest.raises(ConfigError):
        Archives(())


def test_one_python_call_answers_ci_and_bk_from_their_archives() -> None:
    """Local directories, each in its layout; a network no archive serves is nodata."""
    local = f"{DATA / 'scedc-pds'}=CI;{DATA / 'ncedc-pds'}=BK"
    windows = [
        "CI.WBM..LHZ 2022-01-01T23:59:00 2022-01-02T00:01:00",
        "BK.THIS.00.LHZ 2022-01-02T12:00:00 2022-01-02T12:10:00",
        "NZ.WEL.10.HHZ 2022-01-02T12:00:00 2022-01-02T12:10:00",
    ]
    ci, bk, nz = seiswindow.extract(windows, archive=local)
    scedc = DATA / "scedc-pds/continuous_waveforms/2022"
    assert ci.status is Status.OK and bk.status is Status.OK, (ci.message, bk.message)
    assert_matches_oracle(
        ci,
        oracle(
            [scedc / "2022_001/CIWBM__LHZ___2022001.ms", scedc / "2022_002/CIWBM__LHZ___2022002.ms"],
            ci.window,
        ),
    )
    ncedc_file = DATA / "ncedc-pds/continuous_waveforms/BK/2022/2022.002/THIS.BK.LHZ.00.D.2022.002"
    assert_matches_oracle(bk, oracle([ncedc_file], bk.window))
    assert nz.status is Status.NODATA and "no archive serves network NZ" in nz.message


def test_seiswindow_layout_does_not_apply_to_every_archive_of_a_list(s3: S3Proxy) -> None:
    """SEISWINDOW_LAYOUT=scedc with a list: NCEDC keeps its own layout (both buckets hold
    continuous_waveforms/, so the check at start could not catch a wrong one)."""
    settings = Settings(archive="s3://scedc-pds=CI;s3://ncedc-pds=BK", layout="scedc", endpoint_url=s3.url)
    assert [a.layout.name for a in open_archives(settings)] == ["scedc", "ncedc"]
    one = Settings(archive=str(DATA / "ncedc-pds"), layout="ncedc")
    assert [a.layout.name for a in open_archives(one)] == ["ncedc"]


def test_an_empty_sds_directory_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "sds").mkdir()
    with pytest.raises(ConfigError, match="is empty"):
        open_archives(Settings(archive=f"{DATA / 'scedc-pds'}=CI;{tmp_path / 'sds'}?layout=sds=*"))
