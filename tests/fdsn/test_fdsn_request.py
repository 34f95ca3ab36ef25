"""Request parsing, with no I/O: what is accepted, what is refused and with which parameter."""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seiswindow.errors import RequestError
from seiswindow.fdsn.codes import CodePattern
from seiswindow.fdsn.meta import dataselect_wadl, station_wadl
from seiswindow.fdsn.request import (
    Level,
    Selection,
    StationRequest,
    parse_dataselect,
    parse_station,
)
from seiswindow.model import Nslc
from seiswindow.nstime import parse_time

WINDOW = [("starttime", "2022-01-02T10:00:00"), ("endtime", "2022-01-02T10:05:00")]


def test_get_with_aliases_lists_and_wildcards() -> None:
    request = parse_dataselect(
        [
            ("net", "ci,BK"),
            ("sta", "CCA,H?C"),
            ("loc", "--,00"),
            ("cha", "BH*"),
            ("start", "2022-002T10:00"),
            ("end", "2022-01-02T10:05:00.5Z"),
        ]
    )
    (selection,) = request.selections
    assert [p.text for p in selection.network] == ["CI", "BK"]
    assert [p.text for p in selection.location] == ["", "00"]
    assert selection.start == parse_time("2022-01-02T10:00:00")
    assert selection.end == parse_time("2022-01-02T10:05:00.5")
    assert selection.matches(Nslc("CI", "HEC", "", "BHN"))
    assert selection.matches(Nslc("BK", "CCA", "00", "BHZ"))
    assert not selection.matches(Nslc("CI", "HEC", "10", "BHN"))
    assert not selection.matches(Nslc("CI", "HECX", "", "BHN"))
    assert selection.literal_channels is None
    assert (request.quality, request.minimum_length, request.longest_only, request.nodata) == (
        "B",
        0.0,
        False,
        204,
    )


def test_defaults_select_everything() -> None:
    (selection,) = parse_dataselect(WINDOW).selections
    assert selection.matches(Nslc("XX", "ABCDE", "", "ZZZ"))
    assert selection.any_channel


def test_literal_codes_expand_to_channels() -> None:
    (selection,) = parse_dataselect(
        [*WINDOW, ("net", "CI"), ("sta", "CCA,HEC"), ("loc", "--"), ("cha", "BHN")]
    ).selections
    assert selection.literal_channels == (Nslc("CI", "CCA", "", "BHN"), Nslc("CI", "HEC", "", "BHN"))


def test_question_mark_is_exactly_one_character() -> None:
    pattern = CodePattern.parse("??")
    assert pattern.matches("00") and not pattern.matches("") and not pattern.matches("0")
    assert CodePattern.parse("*").matches("")


