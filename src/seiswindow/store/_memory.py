"""Objects held in memory, with the ranged-read semantics of S3: the honest test seam for the
logic above the store (as httpx tests through a mock transport), and a store for small tools."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ..errors import NoSuchKey
from ._base import Chunk, ObjectInfo, Store

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

    def stat(self, key: str) -> ObjectInfo:
        """The object's size, and as its ETag the MD5 of its bytes (as S3 makes the ETag of an
        object uploaded in one part); objects in memory have no time: ``modified`` is 0."""
        data = self._object(key)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return ObjectInfo(size=len(data), etag=etag, modified=0)

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))
