"""A :class:`~seiswindow.process.steps.Chain` applied to a window's samples, by ObsPy.

Every step is ObsPy's own ``Trace`` method (or ``obspy.signal``'s function): the field's
library, whose results seismologists already trust, and the oracle of the tests; nothing is
filtered by hand. Each contiguous segment of a window is processed alone (a filter does not
run across a gap), as ObsPy processes each trace of a stream with gaps; samples become
float64 first. ObsPy (and scipy under it) is imported by this module only: callers import it
when a request asks for processing, so the unprocessed path never loads them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from obspy import Trace, UTCDateTime

from ..errors import RequestError
from ..model import Segment, TraceSpan, WindowResult
from .steps import (
    Chain,
    Correct,
    Decimate,
    Demean,
    Detrend,
    Diff,
    Envelope,
    Filter,
    Integrate,
    Scale,
    Step,
    Taper,
)

__all__ = ["apply_chain", "decimation_factors", "pre_filter", "process_result", "to_traces"]

#: The prime factors ObsPy decimates by, one at a time (its anti-alias filter suits small ones).
_PRIMES = (7, 5, 3, 2)
_FILTER_FIELD = {"lowpass": "lp", "highpass": "hp", "bandpass": "bp"}

#: What a step needs besides the trace: the channel's inventory (None: the archive has none).
Inventory = Any


def to_traces(result: WindowResult, *, floats: bool = False) -> list[Trace]:
    """One ObsPy ``Trace`` per contiguous segment of ``result`` (float64 when ``floats``)."""
    w = result.window
    traces = []
    for seg in result.segments:
        data = seg.samples.astype(np.float64) if floats else seg.samples
        header = {
            "network": w.network,
            "station": w.station,
            "location": w.location,
            "channel": w.channel,
            "starttime": UTCDateTime(ns=seg.start),
            "sampling_rate": seg.sampling_rate,
        }
        traces.append(Trace(data=np.ascontiguousarray(data), header=header))
    return traces


def decimation_factors(rate: float, target: float) -> tuple[int, ...]:
    """The prime factors (7, 5, 3, 2, largest first) of the integer factor taking ``rate``
    closest to ``target``, among factors made of those primes only (IRIS decimates so).

    Raises:
        RequestError: ``target`` is not below ``rate``.
    """
    if target >= rate:
        raise RequestError(f"{target:g} Hz is not below the sample rate, {rate:g} Hz", field="decimate")
    best, best_error = 1, math.inf
    for n in range(2, int(math.ceil(rate / target * 2)) + 1):
        rest = n
        for p in _PRIMES:
            while rest % p == 0:
                rest //= p
        if rest == 1 and (error := abs(rate / n - target)) < best_error:
            best, best_error = n, error
    factors = []
    for p in _PRIMES:
        while best % p == 0:
            factors.append(p)
            best //= p
    return tuple(factors)


def pre_filter(inventory: Inventory, trace: Trace, step: Correct) -> tuple[float, float, float, float]:
    """The deconvolution's pre-filter: ``freqlimits`` when given, else the response's pass
    band found ``autolimits`` dB below its peak (F2, F3), with F1 = F2 / 2 and F4 = min(2 F3,
    Nyquist), F3 at most 0.8 Nyquist; the band is searched between 1 / (the trace's length)
    and Nyquist, on 400 log-spaced frequencies (ObsPy evaluates the response)."""
    if step.freqlimits is not None:
        return step.freqlimits
    nyquist = trace.stats.sampling_rate / 2.0
    lowest = 1.0 / max(trace.stats.npts * trace.stats.delta, trace.stats.delta)
    freqs = np.logspace(math.log10(lowest), math.log10(nyquist), 400)
    response = inventory.get_response(trace.id, trace.stats.starttime)
    amplitude = np.abs(response.get_evalresp_response_for_frequencies(freqs, output="DEF"))
    peak = float(amplitude.max())
    low_ok = np.nonzero(amplitude >= peak * 10 ** (-step.autolimits[0] / 20))[0]
    high_ok = np.nonzero(amplitude >= peak * 10 ** (-step.autolimits[1] / 20))[0]
    f2 = float(freqs[low_ok[0]])
    f3 = min(float(freqs[high_ok[-1]]), 0.8 * nyquist)
    if f3 <= f2:
        f3 = min(2 * f2, 0.8 * nyquist)
    return (f2 / 2.0, f2, f3, min(2.0 * f3, nyquist))


def _filter(trace: Trace, step: Filter, _: Inventory) -> None:
    nyquist = trace.stats.sampling_rate / 2.0
    for corner in (step.freqmin, step.freqmax):
        if corner is not None and corner >= nyquist:
            raise RequestError(
                f"{corner:g} Hz is not below the Nyquist frequency of {trace.id}, {nyquist:g} Hz",
                field=_FILTER_FIELD[step.kind],
            )
    corners = {k: v for k, v in (("freqmin", step.freqmin), ("freqmax", step.freqmax)) if v is not None}
    if step.kind != "bandpass":
        corners = {"freq": next(iter(corners.values()))}
    mean = float(trace.data.mean())
    trace.data = trace.data - mean
    trace.filter(step.kind, corners=step.corners, zerophase=False, **corners)
    trace.data = trace.data + mean


def _scale(trace: Trace, step: Scale, inventory: Inventory) -> None:
    if step.auto:
        response = inventory.get_response(trace.id, trace.stats.starttime)
        trace.data = trace.data / float(response.instrument_sensitivity.value)
    else:
        trace.data = trace.data * step.factor


def _correct(trace: Trace, step: Correct, inventory: Inventory) -> None:
    trace.remove_response(
        inventory=inventory,
        output=step.units.obspy,
        pre_filt=pre_filter(inventory, trace, step),
        water_level=None,
    )


def _envelope(trace: Trace, _step: Envelope, _: Inventory) -> None:
    from obspy.signal.filter import envelope

    trace.data = envelope(trace.data)


def _decimate(trace: Trace, step: Decimate, _: Inventory) -> None:
    for factor in decimation_factors(trace.stats.sampling_rate, step.rate):
        trace.decimate(factor)


_APPLY: dict[type, Callable[[Trace, Any, Inventory], None]] = {
    Demean: lambda tr, _s, _i: tr.detrend("demean"),
    Detrend: lambda tr, _s, _i: tr.detrend("linear"),
    Taper: lambda tr, s, _i: tr.taper(max_percentage=s.width, type=s.kind),
    Filter: _filter,
    Scale: _scale,
    Correct: _correct,
    Envelope: _envelope,
    Diff: lambda tr, _s, _i: tr.differentiate(),
    Integrate: lambda tr, _s, _i: tr.integrate(),
    Decimate: _decimate,
}


def apply_chain(trace: Trace, chain: Chain, *, inventory: Inventory = None) -> Trace:
    """Apply ``chain`` to ``trace`` in place (float64 samples), step by step in order.

    Args:
        inventory: the channel's ObsPy inventory, for ``correct`` and ``scale=AUTO``
            (the caller found it, or raised :class:`~seiswindow.errors.NoResponse`).

    Raises:
        RequestError: a step cannot apply to this trace (a corner above Nyquist, a
            decimation that does not lower the rate), naming the parameter.
    """
    if trace.data.dtype != np.float64:
        trace.data = trace.data.astype(np.float64)
    step: Step
    for step in chain.steps:
        _APPLY[type(step)](trace, step, inventory)
    return trace


def process_result(result: WindowResult, chain: Chain, *, inventory: Inventory = None) -> WindowResult:
    """``result`` with every segment processed by ``chain``; its grid (``span``) becomes
    the processed segments' (a decimated window has fewer, wider samples).

    Raises:
        RequestError: see :func:`apply_chain`.
    """
    if not chain or not result.segments:
        return result
    segments = []
    for trace in to_traces(result, floats=True):
        apply_chain(trace, chain, inventory=inventory)
        segments.append(
            Segment(trace.stats.starttime.ns, float(trace.stats.sampling_rate), np.asarray(trace.data))
        )
    first, last = segments[0], segments[-1]
    npts = int(round((last.end - first.start) / 1e9 * first.sampling_rate)) + 1
    span = TraceSpan(first.start, npts, first.sampling_rate)
    return dataclasses.replace(result, segments=tuple(segments), span=span)
