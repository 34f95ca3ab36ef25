"""Windows that start, end or lie inside a gap of the data: the same grid as ObsPy's
merged and trimmed trace (masked samples at the window's edges), on a day file with a
30-second gap written by libmseed (the demo archive), through S3-like ranged reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.demo import build_demo_archive
from seiswindow.store import LocalStore
from support.oracle import assert_matches_oracle, oracle


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    build_demo_archive(root)
    return root


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2024-01-01T10:00:29.0195", "2024-01-01T10:00:30.0695", Status.PARTIAL),  # starts in the gap
        ("2024-01-01T09:59:59.9445", "2024-01-01T10:00:00.0445", Status.PARTIAL),  # ends in the gap
        ("2024-01-01T10:00:10", "2024-01-01T10:00:10.1", Status.NODATA),  # wholly in the gap
        (
            "2024-01-01T10:00:00",
            "2024-01-01T10:00:30",
            Status.PARTIAL,
        ),  # the gap (and the sample 5.5 ms before)
        ("2024-01-01T09:59:00", "2024-01-01T10:01:00", Status.PARTIAL),  # across it
        ("2024-01-01T09:59:59.99", "2024-01-01T10:00:30.03", Status.PARTIAL),  # a sample each side
    ],
)
def test_windows_at_a_gap_equal_obspy(demo: Path, start: str, end: str, status: Status) -> None:
    window = Window.create("SY", "DEMO", "", "BHZ", start, end)
    with Extractor(Archive(LocalStore(demo), layout_named("scedc"))) as extractor:
        (result,) = extractor.extract([window])
    files = sorted(demo.glob("continuous_waveforms/2024/*/SYDEMO_BHZ___*.ms"))
    assert_matches_oracle(result, oracle(files, window))
    assert result.status is status, result.message
    assert sum(g.samples for g in result.gaps) == result.span.npts - result.npts  # type: ignore[union-attr]
