"""The interface every store implements, and the :class:`Chunk` each read returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["Chunk", "Store"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes ``data`` read at ``offset`` of an object whose total size is ``size``."""

    data: bytes
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


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
