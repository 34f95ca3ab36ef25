"""Windows written as a SeisBench data set: ``metadata.csv`` + ``waveforms.hdf5``, resumably.

The format is SeisBench's own (its ``docs/pages/data/data_format.rst`` and
``seisbench.data.base.WaveformDataWriter``, read for this module), so that
``seisbench.data.WaveformDataset(directory)`` loads what is written here unchanged; SeisBench
itself is not needed to write (it needs torch): h5py and the ``csv`` module are.

What is written:

* ``waveforms.hdf5``: the group ``data_format`` (``dimension_order`` ``"CW"``,
  ``component_order``, ``sampling_rate`` when the writer is given one, ``measurement``,
  ``unit`` ``"counts"`` and ``instrument_response`` ``"not restituted"``: the samples are the
  archive's, untouched) and the group ``data`` of *trace blocks*: one array
  ``data/bucketN`` of shape ``(slots, C, W)`` holds up to ``block_size`` windows with the same
  number of components, sample type and length class (SeisBench's ``GeometricBucketer``: lengths
  below 100, then classes growing by a factor 1.2). A window is addressed as SeisBench's trace
  blocks are, ``trace_name = "bucketN$i,:C,:length"``; the zero padding past ``length`` is
  never read. Sample types are kept as decoded (Steim's int32 stay int32, bit for bit).
* ``metadata.csv``: one row per window: ``trace_name``, ``trace_seiswindow_id`` (the caller's
  window id, which makes the data set resumable), ``trace_start_time`` (ObsPy's
  ``str(UTCDateTime)``), ``trace_sampling_rate_hz``, ``trace_npts``, ``trace_completeness``,
  the caller's metadata (``station_network_code``, ``source_id``, ``split``...) and one
  ``trace_{phase}_arrival_sample`` per phase picked: ``(pick - start) * rate``, a float, as
  SeisBench's own converters compute it (negative or past the end when the pick is outside).

Aligning the components: a window's components (``Z``, ``N``, ``E`` of ``HH?``) may start and end
at different samples (gaps at the edge of a day file, channels that started late). They are placed
on one grid starting at the earliest start and running to the latest end (each component's offset
rounded to the nearest sample), and what a component lacks is **zero-padded**, with
``trace_completeness`` the fraction of real samples, as SeisBench's ``util.stream_to_array`` does
for its own data sets. Not cut to the common span: a pick near the edge of one component would be
lost with the others' samples. Not NaN: integer samples have no NaN, and SeisBench itself pads
missing components with zeros (``missing_components="pad"``); a NaN would poison a training loss
silently. A component of ``component_order`` absent altogether is zeros too. All components must
have one sampling rate (resampling is the caller's choice, not the writer's).

Resuming, and what a kill leaves: the rows of ``metadata.csv`` are the truth. Each window's
samples are written into their block and the HDF5 file is flushed and fsync'ed **before** its row
is appended to ``metadata.csv`` (one ``write``, flushed and fsync'ed). A kill between the two
leaves samples no row points to: a slot past the last one referenced, which the next writer
opening the directory overwrites. A kill inside the row's ``write`` leaves a last line without its
newline: opening the directory again truncates it. (``fsync=False`` keeps the order for a kill
of the process, not for a crash of the operating system.) A new metadata column (a phase not seen
before) rewrites the whole csv to a temporary file renamed over the old one, never in place.
Opening an existing directory therefore appends, and :meth:`SeisBenchWriter.has` says which
windows are already there. HDF5 itself journals nothing: a kill *inside* HDF5's own flush of
block metadata can still damage the file, the one risk that remains (SeisBench's chunked data sets,
one file pair per run, would confine it to one run's chunk).

One writer per directory at a time: the writer holds an exclusive ``flock`` on the directory
(HDF5's own lock on the file stops other processes, not a second writer in the same process).
"""

from __future__ import annotations

import csv
import fcntl
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import h5py
import numpy as np
import numpy.typing as npt

from seiswindow.errors import SeisWindowError
from seiswindow.nstime import NS_PER_S, format_time

__all__ = ["Aligned", "ComponentTrace", "SeisBenchError", "SeisBenchWriter", "align_components"]

