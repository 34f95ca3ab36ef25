"""The inputs of a bulk job: each of the four kinds parsed, bad rows named by line and field,
patterns resolved against the archive's listing, stable ids."""

from __future__ import annotations

import json

import pytest
from obspy import UTCDateTime

from seiswindow import Window
from seiswindow.archive import ScedcLayout
from seiswindow.bulk import InputKind, JobWindow, read_input, resolve, window_id
from seiswindow.errors import RequestError
from seiswindow.fdsn.catalog import ChannelCatalog
from seiswindow.store import LocalStore
from support.s3server import default_data_root

DATA = default_data_root()


def catalog() -> ChannelCatalog:
    return ChannelCatalog(LocalStore(DATA / "scedc-pds"), ScedcLayout())


def windows(text: str, **options: object) -> list[JobWindow]:
    return resolve(read_input(text, **options), catalog().channels)  # type: ignore[arg-type]


def ns(text: str) -> int:
    return UTCDateTime(text).ns


def test_the_tutorial_json_fdsn_text_and_csv_give_the_same_windows() -> None:
    request = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "WBM",
                "Location": "",
                "Channel": "LHZ",
                "Starttime": "2022-01-02T10:00:00",
                "Endtime": "2022-01-02T10:01:00",
            }
        ]
    }
    fdsn = "quality=B\nminimumlength=0\nCI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00\n"
    csv = "network,station,location,channel,starttime,endtime\nCI,WBM,,LHZ,2022-01-02T10:00:00,2022-01-02T10:01:00\n"
    expected = Window.create("CI", "WBM", "", "LHZ", "2022-01-02T10:00:00", "2022-01-02T10:01:00")
    for text, kind in ((json.dumps(request), "json"), (fdsn, "fdsn"), (csv, "csv")):
        [item] = windows(text)
        assert item.window == expected, kind
        assert item.id == window_id(expected) and item.pick is None
        [again] = windows(text, kind=InputKind(kind))
        assert again == item


def test_a_pick_list_becomes_windows_around_each_pick_with_patterns_resolved() -> None:
    picks = (
        "# picks of two events\n"
        "network,station,location,channel,time,phase,event,before,after\n"
        "CI,CCA,,BH?,2022-01-02T05:00:00.5,P,ci001,,\n"
        "CI,WBM,--,LHZ,2022-01-02T05:00:10,S,ci001,5,20.25\n"
        'CI,"WBM",,LHZ,2022-01-02T05:00:10,P,ci002,,\n'
    )
    found = windows(picks, before=2.0, after=8.0)
    assert [str(w.window.nslc) for w in found] == ["CI.CCA..BHN", "CI.WBM..LHZ", "CI.WBM..LHZ"]
    cca, wbm_s, wbm_p = found
    assert (cca.window.start, cca.window.end) == (ns("2022-01-02T04:59:58.5"), ns("2022-01-02T05:00:08.5"))
    assert (wbm_s.window.start, wbm_s.window.end) == (ns("2022-01-02T05:00:05"), ns("2022-01-02T05:00:30.25"))
    assert cca.pick is not None and (cca.pick.phase, cca.pick.event) == ("P", "ci001")
    assert cca.pick.time == ns("2022-01-02T05:00:00.5")
    assert cca.source == "line 3"
    # The same window cut for two events is two windows, with two ids.
    assert len({w.id for w in found}) == 3
    assert window_id(wbm_p.window, wbm_p.pick) == wbm_p.id != window_id(wbm_p.window)


def test_ids_are_stable_and_duplicates_kept_once() -> None:
    text = "CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00\n" * 2
    first = windows(text)
    assert len(first) == 1
    assert windows(text) == first
    other = windows("CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:01\n")
    assert other[0].id != first[0].id


@pytest.mark.parametrize(
    ("text", "options", "line", "field"),
    [
        ("network,station,channel,time\nCI,WBM,LHZ,yesterday\n", {"before": 1, "after": 1}, 2, "time"),
        ("network,station,channel,time\nCI,WBM,LHZ,2022-01-02T10:00:00\n", {"after": 1}, 2, "before"),
        ("network,station,channel,time,after\nCI,WBM,LHZ,2022-01-02,-3\n", {"before": 1}, 2, "after"),
        ("network,station,channel,time\n\nCI,W!M,LHZ,2022-01-02\n", {"before": 1, "after": 1}, 3, "station"),
        ("network,station,channel,time\nCI,WBM,LHZ\n", {"before": 1, "after": 1}, 2, None),
        ("network,station,time\nCI,WBM,2022-01-02\n", {"before": 1, "after": 1}, 1, "channel"),
        ("CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T09:00:00\n", {}, 1, "endtime"),
        ("# c\nCI WBM -- LHZ 2022-01-02T10:00:00\n", {}, 2, None),
        ("CI WBM -- LH 2022-01-02T10:00:00 2022-01-02T10:01:00\n", {}, 1, "Channel"),
    ],
)
def test_bad_rows_are_named_by_line_and_field(
    text: str, options: dict[str, float], line: int, field: str | None
) -> None:
    with pytest.raises(RequestError) as caught:
        windows(text, **options)
    assert f"line {line}:" in str(caught.value)
    assert caught.value.field == field


def test_a_pattern_matching_nothing_names_its_line() -> None:
    with pytest.raises(RequestError, match=r"line 2: no channel of the archive matches CI\.CCA\.\.HH\?"):
        windows("network,station,channel,time\nCI,CCA,HH?,2022-01-02T05:00:00\n", before=1, after=1)


def test_fdsn_errors_name_the_parameter_and_empty_inputs_are_refused() -> None:
    with pytest.raises(RequestError) as caught:
        windows("quality=Z\nCI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00\n")
    assert caught.value.field == "quality"
    with pytest.raises(RequestError, match="no window"):
        windows("# nothing\n\n")
    with pytest.raises(RequestError, match="invalid JSON"):
        windows("{nope")


def test_literal_windows_need_no_listing() -> None:
    def no_listing(selection: object) -> list[object]:
        raise AssertionError("a literal window needs no listing")

    [item] = resolve(read_input("CI WBM -- LHZ 2022-01-02T10:00:00 2022-01-02T10:01:00"), no_listing)  # type: ignore[arg-type]
    assert item.window.nslc == ("CI", "WBM", "", "LHZ")


def test_the_channels_of_one_row_form_a_group() -> None:
    picks = (
        "network,station,channel,time,phase,event\n"
        "CI,WBM,LH?,2022-01-02T05:00:00,P,e1\n"
        "CI,*,BHN,2022-01-02T05:00:00,P,e1\n"
        "CI,WBM,LHZ,2022-01-02T05:00:00,S,e1\n"
    )
    found = windows(picks, before=1, after=1)
    groups: dict[str, list[JobWindow]] = {}
    for item in found:
        groups.setdefault(item.group, []).append(item)
    assert [len(g) for g in groups.values()] == [1, 2, 1]  # LH? is LHZ only; BHN at CCA and HEC
    assert all(item.group_size == len(groups[item.group]) for item in found)
    assert [str(w.window.nslc) for w in groups[found[1].group]] == ["CI.CCA..BHN", "CI.HEC..BHN"]
    assert windows(picks, before=1, after=1) == found  # stable
