"""Stores: ranged reads of objects from S3, a local directory or memory.

The whole surface is a few keyword-only calls, the same for every store:
``get_range(key, start=, end=)`` (``end`` exclusive), ``get_suffix(key, length=)``,
``get(key)``, ``stat(key)`` (size and ETag, no bytes) and ``list(prefix)``. Every read
returns a :class:`Chunk` that also tells the object's total size, so the first read of a
file needs no separate HEAD request.

- :mod:`._base`: the :class:`Store` interface and :class:`Chunk`.
- :mod:`._local`: :class:`LocalStore`, a directory laid out as the bucket is.
- :mod:`._memory`: :class:`MemoryStore`, objects in a dict (tests, small tools).
- :mod:`._s3`: :class:`S3Store`, retries with backoff inside a time budget per read.
- :mod:`._watch`: the watchdog that enforces that budget on botocore's sockets.
"""

from ._base import Chunk, ObjectInfo, Store
from ._local import LocalStore
from ._memory import MemoryStore
from ._s3 import S3Store

__all__ = ["Chunk", "LocalStore", "MemoryStore", "ObjectInfo", "S3Store", "Store"]
