"""Pyrocko's FDSN client (``pyrocko.client.fdsn``), unmodified, against the services on a real socket.

Pyrocko is an independent seismology toolkit; nobody on the project wrote its client. What it
sends (read from its source, pyrocko 2026.6.2): ``application.wadl`` first, to check the
parameters it is given (``check=True``, the default); ``GET .../query?...`` with keyword
arguments, times as ``%Y-%m-%dT%H:%M:%S`` (whole seconds) and a blank location as ``--``;
``POST`` with ``key=value`` lines then ``NET STA LOC CHA START END`` lines when given a
``selection``. It raises ``EmptyResult`` on 204 and ``RequestEntityTooLarge`` on 413.

It runs in its own environment (``make install-pyrocko``: its Python 3.11 wheels need
numpy<2), through ``pyrocko_client.py``; the expected values are ObsPy reading the archive's
day files and StationXML, never the service's output.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fdsn_helpers import serve_fdsn
from obspy import Inventory, Stream, UTCDateTime, read_inventory

from seiswindow.model import Nslc
from support.s3server import S3Proxy

REPO = Path(__file__).resolve().parents[2]
PYROCKO_PYTHON = REPO / ".venv-pyrocko" / "bin" / "python"
DRIVER = Path(__file__).with_name("pyrocko_client.py")

CCA = Nslc("CI", "CCA", "", "BHN")
HEC = Nslc("CI", "HEC", "", "BHN")
WBM = Nslc("CI", "WBM", "", "LHZ")
#: Five minutes of a 40 Hz channel inside one day file.
CCA_T0, CCA_T1 = "2022-01-02 10:00:00", "2022-01-02 10:05:00"
#: Twenty minutes of a 1 Hz channel across midnight: two day files.
WBM_T0, WBM_T1 = "2022-01-01 23:50:00", "2022-01-02 00:10:00"
#: Three minutes of every CI B-band channel: CCA and HEC hold BHN that day.
WILD_T0, WILD_T1 = "2022-01-02 12:00:00", "2022-01-02 12:03:00"
#: The time of Pyrocko's station model (``get_pyrocko_stations(time=...)``).
AT = "2022-01-02 00:00:00"
#: A day the archive holds no file of.
EMPTY_T0, EMPTY_T1 = "2022-01-05 00:00:00", "2022-01-05 00:10:00"

CALLS: dict[str, dict[str, Any]] = {
    "wadl_dataselect": {"wadl": "dataselect"},
    "wadl_station": {"wadl": "station"},
    "stations": {"station": {"network": "CI", "level": "channel"}, "selection": None, "at": AT},
    "stations_post": {
        "station": {"level": "channel"},
        "selection": [["CI", "W*", "*", "*", "2022-01-01 00:00:00", "2022-01-03 00:00:00"]],
        "at": AT,
    },
    "stations_none": {"station": {"network": "XX", "level": "channel"}, "selection": None, "at": AT},
    "cca": {
        "dataselect": {
            "network": "CI", "station": "CCA", "location": "", "channel": "BHN",
            "starttime": CCA_T0, "endtime": CCA_T1,
        },
        "selection": None, "tmin": CCA_T0, "tmax": CCA_T1,
    },
    "midnight": {
        "dataselect": {},
        "selection": [["CI", "WBM", "", "LHZ", WBM_T0, WBM_T1]],
        "tmin": WBM_T0, "tmax": WBM_T1,
    },
    "wildcard": {
        "dataselect": {"network": "CI", "station": "*", "channel": "BH?", "starttime": WILD_T0, "endtime": WILD_T1},
        "selection": None, "tmin": WILD_T0, "tmax": WILD_T1,
    },
    "wildcard_post": {
        "dataselect": {},
        "selection": [["CI", "*C*", "*", "B??", WILD_T0, WILD_T1]],
        "tmin": WILD_T0, "tmax": WILD_T1,
    },
    "empty": {
        "dataselect": {
            "network": "CI", "station": "CCA", "location": "", "channel": "BHN",
            "starttime": EMPTY_T0, "endtime": EMPTY_T1,
        },
        "selection": None, "tmin": EMPTY_T0, "tmax": EMPTY_T1,
    },
    "empty_post": {
        "dataselect": {},
        "selection": [["CI", "*", "", "BHN", EMPTY_T0, EMPTY_T1]],
        "tmin": EMPTY_T0, "tmax": EMPTY_T1,
    },
}  # fmt: skip


def _run_pyrocko(site: str, calls: dict[str, dict[str, Any]], home: Path) -> dict[str, Any]:
    """Pyrocko's client making ``calls`` against ``site``, in its own environment."""
    if not PYROCKO_PYTHON.is_file():
        pytest.fail(f"{PYROCKO_PYTHON} missing: run `make install-pyrocko`", pytrace=False)
    # A HOME of its own: a developer's ~/.pyrocko/config.pf (timeouts, cache) must not apply.
    done = subprocess.run(
        [str(PYROCKO_PYTHON), str(DRIVER)],
        input=json.dumps({"site": site, "calls": calls}),
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home)},
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def pyrocko(scedc_url: str, s3proxy: S3Proxy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every call of ``CALLS`` made by Pyrocko's client against the SCEDC services, once (one
    process: importing Pyrocko takes seconds), and ``too_large``: the five minutes of ``cca``
    from a server whose byte limit they exceed (29 records of 512 bytes, 14848 bytes, over 10 kB)."""
    with serve_fdsn("scedc-pds", s3proxy.url, max_bytes=10_000) as small:
        calls = {**CALLS, "too_large": {**CALLS["cca"], "site": small}}
        return _run_pyrocko(scedc_url, calls, tmp_path_factory.mktemp("pyrocko-home"))


def _inventory(shared_data: Path) -> Inventory:
    inventory = Inventory()
    for path in sorted((shared_data / "scedc-pds" / "FDSNstationXML" / "CI").glob("*.xml")):
        inventory += read_inventory(str(path))
    return inventory


def _channels(inventory: Inventory) -> list[tuple[Any, ...]]:
    """Channel epochs as comparable tuples: codes, start, coordinates, rate."""
    rows = []
    for net in inventory:
        for sta in net:
            for cha in sta:
                rows.append(
                    (
                        (net.code, sta.code, cha.location_code, cha.code),
                        cha.start_date.strftime("%Y-%m-%dT%H:%M:%S"),
                        cha.latitude, cha.longitude, cha.elevation, cha.depth, cha.sample_rate,
                        sta.latitude, sta.longitude,
                    )
                )  # fmt: skip
    return sorted(rows)


def _reported(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    assert "error" not in result, result
    keys = ("start", "latitude", "longitude", "elevation", "depth", "sample_rate")
    return sorted(
        (tuple(c["nslc"]), *(c[k] for k in keys), c["station_latitude"], c["station_longitude"])
        for c in result["channels"]
    )


def _assert_same_samples(result: dict[str, Any], expected: Stream) -> None:
    """Pyrocko's chopped traces are ObsPy's trimmed ones: ids, period, dtype, samples bit for
    bit, start within 1/1000 of a period (records keep their own time stamps, see
    ``fdsn_helpers.assert_same_stream``) or 1 µs (Pyrocko's float seconds)."""
    assert "error" not in result, result
    traces = result["traces"]
    assert len(expected) > 0
    assert [".".join(t["nslc"]) for t in traces] == [tr.id for tr in expected]
    for mine, ref in zip(traces, expected, strict=True):
        assert mine["deltat"] == ref.stats.delta
        assert abs(mine["tmin"] - ref.stats.starttime.timestamp) <= max(1e-6, ref.stats.delta / 1000)
        assert mine["dtype"] == str(ref.data.dtype)
        assert len(mine["data"]) == ref.stats.npts
        assert mine["data"] == ref.data.tolist()


def test_pyrocko_reads_the_wadls_of_both_services(pyrocko: dict[str, Any]) -> None:
    # check=True found the query resources in our WADLs (else it would have warned it cannot check).
    assert pyrocko["warnings"] == []
    dataselect = pyrocko["results"]["wadl_dataselect"]["params"]
    station = pyrocko["results"]["wadl_station"]["params"]
    assert {"network", "station", "location", "channel", "starttime", "endtime"} <= set(dataselect)
    assert {"level", "minlatitude", "latitude", "maxradius", "matchtimeseries"} <= set(station)


def test_pyrocko_station_channels_match_the_archives_stationxml(
    pyrocko: dict[str, Any], shared_data: Path
) -> None:
    inventory = _inventory(shared_data)
    assert _reported(pyrocko["results"]["stations"]) == _channels(inventory.select(network="CI"))


def test_pyrocko_station_model_at_a_time(pyrocko: dict[str, Any], shared_data: Path) -> None:
    """``get_pyrocko_stations(time=t)``: one station per sensor; together they hold every
    channel open at ``t``, each station placed where ObsPy reads its channels to be."""
    at = _inventory(shared_data).select(time=UTCDateTime(AT))
    located = {
        (net.code, sta.code, cha.location_code, cha.code): (
            cha.latitude,
            cha.longitude,
            cha.elevation,
            cha.depth,
        )
        for net in at
        for sta in net
        for cha in sta
    }
    stations = pyrocko["results"]["stations"]["pyrocko_stations"]
    held = sorted((*s["nsl"], cha) for s in stations for cha in s["channels"])
    assert held == sorted(located)
    for s in stations:
        where = (s["lat"], s["lon"], s["elevation"], s["depth"])
        assert {located[(*s["nsl"], cha)] for cha in s["channels"]} == {where}, s


def test_pyrocko_station_post_selection_matches(pyrocko: dict[str, Any], shared_data: Path) -> None:
    selected = _inventory(shared_data).select(
        network="CI",
        station="W*",
        starttime=UTCDateTime("2022-01-01T00:00:00"),
        endtime=UTCDateTime("2022-01-03T00:00:00"),
    )
    assert _channels(selected)  # CI.WBM has channel epochs open then
    assert _reported(pyrocko["results"]["stations_post"]) == _channels(selected)


def test_pyrocko_sees_no_station_as_an_empty_result(pyrocko: dict[str, Any]) -> None:
    assert pyrocko["results"]["stations_none"]["error"] == "EmptyResult"


def test_pyrocko_waveforms_of_a_40hz_channel(
    pyrocko: dict[str, Any], expected: Callable[..., Stream]
) -> None:
    reference = expected([CCA], UTCDateTime(CCA_T0), UTCDateTime(CCA_T1))
    _assert_same_samples(pyrocko["results"]["cca"], reference)


def test_pyrocko_waveforms_across_midnight(pyrocko: dict[str, Any], expected: Callable[..., Stream]) -> None:
    reference = expected([WBM], UTCDateTime(WBM_T0), UTCDateTime(WBM_T1))
    assert reference[0].stats.npts == 1201
    _assert_same_samples(pyrocko["results"]["midnight"], reference)


@pytest.mark.parametrize("name", ["wildcard", "wildcard_post"])
def test_pyrocko_waveforms_with_wildcards(
    pyrocko: dict[str, Any], expected: Callable[..., Stream], name: str
) -> None:
    reference = expected([CCA, HEC], UTCDateTime(WILD_T0), UTCDateTime(WILD_T1))
    _assert_same_samples(pyrocko["results"][name], reference.sort())


@pytest.mark.parametrize("name", ["empty", "empty_post"])
def test_pyrocko_sees_no_data_as_an_empty_result(pyrocko: dict[str, Any], name: str) -> None:
    # 204: Pyrocko's own "no data" exception, not a download failure of another kind.
    assert pyrocko["results"][name]["error"] == "EmptyResult", pyrocko["results"][name]


def test_pyrocko_sees_413_as_request_entity_too_large(pyrocko: dict[str, Any]) -> None:
    too_large = pyrocko["results"]["too_large"]
    assert too_large["error"] == "RequestEntityTooLarge", too_large
