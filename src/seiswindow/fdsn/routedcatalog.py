"""The channel catalog of a service on several archives: each channel is answered by the
archive that serves its network (:class:`~seiswindow.archives.Archives`), listed through
that archive's own :class:`~seiswindow.fdsn.catalog.ChannelCatalog`.

Dataselect, ``matchtimeseries`` and the day-file station entries use it as they use one
archive's catalog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..archives import Archives
from ..model import Nslc
from .catalog import ChannelCatalog
from .request import Selection

__all__ = ["RoutedCatalog"]


class RoutedCatalog(ChannelCatalog):
    """A :class:`ChannelCatalog` over several archives, each asked only about the networks
    it serves (its listings cached by its own catalog).

    Args:
        archives: the archives and the networks they serve.
        catalog: builds one archive's catalog (default: :class:`ChannelCatalog`).
    """

    def __init__(
        self, archives: Archives, *, catalog: Callable[..., ChannelCatalog] = ChannelCatalog
    ) -> None:
        primary = archives.primary
        super().__init__(primary.store, primary.layout)
        self.archives = archives
        self.catalogs = [catalog(archive.store, archive.layout) for archive in archives]

    def channels(self, selection: Selection) -> list[Nslc]:
        """The channels ``selection`` names (see :meth:`ChannelCatalog.channels`), each
        from the archive that serves its network.

        Raises:
            RequestError: wildcards in the network code and an archive whose layout lists
                one network at a time (NCEDC, EarthScope) may serve it.
            ArchiveError: a store could not be listed.
        """
        found: set[Nslc] = set()
        for i, catalog in enumerate(self.catalogs):
            route = self.archives.routes[i]
            if not any(not p.is_literal or route.serves(p.text) for p in selection.network):
                continue
            found.update(n for n in catalog.channels(selection) if self.archives.index_of(n.network) == i)
        return sorted(found)

    def holds(self, nslc: Nslc, start: int, end: int) -> bool:
        """Whether the archive serving ``nslc``'s network has a day file of it in the span."""
        i = self.archives.index_of(nslc.network)
        return i is not None and self.catalogs[i].holds(nslc, start, end)

    def day_channels(self, day: dt.date, network: str | None) -> tuple[Nslc, ...]:
        """The channels with a day file on ``day`` (of ``network``; None: every network)
        in the archives that serve them, sorted."""
        found: set[Nslc] = set()
        for i, catalog in enumerate(self.catalogs):
            if network is not None and not self.archives.routes[i].serves(network):
                continue
            found.update(
                n for n in catalog.day_channels(day, network) if self.archives.index_of(n.network) == i
            )
        return tuple(sorted(found))
