"""Processing steps as IRIS's ``irisws-timeseries`` names them, parsed with no I/O and no
ObsPy: a :class:`Chain` is the ordered tuple of steps a request asked for.

Parameters (query names; the body of ``/timewindows`` takes the same as ``"name=value"``
strings in a ``"Process"`` list, as ObsPy's IRIS client writes them)::

    demean[=true]           remove the mean
    detrend[=true]          remove the least-squares line (not in IRIS's list; ObsPy's "linear")
    taper=WIDTH[,TYPE]      WIDTH in [0, 0.5] of the trace at each end; HANNING (default),
                            HAMMING or COSINE
    lp=F | lpfilter=F       4-pole Butterworth low-pass at F Hz
    hp=F | hpfilter=F       4-pole Butterworth high-pass at F Hz
    bp=F1-F2 | bpfilter=    4-pole Butterworth band-pass (either order; "," separates too)
    scale=X | scale=AUTO    multiply by X; AUTO divides by the instrument sensitivity
    divscale=X              divide by X
    correct[=true]          remove the instrument response, with
      units=DEF|DIS|VEL|ACC   the output (DEF: the response's own input units)
      freqlimits=F1-F2-F3-F4  the pre-filter of the deconvolution (cosine taper)
      autolimits=LO-HI        limits found LO and HI dB below the response's peak (default 3-3)
    envelope[=true]         the envelope (modulus of the analytic signal)
    diff[=true]             differentiate; int[=true] integrate
    deci=R | decimate=R     decimate to R Hz (by factors of 2, 3, 5 and 7; the nearest such
                            rate when R is not one, as IRIS does)

Steps run in the order given, as IRIS runs them. ``units``, ``freqlimits`` and ``autolimits``
qualify ``correct`` wherever they stand. A flag set to ``false`` asks for nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..errors import RequestError

__all__ = [
    "PROCESS_PARAMETERS",
    "Chain",
    "Correct",
    "Decimate",
    "Demean",
    "Detrend",
    "Diff",
    "Envelope",
    "Filter",
    "Integrate",
    "Scale",
    "Step",
    "Taper",
    "Units",
    "parse_chain",
    "process_items",
]

_TRUE = ("", "true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True, slots=True)
class Demean:
    """Remove the mean (ObsPy ``Trace.detrend("demean")``)."""


@dataclass(frozen=True, slots=True)
class Detrend:
    """Remove the least-squares line (ObsPy ``Trace.detrend("linear")``)."""


@dataclass(frozen=True, slots=True)
class Taper:
    """A symmetric taper over ``width`` of the trace at each end (ObsPy ``Trace.taper``)."""

    width: float
    #: ObsPy's window name: ``hann``, ``hamming`` or ``cosine``.
    kind: str = "hann"


@dataclass(frozen=True, slots=True)
class Filter:
    """A 4-pole causal Butterworth filter (ObsPy ``Trace.filter``); the mean is removed
    before and restored after, as IRIS keeps the DC offset of filtered data."""

    kind: str  #: ``lowpass``, ``highpass`` or ``bandpass``
    freqmin: float | None = None
    freqmax: float | None = None
    corners: int = 4


@dataclass(frozen=True, slots=True)
class Scale:
    """Multiply by ``factor``; ``auto``: divide by the instrument sensitivity."""

    factor: float = 1.0
    auto: bool = False


class Units(StrEnum):
    """Output units of the correction, as IRIS names them, with ObsPy's name."""

    DEF = "DEF"
    DIS = "DIS"
    VEL = "VEL"
    ACC = "ACC"

    @property
    def obspy(self) -> str:
        return {"DEF": "DEF", "DIS": "DISP", "VEL": "VEL", "ACC": "ACC"}[self.value]