METADATA: Final = "metadata.csv"
WAVEFORMS: Final = "waveforms.hdf5"
#: The metadata column holding the caller's window id.
ID_COLUMN: Final = "trace_seiswindow_id"
#: Columns the writer fills itself; the caller's metadata may not name them.
COMPUTED: Final = (
    "trace_name",
    ID_COLUMN,
    "trace_start_time",
    "trace_sampling_rate_hz",
    "trace_npts",
    "trace_completeness",
)
#: SeisBench's GeometricBucketer: lengths below MIN_BUCKET share class 0, then classes of ratio FACTOR.
MIN_BUCKET: Final = 100
FACTOR: Final = 1.2
_BLOCK = re.compile(r"^(bucket\d+)\$(\d+),")
_PHASE = re.compile(r"^[A-Za-z0-9_]+$")
_RATE_TOLERANCE: Final = 1e-6

#: One component's samples: (start in ns, sampling rate in Hz, samples).
ComponentTrace = tuple[int, float, npt.NDArray[Any]]


class SeisBenchError(SeisWindowError):
    """A window cannot be written as asked, or the directory is not a data set this writer may
    append to (another component order, rows without ``trace_seiswindow_id``...)."""


@dataclass(frozen=True)
class Aligned:
    """A window's components on one grid: ``data`` has shape ``(len(component_order), npts)``."""

    start_ns: int
    sampling_rate: float
    data: npt.NDArray[Any]
    completeness: float


def align_components(traces: Mapping[str, ComponentTrace], *, component_order: str) -> Aligned:
    """Place each component at its row of ``component_order``, from the earliest start to the
    latest end, zero-padded (see the module docstring for why).

    Raises:
        SeisBenchError: no component, a component not in ``component_order``, samples that are
            not one-dimensional numbers, sampling rates that differ or are not positive.
    """
    if not traces:
        raise SeisBenchError("a window needs at least one component")
    rates = set()
    for code, (_, rate, samples) in traces.items():
        if code not in component_order or len(code) != 1:
            raise SeisBenchError(f"component {code!r} is not one of {component_order!r}")
        if not (math.isfinite(rate) and rate > 0):
            raise SeisBenchError(f"component {code!r}: sampling rate {rate!r} is not positive")
        if samples.ndim != 1 or samples.dtype.kind not in "iuf":
            raise SeisBenchError(f"component {code!r}: samples must be a 1-D array of numbers")
        rates.add(float(rate))
    rate = min(rates)
    if max(rates) - rate > _RATE_TOLERANCE * rate:
        raise SeisBenchError(f"components have different sampling rates: {sorted(rates)}")
    start = min(start for start, _, _ in traces.values())
    offsets = {code: round((s - start) * rate / NS_PER_S) for code, (s, _, _) in traces.items()}
    npts = max(offsets[code] + len(samples) for code, (_, _, samples) in traces.items())
    dtype = np.result_type(*(samples.dtype for _, _, samples in traces.values()))
    data = np.zeros((len(component_order), npts), dtype=dtype)
    for code, (_, _, samples) in traces.items():
        at = offsets[code]
        data[component_order.index(code), at : at + len(samples)] = samples
    real = sum(len(samples) for _, _, samples in traces.values())
    completeness = real / (len(component_order) * npts) if npts else 0.0
    return Aligned(start_ns=start, sampling_rate=rate, data=data, completeness=completeness)


def arrival_sample(time_ns: int, *, start_ns: int, sampling_rate: float) -> float:
    """``(time - start) * rate`` in samples, correctly rounded (exact rationals, then one float).

    >>> arrival_sample(1_500_000_000, start_ns=0, sampling_rate=40.0)
    60.0
    """
    return float(Fraction(time_ns - start_ns) * Fraction(sampling_rate) / NS_PER_S)


def length_class(npts: int) -> int:
    """SeisBench's ``GeometricBucketer`` class of a trace of ``npts`` samples."""
    if npts < MIN_BUCKET:
        return 0
    return int(math.log(npts / MIN_BUCKET) / math.log(FACTOR) + 1)