def test_options() -> None:
    request = parse_dataselect(
        [
            *WINDOW,
            ("quality", "m"),
            ("minimumlength", "12.5"),
            ("longestonly", "TRUE"),
            ("format", "miniseed"),
            ("nodata", "404"),
        ]
    )
    assert (request.quality, request.minimum_length, request.longest_only, request.nodata) == (
        "M",
        12.5,
        True,
        404,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ([*WINDOW, ("foo", "1")], "foo"),
        ([*WINDOW, ("net", "CI"), ("network", "BK")], "network"),
        ([("starttime", "2022-01-02T10:00:00")], "endtime"),
        ([("endtime", "2022-01-02T10:00:00")], "starttime"),
        ([("starttime", "yesterday"), ("endtime", "2022-01-02")], "starttime"),
        ([("starttime", "2022-13-02"), ("endtime", "2022-01-02")], "starttime"),
        ([("starttime", "2022-01-02T10:00:00"), ("endtime", "2022-01-02T09:00:00")], "endtime"),
        ([("starttime", "2022-01-02T10:00:00"), ("endtime", "2022-01-02T10:00:00")], "endtime"),
        ([*WINDOW, ("format", "sac")], "format"),
        ([*WINDOW, ("quality", "X")], "quality"),
        ([*WINDOW, ("nodata", "500")], "nodata"),
        ([*WINDOW, ("minimumlength", "-1")], "minimumlength"),
        ([*WINDOW, ("minimumlength", "nan")], "minimumlength"),
        ([*WINDOW, ("longestonly", "yes")], "longestonly"),
        ([*WINDOW, ("sta", "CC[A]")], "station"),
        ([*WINDOW, ("sta", "TOOLONG")], "station"),
        ([*WINDOW, ("net", "CI,")], "network"),
        ([*WINDOW, ("cha", "BHZZ")], "channel"),
        ([*WINDOW, ("loc", "-")], "location"),
    ],
)
def test_dataselect_refusals_name_the_parameter(params: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_dataselect(params)
    assert caught.value.field == field


def test_post_body() -> None:
    body = """quality=B
minimumlength=0.0
longestonly=false

CI CCA -- BHN 2022-01-02T10:00:00 2022-01-02T10:05:00
CI WBM * LH? 2022-01-01T23:50:00.000000 2022-01-02T00:10:00.000000
"""
    request = parse_dataselect([("nodata", "404")], body)
    assert request.nodata == 404
    first, second = request.selections
    assert first.literal_channels == (Nslc("CI", "CCA", "", "BHN"),)
    assert second.matches(Nslc("CI", "WBM", "", "LHZ")) and second.end == parse_time("2022-01-02T00:10:00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("", "body"),
        ("quality=B\n", "body"),
        ("CI CCA -- BHN 2022-01-02T10:00:00\n", "body"),
        ("CI CCA -- BHN 2022-01-02T10:00:00 2022-01-01T10:00:00\n", "endtime"),
        ("CI CCA -- BHN * 2022-01-01T10:00:00\n", "starttime"),
        ("CI CCA -- BHN 2022-01-02T10:00:00 2022-01-02T10:05:00\nquality=B\n", "body"),
        ("bogus=1\nCI CCA -- BHN 2022-01-02T10:00:00 2022-01-02T10:05:00\n", "bogus"),
        ("net=CI\nCI CCA -- BHN 2022-01-02T10:00:00 2022-01-02T10:05:00\n", "network"),
    ],
)
def test_post_refusals(body: str, field: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_dataselect([], body)
    assert caught.value.field == field


def test_station_defaults_and_options() -> None:
    request = parse_station([])
    assert request == StationRequest(selections=(Selection(),))
    request = parse_station(
        [
            ("level", "RESPONSE"),
            ("startbefore", "2020-01-01"),
            ("minlat", "30"),
            ("maxlon", "-100"),
            ("includerestricted", "false"),
        ]
    )
    assert request.level is Level.RESPONSE
    assert request.start_before == parse_time("2020-01-01")
    assert request.box == (30.0, 90.0, -180.0, -100.0)
    assert request.include_restricted is False


def test_station_post_allows_open_times() -> None:
    request = parse_station([], "level=channel\nCI CCA * BHN * *\nCI WBM -- LHZ 2022-01-01 *\n")
    assert request.level is Level.CHANNEL
    assert request.selections[0].start is None and request.selections[0].end is None
    assert request.selections[1].start == parse_time("2022-01-01") and request.selections[1].end is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ([("level", "sensor")], "level"),
        ([("format", "json")], "format"),
        ([("format", "text"), ("level", "response")], "format"),
        ([("updatedafter", "2020-01-01")], "updatedafter"),
        ([("includeavailability", "maybe")], "includeavailability"),
        ([("matchtimeseries", "true")], "matchtimeseries"),
        ([("minlatitude", "-91")], "minlatitude"),
        ([("minradius", "10"), ("maxradius", "5")], "minradius"),
        ([("minlat", "10"), ("maxlat", "5")], "minlatitude"),
        ([("starttime", "2022-01-02"), ("endtime", "2022-01-01")], "endtime"),
        ([("quality", "B")], "quality"),
    ],
)
def test_station_refusals(params: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_station(params)
    assert caught.value.field == field


def test_epoch_constraints() -> None:
    t = parse_time("2020-01-01")
    request = StationRequest(selections=(Selection(),), start_before=t, end_after=t)
    assert request.epoch_ok(t - 1, None)  # open end is after anything
    assert not request.epoch_ok(t, None)  # not strictly before
    assert not request.epoch_ok(t - 10, t)
    assert request.epoch_ok(t - 10, t + 1)
    selection = Selection(start=t, end=t + 100)
    assert (
        selection.overlaps(None, None) and selection.overlaps(t + 100, None) and selection.overlaps(None, t)
    )
    assert not selection.overlaps(t + 101, None) and not selection.overlaps(None, t - 1)


# -- code patterns: what a pattern may hold, and matching against an oracle --------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("net", "C."), ("sta", "W.M"), ("sta", "....."), ("loc", "0."), ("cha", "LH."), ("cha", ".*")],
)
def test_a_dot_is_refused(name: str, value: str) -> None:
    """``.`` is no FDSN wildcard; accepted, it would match any character of a regex."""
    long_name = {"net": "network", "sta": "station", "loc": "location", "cha": "channel"}[name]
    for parse in (parse_dataselect, parse_station):
        with pytest.raises(RequestError) as caught:
            parse([*WINDOW, (name, value)])
        assert caught.value.field == long_name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # 'ß'.upper() == 'SS' and 'ı'.upper() == 'I': folded, they would name other, ASCII codes
        ("network", "ß"),
        ("network", "Cı"),
        ("station", "ßA"),
        ("station", "WBı"),
        ("location", "ß"),
        ("location", "0ı"),
        ("channel", "LHß"),
        ("channel", "ıHZ"),
        ("station", "ſ"),  # long s: upper() is 'S'
        ("channel", "ﬀZ"),  # ligature: upper() is 'FF'
    ],
)
def test_non_ascii_codes_are_refused_not_folded(name: str, value: str) -> None:
    for parse in (parse_dataselect, parse_station):
        with pytest.raises(RequestError) as caught:
            parse([*WINDOW, (name, value)])
        assert caught.value.field == name
    codes = {"network": "CI", "station": "WBM", "location": "--", "channel": "LHZ", name: value}
    line = " ".join(codes[n] for n in ("network", "station", "location", "channel"))
    with pytest.raises(RequestError) as caught:
        parse_dataselect([], f"{line} 2022-01-02T10:00:00 2022-01-02T10:05:00\n")
    assert caught.value.field == name


