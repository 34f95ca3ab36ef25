"""seiswindow: cut time windows of seismic waveforms out of cloud seismic archives.

>>> import seiswindow
>>> results = seiswindow.extract(  # doctest: +SKIP
...     ["CI.WBM..LHZ 2022-01-01T23:55:00 2022-01-02T00:05:00"], archive="s3://scedc-pds"
... )

Layers, bottom-up (each imports only those below it; docs/architecture.md and
tests/test_layers.py): :mod:`~seiswindow.model` (windows, results, errors) →
:mod:`~seiswindow.archive` (layouts, the Archive value) → :mod:`~seiswindow.store` (ranged
reads) → :mod:`~seiswindow.mseed` (libmseed) → :mod:`~seiswindow.locate` (find a window's
records) → :mod:`~seiswindow.extract` and :mod:`~seiswindow.trim` (fetch, decode, trim on
ObsPy's grid) → :mod:`~seiswindow.encode` → :mod:`~seiswindow.service` → front ends.
"""

from ._api import render, to_stream
from ._version import version as _version
from .archive import Archive
from .config import Settings, open_archive
from .errors import (
    ArchiveError,
    ConfigError,
    DataError,
    LimitExceeded,
    NoResponse,
    NoSuchKey,
    RequestError,
    SeisWindowError,
)
from .extract import Extractor
from .model import FetchStats, Gap, Limits, Segment, Status, Window, WindowResult, parse_windows

__all__ = [
    "Archive",
    "ArchiveError",
    "ConfigError",
    "DataError",
    "Extractor",
    "FetchStats",
    "Gap",
    "LimitExceeded",
    "Limits",
    "NoResponse",
    "NoSuchKey",
    "RequestError",
    "SeisWindowError",
    "Segment",
    "Settings",
    "Status",
    "Window",
    "WindowResult",
    "__version__",
    "extract",
    "open_archive",
    "parse_windows",
    "render",
    "to_stream",
]


def __getattr__(name: str) -> str:
    # ``seiswindow.__version__`` is read from the package metadata on first use (see _version).
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'seiswindow' has no attribute {name!r}")


# Bound last: importing the submodule `seiswindow.extract` (for `Extractor`, above) binds its
# name on the package; the public `seiswindow.extract` is the function.
from ._api import extract  # noqa: E402
