"""Which channels the archive holds on a day: wildcards resolved against listings.

A selection with wildcards (``CI.*..BH?``) is resolved by listing the day prefixes the
layout names (``layout.day_prefix(day, network)``; S3 ListObjectsV2 with pagination) and
parsing each key back into codes (``layout.parse_key``). Listings are cached per prefix:
a past day's listing is stable, today's grows, so the two expire at different ages.
Selections without wildcards need no listing: their day files are read directly, and a
missing file is simply no data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections.abc import Callable, Iterable

from ..archive import Layout
from ..cache import Cache
from ..errors import ConfigError, RequestError
from ..model import Nslc
from ..nstime import utc_day
from ..store import Store
from .request import Selection

__all__ = ["ChannelCatalog", "span_days"]


class ChannelCatalog:
    """Resolves selections into the channels an archive holds in their time span.

    Args:
        store: the archive's store.
        layout: how the archive names its day files.
        capacity: listings kept (one per day prefix).
        ttl_past: seconds a listing of a day before yesterday is kept.
        ttl_recent: seconds a listing of yesterday, today or later is kept (files still arrive).
        clock: seconds since the epoch, for "today" (tests may pass their own).
    """

    def __init__(
        self,
        store: Store,
        layout: Layout,
        *,
        capacity: int = 256,
        ttl_past: float = 3600.0,
        ttl_recent: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.layout = layout
        self.capacity = capacity
        self.ttl_past = ttl_past
        self.ttl_recent = ttl_recent
        self._clock = clock
        self._listings: Cache[str, tuple[Nslc, ...]] = Cache(maxsize=capacity, ttl=ttl_past, timer=clock)

    def channels(self, selection: Selection) -> list[Nslc]:
        """The channels ``selection`` names, sorted; with wildcards, those the archive
        holds on the days of the selection's time span.

        Raises:
            RequestError: the selection has wildcards in the network code and the layout
                can only list day files of one network at a time.
            ArchiveError: the store could not be listed.
        """
        literal = selection.literal_channels
        if literal is not None:
            return sorted(set(literal))
        if selection.start is None or selection.end is None:
            raise ValueError("a dataselect selection has a start and an end")
        found: set[Nslc] = set()
        for day in _days(selection.start, selection.end):
            for nslc in self._day_channels(day, selection):
                if selection.matches(nslc):
                    found.add(nslc)
        return sorted(found)

    def holds(self, nslc: Nslc, start: int, end: int) -> bool:
        """Whether the archive has a day file of ``nslc`` on a UTC day of ``[start, end]``
        (``matchtimeseries``: metadata of channels with data in the span).

        One listing per day of the span, of the channel's network where the layout lists
        per network; cached as :meth:`channels`' listings are.

        Raises:
            ArchiveError: the store could not be listed.
        """
        for day in _days(start, end):
            listing = self._listing(self._prefix(day, nslc.network), day)
            at = bisect.bisect_left(listing, nslc)
            if at < len(listing) and listing[at] == nslc:
                return True
        return False

    def day_channels(self, day: dt.date, network: str | None) -> tuple[Nslc, ...]:
        """The channels with a day file on ``day`` (of ``network``; None: every network),
        sorted; one cached listing.

        Raises:
            ConfigError: ``network`` is None and the layout lists per network.
            ArchiveError: the store could not be listed.
        """
        return self._listing(self._prefix(day, network), day)

    def _day_channels(self, day: dt.date, selection: Selection) -> Iterable[Nslc]:
        networks = selection.network
        if all(p.is_literal for p in networks):
            prefixes = [self._prefix(day, p.text) for p in networks]
        else:
            try:
                prefixes = [self._prefix(day, None)]
            except ConfigError:
                raise RequestError(
                    "this archive lists its day files per network: give network codes without "
                    "wildcards (e.g. network=BK)",
                    field="network",
                ) from None
        for prefix in prefixes:
            yield from self._listing(prefix, day)

    def _prefix(self, day: dt.date, network: str | None) -> str:
        return self.layout.day_prefix(day, network)

    def _listing(self, prefix: str, day: dt.date) -> tuple[Nslc, ...]:
        """The channels of the day files under ``prefix`` (cached).

        Raises:
            ArchiveError: the store could not be listed.
        """
        # Keyed by day too: a prefix may hold several days (SDS lists a year per network).
        entry = f"{prefix}|{day.isoformat()}"
        cached = self._listings.get(entry)
        if cached is not None:
            return cached
        now = self._clock()
        channels = []
        for key in self.store.list(prefix):
            parsed = self.layout.parse_key(key)
            if parsed is not None and parsed[1] == day:
                channels.append(parsed[0])
        listing = tuple(sorted(set(channels)))
        # Its age is decided when listed: a day listed while recent stays recent-lived.
        self._listings.put(entry, listing, ttl=self._ttl(day, now))
        return listing

    def _ttl(self, day: dt.date, now: float) -> float:
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        return self.ttl_past if day < today - dt.timedelta(days=1) else self.ttl_recent


def span_days(start: int, end: int) -> int:
    """How many UTC days ``[start, end]`` touches (the listings :meth:`ChannelCatalog.holds` reads)."""
    return (utc_day(end) - utc_day(start)).days + 1


def _days(start: int, end: int) -> list[dt.date]:
    """The UTC days from the one holding ``start`` to the one holding ``end``."""
    first, last = utc_day(start), utc_day(end)
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
