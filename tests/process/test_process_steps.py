"""Parsing IRIS's processing parameters (no I/O, no ObsPy): order kept, aliases, every bad
value refused with the parameter named."""

from __future__ import annotations

import pytest

from seiswindow.errors import RequestError
from seiswindow.process import parse_chain
from seiswindow.process.steps import Correct, Decimate, Demean, Filter, Scale, Taper, Units


def test_steps_keep_the_order_given_and_correct_takes_its_qualifiers_anywhere() -> None:
    chain = parse_chain(
        [
            ("units", "vel"),
            ("BP", "1,0.1"),
            ("format", "sac"),
            ("demean", ""),
            ("correct", "true"),
            ("freqlimits", "0.01-0.02-5-8"),
            ("deci", "10"),
            ("taper", "0.2,hamming"),
            ("diff", "false"),
        ]
    )
    assert chain.steps == (
        Filter("bandpass", freqmin=0.1, freqmax=1.0),
        Demean(),
        Correct(Units.VEL, (0.01, 0.02, 5.0, 8.0)),
        Decimate(10.0),
        Taper(0.2, "hamming"),
    )
    assert chain.needs_response
    assert not parse_chain([("scale", "2")]).needs_response
    assert parse_chain([("scale", "auto")]).steps == (Scale(auto=True),)
    assert parse_chain([("divscale", "4")]).steps == (Scale(0.25),)
    assert not parse_chain([("format", "sac")])


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([("taper", "0.6")], "taper"),
        ([("taper", "0.1,BOXCAR")], "taper"),
        ([("lp", "-1")], "lp"),
        ([("lpfilter", "x")], "lpfilter"),
        ([("bp", "0.1")], "bp"),
        ([("bp", "1-1")], "bp"),
        ([("demean", "maybe")], "demean"),
        ([("scale", "2"), ("divscale", "2")], "divscale"),
        ([("divscale", "0")], "divscale"),
        ([("correct", "true"), ("scale", "AUTO")], "scale"),
        ([("units", "VEL")], "units"),
        ([("correct", "true"), ("units", "FURLONG")], "units"),
        ([("correct", "true"), ("freqlimits", "1-2-3")], "freqlimits"),
        ([("correct", "true"), ("freqlimits", "4-3-2-1")], "freqlimits"),
        ([("correct", "true"), ("freqlimits", "1-2-3-4"), ("autolimits", "3-3")], "autolimits"),
        ([("lp", "1"), ("lpfilter", "2")], "lpfilter"),
        ([("decimate", "0")], "decimate"),
    ],
)
def test_a_bad_value_names_its_parameter(items: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_chain(items)
    assert caught.value.field == field
