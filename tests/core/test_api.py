"""The Python API: ``seiswindow.extract`` from what a user has at hand, ``to_stream``."""

from __future__ import annotations

import numpy as np
import pytest

import seiswindow
from seiswindow import RequestError, Status, Window
from support.oracle import oracle
from support.s3server import default_data_root

SCEDC = default_data_root() / "scedc-pds"
WBM = sorted(SCEDC.glob("continuous_waveforms/2022/*/CIWBM__LHZ___*.ms"))


def test_extract_and_to_stream_equal_obspy() -> None:
    request = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "WBM",
                "Channel": "LHZ",
                "Location": "  ",
                "Starttime": "2022-01-01T23:50:00",
                "Endtime": "2022-01-02T00:10:00",
            },
        ]
    }
    results = seiswindow.extract(request, archive=str(SCEDC))
    assert [r.status for r in results] == [Status.OK]
    stream = seiswindow.to_stream(results)
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-01T23:50:00", "2022-01-02T00:10:00")
    expected = oracle(WBM, window)
    assert len(stream) == 1 and stream[0].id == expected[0].id == "CI.WBM..LHZ"
    np.testing.assert_array_equal(stream[0].data, expected[0].data)
    assert abs(stream[0].stats.starttime - expected[0].stats.starttime) <= 1e-6
    assert stream[0].stats.sampling_rate == expected[0].stats.sampling_rate


def test_extract_takes_strings_and_windows_and_keeps_order() -> None:
    w = Window.create("CI", "CCA", "", "BHN", "2022-01-02T01:00:00", "2022-01-02T01:00:01")
    results = seiswindow.extract(
        [
            w,
            "CI.NOPE..BHN 2022-01-02T01:00:00 2022-01-02T01:00:01",
            "CI.WBM.--.LHZ 2022-01-02 2022-01-02T00:00:30",
        ],
        archive=str(SCEDC),
    )
    assert [r.status for r in results] == [Status.OK, Status.NODATA, Status.OK]
    assert results[0].npts == 41  # 1 s at 40 Hz, both ends included
    expected = oracle(WBM, results[2].window)[0]  # the sample 0.07 s after the end is nearest
    np.testing.assert_array_equal(results[2].segments[0].samples, expected.data)
    assert abs(results[2].segments[0].start - expected.stats.starttime.ns) <= 1000


def test_extract_rejects_bad_windows_naming_them() -> None:
    with pytest.raises(RequestError, match="window 1"):
        seiswindow.extract(
            ["CI.WBM..LHZ 2022-01-02 2022-01-03", "CI.WBM..LHZ 2022-01-02"], archive=str(SCEDC)
        )
