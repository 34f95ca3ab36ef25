"""Fixtures of the processing and format tests: the SCEDC sample data as a local archive,
the :class:`Timeseries` on it, and ObsPy's own reading of a window (the oracle)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from obspy import Inventory, Trace, read_inventory

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.model import Window, WindowResult
from seiswindow.store import LocalStore
from seiswindow.timeseries import Timeseries
from support.oracle import oracle

DAY_FILE = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
START, END = "2022-01-02T01:00:00", "2022-01-02T01:10:00"


@pytest.fixture(scope="session")
def timeseries(shared_data: Path) -> Iterator[Timeseries]:
    archive = Archive(LocalStore(shared_data / "scedc-pds"), layout_named("scedc"))
    with Extractor(archive) as extractor:
        yield Timeseries(extractor)


@pytest.fixture(scope="session")
def window() -> Window:
    """Ten minutes of CI.CCA..BHN (40 Hz, with StationXML)."""
    return Window.create("CI", "CCA", "", "BHN", START, END)


@pytest.fixture(scope="session")
def raw(timeseries: Timeseries, window: Window) -> WindowResult:
    (result,) = timeseries.extractor.extract([window])
    assert result.segments, result
    return result


@pytest.fixture
def obspy_trace(shared_data: Path, window: Window) -> Trace:
    """ObsPy reading and trimming the window from the day file itself, a fresh copy."""
    (trace,) = oracle([shared_data / "scedc-pds" / DAY_FILE], window)
    return trace


@pytest.fixture(scope="session")
def inventory(shared_data: Path) -> Inventory:
    return read_inventory(str(shared_data / "scedc-pds/FDSNstationXML/CI/CI_CCA.xml"))
