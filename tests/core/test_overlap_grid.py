"""After an overlap ObsPy's merged trace goes on, on the grid of the data before it: a
window after the overlap has ObsPy's sample times (it used to differ by the 2.4 ms the
overlapping run was off that grid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime
from pymseed import DataEncoding, MS3TraceList

from seiswindow import Archive, Extractor
from seiswindow.archive import layout_named
from seiswindow.model import Status, Window
from seiswindow.store import LocalStore
from support.oracle import assert_matches_oracle, oracle

KEY = "continuous_waveforms/2022/2022_002/SYOVER_BHZ___2022002.ms"
DAY0 = UTCDateTime("2022-01-02")


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes at 40 Hz from 00:00:01, then ten more that start 10 s too early and
    2.4 ms off the first run's grid (an overlap, as a restarted logger writes)."""
    root = tmp_path_factory.mktemp("overlap")
    rng = np.random.default_rng(3)
    traces = MS3TraceList()
    try:
        for start in (DAY0 + 1, DAY0 + 1 + 590.0024):
            samples = rng.integers(-1000, 1000, 40 * 600, dtype=np.int32)
            traces.add_data("FDSN:SY_OVER__B_H_Z", samples, "i", 40.0, starttime=start.ns)
        path = root / KEY
        path.parent.mkdir(parents=True)
        traces.to_file(
            str(path), overwrite=True, max_record_length=512, encoding=DataEncoding.STEIM2, format_version=2
        )
    finally:
        traces.close()
    return root


@pytest.mark.parametrize("begin", [605, 620, 900])
def test_a_window_after_an_overlap_has_obspys_sample_times(overlapping: Path, begin: int) -> None:
    window = Window.create("SY", "OVER", "", "BHZ", (DAY0 + begin).ns, (DAY0 + begin + 10).ns)
    with Extractor(Archive(LocalStore(overlapping), layout_named("scedc"))) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([overlapping / KEY], window))
