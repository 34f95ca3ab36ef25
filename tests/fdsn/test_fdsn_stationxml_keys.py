"""Where each layout keeps its StationXML: SCEDC ``FDSNstationXML/CI/CI_CCA.xml``, NCEDC
``FDSNstationXML/BK/BK.THIS.xml`` (docs/fdsn.md, "Stations without StationXML"). The NCEDC
file is built in the set-up from a sample CI file, its codes renamed with ObsPy."""

from __future__ import annotations

from pathlib import Path

import pytest
from obspy import read_inventory

from seiswindow.archive import layout_named
from seiswindow.fdsn import StationService, parse_station
from seiswindow.store import LocalStore


@pytest.fixture
def ncedc_root(shared_data: Path, tmp_path: Path) -> Path:
    """An NCEDC-laid-out tree holding BK.THIS at its key, and a decoy under SCEDC's name."""
    inventory = read_inventory(str(shared_data / "scedc-pds/FDSNstationXML/CI/CI_WBM.xml"))
    inventory[0].code = "BK"
    inventory[0][0].code = "THIS"
    (tmp_path / "FDSNstationXML/BK").mkdir(parents=True)
    inventory.write(str(tmp_path / "FDSNstationXML/BK/BK.THIS.xml"), format="STATIONXML")
    inventory[0][0].code = "RUSS"
    inventory.write(str(tmp_path / "FDSNstationXML/BK/BK_RUSS.xml"), format="STATIONXML")
    return tmp_path


def test_layouts_name_their_station_xml_keys() -> None:
    scedc, ncedc = layout_named("scedc"), layout_named("ncedc")
    assert scedc.station_xml_key("CI", "CCA") == "FDSNstationXML/CI/CI_CCA.xml"
    assert ncedc.station_xml_key("BK", "THIS") == "FDSNstationXML/BK/BK.THIS.xml"
    assert scedc.parse_station_xml_key("FDSNstationXML/CI/CI_CCA.xml") == ("CI", "CCA")
    assert ncedc.parse_station_xml_key("FDSNstationXML/BK/BK.THIS.xml") == ("BK", "THIS")
    assert ncedc.parse_station_xml_key("FDSNstationXML/BK/BK_THIS.xml") is None
    assert scedc.parse_station_xml_key("FDSNstationXML/BK/BK.THIS.xml") is None
    assert scedc.parse_station_xml_key("FDSNstationXML/CI/BK_THIS.xml") is None  # network mismatch


def test_station_service_reads_ncedc_station_xml_at_its_key(ncedc_root: Path) -> None:
    service = StationService(LocalStore(ncedc_root), layout=layout_named("ncedc"))
    answer = service.answer(parse_station([("network", "BK"), ("level", "station")], None), module_uri="x")
    assert answer is not None
    stations = [(net.code, sta.code) for net in read_inventory(answer.body) for sta in net]
    assert stations == [("BK", "THIS")]  # BK_RUSS.xml is not an NCEDC name
