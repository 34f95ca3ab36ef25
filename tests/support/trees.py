"""Archives in other layouts, built in a temporary directory from real files: the shared
sample files and ObsPy's own test files, laid out as SDS, GeoNet and EarthScope lay theirs
out, and uploaded to a bucket of their own on the moto server.

- SDS: CI.WBM..LHZ for 2022-001..002 rewritten by ObsPy into 512-byte records that run on
  through midnight (a record starts before it and ends after), each record filed under the
  day it starts, as SeisComP's slarchive files them; ObsPy's CH.BALST LHE and LHZ files of
  2025-314, whose last records spill into day 315 (there is no day-315 file).
- GeoNet: BK.THIS.00.LHZ and CI.WBM..LHZ day files of the SCEDC sample set under GeoNet keys.
- EarthScope: one station-day object of CH.BALST holding LHE and LHZ, records interleaved
  in time order (ObsPy's file holds them one channel after the other).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import obspy
from obspy import Stream, read

from seiswindow.mseed import scan_records

from .s3server import REGION, default_data_root, s3_client

__all__ = ["BALST_TWO_CHANNELS", "earthscope_tree", "geonet_tree", "sds_tree", "selected", "upload_tree"]

BALST_TWO_CHANNELS = Path(obspy.__file__).parent / "io/mseed/tests/data/CH.BALST..LH_two_channels"
_SCEDC = "scedc-pds/continuous_waveforms/2022"


def _records(path: Path) -> list[tuple[str, int, bytes]]:
    """``(channel, start, bytes)`` of every record of a file, in file order."""
    data = path.read_bytes()
    headers, bad = scan_records(data, offset=0)
    assert not bad, bad
    return [(h.nslc.channel, h.start, data[h.offset : h.offset + h.reclen]) for h in headers]


def sds_tree(root: Path) -> Path:
    """An SDS tree under ``root`` (see the module's docstring); returns ``root``."""
    scedc = default_data_root() / _SCEDC
    stream = read(str(scedc / "2022_001/CIWBM__LHZ___2022001.ms"))
    stream += read(str(scedc / "2022_002/CIWBM__LHZ___2022002.ms"))
    stream.merge()
    # A record every 512 bytes of Steim2 from 2022-01-01T00:00 on: they fall where the
    # compression puts them, so one runs through midnight (checked below).
    packed = root / "wbm.mseed"
    stream.write(str(packed), format="MSEED", reclen=512, encoding="STEIM2")
    by_day: dict[int, list[bytes]] = {}
    headers, _ = scan_records(packed.read_bytes(), offset=0)
    data = packed.read_bytes()
    midnight = obspy.UTCDateTime("2022-01-02").ns
    assert any(h.start < midnight < h.end for h in headers), "no record runs through midnight"
    for h in headers:
        doy = obspy.UTCDateTime(ns=h.start).julday
        by_day.setdefault(doy, []).append(data[h.offset : h.offset + h.reclen])
    packed.unlink()
    for doy, pieces in by_day.items():
        _write(root / f"2022/CI/WBM/LHZ.D/CI.WBM..LHZ.D.2022.{doy:03d}", b"".join(pieces))
    for channel in ("LHE", "LHZ"):
        pieces = [r for c, _, r in _records(BALST_TWO_CHANNELS) if c == channel]
        _write(root / f"2025/CH/BALST/{channel}.D/CH.BALST..{channel}.D.2025.314", b"".join(pieces))
    return root


def geonet_tree(root: Path) -> Path:
    """A GeoNet open-data tree under ``root``; returns ``root``."""
    scedc = default_data_root() / _SCEDC
    day = root / "waveforms/miniseed/2022/2022.002"
    day.mkdir(parents=True)
    shutil.copyfile(scedc / "2022_002/BKTHIS_LHZ00_2022002.ms", day / "BK.THIS.00.LHZ.D.2022.002")
    for doy in ("001", "002"):
        target = root / f"waveforms/miniseed/2022/2022.{doy}/CI.WBM..LHZ.D.2022.{doy}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scedc / f"2022_{doy}/CIWBM__LHZ___2022{doy}.ms", target)
    return root


def earthscope_tree(root: Path) -> Path:
    """An EarthScope station-day tree under ``root``; returns the object's path."""
    records = sorted(_records(BALST_TWO_CHANNELS), key=lambda r: r[1])
    channels = [c for c, _, _ in records]
    assert any(a != b for a, b in zip(channels, channels[1:], strict=False)), "not interleaved"
    target = root / "miniseed/CH/2025/314/BALST.CH.2025.314"
    _write(target, b"".join(r for _, _, r in records))
    return target


def selected(path: Path, channel: str) -> Stream:
    """What ObsPy reads of one channel of a multi-channel file, merged."""
    stream = read(str(path)).select(channel=channel)
    stream.merge()
    return stream


def upload_tree(endpoint: str, bucket: str, root: Path) -> None:
    """Every file under ``root`` into a new public-read ``bucket``, keyed by its path."""
    client = s3_client(endpoint)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
