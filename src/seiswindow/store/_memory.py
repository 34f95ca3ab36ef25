"""Objects held in memory, with the ranged-read semantics of S3: the honest test seam for the
logic above the store (as httpx tests through a mock transport), and a store for small tools."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import NoSuchKey
from ._base import Chunk, Store

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Objects held in a dict by key; reads are clipped to the object's size, as S3 does."""

    def __init__(self, objects: Mapping[str, bytes] | None = None) -> None:
        self.objects: dict[str, bytes] = dict(objects or {})
        self.url = "memory://"

    def _object(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise NoSuchKey(key) from None

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        data = self._object(key)
        start = min(max(start, 0), len(data))
        return Chunk(data[start : max(start, min(end, len(data)))], start, len(data))

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        data = self._object(key)
        start = max(0, len(data) - length)
        return Chunk(data[start:], start, len(data))

    def get(self, key: str) -> Chunk:
        data = self._object(key)
        return Chunk(data, 0, len(data))

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))