@dataclass(frozen=True, slots=True)
class Correct:
    """Remove the instrument response (ObsPy ``Trace.remove_response``)."""

    units: Units = Units.DEF
    freqlimits: tuple[float, float, float, float] | None = None
    #: dB below the response's peak at which the pass band ends, low and high side.
    autolimits: tuple[float, float] = (3.0, 3.0)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The envelope (ObsPy ``obspy.signal.filter.envelope``)."""


@dataclass(frozen=True, slots=True)
class Diff:
    """Differentiate (ObsPy ``Trace.differentiate``)."""


@dataclass(frozen=True, slots=True)
class Integrate:
    """Integrate (ObsPy ``Trace.integrate``, trapezoidal)."""


@dataclass(frozen=True, slots=True)
class Decimate:
    """Decimate to ``rate`` Hz (ObsPy ``Trace.decimate`` by factors of 7, 5, 3, 2)."""

    rate: float


Step = Demean | Detrend | Taper | Filter | Scale | Correct | Envelope | Diff | Integrate | Decimate


@dataclass(frozen=True, slots=True)
class Chain:
    """The steps a request asked for, in order (empty: the data as recorded)."""

    steps: tuple[Step, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def needs_response(self) -> bool:
        """A step reads the channel's response (``correct``, ``scale=AUTO``)."""
        return any(isinstance(s, Correct) or (isinstance(s, Scale) and s.auto) for s in self.steps)


_TAPERS = {"HANNING": "hann", "HANN": "hann", "HAMMING": "hamming", "COSINE": "cosine"}
_FLAGS: dict[str, type[Demean | Detrend | Envelope | Diff | Integrate]] = {
    "demean": Demean,
    "detrend": Detrend,
    "envelope": Envelope,
    "diff": Diff,
    "int": Integrate,
}
_ALIASES = {
    "lpfilter": "lp",
    "hpfilter": "hp",
    "bpfilter": "bp",
    "deci": "decimate",
}
#: Every parameter name :func:`parse_chain` takes (lower case).
PROCESS_PARAMETERS = frozenset(
    [*_FLAGS, *_ALIASES, "lp", "hp", "bp", "decimate", "taper", "scale", "divscale", "correct"]
    + ["units", "freqlimits", "autolimits"]
)


def _number(value: str, name: str, *, positive: bool = True) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RequestError(f"expected a number, got {value!r}", field=name) from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise RequestError(f"expected a positive number, got {value!r}", field=name)
    return number


def _numbers(value: str, name: str, count: int) -> tuple[float, ...]:
    parts = [p for p in value.replace(",", "-").split("-")]
    if len(parts) != count:
        raise RequestError(f"expected {count} numbers separated by '-', got {value!r}", field=name)
    return tuple(_number(p, name) for p in parts)


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RequestError(f"expected true or false, got {value!r}", field=name)


def _taper(value: str, name: str) -> Taper:
    width_text, _, kind = value.partition(",")
    width = _number(width_text, name, positive=False)
    if not 0 <= width <= 0.5:
        raise RequestError(f"the width must be between 0 and 0.5, got {width_text!r}", field=name)
    kind = kind.strip().upper() or "HANNING"
    if kind not in _TAPERS:
        raise RequestError(f"the type must be HANNING, HAMMING or COSINE, got {kind!r}", field=name)
    return Taper(width, _TAPERS[kind])


def _scale(value: str, name: str) -> Scale:
    if value.strip().upper() == "AUTO":
        return Scale(auto=True)
    number = _number(value, name, positive=False)
    if number == 0 and name == "divscale":
        raise RequestError("cannot divide by zero", field=name)
    return Scale(1.0 / number if name == "divscale" else number)


def _step(name: str, value: str) -> Step | None:
    """One step from a parameter (None: a flag set to false)."""
    if name in _FLAGS:
        return _FLAGS[name]() if _flag(value, name) else None
    if name == "taper":
        return _taper(value, name)
    if name == "lp":
        return Filter("lowpass", freqmax=_number(value, name))
    if name == "hp":
        return Filter("highpass", freqmin=_number(value, name))
    if name == "bp":
        low, high = sorted(_numbers(value, name, 2))
        if low == high:
            raise RequestError(f"the two corners must differ, got {value!r}", field=name)
        return Filter("bandpass", freqmin=low, freqmax=high)
    if name in ("scale", "divscale"):
        return _scale(value, name)
    if name == "decimate":
        return Decimate(_number(value, name))
    raise AssertionError(name)  # pragma: no cover - PROCESS_PARAMETERS lists what is handled


