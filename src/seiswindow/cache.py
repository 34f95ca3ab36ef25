"""The one cache of the package: a bounded, thread-safe map whose entries expire.

Used for what a warm process remembers between requests: what is known of a day file
(:mod:`seiswindow.fileindex`), archive listings (:mod:`seiswindow.fdsn.catalog`) and
parsed StationXML files (:mod:`seiswindow.fdsn.station`). It is cachetools'
``TLRUCache`` behind a lock: each entry lives ``ttl`` seconds from when it was put (the
cache's ``ttl``, or its own), and past ``maxsize`` entries the least recently used go
first. cachetools' caches are not thread-safe by themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TLRUCache

__all__ = ["Cache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _expiry(_key: object, entry: tuple[object, float], now: float) -> float:
    return now + entry[1]


class Cache(Generic[K, V]):
    """At most ``maxsize`` entries, each kept ``ttl`` seconds (thread-safe).

    Args:
        maxsize: the most entries kept; past it, the least recently used go.
        ttl: seconds an entry is kept, unless :meth:`put` gives its own.
        timer: the clock entries age by (monotonic seconds; tests may pass their own).
    """

    def __init__(self, *, maxsize: int, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self.ttl = ttl
        # Values are stored with their ttl, which the cache's time-to-use function reads.
        self._entries: TLRUCache[K, tuple[V, float]] = TLRUCache(maxsize, _expiry, timer=timer)
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value put under ``key``, or None when there is none or it has expired."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V, *, ttl: float | None = None) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (default: the cache's ttl)."""
        with self._lock:
            self._entries[key] = (value, self.ttl if ttl is None else ttl)

    def drop(self, key: K) -> None:
        """Forget ``key`` (nothing happens when it is not there)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The number of entries not yet expired."""
        with self._lock:
            self._entries.expire()
            return len(self._entries)
