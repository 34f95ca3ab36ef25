"""The locator's speculative range (``round_cost=``): a file not indexed in two rounds
when reading the interpolation's error margin costs less than a round of probes; the
rounds counted at the S3 server (see tests/core/test_ranged_reads.py for how), the samples
ObsPy's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pymseed import DataEncoding, MS3TraceList

from seiswindow import Archive, Extractor, Status, Window
from seiswindow.archive import layout_named
from seiswindow.locate import RoundCost
from seiswindow.store import S3Store
from support.memstore import MemoryStore, TamperingStore
from support.oracle import assert_matches_oracle, oracle
from support.s3proxy import S3Proxy
from support.s3server import default_data_root

CCA_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
CCA = default_data_root() / "scedc-pds" / CCA_KEY
HOLD_S = 0.2
S3_LIKE = RoundCost(latency_s=0.020, bandwidth_bps=100e6)


def _extractor(url: str, cost: RoundCost | None) -> Extractor:
    archive = Archive(S3Store("scedc-pds", endpoint_url=url), layout_named("scedc"))
    return Extractor(archive, round_cost=cost)


def test_the_cost_model_compares_bytes_with_a_round() -> None:
    assert S3_LIKE.cheaper_than_a_round(1_000_000)  # 10 ms at 100 MB/s < 20 ms
    assert not S3_LIKE.cheaper_than_a_round(3_000_000)  # 30 ms > 20 ms
    assert not RoundCost(latency_s=0.0).cheaper_than_a_round(1)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022-01-02T10:00:00", "2022-01-02T10:05:00"),
        ("2022-01-02T03:17:31", "2022-01-02T03:22:31"),
        ("2022-01-02T19:42:05.5", "2022-01-02T19:47:05.5"),
        ("2022-01-02T00:02:00", "2022-01-02T00:07:00"),
    ],
)
def test_five_minutes_of_a_40hz_day_are_two_rounds(s3: S3Proxy, start: str, end: str) -> None:
    s3.hold_s = HOLD_S
    window = Window.create("CI", "CCA", "", "BHN", start, end)
    with _extractor(s3.url, S3_LIKE) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([CCA], window))
    assert s3.rounds() <= 2
    # The margin read costs less than the round it saves: 2 × 2.5 % of the records at most
    # beyond what a probed read reads, a few % of the file.
    n = CCA.stat().st_size // 512
    served = s3.total_bytes(path_filter=CCA_KEY)
    assert served <= 1024 + 2 * math.ceil(0.025 * n) * 512 + 80 * 512, served
    assert S3_LIKE.cheaper_than_a_round(served)


def test_without_a_cost_model_the_search_probes(s3: S3Proxy) -> None:
    s3.hold_s = HOLD_S
    window = Window.create("CI", "CCA", "", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    with _extractor(s3.url, None) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK
    assert s3.rounds() == 3


def test_a_margin_dearer_than_a_round_is_not_read(s3: S3Proxy) -> None:
    """At 1 MB/s the 190 kB margin of a 40 Hz day costs 190 ms: probing is cheaper."""
    s3.hold_s = HOLD_S
    window = Window.create("CI", "CCA", "", "BHN", "2022-01-02T10:00:00", "2022-01-02T10:05:00")
    with _extractor(s3.url, RoundCost(latency_s=0.020, bandwidth_bps=1e6)) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK
    assert s3.rounds() == 3


@pytest.fixture(scope="module")
def unevenly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40 Hz day of zeros with one loud hour (11:00-12:00): interpolation misses by
    thousands of records, far past the speculative margin."""
    path = tmp_path_factory.mktemp("uneven") / "burst.ms"
    rng = np.random.default_rng(3)
    zeros = np.zeros(11 * 3600 * 40, dtype=np.int32)
    samples = np.concatenate(
        [zeros, rng.integers(-(2**27), 2**27, 3600 * 40, dtype=np.int32), zeros, zeros[: 40 * 3600]]
    )
    traces = MS3TraceList()
    try:
        traces.add_data("FDSN:SY_BURST__B_H_Z", samples, "i", 40.0, starttime=1_641_081_600 * 10**9)
        traces.to_file(
            str(path), overwrite=True, max_record_length=512, encoding=DataEncoding.STEIM2, format_version=2
        )
    finally:
        traces.close()
    return path


@pytest.mark.parametrize(
    ("start", "end"),
    [("2022-01-02T11:30:00", "2022-01-02T11:35:00"), ("2022-01-02T18:00:00", "2022-01-02T18:05:00")],
)
def test_a_speculation_that_misses_is_extended_to_the_right_samples(
    unevenly: Path, start: str, end: str
) -> None:
    key = "continuous_waveforms/2022/2022_002/SYBURSTBHZ___2022002.ms"
    store = TamperingStore(MemoryStore({key: unevenly.read_bytes()}))
    window = Window.from_nslc("SY.BURST..BHZ", start, end)
    with Extractor(Archive(store, layout_named("scedc")), round_cost=S3_LIKE) as extractor:
        (result,) = extractor.extract([window])
    assert result.status is Status.OK, result.message
    assert_matches_oracle(result, oracle([unevenly], window))
    assert not any(r.call == "get" for r in store.reads)  # extended, never read whole
