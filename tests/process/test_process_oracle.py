"""Every processing step against ObsPy's own method on the same window (ObsPy reads the day
file itself): float64 samples equal within 1e-9 of the trace's largest magnitude."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from obspy import Inventory, Trace
from obspy.signal.filter import envelope

from seiswindow.errors import NoResponse, RequestError
from seiswindow.model import Window, WindowResult
from seiswindow.process import parse_chain
from seiswindow.process.apply import pre_filter
from seiswindow.process.steps import Correct
from seiswindow.timeseries import Timeseries

PRE_FILT = (0.05, 0.1, 10.0, 15.0)


def _keep_mean(kind: str, **corners: float) -> Callable[[Trace], None]:
    def run(tr: Trace) -> None:
        mean = tr.data.mean()
        tr.data = tr.data - mean
        tr.filter(kind, corners=4, zerophase=False, **corners)
        tr.data = tr.data + mean

    return run


def _sensitivity(inv: Inventory, tr: Trace) -> float:
    return float(inv.get_response(tr.id, tr.stats.starttime).instrument_sensitivity.value)


def _decimate(*factors: int) -> Callable[[Trace], None]:
    def run(tr: Trace) -> None:
        for f in factors:
            tr.decimate(f)

    return run


# (query, what ObsPy does to a float64 trace, given the inventory)
CASES: list[tuple[str, Callable[[Trace, Inventory], None]]] = [
    ("demean=true", lambda tr, _: tr.detrend("demean")),
    ("detrend=true", lambda tr, _: tr.detrend("linear")),
    ("taper=0.1", lambda tr, _: tr.taper(max_percentage=0.1, type="hann")),
    ("taper=0.25,HAMMING", lambda tr, _: tr.taper(max_percentage=0.25, type="hamming")),
    ("taper=0.5,COSINE", lambda tr, _: tr.taper(max_percentage=0.5, type="cosine")),
    ("lp=1", lambda tr, _: _keep_mean("lowpass", freq=1.0)(tr)),
    ("hpfilter=0.5", lambda tr, _: _keep_mean("highpass", freq=0.5)(tr)),
    ("bp=2-0.1", lambda tr, _: _keep_mean("bandpass", freqmin=0.1, freqmax=2.0)(tr)),
    ("scale=2.5", lambda tr, _: setattr(tr, "data", tr.data * 2.5)),
    ("divscale=4", lambda tr, _: setattr(tr, "data", tr.data * (1 / 4))),
    ("scale=AUTO", lambda tr, inv: setattr(tr, "data", tr.data / _sensitivity(inv, tr))),
    (
        "correct=true&units=VEL&freqlimits=0.05-0.1-10-15",
        lambda tr, inv: tr.remove_response(inv, output="VEL", pre_filt=PRE_FILT, water_level=None),
    ),
    (
        "correct=true&units=DIS&freqlimits=0.05,0.1,10,15",
        lambda tr, inv: tr.remove_response(inv, output="DISP", pre_filt=PRE_FILT, water_level=None),
    ),
    (
        "units=ACC&correct&freqlimits=0.05-0.1-10-15",
        lambda tr, inv: tr.remove_response(inv, output="ACC", pre_filt=PRE_FILT, water_level=None),
    ),
    ("envelope=true", lambda tr, _: setattr(tr, "data", envelope(tr.data))),
    ("diff=true", lambda tr, _: tr.differentiate()),
    ("int=true", lambda tr, _: tr.integrate()),
    ("decimate=10", lambda tr, _: _decimate(2, 2)(tr)),
    ("deci=4.1", lambda tr, _: _decimate(5, 2)(tr)),  # IRIS's nearest factorable rate: 4 Hz
    (
        "demean&taper=0.05&bp=0.1-1&correct=true&units=VEL&freqlimits=0.05-0.1-10-15&diff",
        lambda tr, inv: [
            tr.detrend("demean"),
            tr.taper(max_percentage=0.05, type="hann"),
            _keep_mean("bandpass", freqmin=0.1, freqmax=1.0)(tr),
            tr.remove_response(inv, output="VEL", pre_filt=PRE_FILT, water_level=None),
            tr.differentiate(),
        ],
    ),
    # The same steps in another order give another answer, as IRIS's do.
    (
        "bp=0.1-1&demean",
        lambda tr, _: [_keep_mean("bandpass", freqmin=0.1, freqmax=1.0)(tr), tr.detrend("demean")],
    ),
]


def _query(text: str) -> list[tuple[str, str]]:
    return [(p.partition("=")[0], p.partition("=")[2]) for p in text.split("&")]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_step_is_obspy_s(
    query: str,
    expected: Callable[[Trace, Inventory], None],
    timeseries: Timeseries,
    raw: WindowResult,
    obspy_trace: Trace,
    inventory: Inventory,
) -> None:
    processed = timeseries.process(raw, parse_chain(_query(query)))
    obspy_trace.data = obspy_trace.data.astype(np.float64)
    expected(obspy_trace, inventory)
    (segment,) = processed.segments
    assert segment.sampling_rate == obspy_trace.stats.sampling_rate
    assert abs(segment.start - obspy_trace.stats.starttime.ns) <= 1_000
    assert segment.npts == obspy_trace.stats.npts
    scale = float(np.max(np.abs(obspy_trace.data)))
    np.testing.assert_allclose(segment.samples, obspy_trace.data, rtol=0, atol=scale * 1e-9)
    assert processed.span is not None and processed.span.npts == segment.npts


def test_autolimits_are_where_the_response_is_that_many_db_down(
    raw: WindowResult, obspy_trace: Trace, inventory: Inventory
) -> None:
    f1, f2, f3, f4 = pre_filter(inventory, obspy_trace, Correct(autolimits=(3.0, 6.0)))
    assert f1 == pytest.approx(f2 / 2) and f3 < f4 <= 20.0
    response = inventory.get_response(obspy_trace.id, obspy_trace.stats.starttime)
    grid = np.logspace(np.log10(1 / 600), np.log10(20.0), 2000)
    amplitude = np.abs(response.get_evalresp_response_for_frequencies(grid, output="DEF"))
    peak = amplitude.max()
    at = np.abs(response.get_evalresp_response_for_frequencies(np.array([f2, f3 / 0.999]), output="DEF"))
    assert 20 * np.log10(at[0] / peak) == pytest.approx(-3.0, abs=0.3)
    # F3 is 6 dB down, or capped at 0.8 Nyquist when the response is flat that far.
    assert f3 == pytest.approx(16.0) or 20 * np.log10(at[1] / peak) == pytest.approx(-6.0, abs=0.5)


def test_correct_without_freqlimits_uses_autolimits(
    timeseries: Timeseries, raw: WindowResult, obspy_trace: Trace, inventory: Inventory
) -> None:
    processed = timeseries.process(raw, parse_chain([("correct", "true"), ("units", "VEL")]))
    obspy_trace.data = obspy_trace.data.astype(np.float64)
    limits = pre_filter(inventory, obspy_trace, Correct())
    obspy_trace.remove_response(inventory, output="VEL", pre_filt=limits, water_level=None)
    np.testing.assert_allclose(processed.segments[0].samples, obspy_trace.data, rtol=0, atol=1e-18)


def test_a_missing_response_is_an_error_not_raw_samples(timeseries: Timeseries) -> None:
    (fox2,) = timeseries.extractor.extract(
        [Window.create("CI", "FOX2", "", "LHZ", "2022-01-02T23:00:00", "2022-01-02T23:10:00")]
    )
    assert fox2.segments
    chain = parse_chain([("correct", "true")])
    with pytest.raises(NoResponse, match="FDSNstationXML/CI/CI_FOX2.xml"):
        timeseries.process(fox2, chain)
    failed = timeseries.process(fox2, chain, strict=False)
    assert failed.status == "error" and failed.segments == () and "CI_FOX2" in failed.message


def test_a_corner_above_nyquist_and_a_rate_that_is_not_lower_are_refused(
    timeseries: Timeseries, raw: WindowResult
) -> None:
    with pytest.raises(RequestError) as caught:
        timeseries.process(raw, parse_chain([("hp", "25")]))
    assert caught.value.field == "hp"
    with pytest.raises(RequestError) as caught:
        timeseries.process(raw, parse_chain([("decimate", "40")]))
    assert caught.value.field == "decimate"


def test_each_segment_is_processed_alone_as_obspy_processes_each_trace(
    timeseries: Timeseries, raw: WindowResult, obspy_trace: Trace
) -> None:
    import dataclasses

    from seiswindow.model import Segment

    (seg,) = raw.segments
    cut = 10_000
    later = seg.start + round((cut + 400) * 1e9 / seg.sampling_rate)  # 10 s missing
    split = dataclasses.replace(
        raw,
        segments=(
            Segment(seg.start, seg.sampling_rate, seg.samples[:cut]),
            Segment(later, seg.sampling_rate, seg.samples[cut + 400 :]),
        ),
    )
    processed = timeseries.process(split, parse_chain([("demean", "true"), ("lp", "2")]))
    first, second = obspy_trace.copy(), obspy_trace.copy()
    first.data = obspy_trace.data[:cut].astype(np.float64)
    second.data = obspy_trace.data[cut + 400 :].astype(np.float64)
    for tr, got in zip((first, second), processed.segments, strict=True):
        tr.detrend("demean")
        _keep_mean("lowpass", freq=2.0)(tr)
        np.testing.assert_allclose(got.samples, tr.data, rtol=0, atol=np.abs(tr.data).max() * 1e-9)
    assert processed.segments[1].start == later
    assert processed.span is not None and processed.span.npts == seg.npts
