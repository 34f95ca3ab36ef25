"""A directory laid out as the bucket is."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ArchiveError, ConfigError, NoSuchKey
from ._base import Chunk, ObjectInfo, Store

__all__ = ["LocalStore"]


class LocalStore(Store):
    """A directory laid out as the bucket is; keys are paths below ``root``.

    Keys never leave ``root``: absolute keys, ``..`` components and symlinks pointing
    outside are refused as missing objects.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"archive directory {str(root)!r} does not exist")
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
            raise NoSuchKey(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise NoSuchKey(key)
        return path

    def _read(self, key: str, start: int | None, length: int | None) -> Chunk:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if start is None:  # suffix read
                    start = max(0, size - (length or 0))
                start = min(max(start, 0), size)
                count = size - start if length is None else max(0, min(length, size - start))
                return Chunk(os.pread(fh.fileno(), count, start), start, size)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NoSuchKey(key) from None
        except OSError as exc:
            raise ArchiveError(f"cannot read {key}: {exc}") from exc

    def get_range(self, key: str, *, start: int, end: int) -> Chunk:
        return self._read(key, start, max(0, end - start))

    def get_suffix(self, key: str, *, length: int) -> Chunk:
        return self._read(key, None, length)

    def get(self, key: str) -> Chunk:
        return self._read(key, 0, None)

    def stat(self, key: str) -> ObjectInfo:
        """The file's size, and as its ETag its modification time and size (as web servers
        make ETags of static files): a rewritten file gets a new one."""
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchKey(key) from None
        except OSError as exc:
            raise ArchiveError(f"cannot stat {key}: {exc}") from exc
        if not path.is_file():
            raise NoSuchKey(key)
        return ObjectInfo(size=st.st_size, etag=f"{st.st_mtime_ns:x}-{st.st_size:x}", modified=st.st_mtime_ns)

    def list(self, prefix: str) -> list[str]:
        directory = prefix.rpartition("/")[0]
        try:
            base = self._path(directory) if directory else self.root
        except NoSuchKey:
            return []
        if not base.is_dir():
            return []
        keys = []
        for entry in base.rglob("*"):
            if entry.is_file():
                key = entry.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def holds(self, prefix: str) -> bool:
        directory = prefix.rpartition("/")[0]
        try:
            base = self._path(directory) if directory else self.root
        except NoSuchKey:
            return False
        if not base.is_dir():
            return False
        for entry in base.rglob("*"):
            if entry.is_file() and entry.relative_to(self.root).as_posix().startswith(prefix):
                return True
        return False