def test_a_code_list_is_bounded_as_a_whole_stars_included() -> None:
    stars = "*" * 300 + "XYZ"  # only XYZ counts towards the length of a station code
    (selection,) = parse_dataselect([*WINDOW, ("sta", stars)]).selections
    assert [p.text for p in selection.station] == ["*XYZ"]  # runs of * collapsed
    assert selection.station[0].matches("AXYZ") and not selection.station[0].matches("XYZA")
    for value in ("*" * 401, "*" * 398 + "XYZ", ",".join(["CCA"] * 101)):
        with pytest.raises(RequestError) as caught:
            parse_dataselect([*WINDOW, ("sta", value)])
        assert caught.value.field == "station"
        assert "at most 400" in caught.value.detail
    parse_dataselect([*WINDOW, ("sta", "*" * 397 + "XYZ")])  # 400 is still accepted


_CODE_CHARS = "AB0*?"


@given(
    pattern=st.text(alphabet=_CODE_CHARS, max_size=12),
    code=st.text(alphabet="AB0", max_size=8),
)
def test_patterns_match_as_fnmatch_does(pattern: str, code: str) -> None:
    """The oracle: the standard library's shell-pattern matcher (``*``, ``?``; no ``[``)."""
    assert CodePattern.parse(pattern).matches(code) is fnmatch.fnmatchcase(code, pattern)
    assert CodePattern(pattern).matches(code) is fnmatch.fnmatchcase(code, pattern)  # uncollapsed


def test_many_stars_uncollapsed_still_match_at_once() -> None:
    """The matcher itself does not backtrack over earlier stars: a pattern built directly,
    runs of ``*`` not collapsed, is matched in ``len(pattern) * len(code)`` steps at most
    (as a regex ``.*.*...XYZ`` this took minutes against a 5-character code)."""
    pattern = CodePattern("*" * 300 + "XYZ")
    assert not pattern.matches("ABCDE")
    assert not pattern.matches("XYZ" * 100 + "A")
    assert pattern.matches("A" * 50 + "XYZ")
    assert CodePattern("*?" * 200 + "Z").matches("Y" * 200 + "Z")


# -- the WADLs promise only what the parsers take -------------------------------------------

_WADL = "{http://wadl.dev.java.net/2009/02}"
_SAMPLES = {
    "xs:dateTime": ("2022-01-02T00:00:00",),
    "xs:double": ("1.5",),
    "xs:int": ("204",),
    "xs:boolean": ("true", "false"),
    "xs:string": ("CI", "*"),
}


def _wadl_values(wadl: str) -> list[tuple[str, str]]:
    """Every parameter of the WADL's GET query with each value it promises: its options, else
    values of its type, and its default."""
    root = ET.fromstring(wadl)
    method = next(m for m in root.iter(f"{_WADL}method") if m.get("id") == "query")
    values = []
    for param in method.iter(f"{_WADL}param"):
        name = param.get("name", "")
        options = [o.get("value", "") for o in param.iter(f"{_WADL}option")]
        given = options or list(_SAMPLES[param.get("type", "xs:string")])
        default = param.get("default")
        values += [(name, v) for v in {*given, *([default] if default is not None else [])}]
    return values


@pytest.mark.parametrize(
    ("service", "render", "parse"),
    [("dataselect", dataselect_wadl, parse_dataselect), ("station", station_wadl, parse_station)],
)
def test_every_wadl_value_is_accepted(service: str, render: Any, parse: Any) -> None:
    """ObsPy trusts the WADL: a parameter listed there is sent (MassDownloader sends
    ``matchtimeseries=true`` because it is listed), so each value it lists must be taken."""
    base = {"starttime": "2022-01-01T00:00:00", "endtime": "2022-01-03T00:00:00"}  # around the sample time
    values = _wadl_values(render("/"))
    assert values
    for name, value in values:
        query = {**base, name: value}
        try:
            parse(list(query.items()))
        except RequestError as exc:
            pytest.fail(f"fdsnws-{service} WADL lists {name}={value}, refused: {exc}")


def test_dataselect_takes_mseed_as_miniseed() -> None:
    query = [("starttime", "2022-01-02"), ("endtime", "2022-01-02T01:00:00"), ("station", "WBM")]
    assert parse_dataselect([*query, ("format", "mseed")]) == parse_dataselect(
        [*query, ("format", "miniseed")]
    )
    assert parse_dataselect([*query, ("format", "MSEED")]) == parse_dataselect(query)


def test_station_matchtimeseries_with_a_span() -> None:
    query = [("starttime", "2022-01-02"), ("endtime", "2022-01-03"), ("matchtimeseries", "true")]
    assert parse_station(query).match_timeseries
    assert not parse_station(query[:2]).match_timeseries
    with pytest.raises(RequestError) as caught:
        parse_station([("matchtimeseries", "true")], "CI WBM * * 2022-01-02 *\n")
    assert caught.value.field == "matchtimeseries"
