"""The package's version, read from its metadata: pyproject.toml is the one place it is written.

A module of its own (not ``seiswindow/__init__``) so that the service and the front ends can
name it without importing the package's top, which imports them. Read on first use, not at
import: ``importlib.metadata`` brings ``email``, ``zipfile`` and ``csv`` along, about 25 ms of
a Lambda cold start that only ``/health`` needs.
"""

from __future__ import annotations

import functools

__all__ = ["version"]


@functools.cache
def version() -> str:
    """This installation's version of seiswindow (``0+unknown`` in a tree never installed)."""
    from importlib import metadata

    try:
        return metadata.version("seiswindow")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0+unknown"