def _cell(key: str, value: object) -> str:
    """A metadata value as a csv cell pandas reads back as the same value."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise SeisBenchError(f"metadata {key!r}: a line break cannot be stored")
        return value
    raise SeisBenchError(f"metadata {key!r}: {type(value).__name__} is not a str, number, bool or None")


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(list(cells))
    return out.getvalue()


@dataclass
class _Block:
    """One trace block being filled: the next free slot and the class it takes."""

    name: str
    key: tuple[int, str, int]
    used: int


class SeisBenchWriter:
    """Appends windows to the SeisBench data set in ``directory`` (created when absent).

    Use as a context manager; :meth:`add` writes one window durably, :meth:`has` says whether a
    window id is already there (after a kill, from the rows that survived it).

    Args:
        directory: the data set's directory; an existing one is appended to.
        component_order: the components' order in every array (``data_format``).
        sampling_rate: the data set's one sampling rate, written into ``data_format`` and
            required of every window; None leaves rates per row (``trace_sampling_rate_hz``).
        measurement: ``data_format``'s ``measurement`` ("velocity" for ``HH?``, "acceleration"
            for ``HN?``), written when the data set is created.
        block_size: windows per trace block.
        fsync: fsync the samples, then the row, of every window: what is added survives a power
            loss too. False flushes both to the operating system only, in the same order, which
            a kill of the process cannot undo, an operating system crash can. About 4x faster:
            2000 windows of 3 x 6001 int32 samples, 45-65 a second with fsync, 190-280 without
            (SeisBench's own writer, which buffers blocks and writes the csv at the end: 530-840).

    Raises:
        SeisBenchError: the directory holds a data set of another component order or
            sampling rate, rows this writer did not write, or a file locked by another writer.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        component_order: str = "ZNE",
        sampling_rate: float | None = None,
        measurement: str = "velocity",
        block_size: int = 1024,
        fsync: bool = True,
    ) -> None:
        if not component_order or len(set(component_order)) != len(component_order):
            raise SeisBenchError(f"component order {component_order!r} must be distinct letters")
        if block_size < 1:
            raise SeisBenchError("block_size must be at least 1")
        self.directory = Path(directory)
        self.component_order = component_order
        self.block_size = block_size
        self._fsync = os.fsync if fsync else _no_fsync
        self.directory.mkdir(parents=True, exist_ok=True)
        self._csv_path = self.directory / METADATA
        self._lock = _lock_directory(self.directory)
        try:
            self._columns, self._ids, used = self._read_rows()
            self._h5 = self._open_waveforms(sampling_rate=sampling_rate, measurement=measurement)
            try:
                self._blocks, self._next_block = self._find_blocks(used)
            except BaseException:
                self._h5.close()
                raise
        except BaseException:
            os.close(self._lock)
            raise
        self.sampling_rate: float | None = _rate_of(self._h5)
        if not self._csv_path.exists():
            self._rewrite_csv(self._columns)
        self._csv = open(self._csv_path, "a", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()

    # --- opening: rows first (the truth), then the blocks they use ---------------------------

    def _read_rows(self) -> tuple[list[str], set[str], dict[str, int]]:
        """Columns, window ids and, per block, one past the last slot used, from the rows of an
        existing ``metadata.csv``, after truncating a last line a kill left unfinished."""
        if not self._csv_path.exists():
            return list(COMPUTED), set(), {}
        with open(self._csv_path, "rb+") as raw:
            text = raw.read()
            if text and not text.endswith(b"\n"):
                raw.truncate(text.rfind(b"\n") + 1)
                raw.flush()
                os.fsync(raw.fileno())
        with open(self._csv_path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            columns = next(reader, None)
            if not columns:
                return list(COMPUTED), set(), {}
            if "trace_name" not in columns or ID_COLUMN not in columns:
                raise SeisBenchError(f"{self._csv_path} has no {ID_COLUMN!r} column: not appendable")
            name_at, id_at = columns.index("trace_name"), columns.index(ID_COLUMN)
            ids: set[str] = set()
            used: dict[str, int] = {}
            for row in reader:
                ids.add(row[id_at])
                if m := _BLOCK.match(row[name_at]):
                    used[m[1]] = max(used.get(m[1], 0), int(m[2]) + 1)
        return columns, ids, used

    def _open_waveforms(self, *, sampling_rate: float | None, measurement: str) -> h5py.File:
        path = self.directory / WAVEFORMS
        if self._ids and not path.exists():
            raise SeisBenchError(f"{self._csv_path} has rows but {path} is missing")
        try:
            h5 = h5py.File(path, "a")
        except OSError as exc:
            raise SeisBenchError(f"cannot open {path} for writing (another writer?): {exc}") from exc
        if "data_format" not in h5:
            fmt = h5.create_group("data_format")
            fmt["dimension_order"] = "CW"
            fmt["component_order"] = self.component_order
            if sampling_rate is not None:
                fmt["sampling_rate"] = float(sampling_rate)
            fmt["measurement"] = measurement
            fmt["unit"] = "counts"
            fmt["instrument_response"] = "not restituted"
            h5.require_group("data")
            h5.flush()
            return h5
        fmt = h5["data_format"]
        found = fmt["component_order"][()].decode()
        have = _rate_of(h5)
        if found != self.component_order or (sampling_rate is not None and have != sampling_rate):
            h5.close()
            raise SeisBenchError(
                f"{path} holds component order {found!r} at {have} Hz, "
                f"not {self.component_order!r} at {sampling_rate} Hz"
            )
        h5.require_group("data")
        return h5

    def _find_blocks(self, used: Mapping[str, int]) -> tuple[dict[tuple[int, str, int], _Block], int]:
        """The blocks still open for each class; slots past the last row's are free again.

        Raises:
            SeisBenchError: a row points to samples the file does not hold.
        """
        blocks: dict[tuple[int, str, int], _Block] = {}
        for name, slots in used.items():
            if name not in self._h5["data"] or self._h5["data"][name].shape[0] < slots:
                raise SeisBenchError(f"rows of {self.directory} point past the samples of block {name}")
        numbers = [-1]
        for name, dataset in self._h5["data"].items():
            if not (name.startswith("bucket") and name[6:].isdigit()):
                continue
            numbers.append(_number(name))
            key = (int(dataset.shape[1]), dataset.dtype.str, int(dataset.attrs["length_class"]))
            block = _Block(name=name, key=key, used=used.get(name, 0))
            # The newest block of a class is the one to go on filling.
            newer = key not in blocks or _number(name) > _number(blocks[key].name)
            if block.used < self.block_size and newer:
                blocks[key] = block
        return blocks, max(numbers) + 1

    # --- the interface ------------------------------------------------------------------------

    def has(self, window_id: str) -> bool:
        """Whether a row of window ``window_id`` is in the data set."""
        return window_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(
        self,
        window_id: str,
        traces: Mapping[str, ComponentTrace],
        metadata: Mapping[str, object],
        arrivals: Mapping[str, int],
    ) -> str:
        """Write one window: its samples, then its row; returns its ``trace_name``.

        Args:
            window_id: the caller's id of the window, unique in the data set.
            traces: component code (``"Z"``) → (start ns, sampling rate Hz, samples).
            metadata: further columns (``station_code``, ``source_id``, ``split``...).
            arrivals: phase (``"P"``) → pick time in ns, as ``trace_{phase}_arrival_sample``.

        Raises:
            SeisBenchError: a window id already written, components that cannot be aligned
                (:func:`align_components`), a rate other than the data set's, a metadata key
                the writer fills itself, a value that is not a str, number, bool or None.
        """
        if self._csv.closed:
            raise SeisBenchError("the writer is closed")
        if "\n" in window_id or "\r" in window_id:
            raise SeisBenchError("a window id cannot hold a line break")
        if window_id in self._ids:
            raise SeisBenchError(f"window {window_id!r} is already in {self.directory}")
        aligned = align_components(traces, component_order=self.component_order)
        rate = self.sampling_rate
        if rate is not None and abs(aligned.sampling_rate - rate) > _RATE_TOLERANCE * rate:
            raise SeisBenchError(
                f"window {window_id!r} is at {aligned.sampling_rate} Hz, the data set at {rate} Hz"
            )
        row = dict(self._row(window_id, aligned, metadata, arrivals))
        row["trace_name"] = self._write_samples(aligned.data)
        missing = [key for key in row if key not in self._columns]
        if missing:
            self._rewrite_csv([*self._columns, *missing])
        self._csv.write(_csv_line(row.get(column, "") for column in self._columns))
        self._csv.flush()
        self._fsync(self._csv.fileno())
        self._ids.add(window_id)
        return row["trace_name"]

    def _row(
        self, window_id: str, aligned: Aligned, metadata: Mapping[str, object], arrivals: Mapping[str, int]
    ) -> Iterator[tuple[str, str]]:
        yield "trace_name", ""
        yield ID_COLUMN, window_id
        yield "trace_start_time", format_time(aligned.start_ns)
        yield "trace_sampling_rate_hz", repr(aligned.sampling_rate)
        yield "trace_npts", str(aligned.data.shape[1])
        yield "trace_completeness", repr(aligned.completeness)
        for key, value in metadata.items():
            if key in COMPUTED or key.endswith("_arrival_sample"):
                raise SeisBenchError(f"metadata {key!r} is a column the writer fills itself")
            yield key, _cell(key, value)
        for phase, time_ns in arrivals.items():
            if not _PHASE.match(phase):
                raise SeisBenchError(f"phase {phase!r}: letters, digits and _ only")
            sample = arrival_sample(time_ns, start_ns=aligned.start_ns, sampling_rate=aligned.sampling_rate)
            yield f"trace_{phase}_arrival_sample", repr(sample)

    def _write_samples(self, data: npt.NDArray[Any]) -> str:
        """Store ``data`` in a free slot of its class's block, flushed and fsync'ed; its name."""
        channels, npts = data.shape
        key = (channels, data.dtype.str, length_class(npts))
        block = self._blocks.get(key)
        if block is None or block.used >= self.block_size:
            block = _Block(name=f"bucket{self._next_block}", key=key, used=0)
            self._next_block += 1
            dataset = self._h5["data"].create_dataset(
                block.name,
                shape=(0, channels, npts),
                maxshape=(self.block_size, channels, None),
                chunks=(1, channels, max(1, min(npts, 1 << 16))),
                dtype=data.dtype,
            )
            dataset.attrs["length_class"] = key[2]
            self._blocks[key] = block
        dataset = self._h5["data"][block.name]
        slot = block.used
        rows, _, width = dataset.shape
        dataset.resize((max(rows, slot + 1), channels, max(width, npts)))
        dataset[slot, :, :npts] = data
        self._h5.flush()
        self._fsync(self._h5.id.get_vfd_handle())
        block.used += 1
        return f"{block.name}${slot},:{channels},:{npts}"

    def _rewrite_csv(self, columns: list[str]) -> None:
        """The csv with ``columns`` as header, old rows padded: a new file renamed over the old."""
        tmp = self._csv_path.with_name(METADATA + ".tmp")
        reopen = hasattr(self, "_csv") and not self._csv.closed
        if reopen:
            self._csv.close()
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            if self._csv_path.exists():
                with open(self._csv_path, newline="", encoding="utf-8") as f:
                    for row in csv.DictReader(f):
                        writer.writerow([row.get(column) or "" for column in columns])
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._csv_path)
        _fsync_directory(self.directory)
        self._columns = columns
        if reopen:
            self._csv = open(self._csv_path, "a", newline="", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        """Close both files (everything added is already on disk)."""
        if not self._csv.closed:
            self._csv.close()
        if self._h5.id.valid:
            self._h5.close()
        if self._lock >= 0:
            os.close(self._lock)  # releases the flock
            self._lock = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _no_fsync(fd: int) -> None:
    """``fsync=False``: what ``flush()`` handed to the operating system stays there."""


def _number(block: str) -> int:
    return int(block.removeprefix("bucket"))


def _rate_of(h5: h5py.File) -> float | None:
    fmt = h5["data_format"]
    return float(fmt["sampling_rate"][()]) if "sampling_rate" in fmt else None


def _lock_directory(directory: Path) -> int:
    """An exclusive ``flock`` on the directory, held until :meth:`SeisBenchWriter.close`: one
    writer at a time, in this process too (HDF5's own lock lets one process open a file twice).

    Raises:
        SeisBenchError: another writer holds it.
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SeisBenchError(f"{directory} is being written by another writer") from None
    return fd


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
