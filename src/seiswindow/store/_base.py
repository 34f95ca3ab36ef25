"""The interface every store implements, and the :class:`Chunk` each read returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["Chunk", "ObjectInfo", "Store"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes ``data`` read at ``offset`` of an object whose total size is ``size``."""

    data: bytes
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What identifies one version of an object: its ``size`` in bytes, its ``etag`` (an
    opaque text that changes when the object does: S3's ETag without its quotes, a
    directory's modification time and size) and when it was last ``modified`` (ns since
    the epoch). An index of a file is valid while both its size and ETag are unchanged.
    ``version_id``: S3's VersionId of the object in a versioned bucket (None elsewhere)."""

    size: int
    etag: str
    modified: int
    version_id: str | None = None


class Store(ABC):
    """Read-only access to the objects of one archive."""

    url: str

    @abstractmethod
    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        """Bytes ``[start, end)`` of ``key``, clipped to the object's size.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def get_suffix(self, key: str, *, length: int) -> Chunk:
        """The last ``length`` bytes of ``key`` (all of it when it is shorter).

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def get(self, key: str) -> Chunk:
        """The whole object.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """The identity of ``key`` (size, ETag, modification time), without its bytes.

        Raises:
            NoSuchKey: the object does not exist.
            ArchiveError: the store could not be read within the retry budget.
        """

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix``, sorted.

        Raises:
            ArchiveError: the store could not be listed.
        """

    def holds(self, prefix: str) -> bool:
        """Whether any object's key starts with ``prefix`` (a cheap check that an archive
        is where the configuration says; stores override it to stop at the first key).

        Raises:
            ArchiveError: the store could not be listed.
        """
        return bool(self.list(prefix))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
