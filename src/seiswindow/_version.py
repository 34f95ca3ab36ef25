"""The package's version, read from its metadata: pyproject.toml is the one place it is written.

A module of its own (not ``seiswindow/__init__``) so that the service and the front ends can
name it without importing the package's top, which imports them."""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("seiswindow")
except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"
