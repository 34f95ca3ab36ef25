"""Store seams for the logic tests of locate and extract (as httpx tests through a mock
transport): :class:`~seiswindow.store.MemoryStore` (re-exported here) holds bytes by key, and a
:class:`TamperingStore` wrapper that counts reads and lets a test change what one read answers (a chunk cut
short, shifted, or an error), so the locator's checks are exercised without sockets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from seiswindow.errors import ArchiveError
from seiswindow.store import Chunk, MemoryStore, ObjectInfo, Store

__all__ = ["GatedStore", "MemoryStore", "Read", "TamperingStore"]


@dataclass(frozen=True, slots=True)
class Read:
    """One read a store answered: which call, the range asked, and the bytes answered."""

    call: str
    key: str
    start: int | None
    end: int | None
    answered: int


@dataclass
class TamperingStore(Store):
    """Wraps a store: records every read, and passes each answer through ``tamper``
    (``tamper(read_number, call, key, start, end, chunk) -> chunk``) when one is set."""

    inner: Store
    tamper: Callable[[int, str, str, int | None, int | None, Chunk], Chunk] | None = None
    reads: list[Read] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.url = self.inner.url

    def _record(self, call: str, key: str, start: int | None, end: int | None, chunk: Chunk) -> Chunk:
        with self._lock:
            number = len(self.reads)
            if self.tamper is not None:
                chunk = self.tamper(number, call, key, start, end, chunk)
            self.reads.append(Read(call, key, start, end, len(chunk.data)))
        return chunk

    @property
    def bytes_read(self) -> int:
        return sum(r.answered for r in self.reads)

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        return self._record("range", key, start, end, self.inner.get_range(key, start=start, end=end))

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self._record("suffix", key, None, length, self.inner.get_suffix(key, length=length))

    def get(self, key: str) -> Chunk:
        return self._record("get", key, None, None, self.inner.get(key))

    def stat(self, key: str) -> ObjectInfo:
        info = self.inner.stat(key)
        with self._lock:
            self.reads.append(Read("stat", key, None, None, 0))
        return info

    def list(self, prefix: str) -> list[str]:
        return self.inner.list(prefix)


@dataclass
class GatedStore(Store):
    """Wraps a store: reads of keys containing ``gated`` wait until ``gate`` is set (at most
    ``timeout`` seconds, then fail), so a test can tell whether an answer began before a
    later file was read."""

    inner: Store
    gated: str
    gate: threading.Event = field(default_factory=threading.Event)
    timeout: float = 30.0
    waited: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.url = self.inner.url

    def _wait(self, key: str) -> None:
        if self.gated in key:
            self.waited.append(key)
            if not self.gate.wait(self.timeout):
                raise ArchiveError(f"{key}: the store did not answer before the gate opened")

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        self._wait(key)
        return self.inner.get_range(key, start=start, end=end)

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        self._wait(key)
        return self.inner.get_suffix(key, length=length)

    def get(self, key: str) -> Chunk:
        self._wait(key)
        return self.inner.get(key)

    def stat(self, key: str) -> ObjectInfo:
        self._wait(key)
        return self.inner.stat(key)

    def list(self, prefix: str) -> list[str]:
        return self.inner.list(prefix)
