"""Windows of the real sample files, cut and decoded by ObsPy: the inputs and the oracle of
tests/bulk/test_seisbench.py (and of its crash child, which imports this module too).

The sample data hold no three-component station (one channel per station: ``BHN`` of CI.CCA
and CI.HEC, ``LHZ`` of the others). Three real 1 Hz channels on one sample grid (their samples
fall within 3 ms of each other) stand in for the ``Z``, ``N``, ``E`` of one station: CI.WBM
(the full day), CI.FOX2 (from 22:55:07) and CI.NCH (from 22:53:11). The writer is indifferent
to where a component's samples come from; what is tested is the alignment (two components
starting late, padded) and that SeisBench reads back ObsPy's samples. CI.CCA's ``BHN`` is a
station holding one component of ``ZNE``, as SCEDC's single-channel stations do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from obspy import Trace, UTCDateTime, read

DAY = Path("scedc-pds/continuous_waveforms/2022/2022_002")
#: Component → day file of the three-component stand-in (see the module docstring).
TRIO = {"Z": "CIWBM__LHZ___2022002.ms", "N": "CIFOX2_LHZ___2022002.ms", "E": "CINCH__LHZ___2022002.ms"}
CCA_N = {"N": "CICCA__BHN___2022002.ms"}


@dataclass(frozen=True)
class Window:
    """One window as the bulk job hands it to the writer, with ObsPy's trimmed traces."""

    window_id: str
    traces: dict[str, Trace]
    metadata: dict[str, object]
    picks: dict[str, str] = field(default_factory=dict)

    def components(self) -> dict[str, tuple[int, float, npt.NDArray[Any]]]:
        return {c: (tr.stats.starttime.ns, tr.stats.sampling_rate, tr.data) for c, tr in self.traces.items()}

    def arrivals(self) -> dict[str, int]:
        return {phase: UTCDateTime(t).ns for phase, t in self.picks.items()}

    @property
    def start(self) -> UTCDateTime:
        return min(tr.stats.starttime for tr in self.traces.values())

    @property
    def rate(self) -> float:
        return next(iter(self.traces.values())).stats.sampling_rate

    def expected(self, component_order: str = "ZNE") -> npt.NDArray[Any]:
        """The window as SeisBench should give it back, placed by ObsPy's own time arithmetic:
        each trace at ``round((its start - earliest start) * rate)``, zeros elsewhere."""
        offsets = {c: round((tr.stats.starttime - self.start) * self.rate) for c, tr in self.traces.items()}
        npts = max(offsets[c] + tr.stats.npts for c, tr in self.traces.items())
        out = np.zeros((len(component_order), npts), dtype=np.int32)
        for c, tr in self.traces.items():
            out[component_order.index(c), offsets[c] : offsets[c] + tr.stats.npts] = tr.data
        return out


@cache
def _day(path: Path) -> Trace:
    (trace,) = read(str(path))
    return trace


def cut(shared: Path, files: dict[str, str], t0: str, t1: str) -> dict[str, Trace]:
    """ObsPy's trim of each component's day file to ``[t0, t1]`` (nearest samples)."""
    out = {}
    for component, name in files.items():
        trace = _day(shared / DAY / name).copy()
        trace.trim(UTCDateTime(t0), UTCDateTime(t1))
        assert trace.stats.npts > 0, (name, t0, t1)
        out[component] = trace
    return out


def trio(shared: Path, window_id: str, t0: str, t1: str, **picks: str) -> Window:
    metadata: dict[str, object] = {
        "station_network_code": "CI",
        "station_code": "WBM",
        "station_location_code": "",
        "station_channel": "LH",
        "source_id": f"ci{window_id}",
        "split": "train",
    }
    return Window(window_id, cut(shared, TRIO, t0, t1), metadata, dict(picks))


def cca(shared: Path, window_id: str, t0: str, t1: str, **picks: str) -> Window:
    metadata: dict[str, object] = {
        "station_network_code": "CI",
        "station_code": "CCA",
        "station_location_code": "",
        "station_channel": "BH",
        "source_id": f"ci{window_id}",
        "split": "test",
        "source_magnitude": 2.5,
    }
    return Window(window_id, cut(shared, CCA_N, t0, t1), metadata, dict(picks))


def trio_windows(shared: Path) -> list[Window]:
    """Three windows of the stand-in: the first with N and E starting late (padded)."""
    return [
        trio(shared, "w1", "2022-01-02T22:50:00", "2022-01-02T23:00:00", P="2022-01-02T22:57:30.5", S="2022-01-02T22:58:10"),
        trio(shared, "w2", "2022-01-02T23:10:00", "2022-01-02T23:20:00", P="2022-01-02T23:12:00"),
        trio(shared, "w3", "2022-01-02T23:30:00", "2022-01-02T23:40:00", P="2022-01-02T23:31:07.25"),
    ]  # fmt: skip