def _correct(items: list[tuple[str, str]]) -> Correct:
    found = dict(items)
    units = Units.DEF
    if "units" in found:
        text = found["units"].strip().upper()
        if text not in Units.__members__:
            raise RequestError(f"expected DEF, DIS, VEL or ACC, got {found['units']!r}", field="units")
        units = Units(text)
    freqlimits = None
    if "freqlimits" in found:
        f1, f2, f3, f4 = _numbers(found["freqlimits"], "freqlimits", 4)
        if not f1 < f2 <= f3 < f4:
            raise RequestError("expected F1 < F2 <= F3 < F4", field="freqlimits")
        freqlimits = (f1, f2, f3, f4)
    autolimits = (3.0, 3.0)
    if "autolimits" in found:
        low, high = _numbers(found["autolimits"], "autolimits", 2)
        autolimits = (low, high)
    if freqlimits is not None and "autolimits" in found:
        raise RequestError("give freqlimits or autolimits, not both", field="autolimits")
    return Correct(units, freqlimits, autolimits)


def process_items(value: object, *, field: str = "Process") -> list[tuple[str, str]]:
    """The ``(name, value)`` steps of a list of ``"name=value"`` strings (as ObsPy's IRIS
    client writes its ``filter`` list: ``["demean", "bp=0.1-1"]``) or of one ``&``-joined
    string (``"demean&bp=0.1-1"``): the ``Process`` of a request body, the Python API's
    ``process``.

    Raises:
        RequestError: not such a list, or a name that is no processing step (names ``field``).
    """
    if isinstance(value, str):
        value = [p for p in value.split("&") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        raise RequestError(
            'expected a list of "name=value" strings, e.g. ["demean", "bp=0.1-1"]', field=field
        )
    items = []
    for part in value:
        key, _, text = part.partition("=")
        if key.strip().lower() not in PROCESS_PARAMETERS:
            raise RequestError(f"{key.strip()!r} is not a processing step", field=field)
        items.append((key, text))
    return items


def parse_chain(items: Iterable[tuple[str, str]]) -> Chain:
    """The processing steps among ``(name, value)`` parameters, in their order; parameters
    that are not processing ones are ignored (the caller checks them). Names are matched
    in any case; a valueless flag (``demean``, ``demean=``) means true.

    Raises:
        RequestError: a value is malformed, a parameter is repeated, ``scale`` and
            ``divscale`` are both given, ``correct`` is combined with ``scale=AUTO``, or
            ``units``/``freqlimits``/``autolimits`` is given without ``correct``.
    """
    steps: list[Step] = []
    modifiers: list[tuple[str, str]] = []
    seen: set[str] = set()
    correct_at: int | None = None
    for raw, value in items:
        lowered = raw.strip().lower()
        if lowered not in PROCESS_PARAMETERS:
            continue
        name = _ALIASES.get(lowered, lowered)
        if name in seen:
            raise RequestError("is given more than once", field=raw)
        seen.add(name)
        if name in ("units", "freqlimits", "autolimits"):
            modifiers.append((name, value))
        elif name == "correct":
            if _flag(value, name):
                correct_at = len(steps)
        else:
            try:
                step = _step(name, value)
            except RequestError as exc:  # name the parameter as the request spelt it
                raise RequestError(exc.detail, field=raw.strip()) from None
            if step is not None:
                steps.append(step)
    return _finish(steps, seen, correct_at, modifiers)


def _finish(
    steps: list[Step], seen: set[str], correct_at: int | None, modifiers: list[tuple[str, str]]
) -> Chain:
    """The chain, ``correct`` in its place with its qualifiers, after the checks across steps."""
    if correct_at is None:
        if modifiers:
            raise RequestError("needs correct=true", field=modifiers[0][0])
    else:
        steps.insert(correct_at, _correct(modifiers))
    if {"scale", "divscale"} <= seen:
        raise RequestError("give scale or divscale, not both", field="divscale")
    if correct_at is not None and any(isinstance(s, Scale) and s.auto for s in steps):
        raise RequestError("scale=AUTO cannot be combined with correct", field="scale")
    return Chain(tuple(steps))
