"""A layout whose day files spill over midnight (as SDS archives may) is one small class,
and windows just after midnight find the samples kept in the previous day's file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import Layout
from seiswindow.model import Nslc
from seiswindow.store import LocalStore
from support.oracle import assert_matches_oracle, oracle
from support.s3server import default_data_root


class FlatSpillingLayout(Layout):
    """``NET.STA.LOC.CHA.YYYY.DDD`` in one directory; records may cross midnight."""

    name = "flat-spilling"
    record_length = 512
    spills_over_midnight = True

    def key(self, nslc: Nslc, day: dt.date) -> str:
        return f"{nslc}.{day:%Y.%j}"

    def day_prefix(self, day: dt.date, network: str | None = None) -> str:
        return ""

    def parse_key(self, key: str) -> tuple[Nslc, dt.date] | None:
        return None


def test_window_after_midnight_reads_the_previous_days_spilled_records(tmp_path: Path) -> None:
    src = default_data_root() / "scedc-pds" / "continuous_waveforms" / "2022"
    day1 = (src / "2022_001" / "CIWBM__LHZ___2022001.ms").read_bytes()
    day2 = (src / "2022_002" / "CIWBM__LHZ___2022002.ms").read_bytes()
    # The first two records of Jan 2 (about 13 minutes) were written into Jan 1's file.
    first = tmp_path / "CI.WBM..LHZ.2022.001"
    second = tmp_path / "CI.WBM..LHZ.2022.002"
    first.write_bytes(day1 + day2[:1024])
    second.write_bytes(day2[1024:])
    window = Window.create("CI", "WBM", "", "LHZ", "2022-01-02T00:00:10", "2022-01-02T00:20:00")
    with Extractor(Archive(LocalStore(tmp_path), FlatSpillingLayout())) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([first, second], window))
