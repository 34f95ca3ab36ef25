"""Several archives behind one service: which archive answers a window, chosen by its
network code.

:class:`Archives` is an ordered list of :class:`Route` values (an archive and the network
codes, or shell patterns, it serves); a network goes to the first route that serves it.
One archive alone serves every network (``Archives.one``), which is what a single
``SEISWINDOW_ARCHIVE`` builds. Configuration builds the list
(:func:`seiswindow.config.open_archives`); nothing here reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .archive import Archive
from .errors import ConfigError

__all__ = ["Archives", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    """An archive and the networks it serves (codes or shell patterns: ``CI``, ``N?``, ``*``)."""

    archive: Archive
    networks: tuple[str, ...] = ("*",)

    def serves(self, network: str) -> bool:
        """Whether this route answers windows of ``network``."""
        return any(fnmatchcase(network, pattern) for pattern in self.networks)


@dataclass(frozen=True, slots=True)
class Archives:
    """The archives of one service, in the order they are asked.

    Raises:
        ConfigError: no route is given.
    """

    routes: tuple[Route, ...]

    def __post_init__(self) -> None:
        if not self.routes:
            raise ConfigError("no archive is configured")

    @classmethod
    def one(cls, archive: Archive) -> Archives:
        """One archive that serves every network."""
        return cls((Route(archive),))

    @property
    def primary(self) -> Archive:
        """The first archive (the one a single-archive configuration names)."""
        return self.routes[0].archive

    def index_of(self, network: str) -> int | None:
        """The position of the first route that serves ``network``, or None."""
        return next((i for i, route in enumerate(self.routes) if route.serves(network)), None)

    def for_network(self, network: str) -> Archive | None:
        """The archive that answers windows of ``network``, or None when none serves it."""
        i = self.index_of(network)
        return None if i is None else self.routes[i].archive

    def describe(self) -> list[dict[str, object]]:
        """What ``/health`` lists: each archive's URL, layout, networks, and whether it
        publishes StationXML (without it, fdsnws-station lists its stations from the
        station table and its day files)."""
        return [
            {
                "url": r.archive.url,
                "layout": r.archive.layout.name,
                "networks": list(r.networks),
                "stationxml": r.archive.layout.has_station_xml,
            }
            for r in self.routes
        ]

    def __iter__(self) -> Iterator[Archive]:
        return (route.archive for route in self.routes)

    def __len__(self) -> int:
        return len(self.routes)
