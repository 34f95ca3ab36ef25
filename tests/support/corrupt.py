"""Single-record corruptions of miniSEED 2 day files, for the corruption suite (issue 16).

:func:`corruptions` takes the bytes of an intact day file and returns damaged copies, each
of them changed in one record (or, for the structural classes, in where one record is):
every field of the fixed header, the fields of blockettes 1000 and 1001, bit flips in the
data frames, a truncated file, a record duplicated, moved, swapped with its neighbour or
zeroed. It is deterministic (fixed seeds): the same bytes in give the same cases out.

Offsets are those of the SEED 2.4 manual: chapter 8, "Fixed Section of Data Header"
(48 bytes), and appendix blockettes 1000 ("Data Only SEED") and 1001 ("Data Extension").
Byte order is the record's own, told as libmseed tells it (a year of 1900-2100 read
big-endian means big-endian).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Corruption", "RecordInfo", "corruptions", "record_layout"]


class Corruption(NamedTuple):
    """One damaged copy of a file: ``name`` is ``"<class>:<detail>@<record>"`` (the class
    is the field or the kind of damage), ``record`` the index of the record damaged."""

    name: str
    data: bytes
    record: int

    @property
    def kind(self) -> str:
        """The corruption class (the field, or the kind of structural damage)."""
        return self.name.partition(":")[0]


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """Where the parts of one record are (offsets inside the record)."""

    offset: int  #: of the record in the file
    reclen: int
    order: str  #: struct byte order, ``>`` or ``<``
    b1000: int | None
    b1001: int | None
    data_offset: int
    frames: int  #: 64-byte data frames in use (from blockette 1001, else all)


def record_layout(data: bytes, offset: int, reclen: int) -> RecordInfo:
    """Where the blockettes and data frames of the record at ``offset`` are."""
    year_be = struct.unpack_from(">H", data, offset + 20)[0]
    order = ">" if 1900 <= year_be <= 2100 else "<"
    data_offset = struct.unpack_from(order + "H", data, offset + 44)[0]
    next_blockette = struct.unpack_from(order + "H", data, offset + 46)[0]
    b1000 = b1001 = None
    seen: set[int] = set()
    while 48 <= next_blockette < reclen - 4 and next_blockette not in seen:
        seen.add(next_blockette)
        kind, following = struct.unpack_from(order + "HH", data, offset + next_blockette)
        if kind == 1000:
            b1000 = next_blockette
        elif kind == 1001:
            b1001 = next_blockette
        next_blockette = following
    frames = (reclen - data_offset) // 64
    if b1001 is not None and data[offset + b1001 + 7]:
        frames = min(frames, data[offset + b1001 + 7])
    return RecordInfo(offset, reclen, order, b1000, b1001, data_offset, frames)


def _reclen(data: bytes) -> int:
    """The record length of the file, from the first record's blockette 1000 (the sample
    files have records of one length)."""
    info = record_layout(data, 0, 1 << 16)
    if info.b1000 is None:
        raise ValueError("the first record has no blockette 1000")
    reclen = 1 << data[info.b1000 + 6]
    if len(data) % reclen:
        raise ValueError(f"file of {len(data)} bytes is not made of {reclen}-byte records")
    return reclen


# -- header fields ------------------------------------------------------------------------

#: A change of a numeric field: (detail, new value from the old one, or None to skip).
_Change = tuple[str, Callable[[int], int | None]]


def _bits(width: int, which: Sequence[int] | None = None) -> list[_Change]:
    return [(f"bit{b}", lambda v, b=b: v ^ (1 << b)) for b in (which or range(width))]


def _const(*values: int) -> list[_Change]:
    return [(str(v), lambda _v, v=v: v) for v in values]


def _delta(*steps: int) -> list[_Change]:
    return [(f"{s:+d}", lambda v, s=s: v + s) for s in steps]


def _swapped(fmt: str) -> _Change:
    size = struct.calcsize(fmt)
    return ("byteswapped", lambda v: int.from_bytes(v.to_bytes(size, "big", signed=fmt.islower()), "little"))


# (class, offset in the fixed header, struct format, changes)
_NUMERIC: list[tuple[str, int, str, list[_Change]]] = [
    ("year", 20, "H", [*_delta(1, -1), *_const(0, 1899, 2101, 0xFFFF), _swapped("H")]),
    ("day", 22, "H", [*_delta(1), *_const(0, 366, 367, 0xFFFF)]),
    ("hour", 24, "B", [*_delta(1), *_const(24, 255)]),
    ("minute", 25, "B", [*_delta(1), *_const(60, 255)]),
    ("second", 26, "B", [*_delta(1), *_const(60, 61)]),
    ("btime-unused", 27, "B", _const(1, 0xFF)),
    ("fraction", 28, "H", [*_delta(1, 123, 5000), *_const(9999, 10000, 0xFFFF)]),
    ("nsamples", 30, "H", [*_delta(-1, 1), ("double", lambda v: 2 * v), *_const(0, 1, 0xFFFF)]),
    (
        "rate-factor",
        32,
        "h",
        [*_const(0, 32767, -32768), ("negated", lambda v: -v), *_delta(1), *_bits(16)],
    ),
    ("rate-multiplier", 34, "h", [*_const(0, -1, 2), ("negated", lambda v: -v), *_bits(16, (0, 1, 4, 15))]),
    ("activity-flags", 36, "B", [*_bits(8), *_const(0xFF)]),
    ("io-flags", 37, "B", [*_bits(8), *_const(0xFF)]),
    ("quality-flags", 38, "B", [*_bits(8), *_const(0xFF)]),
    ("blockette-count", 39, "B", [*_delta(-1, 1), *_const(0, 255)]),
    # +123: 12.3 ms, not a whole number of samples at 1 or 40 Hz (+5000 is, at 40 Hz)
    ("time-correction", 40, "i", [*_delta(1, 123, 5000, -5000), *_const(2**31 - 1, -(2**31))]),
    ("data-offset", 44, "H", [*_delta(64, -8), *_const(0, 48, 63, 0xFFFF)]),
    ("blockette-offset", 46, "H", [*_delta(8), *_const(0, 1, 47, 0xFFFF)]),
]

# (class, offset in the fixed header, replacement bytes at that offset)
_TEXT: list[tuple[str, int, list[tuple[str, bytes]]]] = [
    (
        "sequence",
        0,
        [("zeros", b"000000"), ("letters", b"ABCDEF"), ("0xff", b"\xff" * 6), ("blank", b" " * 6)],
    ),
    ("quality", 6, [("X", b"X"), ("nul", b"\x00"), ("R", b"R"), ("M", b"M")]),
    ("reserved", 7, [("X", b"X"), ("0xff", b"\xff"), ("nul", b"\x00")]),
    (
        "station",
        8,
        [("0xff", b"\xff"), ("hash", b"#"), ("other", b"X"), ("lower", b"w"), ("blank", b" " * 5)],
    ),
    ("location", 13, [("0xff", b"\xff"), ("hash", b"#"), ("other", b"99")]),
    ("channel", 15, [("0xff", b"\xff"), ("hash", b"#"), ("other", b"BHZ"), ("lower", b"l")]),
    ("network", 18, [("0xff", b"\xff"), ("hash", b"#"), ("other", b"XX"), ("blank", b"  ")]),
]

# (class, offset in the blockette, struct format, changes)
_B1000: list[tuple[str, int, str, list[_Change]]] = [
    ("b1000-type", 0, "H", _const(999, 0)),
    ("b1000-next", 2, "H", _const(0, 1, 0xFFFF)),
    # 0 text, 1 int16, 3 int32, 4 float32, 5 float64, 10 Steim1, 11 Steim2, 19 Steim3
    ("b1000-encoding", 4, "B", _const(0, 1, 3, 4, 5, 10, 19, 255)),
    ("b1000-word-order", 5, "B", _const(0, 2, 255)),
    ("b1000-reclen", 6, "B", [*_delta(-1, 1), *_const(0, 7, 20, 31, 255)]),
    ("b1000-reserved", 7, "B", _const(0xFF)),
]
_B1001: list[tuple[str, int, str, list[_Change]]] = [
    ("b1001-type", 0, "H", _const(999)),
    ("b1001-next", 2, "H", _const(1, 0xFFFF)),
    ("b1001-timing-quality", 4, "B", _const(0, 255)),
    ("b1001-microseconds", 5, "b", [*_delta(1, 50, -50), *_const(127, -128)]),
    ("b1001-reserved", 6, "B", _const(0xFF)),
    ("b1001-frames", 7, "B", [*_delta(-1), *_const(0, 255)]),
]


def _numeric(
    data: bytes, info: RecordInfo, base: int, kind: str, at: int, fmt: str, changes: list[_Change]
) -> Iterator[tuple[str, bytes]]:
    position = info.offset + base + at
    (old,) = struct.unpack_from(info.order + fmt, data, position)
    size = struct.calcsize(fmt)
    lo, hi = (
        (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if fmt.islower() else (0, (1 << 8 * size) - 1)
    )
    for detail, change in changes:
        new = change(old)
        if new is None or new == old:
            continue
        if not lo <= new <= hi:  # wrap, as a corrupt byte would
            new = (new - lo) % (hi - lo + 1) + lo
        copy = bytearray(data)
        struct.pack_into(info.order + fmt, copy, position, new)
        yield f"{kind}:{detail}", bytes(copy)


def _header_cases(data: bytes, info: RecordInfo) -> Iterator[tuple[str, bytes]]:
    for kind, at, replacements in _TEXT:
        for detail, new in replacements:
            position = info.offset + at
            if data[position : position + len(new)] == new:
                continue
            copy = bytearray(data)
            copy[position : position + len(new)] = new
            yield f"{kind}:{detail}", bytes(copy)
    for kind, at, fmt, changes in _NUMERIC:
        yield from _numeric(data, info, 0, kind, at, fmt, changes)
    # The time correction is applied only when activity flag bit 1 ("time correction
    # applied") is clear: with it set, even a huge correction must change nothing.
    copy = bytearray(data)
    struct.pack_into(info.order + "i", copy, info.offset + 40, 2**31 - 1)
    copy[info.offset + 36] |= 0x02
    yield "time-correction:max+flag-applied", bytes(copy)
    for blockette, fields in ((info.b1000, _B1000), (info.b1001, _B1001)):
        if blockette is None:
            continue
        for kind, at, fmt, changes in fields:
            yield from _numeric(data, info, blockette, kind, at, fmt, changes)


# -- data frames and structure ------------------------------------------------------------


def _flip_cases(data: bytes, info: RecordInfo, *, seeds: int) -> Iterator[tuple[str, bytes]]:
    start = info.offset + info.data_offset
    used = info.frames * 64
    for seed in range(seeds):
        rng = random.Random(f"{info.offset}:{seed}")
        copy = bytearray(data)
        bit = rng.randrange(used * 8)
        copy[start + bit // 8] ^= 1 << (bit % 8)
        yield f"data-bitflip:seed{seed}", bytes(copy)
    rng = random.Random(f"{info.offset}:burst")
    copy = bytearray(data)
    at = start + rng.randrange(used - 1)
    copy[at] ^= 0xFF
    yield "data-burst:byte", bytes(copy)
    # The first frame's first words are the control word, X0 and Xn (Steim), which decide
    # every sample and the integrity check.
    for word, label in ((1, "x0"), (2, "xn")):
        copy = bytearray(data)
        copy[start + 4 * word + 3] ^= 0x01
        yield f"data-frame0:{label}", bytes(copy)
    if info.frames * 64 < info.reclen - info.data_offset:  # unused frames hold no samples
        copy = bytearray(data)
        copy[start + used] ^= 0x10
        yield "data-unused-frame:bit4", bytes(copy)


def _structure_cases(data: bytes, i: int, reclen: int, n: int) -> Iterator[tuple[str, bytes]]:
    rec = lambda k: data[k * reclen : (k + 1) * reclen]  # noqa: E731
    begin, end = i * reclen, (i + 1) * reclen
    if i > 0:  # cut inside record 0 leaves no record at all: every window of the file is lost
        yield "truncate:mid-record", data[: begin + reclen // 2]
        yield "truncate:in-header", data[: begin + 30]
    yield "duplicate:adjacent", data[:end] + rec(i) + data[end:]
    yield "duplicate:at-end", data + rec(i)
    if i < n - 1:
        yield "shuffle:move-to-end", data[:begin] + data[end:] + rec(i)
    if i > 0:
        yield "shuffle:move-to-start", rec(i) + data[:begin] + data[end:]
    j = i + 1 if i < n - 1 else i - 1
    a, b = min(i, j), max(i, j)
    yield "shuffle:swap-neighbour", data[: a * reclen] + rec(b) + rec(a) + data[(b + 1) * reclen :]
    yield "zero:record", data[:begin] + bytes(reclen) + data[end:]
    yield "zero:header", data[:begin] + bytes(64) + data[begin + 64 :]
    rng = random.Random(f"garbage:{i}")
    yield "zero:garbage", data[:begin] + rng.randbytes(reclen) + data[end:]


def corruptions(
    data: bytes,
    *,
    records: Sequence[int] | None = None,
    only: Container[str] | None = None,
    flip_seeds: int = 4,
) -> list[Corruption]:
    """Damaged copies of the day file ``data``, one damage each.

    Args:
        data: the intact file (records of one length).
        records: indices of the records to damage (negative from the end); default the
            first, a middle one and the last.
        only: keep only the cases whose name (without ``@record``) or class is in it.
        flip_seeds: random single-bit flips per record in its data frames.

    Raises:
        ValueError: ``data`` is not made of records of the length its first one says.
    """
    reclen = _reclen(data)
    n = len(data) // reclen
    chosen = [r % n for r in (records if records is not None else (0, n // 2, -1))]
    cases: list[Corruption] = []
    for i in dict.fromkeys(chosen):
        info = record_layout(data, i * reclen, reclen)
        for name, damaged in (
            *_header_cases(data, info),
            *_flip_cases(data, info, seeds=flip_seeds),
            *_structure_cases(data, i, reclen, n),
        ):
            if only is None or name in only or name.partition(":")[0] in only:
                cases.append(Corruption(f"{name}@{i}", damaged, i))
    return cases
