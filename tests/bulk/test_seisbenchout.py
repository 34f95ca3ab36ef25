"""Planning a job's SeisBench examples (no I/O): which windows make one example, where each
channel goes in ``ZNE``, and what is refused before anything is read."""

from __future__ import annotations

import pytest

from seiswindow.bulk.inputs import JobWindow, read_input, resolve
from seiswindow.bulk.seisbenchout import component_of, measurement_of, plan_examples
from seiswindow.errors import RequestError
from seiswindow.fdsn.request import Selection
from seiswindow.model import Nslc, Window

#: What a catalog of the archive would list: a station of Z12 and one of ZNE plus HN?.
CHANNELS = [Nslc("XX", "ONE", "", c) for c in ("HHZ", "HH1", "HH2")] + [
    Nslc("XX", "TWO", "00", c) for c in ("HHZ", "HHN", "HHE", "HNZ")
]


def _channels(selection: Selection) -> list[Nslc]:
    return [n for n in CHANNELS if selection.matches(n)]


def _windows(text: str) -> list[JobWindow]:
    return resolve(read_input(text, before=10, after=20), _channels)


def test_a_row_is_one_example_per_station_and_band() -> None:
    windows = _windows(
        "network,station,location,channel,time,phase,event\n"
        "XX,*,*,H??,2024-05-01T10:00:00,P,ev1\n"
        "XX,ONE,,HH?,2024-05-01T10:00:00,S,ev1\n"
    )
    plan = plan_examples(windows)
    by_example: dict[str, list[str]] = {}
    for item in windows:
        by_example.setdefault(plan[item.id].id, []).append(str(item.window.nslc))
    assert sorted(sorted(v) for v in by_example.values()) == [
        ["XX.ONE..HH1", "XX.ONE..HH2", "XX.ONE..HHZ"],  # row 1, ONE
        ["XX.ONE..HH1", "XX.ONE..HH2", "XX.ONE..HHZ"],  # row 2 (another pick): another example
        ["XX.TWO.00.HHE", "XX.TWO.00.HHN", "XX.TWO.00.HHZ"],
        ["XX.TWO.00.HNZ"],  # the accelerometer: a band of its own
    ]
    assert all(len(plan[item.id].windows) == len(by_example[plan[item.id].id]) for item in windows)
    # Stable: the same input plans the same examples.
    assert {k: v.id for k, v in plan_examples(_windows(
        "network,station,location,channel,time,phase,event\n"
        "XX,*,*,H??,2024-05-01T10:00:00,P,ev1\nXX,ONE,,HH?,2024-05-01T10:00:00,S,ev1\n"
    )).items()} == {k: v.id for k, v in plan.items()}  # fmt: skip


def test_components_as_seisbench_takes_them() -> None:
    assert [component_of(c, "ZNE") for c in ("HHZ", "HHN", "HHE", "HH1", "HH2", "HH3", "BHX")] == [
        "Z", "N", "E", "N", "E", None, None,
    ]  # fmt: skip
    assert component_of("HH1", "Z12") == "1" and component_of("HHN", "Z12") is None


def test_what_cannot_be_an_example_is_refused_naming_the_line() -> None:
    (one,) = _windows("network,station,location,channel,time\nXX,ONE,,HH1,2024-05-01T10:00:00\n")
    w = one.window
    twin = Window.create("XX", "ONE", "", "HHN", w.start, w.end)  # as a pattern HH[1N] would give
    both = [one, JobWindow(twin, "other", "line 2", one.pick, one.group, 2)]
    with pytest.raises(RequestError, match="line 2: channels HH1 and HHN of XX.ONE are both component N"):
        plan_examples(both)
    odd = [Nslc("XX", "ONE", "", "HH3")]
    rows = read_input(
        "network,station,location,channel,time\nXX,ONE,,HH3,2024-05-01T10:00:00\n", before=1, after=1
    )
    with pytest.raises(RequestError, match="line 2: channel HH3 is no component of ZNE"):
        plan_examples(resolve(rows, lambda s: odd))
    star = _windows("network,station,location,channel,time,phase\nXX,ONE,,HHZ,2024-05-01T10:00:00,P*\n")
    with pytest.raises(RequestError, match=r"line 2: phase 'P\*'"):
        plan_examples(star)


def test_measurement_from_the_instrument_code() -> None:
    windows = _windows("network,station,location,channel,time\nXX,TWO,00,H??,2024-05-01T10:00:00\n")
    assert measurement_of(windows) == "mixed"
    assert measurement_of([w for w in windows if w.window.channel.startswith("HN")]) == "acceleration"
    assert measurement_of([w for w in windows if w.window.channel.startswith("HH")]) == "velocity"
