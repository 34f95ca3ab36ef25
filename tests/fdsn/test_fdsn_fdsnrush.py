"""fdsn-rush, unmodified, downloading day files into an SDS archive from the services on a real socket.

fdsn-rush (0.1.0) is a download tool with an HTTP stack (aiohttp) and a text parser of its own;
its command line ``fdsn-rush download CONFIG`` sends, as read from its source: per network,
``station/1/query?...&level=channel&format=text&nodata=404`` (dates as ``2022-01-02``) and picks
per station and day the first ``channel_priority`` pattern with channels in the sampling-rate
range; ``station/1/query?...&level=response&format=xml`` saved as ``metadata/<NET>.xml``; per
channel and day ``dataselect/1/query?...&starttime=D&endtime=D+1&format=mseed&nodata=404``. It
appends the answer to a partial file, loads it with Pyrocko, ``degapper``s, drops traces shorter
than a minute, ``chop``s to the day ``[D, D+1)`` and saves it (Steim1, 4096-byte records) as
``<year>/<NET>/<STA>/<CHA>.D/<NET>.<STA>.<LOC>.<CHA>.D.<year>.<doy>``; a 404 is written to
``remote_errors.log`` and no file is saved.

It is installed with Pyrocko in ``.venv-pyrocko`` (``make install-pyrocko``). The expected values
are ObsPy reading the archive's day files and StationXML.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from obspy import Inventory, Stream, UTCDateTime, read, read_inventory

from seiswindow.model import Nslc

REPO = Path(__file__).resolve().parents[2]
FDSN_RUSH = REPO / ".venv-pyrocko" / "bin" / "fdsn-rush"

#: The days fdsn-rush is asked for: [2022-01-01, 2022-01-03) is days 001 and 002.
DAYS = (UTCDateTime("2022-01-01"), UTCDateTime("2022-01-02"))
#: CI.CCA and CI.HEC hold BHN on day 002 only; CI.YAQ has no channel open then.
STATIONS = ("CCA", "HEC", "YAQ")
CHANNELS = (Nslc("CI", "CCA", "", "BHN"), Nslc("CI", "HEC", "", "BHN"))


@pytest.fixture(scope="module")
def rush(scedc_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``fdsn-rush download`` left its SDS archive and metadata (run once)."""
    if not FDSN_RUSH.is_file():
        pytest.fail(f"{FDSN_RUSH} missing: run `make install-pyrocko`", pytrace=False)
    work = tmp_path_factory.mktemp("fdsn-rush")
    config = {
        "writer": {"sds_archive": str(work / "sds")},
        "clients": [{"url": f"{scedc_url}/"}],
        "metadata_path": str(work / "metadata"),
        "time_range": ["2022-01-01", "2022-01-03"],
        "station_selection": [f"CI.{sta}." for sta in STATIONS],
        "channel_priority": ["LHZ", "BHN"],
        "min_sampling_rate": 1.0,
        "max_sampling_rate": 40.0,
    }
    (work / "config.json").write_text(json.dumps(config))
    done = subprocess.run(
        [str(FDSN_RUSH), "download", str(work / "config.json")],
        cwd=work,
        capture_output=True,
        text=True,
        # A HOME of its own: a developer's ~/.pyrocko configuration must not apply.
        env={**os.environ, "HOME": str(work), "COLUMNS": "200"},
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (work / "output.txt").write_text(done.stdout + done.stderr)
    return work


def _sds_name(nslc: Nslc, day: UTCDateTime) -> str:
    net, sta, loc, cha = nslc
    return f"{day.year}/{net}/{sta}/{cha}.D/{net}.{sta}.{loc}.{cha}.D.{day.year}.{day.julday:03d}"


def _day(expected: Callable[..., Stream], nslc: Nslc, day: UTCDateTime) -> Stream:
    """ObsPy's samples of the day ``[day, day + 1)``: nearest samples, the one nearest the next
    midnight left to the next day (as fdsn-rush's ``chop`` does)."""
    stream = expected([nslc], day, day + 86_400)
    if len(stream):
        stream.trim(day, day + 86_400 - stream[0].stats.delta)
    return stream


def test_fdsn_rush_saves_the_days_with_data_as_obspy_reads_them(
    rush: Path, expected: Callable[..., Stream]
) -> None:
    sds = rush / "sds"
    saved = sorted(p.relative_to(sds).as_posix() for p in sds.rglob("*.D.*") if p.is_file())
    wanted = {_sds_name(nslc, day): _day(expected, nslc, day) for nslc in CHANNELS for day in DAYS}
    assert saved == sorted(name for name, stream in wanted.items() if len(stream)), (
        rush / "output.txt"
    ).read_text()
    for name in saved:
        ours, theirs = read(str(sds / name)).merge(), wanted[name]
        assert [tr.id for tr in ours] == [tr.id for tr in theirs] and len(theirs) == 1, name
        mine, ref = ours[0], theirs[0]
        # fdsn-rush re-packs the records: miniSEED 2 start times have a resolution of 100 µs.
        assert abs(mine.stats.starttime - ref.stats.starttime) <= 1e-4, (mine, ref)
        assert mine.stats.sampling_rate == ref.stats.sampling_rate
        assert mine.stats.npts == ref.stats.npts, (mine, ref)
        assert mine.data.dtype == ref.data.dtype
        assert (mine.data == ref.data).all(), name


def test_fdsn_rush_records_the_days_without_data_as_404(rush: Path, expected: Callable[..., Stream]) -> None:
    """``nodata=404``: each channel-day without data is a 404 in its log, and nothing else is."""
    rows = [line.split(",") for line in (rush / "sds" / "remote_errors.log").read_text().splitlines()]
    logged = sorted((nslc_id, day, status) for nslc_id, day, _, status, _ in rows)
    empty = sorted(
        (".".join(nslc), day.strftime("%Y-%m-%d"), "404")
        for nslc in CHANNELS
        for day in DAYS
        if not len(_day(expected, nslc, day))
    )
    assert empty  # CCA and HEC on day 001
    assert logged == empty


def test_fdsn_rush_metadata_is_the_archives_stationxml(rush: Path, shared_data: Path) -> None:
    saved = read_inventory(str(rush / "metadata" / "CI.xml"))
    archive = Inventory()
    for sta in STATIONS:
        archive += read_inventory(str(shared_data / "scedc-pds" / "FDSNstationXML" / "CI" / f"CI_{sta}.xml"))
    # The channels open in fdsn-rush's time range (CI.YAQ has none: it is not asked for).
    archive = archive.select(starttime=UTCDateTime("2022-01-01"), endtime=UTCDateTime("2022-01-03"))

    def channels(inventory: Inventory) -> list[tuple[object, ...]]:
        return sorted(
            (net.code, sta.code, cha.location_code, cha.code, cha.start_date, cha.latitude, cha.longitude)
            for net in inventory
            for sta in net
            for cha in sta
        )

    assert channels(saved) == channels(archive)
    assert all(
        cha.response is not None and cha.response.response_stages
        for net in saved
        for sta in net
        for cha in sta
    )
