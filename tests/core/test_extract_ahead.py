"""``Extractor.iter_extract(samples_ahead=)``: windows read in order within a budget of
estimated samples, so an answer sent while it is made holds a bounded part of itself."""

from __future__ import annotations

import threading
from pathlib import Path

from seiswindow.archive import Archive, ScedcLayout
from seiswindow.extract import Extractor
from seiswindow.model import Status, Window, estimated_samples
from seiswindow.nstime import utc_day
from seiswindow.store import LocalStore
from support.memstore import GatedStore
from support.oracle import assert_matches_oracle, oracle
from support.s3server import default_data_root

DAYS = [
    Window.create("CI", "WBM", "", "LHZ", f"2022-01-0{d}T00:00:10", f"2022-01-0{d}T23:59:50")
    for d in (1, 2, 3)
]


def _files(window: Window) -> list[Path]:
    return [default_data_root() / "scedc-pds" / ScedcLayout().key(window.nslc, utc_day(window.start))]


def test_a_window_beyond_the_budget_is_read_only_after_the_earlier_ones() -> None:
    store = GatedStore(LocalStore(default_data_root() / "scedc-pds"), gated="2022002")
    with Extractor(Archive(store, ScedcLayout())) as extractor:
        results = extractor.iter_extract(DAYS, samples_ahead=estimated_samples(DAYS[0]))  # one day fits
        first = next(results)
        assert first[0] == 0
        assert store.waited == []  # the second day's file is not asked for while the first is read
        store.gate.set()
        rest = list(results)
        assert [i for i, _ in rest] == [1, 2] and store.waited
        for index, result in (first, *rest):
            assert result.status is Status.OK
            assert_matches_oracle(result, oracle(_files(DAYS[index]), DAYS[index]))


def test_one_window_is_always_read_even_over_the_budget() -> None:
    with Extractor(Archive(LocalStore(default_data_root() / "scedc-pds"), ScedcLayout())) as extractor:
        results = list(extractor.iter_extract(DAYS, samples_ahead=1))
    assert [i for i, _ in results] == [0, 1, 2]  # one at a time: in order
    for index, result in results:
        assert_matches_oracle(result, oracle(_files(DAYS[index]), DAYS[index]))


def test_a_window_done_early_leaves_the_budget_only_when_the_earlier_ones_are_done() -> None:
    # Budget: two days. The first day's file is slow; the second is read and done first. A
    # consumer sending in order still holds the second day's result, so the third day must
    # not begin until the first is done.
    third = GatedStore(LocalStore(default_data_root() / "scedc-pds"), gated="2022003")
    store = GatedStore(third, gated="2022001")
    with Extractor(Archive(store, ScedcLayout())) as extractor:
        results = extractor.iter_extract(DAYS, samples_ahead=2 * estimated_samples(DAYS[0]))
        assert next(results)[0] == 1
        answered: list[tuple[int, object]] = []
        waiter = threading.Thread(target=lambda: answered.append(next(results)))
        waiter.start()
        waiter.join(0.5)  # the generator runs on: with the bug, it begins the third day now
        assert third.waited == []
        store.gate.set()
        waiter.join(30)
        assert [i for i, _ in answered] == [0]
        third.gate.set()
        assert [i for i, _ in results] == [2]
