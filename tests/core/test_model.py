"""Windows from the tutorial's JSON and NET.STA.LOC.CHA strings; times against ObsPy."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from obspy import UTCDateTime

from seiswindow import LimitExceeded, Limits, RequestError, Window, parse_windows

TUTORIAL = {
    "Windows": [
        {
            "Network": "CI",
            "Station": "BOM",
            "Channel": "BHZ",
            "Location": "  ",
            "Starttime": "2024-01-01T00:00:00",
            "Endtime": "2024-01-01T00:05:00",
        },
        {
            "Network": "CI",
            "Station": "WBM",
            "Channel": "LHZ",
            "Location": "--",
            "Starttime": "2022-01-01T23:55:00Z",
            "Endtime": "2022-01-02T00:05:00.5Z",
        },
        {
            "Network": "BK",
            "Station": "THIS",
            "Channel": "LHZ",
            "Location": "00",
            "Starttime": "2022-002T01:00",
            "Endtime": "2022-01-03",
        },
    ]
}


def test_tutorial_request_parses() -> None:
    bom, wbm, this = parse_windows(TUTORIAL)
    assert bom.nslc == ("CI", "BOM", "", "BHZ")
    assert bom.start == UTCDateTime("2024-01-01T00:00:00").ns
    assert bom.end - bom.start == 300 * 10**9
    assert wbm.location == "" and wbm.end == UTCDateTime("2022-01-02T00:05:00.5").ns
    assert this.location == "00" and this.start == UTCDateTime("2022-01-02T01:00:00").ns


@pytest.mark.parametrize("location", ["", "  ", "--", None])
def test_blank_locations(location: object) -> None:
    item = dict(TUTORIAL["Windows"][0], Location=location)
    assert Window.from_request(item).location == ""


def test_location_may_be_omitted() -> None:
    item = {k: v for k, v in TUTORIAL["Windows"][0].items() if k != "Location"}
    assert Window.from_request(item).location == ""


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("Network", "CIX", "characters"),
        ("Network", "", "characters"),
        ("Station", "BO/M", "SEED code"),
        ("Station", "../..", "SEED code"),
        ("Channel", "BH", "3 characters"),
        ("Location", "0000", "characters"),
        ("Starttime", "yesterday", "cannot parse"),
        ("Starttime", "2024-02-30T00:00:00", "invalid time"),
        ("Endtime", "2023-12-31T23:59:59", "after Starttime"),
        ("Endtime", 17, "expected an ISO 8601"),
        ("Station", 5, "expected a string"),
    ],
)
def test_bad_windows_name_index_and_field(field: str, value: object, words: str) -> None:
    items = [dict(TUTORIAL["Windows"][0]), dict(TUTORIAL["Windows"][0], **{field: value})]
    with pytest.raises(RequestError) as info:
        parse_windows({"Windows": items})
    assert info.value.index == 1 and info.value.field == field
    assert words in str(info.value) and "window 1" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Network", "ß"),  # upper-cases to "SS"
        ("Network", "cß"),
        ("Station", "ı"),  # dotless i upper-cases to "I"
        ("Station", "WBﬀ"),  # the ligature upper-cases to "FF"
        ("Channel", "LHſ"),  # long s upper-cases to "S"
        ("Location", "ß"),
        ("Station", "ＷBM"),  # fullwidth W
        ("Channel", "LH٣"),  # an Arabic-Indic digit
    ],
)
def test_non_ascii_codes_are_refused_not_case_folded(field: str, value: str) -> None:
    item = dict(TUTORIAL["Windows"][0], **{field: value})
    with pytest.raises(RequestError, match="SEED code") as info:
        Window.from_request(item, index=0)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "longest"), [("Network", "CI"), ("Station", "ABCDE"), ("Location", "00"), ("Channel", "LHZ")]
)
def test_codes_are_at_most_their_seed_length(field: str, longest: str) -> None:
    # SEED 2: network 2, station 5, location 2, channel 3 characters; one more is refused.
    item = dict(TUTORIAL["Windows"][0], **{field: longest})
    assert getattr(Window.from_request(item), field.lower()) == longest
    with pytest.raises(RequestError, match="characters") as info:
        Window.from_request(dict(item, **{field: longest + "X"}))
    assert info.value.field == field


@pytest.mark.parametrize("body", [{}, {"windows": "x"}, {"Windows": []}, 3, "x", [3]])
def test_bad_bodies(body: object) -> None:
    with pytest.raises(RequestError):
        parse_windows(body)


def test_nslc_strings() -> None:
    w = Window.from_nslc("ci.wbm..lhz", "2022-01-01", "2022-01-01T00:10:00")
    assert w.nslc == ("CI", "WBM", "", "LHZ")
    assert str(w.nslc) == "CI.WBM..LHZ"
    assert Window.from_nslc("BK.THIS.00.LHZ", "2022-01-01", "2022-01-02").location == "00"
    with pytest.raises(RequestError, match="NET.STA.LOC.CHA"):
        Window.from_nslc("CI.WBM.LHZ", "2022-01-01", "2022-01-02")


def test_limits() -> None:
    windows = parse_windows(TUTORIAL)
    Limits(max_windows=3, max_window_seconds=86400).check(windows)
    with pytest.raises(LimitExceeded, match="at most 2"):
        Limits(max_windows=2).check(windows)
    with pytest.raises(LimitExceeded) as info:
        Limits(max_window_seconds=299).check(windows)
    assert info.value.index == 0 and info.value.field == "Endtime"


@pytest.mark.parametrize(
    ("end", "said"),
    [
        ("2022-01-03T00:00:00.000000001", "window of 172800.000000001 s, at most 172800 s"),
        ("2022-01-03T00:00:00.5", "window of 172800.5 s, at most 172800 s"),
        ("2022-01-04T00:00:00", "window of 259200 s, at most 172800 s"),
    ],
)
def test_window_too_long_says_its_exact_duration(end: str, said: str) -> None:
    """The optional bound in time (none by default since requests are bounded by samples)."""
    two_days = Limits(max_window_seconds=172_800, max_samples=10**12)
    [window] = parse_windows({"Windows": [dict(TUTORIAL["Windows"][0], Starttime="2022-01-01", Endtime=end)]})
    with pytest.raises(LimitExceeded) as info:
        two_days.check([window])
    assert said in str(info.value)
    exactly = dataclasses.replace(window, end=window.start + 172_800 * 10**9)
    two_days.check([exactly])  # two days exactly is allowed
    with pytest.raises(LimitExceeded, match=r"window of 0\.000000002 s, at most 0.000000001 s"):
        Limits(max_window_seconds=1e-9).check([dataclasses.replace(window, end=window.start + 2)])


@pytest.mark.parametrize(
    "text", ["1899-12-31T23:59:59", "2501-01-01", "２０２２-01-01T00:00:00", "2022-01-01T00:00:0٣"]
)
def test_times_are_ascii_and_within_the_era_of_seismograms(text: str) -> None:
    with pytest.raises(RequestError, match="Starttime"):
        Window.create("CI", "WBM", "", "LHZ", text, "2022-01-02")


def test_the_window_count_is_checked_in_one_place() -> None:
    from seiswindow.model import check_count

    check_count(3, 3)
    with pytest.raises(LimitExceeded, match="4 windows asked, at most 3 per request") as caught:
        check_count(4, 3)
    assert caught.value.field == "Windows"


# -- times as a Python user has them (issue 10, item 11) ---------------------------------

_CET = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize(
    "moment",
    [
        UTCDateTime(2022, 1, 1, 23, 55, 0, 71860),
        dt.datetime(2022, 1, 1, 23, 55, 0, 71860),
        dt.datetime(2022, 1, 2, 0, 55, 0, 71860, tzinfo=_CET),
        dt.date(2022, 1, 1),
        "2022-01-01T23:55:00.07186",
    ],
    ids=["UTCDateTime", "naive datetime (UTC)", "aware datetime", "date", "ISO string"],
)
def test_windows_take_the_times_seismologists_have(moment: object) -> None:
    window = Window.from_nslc("CI.WBM..LHZ", moment, "2022-01-03")
    # ObsPy's UTCDateTime is the oracle of what each means (naive datetimes are UTC to it too).
    assert window.start == UTCDateTime(moment).ns


def test_the_api_extracts_windows_given_as_utcdatetimes(shared_data) -> None:
    import seiswindow

    t0 = UTCDateTime("2022-01-01T23:59:50")
    by_object = seiswindow.extract(
        [Window.from_nslc("CI.WBM..LHZ", t0, t0 + 15)], archive=str(shared_data / "scedc-pds")
    )
    by_text = seiswindow.extract(
        ["CI.WBM..LHZ 2022-01-01T23:59:50 2022-01-02T00:00:05"], archive=str(shared_data / "scedc-pds")
    )
    assert by_object[0].window == by_text[0].window
    assert by_object[0].npts == by_text[0].npts == 16


@pytest.mark.parametrize("moment", [3.5, None, dt.datetime(1800, 1, 1), UTCDateTime(2600, 1, 1)])
def test_times_of_other_kinds_or_eras_are_refused_naming_the_field(moment: object) -> None:
    with pytest.raises(RequestError, match="Starttime"):
        Window.from_nslc("CI.WBM..LHZ", moment, "2022-01-03")


def test_results_print_times_as_iso_strings() -> None:
    from seiswindow import Gap, Segment, Status, WindowResult

    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-01T00:00:00", "2022-01-01T00:01:00")
    start = UTCDateTime("2022-01-01T00:00:00.07186").ns
    segment = Segment(start, 1.0, np.zeros(3, dtype="int32"))
    gap = Gap(segment.end, segment.end + 5_000_000_000, 4)
    text = repr(
        WindowResult(window, Status.PARTIAL, segments=(segment,), gaps=(gap,), message="4 samples missing")
    )
    assert str(UTCDateTime(ns=start)) in text and str(UTCDateTime(ns=segment.end)) in text
    assert "2022-01-01T00:00:00.000000Z" in text and "2022-01-01T00:01:00.000000Z" in text
    assert str(start) not in text and str(gap.end) not in text  # no nanosecond integers
    assert f"{str(UTCDateTime(ns=gap.start))}" in repr(gap) and "samples=4" in repr(gap)


# -- requests bounded by samples, not days (issue 10, item 7) ----------------------------


def test_three_days_of_a_1_hz_channel_are_allowed_by_default() -> None:
    window = Window.from_nslc("CI.WBM..LHZ", "2022-01-01", "2022-01-04")
    Limits().check([window])  # 259,201 samples at most (refused before: over two days)


def test_a_request_over_the_samples_bound_says_its_estimate() -> None:
    windows = [
        Window.from_nslc("CI.WBM..LHZ", "2022-01-01", "2022-01-02"),
        Window.from_nslc(
            "CI.CCA..HHZ", "2022-01-01", "2022-01-03"
        ),  # at most 250 Hz: 43,200,001 samples, and 86,401 before
    ]
    with pytest.raises(LimitExceeded) as info:
        Limits(max_samples=40_000_000).check(windows)
    error = info.value
    assert error.index == 1 and error.field == "Endtime"
    assert "43,286,402 samples" in str(error) and "250 Hz" in str(error) and "'H'" in str(error)
    Limits(max_samples=43_286_402).check(windows)  # exactly the bound is allowed


@pytest.mark.parametrize(
    ("channel", "rate"), [("LHZ", 1.0), ("BHN", 80.0), ("HHZ", 250.0), ("VHZ", 0.1), ("XYZ", 5000.0)]
)
def test_the_estimate_is_the_band_codes_highest_rate(channel: str, rate: float) -> None:
    from seiswindow.model import estimated_rate

    assert estimated_rate(channel) == rate
