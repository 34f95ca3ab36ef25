"""The offline demo for people: where its archive is cached, and ``python -m
seiswindow.demo`` to build it.

The archive itself is built by :mod:`seiswindow.demo_archive` under a root it is given,
from samples of :mod:`seiswindow.synth`; this module only picks the default root, from
the environment it is handed (so the front-end decides where configuration comes from),
and re-exports both modules' names as before.

Example:
    >>> from seiswindow.demo import default_demo_root
    >>> default_demo_root({"XDG_CACHE_HOME": "/var/cache"}).as_posix()
    '/var/cache/seiswindow/demo'
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .demo_archive import (
    DEMO_CHANNELS,
    DEMO_DAYS,
    DEMO_FORMAT_VERSION,
    DEMO_GAPS,
    DEMO_LOCATION,
    DEMO_NETWORK,
    DEMO_STATION,
    DemoChannel,
    build_demo_archive,
    write_day_file,
)
from .synth import SignalModel

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_DAYS",
    "DEMO_FORMAT_VERSION",
    "DEMO_GAPS",
    "DEMO_LOCATION",
    "DEMO_NETWORK",
    "DEMO_STATION",
    "DemoChannel",
    "SignalModel",
    "build_demo_archive",
    "default_demo_root",
    "main",
    "write_day_file",
]


def default_demo_root(env: Mapping[str, str] = os.environ) -> Path:
    """Where the demo archive is cached: ``$XDG_CACHE_HOME/seiswindow/demo``.

    Falls back to ``$HOME/.cache/seiswindow/demo``. The environment is passed in so
    the caller decides where configuration comes from; per the XDG base directory
    specification a relative ``XDG_CACHE_HOME`` is ignored.
    """
    cache = env.get("XDG_CACHE_HOME", "")
    if cache and os.path.isabs(cache):
        return Path(cache) / "seiswindow" / "demo"
    home = env.get("HOME", "")
    return (Path(home) if home else Path.home()) / ".cache" / "seiswindow" / "demo"


# ---------------------------------------------------------------------------- cli


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m seiswindow.demo [ROOT] [--force]``: build the archive, list it."""
    parser = argparse.ArgumentParser(
        prog="python -m seiswindow.demo",
        description="Build the seiswindow offline demo archive (SCEDC bucket layout).",
    )
    parser.add_argument(
        "root",
        nargs="?",
        type=Path,
        help="archive root (default: %(default)s)",
        default=default_demo_root(),
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    paths = build_demo_archive(args.root, force=args.force)
    elapsed = time.perf_counter() - started
    for path in paths:
        print(f"{path.stat().st_size:>10,d}  {path}")
    print(f"demo archive at {args.root} ({len(paths)} files, {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
