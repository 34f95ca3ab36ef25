"""A bulk job written as a SeisBench data set: one example per station of each input row.

:class:`SeisBenchOutput` is the :class:`~seiswindow.bulk.outputs.OutputWriter` of
``seiswindow bulk PICKS.csv --out DIR --format seisbench``; it hands whole examples to
:class:`~seiswindow.bulk.seisbench.SeisBenchWriter`, which writes ``DIR/metadata.csv`` and
``DIR/waveforms.hdf5`` beside the job's manifest (``seisbench.data.WaveformDataset(DIR)``
loads them).

What an example is: the windows of one input row (:attr:`JobWindow.group`: the channels
``HH?`` resolved to, cut around one pick) that share network, station, location and band
(the channel's first two letters); a row whose pattern matches several stations gives one
example per station. Each window is a component, placed by its channel's last letter in
``component_order`` (``ZNE``); ``1`` and ``2`` stand for ``N`` and ``E``, as SeisBench's
``flexible_horizontal_components`` takes them. A component without data is zeros
(``trace_completeness`` says how much is real). The example's metadata:
``station_network_code``, ``station_code``, ``station_location_code``, ``trace_channel``
(the band, ``HH``), ``source_id`` (the pick's event) and ``trace_{phase}_arrival_sample``
(the pick). Its ``trace_seiswindow_id`` is the example's id (:func:`example_id`, as stable as
the windows' ids), which is what makes a rerun skip it.

What the manifest records: each window's own line (status, bytes read) names the example it
is part of as its ``file``, ``waveforms.hdf5#<example id>``, whether the example is written
yet or waits for the rest of its windows (``size`` is the example's bytes of samples on the
line of the window that completed it, 0 on the others). A window without data names no file.
A window is done only when the example it names is in the data set (:meth:`holds`), and the
job (``whole_groups``) redoes every window of a row one of whose windows is not done. So a
kill after two windows of three leaves no example, two lines naming an example the data set
does not hold, and a rerun extracts the three again; an example is written whole, once, when
its last window arrives (the writer's own order of samples then row makes that crash-safe).
A window that failed keeps its example from being written: the rerun retries the row. A row
done again finds the examples of its other stations there already and does not write them twice.

Memory: an example's windows are held until its last arrives. The job hands windows out by
day file, so the first components of a station-day's picks wait for its last component's
day file: at most one station-day's picks, times the components, at a time with the local
executor.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..errors import DataError, RequestError
from ..model import Status, WindowResult
from ..trim import merge_segments
from .inputs import JobWindow
from .outputs import Written

if TYPE_CHECKING:
    from .seisbench import ComponentTrace, SeisBenchWriter

__all__ = [
    "EXAMPLE_PREFIX",
    "Example",
    "SeisBenchOutput",
    "component_of",
    "example_id",
    "measurement_of",
    "plan_examples",
]

#: How a manifest line names an example: ``waveforms.hdf5#<example id>``.
EXAMPLE_PREFIX: Final = "waveforms.hdf5#"
#: A channel's last letter → its component in SeisBench's ``ZNE`` (1 and 2 as N and E).
_FLEXIBLE: Final = {"1": "N", "2": "E"}
#: SEED's instrument code → what the channel measures (``data_format``'s ``measurement``).
_MEASUREMENTS: Final = {"H": "velocity", "L": "velocity", "N": "acceleration"}
#: What SeisBench's arrival columns (``trace_P_arrival_sample``) may be named after.
_PHASE: Final = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class Example:
    """One SeisBench example of a job: its id and the ids of its windows (its components)."""

    id: str
    windows: tuple[str, ...]

    @property
    def name(self) -> str:
        """How the manifest names it."""
        return EXAMPLE_PREFIX + self.id


def component_of(channel: str, component_order: str) -> str | None:
    """The component of ``component_order`` a channel is (``HH1`` → ``N`` in ``ZNE``), or None.

    >>> component_of("HH1", "ZNE"), component_of("BHZ", "ZNE"), component_of("HH3", "ZNE")
    ('N', 'Z', None)
    """
    last = channel[-1:]
    if last in component_order:
        return last
    flexible = _FLEXIBLE.get(last)
    return flexible if flexible is not None and flexible in component_order else None


def measurement_of(windows: Sequence[JobWindow]) -> str:
    """What the channels measure, from their instrument code (SEED's second letter):
    ``velocity`` (``H``, ``L``: seismometers), ``acceleration`` (``N``), or ``mixed``.

    >>> from seiswindow.model import Window
    >>> measurement_of([JobWindow(Window.create("CI", "CCA", "", "BHN", 0, 10**9), "a", "line 2")])
    'velocity'
    """
    found = {_MEASUREMENTS.get(item.window.channel[1:2], "unknown") for item in windows}
    return found.pop() if len(found) == 1 else "mixed"


def example_id(item: JobWindow) -> str:
    """The id of the example ``item`` is a component of: a hash of its row and station."""
    w = item.window
    group = item.group or item.id
    parts = ["example", group, w.network, w.station, w.location, w.channel[:2]]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def plan_examples(windows: Sequence[JobWindow], *, component_order: str = "ZNE") -> dict[str, Example]:
    """Window id → the example it is a component of, checked before anything is read.

    Raises:
        RequestError: a channel that is no component of ``component_order``, two channels of
            one example on the same component (``HHN`` and ``HH1``), a phase SeisBench cannot
            name a column after; the message names the input's line.
    """
    members: dict[str, list[JobWindow]] = {}
    for item in windows:
        members.setdefault(example_id(item), []).append(item)
    plan: dict[str, Example] = {}
    for eid, items in members.items():
        seen: dict[str, str] = {}
        for item in items:
            _check_phase(item)
            channel = item.window.channel
            component = component_of(channel, component_order)
            if component is None:
                raise RequestError(
                    f"{item.source}: channel {channel} is no component of {component_order} "
                    "(a SeisBench example places Z, N, E, and 1, 2 as N, E): narrow the channel pattern",
                    field="channel",
                )
            if component in seen:
                raise RequestError(
                    f"{item.source}: channels {seen[component]} and {channel} of {item.window.network}."
                    f"{item.window.station} are both component {component}: narrow the channel pattern",
                    field="channel",
                )
            seen[component] = channel
        example = Example(eid, tuple(item.id for item in items))
        plan.update((item.id, example) for item in items)
    return plan


def _check_phase(item: JobWindow) -> None:
    phase = item.pick.phase if item.pick else ""
    if phase and not _PHASE.match(phase):
        raise RequestError(f"{item.source}: phase {phase!r}: letters, digits and _ only", field="phase")


@dataclass
class _Pending:
    """The windows of an example that arrived so far, and whether one failed."""

    arrived: int = 0
    failed: bool = False
    results: list[tuple[JobWindow, WindowResult]] = field(default_factory=list)


class SeisBenchOutput:
    """The job's windows as a SeisBench data set in its directory (see the module docstring).

    Args:
        windows: every window of the job (the examples are planned from them).
        component_order: the data set's component order.
        measurement: ``data_format``'s ``measurement`` (written when the data set is created);
            None: told from the channels' instrument codes (:func:`measurement_of`).
        fsync: each example durable before its windows are reported (see
            :class:`~seiswindow.bulk.seisbench.SeisBenchWriter`).

    Raises:
        RequestError: the windows cannot be examples (:func:`plan_examples`).
    """

    format = "seisbench"
    #: A window is done only when every window of its input row is (the job reads this).
    whole_groups = True

    def __init__(
        self,
        windows: Sequence[JobWindow],
        *,
        component_order: str = "ZNE",
        measurement: str | None = None,
        fsync: bool = True,
    ) -> None:
        self.component_order = component_order
        self.measurement = measurement or measurement_of(windows)
        self.fsync = fsync
        self.plan = plan_examples(windows, component_order=component_order)
        self._pending: dict[str, _Pending] = {}
        self._writer: SeisBenchWriter | None = None

    @property
    def writer(self) -> SeisBenchWriter:
        if self._writer is None:
            raise RuntimeError("the output is not open")
        return self._writer

    def open(self, directory: Path) -> None:
        """Open (or resume) the data set in ``directory``.

        Raises:
            DataError: the directory holds a data set this one cannot append to.
        """
        from .seisbench import SeisBenchError, SeisBenchWriter

        self._pending = {}
        try:
            self._writer = SeisBenchWriter(
                directory,
                component_order=self.component_order,
                measurement=self.measurement,
                fsync=self.fsync,
            )
        except SeisBenchError as exc:
            raise DataError(f"cannot write the SeisBench data set in {directory}: {exc}") from exc

    def write(self, item: JobWindow, result: WindowResult) -> Written | None:
        """Hold the window until its example's last arrives, then write the example.

        Raises:
            DataError: the example cannot be written (components of different rates...):
                the window completing it fails, and the rerun retries the row.
        """
        example = self.plan.get(item.id) or Example(example_id(item), (item.id,))
        pending = self._pending.setdefault(example.id, _Pending())
        pending.arrived += 1
        has_data = result.status in (Status.OK, Status.PARTIAL) and bool(result.segments)
        if result.status is Status.ERROR:
            pending.failed = True
        elif has_data:
            pending.results.append((item, result))
        complete = pending.arrived >= len(example.windows)
        if complete:
            del self._pending[example.id]
        # An example written by an earlier run is not written twice: a row is done again
        # whole when one of its examples is missing, the others of its stations are there.
        written = self.writer.has(example.id)
        if not complete or pending.failed or not pending.results or written:
            return Written(example.name, 0) if has_data else None
        size = self._add(example, pending.results)
        return Written(example.name, size) if has_data else None

    def _add(self, example: Example, results: list[tuple[JobWindow, WindowResult]]) -> int:
        from .seisbench import SeisBenchError

        traces: dict[str, ComponentTrace] = {}
        for item, result in results:
            merged = merge_segments(result.segments)
            if merged is None:
                continue
            samples = merged.samples
            if merged.mask is not None:  # gaps are zeros, as SeisBench pads
                samples = np.where(merged.mask, 0, samples).astype(samples.dtype)
            component = component_of(item.window.channel, self.component_order)
            assert component is not None  # checked by plan_examples
            traces[component] = (merged.start, merged.sampling_rate, samples)
        first = results[0][0]
        try:
            self.writer.add(example.id, traces, _metadata(first), _arrivals(first))
        except SeisBenchError as exc:
            raise DataError(f"example {example.id}: {exc}") from exc
        return sum(int(samples.nbytes) for _, _, samples in traces.values())

    def holds(self, name: str) -> bool:
        """Whether the example ``name`` (``waveforms.hdf5#<id>``) is in the data set."""
        return name.startswith(EXAMPLE_PREFIX) and self.writer.has(name.removeprefix(EXAMPLE_PREFIX))

    def finalize(self) -> None:
        """Close the data set; examples still waiting for windows (a run that failed) are
        dropped, never written in part: their windows name no example the data set holds."""
        self._pending = {}
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _metadata(item: JobWindow) -> dict[str, Any]:
    w = item.window
    return {
        "station_network_code": w.network,
        "station_code": w.station,
        "station_location_code": w.location,
        "trace_channel": w.channel[:2],
        "source_id": item.pick.event if item.pick else "",
    }


def _arrivals(item: JobWindow) -> dict[str, int]:
    pick = item.pick
    return {pick.phase: pick.time} if pick is not None and pick.phase else {}
