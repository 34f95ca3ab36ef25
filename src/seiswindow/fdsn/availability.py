"""fdsnws-availability 1.0 answers: which time spans of which channels the archive holds.

Two sources, one merge:

- **the record index** (a ``tsindex`` SQLite database, :mod:`seiswindow.tsindex`): every row's
  ``timespans`` (first to last sample of each run of contiguous records, joined by libmseed
  as ``mseedindex`` joins them: within half a sample period), its rate (``timerates`` when
  the records disagree), its quality (the publication version: R 1, D 2, Q 3, M 4) and its
  ``updated`` time. Exact, to the sample.
- **the archive's listing**, for the channel-days whose day file is not indexed (or when no
  index is configured): a day file is taken to hold one span, from its first record's first
  sample to its last record's last sample (two ranged reads: the first 256 bytes and the last
  record; the rate and quality are the first record's, the update time the object's
  modification time). Such rows are marked ``listed``: gaps inside the file are not seen.

Spans are clipped to the selection's times, then grouped by channel, quality and rate (a
group across qualities or rates when ``merge`` says so), sorted and joined: a span that
starts within half a sample period of one period after the previous one's last sample is
contiguous (libmseed's tolerance) and joins it, across rows and day files; spans
separated by at most ``mergegaps`` seconds join too; overlapping spans join only with
``merge=overlap`` (a listed span joins whatever it touches). The listing needs
both times of a selection (its days are listed one by one); with an index, a selection
open in time is answered from the index alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..archive import Layout
from ..archives import Archives
from ..cache import Cache
from ..errors import ArchiveError, DataError, NoSuchKey, RequestError
from ..indexbuild import filename_of
from ..model import Nslc
from ..mseed import detect_record_length, parse_header
from ..nstime import NS_PER_S, day_start, parse_time, utc_day
from ..recordindex import format_time, parse_epoch
from ..store import Store
from ..tsindex import IndexStore
from .availrequest import AvailabilityRequest, Endpoint, OrderBy
from .catalog import ChannelCatalog
from .codes import CodePattern
from .request import Selection

__all__ = ["MAX_LISTED_DAYS", "AvailabilityService", "Datasource", "Evidence", "join_spans", "quality_of"]

#: The most UTC days of a selection answered from the listing (one listing per day).
MAX_LISTED_DAYS = 400
_NS_PER_DAY = 86_400 * NS_PER_S
_PROBE_BYTES = 256
_VERSION_QUALITY = {1: "R", 2: "D", 3: "Q", 4: "M"}
#: What a listed day file's first and last records say: quality, rate, modified, first and last sample.
_Probe = tuple[str, float, int, int, int]


def quality_of(version: int) -> str:
    """The SEED quality of a publication version, as libmseed maps miniSEED 2's (R 1, D 2,
    Q 3, M 4); a miniSEED 3 version beyond those is its number."""
    return _VERSION_QUALITY.get(version, str(version))


@dataclass(frozen=True, slots=True)
class Evidence:
    """One span of samples of a channel, first to last sample (ns), as a row of the index or
    a listed day file shows it."""

    nslc: Nslc
    quality: str
    samplerate: float
    start: int
    end: int
    updated: int
    listed: bool = False


@dataclass(frozen=True, slots=True)
class Datasource:
    """One row group of the answer: a channel, its quality and rate (None: merged across
    them), its joined ``spans`` ``(start, end, updated)`` in time order, and whether any
    of them comes from the listing (``listed``) rather than the index."""

    nslc: Nslc
    quality: str | None
    samplerate: float | None
    spans: tuple[tuple[int, int, int], ...]
    listed: bool = False

    @property
    def earliest(self) -> int:
        return self.spans[0][0]

    @property
    def latest(self) -> int:
        return max(end for _, end, _ in self.spans)

    @property
    def updated(self) -> int:
        return max(updated for _, _, updated in self.spans)


@dataclass(slots=True)
class _Open:
    """A span being joined."""

    start: int
    end: int
    updated: int
    listed: bool
    period: int = field(default=0)


def join_spans(
    evidence: Iterable[Evidence], *, overlap: bool, gaps: float | None
) -> list[tuple[int, int, int, bool]]:
    """``(start, end, updated, listed)`` of the spans of one group, joined (see the module
    docstring), in time order."""
    joined: list[_Open] = []
    extra = round((gaps or 0.0) * NS_PER_S)
    for item in sorted(evidence, key=lambda e: (e.start, e.end)):
        period = round(NS_PER_S / item.samplerate) if item.samplerate > 0 else 0
        if joined:
            last = joined[-1]
            step = max(period, last.period)
            overlaps = item.start < last.end + step // 2
            reach = max(last.end + step + step // 2, last.end + extra)
            if item.start <= reach and (overlap or not overlaps or item.listed or last.listed):
                last.end = max(last.end, item.end)
                last.updated = max(last.updated, item.updated)
                last.listed = last.listed or item.listed
                last.period = step
                continue
        joined.append(_Open(item.start, item.end, item.updated, item.listed, period))
    return [(s.start, s.end, s.updated, s.listed) for s in joined]


class AvailabilityService:
    """Answers availability requests from the record index and the archive's listing.

    Args:
        store: the archive's store (day files are probed and stat'ed when listed).
        layout: how the archive names its day files.
        catalog: the cached day listings.
        index: the record index; None: the listing alone answers.
        archives: on a service of several archives, the archives and the networks they
            serve: a channel's day files are those of its network's archive (None: ``store``).
    """

    def __init__(
        self,
        store: Store,
        layout: Layout,
        catalog: ChannelCatalog,
        index: IndexStore | None,
        *,
        archives: Archives | None = None,
    ) -> None:
        self.store = store
        self.layout = layout
        self.archives = archives
        self.catalog = catalog
        self.index = index
        self._probed: Cache[str, _Probe] = Cache(maxsize=4096, ttl=3600.0)

    def answer(self, request: AvailabilityRequest) -> list[Datasource]:
        """The rows of the answer, sorted and limited (empty: no data).

        Raises:
            RequestError: a selection answered from the listing is open in time or spans
                more than :data:`MAX_LISTED_DAYS` days, or has a network wildcard where the
                layout lists per network.
            ArchiveError: the index or the store cannot be read.
        """
        evidence: list[Evidence] = []
        for selection in request.selections:
            indexed = self._from_index(selection) if self.index is not None else []
            evidence += indexed
            evidence += self._from_listing(selection)
        if request.qualities:
            evidence = [e for e in evidence if e.quality in request.qualities]
        rows = self._group(evidence, request)
        return _limit(_order(rows, request.order), request)

    def extent(self, nslc: Nslc, start: int | None, end: int | None) -> tuple[int, int] | None:
        """The first and last sample of ``nslc`` in ``[start, end]`` (ns; None: open), as
        ``/extent`` answers it; None when there is none.

        Raises:
            RequestError: a time is open and there is no index, or the span is too long
                for the listing.
            ArchiveError: the index or the store cannot be read.
        """
        net, sta, loc, cha = ((CodePattern.parse(code),) for code in nslc)
        selection = Selection(net, sta, loc, cha, start=start, end=end)
        found = self._from_index(selection) if self.index is not None else []
        found += self._from_listing(selection)
        if not found:
            return None
        return min(e.start for e in found), max(e.end for e in found)

    def holds(self, nslc: Nslc, start: int, end: int) -> bool:
        """Whether the archive holds a sample of ``nslc`` in ``[start, end]`` (ns): from the
        index's spans, and the listed extent of day files not indexed (``matchtimeseries``
        with an index: data in the span, not merely a day file on its days).

        Raises:
            RequestError: the span is longer than :data:`MAX_LISTED_DAYS` days.
            ArchiveError: the index or the store cannot be read.
        """
        net, sta, loc, cha = ((CodePattern.parse(code),) for code in nslc)
        selection = Selection(net, sta, loc, cha, start=start, end=end)
        if self.index is not None and self._from_index(selection):
            return True
        return bool(self._from_listing(selection))

    # -- grouping -------------------------------------------------------------------------

    def _group(self, evidence: list[Evidence], request: AvailabilityRequest) -> list[Datasource]:
        groups: dict[tuple[Nslc, str | None, float | None], list[Evidence]] = defaultdict(list)
        for item in evidence:
            quality = None if request.merge_quality else item.quality
            rate = None if request.merge_samplerate else item.samplerate
            groups[(item.nslc, quality, rate)].append(item)
        rows = []
        for (nslc, quality, rate), items in groups.items():
            spans = join_spans(items, overlap=request.merge_overlap, gaps=request.merge_gaps)
            rows.append(
                Datasource(
                    nslc=nslc,
                    quality=quality,
                    samplerate=rate,
                    spans=tuple((a, b, u) for a, b, u, _ in spans),
                    listed=any(listed for *_, listed in spans),
                )
            )
        return rows

    # -- the index ------------------------------------------------------------------------

    def _from_index(self, selection: Selection) -> list[Evidence]:
        """The spans of the index's rows of the selected channels, clipped to its times.

        Raises:
            ArchiveError: the index cannot be read, or holds a row it cannot parse.
        """
        assert self.index is not None
        path = self.index.path
        found: list[Evidence] = []
        try:
            with contextlib.closing(self._connect()) as db:
                for nslc in self._indexed_channels(db, selection):
                    found += self._channel_spans(db, nslc, selection)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot read the index {path}: {exc}") from exc
        return found

    def _indexed_channels(self, db: sqlite3.Connection, selection: Selection) -> list[Nslc]:
        rows = db.execute(
            "SELECT network,station,location,channel,earliest,latest FROM tsindex_summary"
        ).fetchall()
        if not rows:  # a database mseedindex wrote has no summary: the channels from the rows
            rows = db.execute(
                "SELECT network,station,location,channel,min(starttime),max(endtime) FROM tsindex "
                "GROUP BY network,station,location,channel"
            ).fetchall()
        channels = set()
        for net, sta, loc, cha, earliest, latest in rows:
            nslc = Nslc(str(net), str(sta), str(loc), str(cha))
            # The summary's times are those of the rows: second-granular bounds suffice here.
            if selection.matches(nslc) and selection.overlaps(
                _column_time(earliest) - NS_PER_S, _column_time(latest) + NS_PER_S
            ):
                channels.add(nslc)
        return sorted(channels)

    def _channel_spans(self, db: sqlite3.Connection, nslc: Nslc, selection: Selection) -> Iterator[Evidence]:
        query = (
            "SELECT version,samplerate,starttime,endtime,timespans,timerates,updated FROM tsindex"
            " WHERE network = ? AND station = ? AND location = ? AND channel = ?"
        )
        params: list[object] = list(nslc)
        # Times compare as text (the columns' format sorts as time does, to the second).
        if selection.end is not None:
            query += " AND starttime <= ?"
            params.append(format_time(selection.end - selection.end % NS_PER_S + NS_PER_S))
        if selection.start is not None:
            query += " AND endtime >= ?"
            params.append(format_time(selection.start - selection.start % NS_PER_S))
        for version, rate, start, end, spans, rates, updated in db.execute(query, params):
            quality = quality_of(int(version))
            moment = _column_time(updated) if updated else 0
            for (a, b), span_rate in _row_spans(start, end, spans, rates, float(rate)):
                clipped = _clip(a, b, selection)
                if clipped is not None:
                    found = Evidence(nslc, quality, span_rate, clipped[0], clipped[1], moment)
                    yield found

    # -- the listing ----------------------------------------------------------------------

    def _from_listing(self, selection: Selection) -> list[Evidence]:
        """Whole-day spans of the selected channels' day files that are not indexed.

        Raises:
            RequestError: the selection is open in time (without an index) or too long.
            ArchiveError: the store cannot be listed or read.
        """
        if selection.start is None or selection.end is None:
            if self.index is not None:
                return []  # answered from the index alone (documented)
            raise RequestError(
                "starttime and endtime are needed: without a record index the day files of the span are "
                "listed one day at a time",
                field="starttime",
            )
        # A span ending at midnight asks nothing of the next day (its file starts after midnight).
        first, last = utc_day(selection.start), utc_day(max(selection.start, selection.end - 1))
        days = (last - first).days + 1
        if days > MAX_LISTED_DAYS:
            raise RequestError(
                f"{days} days: at most {MAX_LISTED_DAYS} days are answered from the archive's listing",
                field="endtime",
            )
        files: list[tuple[Nslc, str, Store, Layout, str]] = []  # channel, index name, where, key
        for k in range(days):
            day = first + dt.timedelta(days=k)
            for nslc in self._listed_channels(selection, day):
                store, layout = self._source(nslc)
                key = layout.key(nslc, day)
                files.append((nslc, filename_of(store, key), store, layout, key))
        indexed = self._indexed_files([name for _, name, *_ in files])
        found = []
        for nslc, name, store, layout, key in files:
            if name in indexed:
                continue
            probe = self._probe(store, layout, key, name)
            if probe is None:
                continue
            quality, rate, modified, first_sample, last_sample = probe
            clipped = _clip(first_sample, last_sample, selection)
            if clipped is None:
                continue
            found.append(Evidence(nslc, quality, rate, clipped[0], clipped[1], modified, listed=True))
        return found

    def _listed_channels(self, selection: Selection, day: dt.date) -> list[Nslc]:
        begin = day_start(day)
        literal = selection.literal_channels
        if literal is not None:
            return [n for n in sorted(set(literal)) if self.catalog.holds(n, begin, begin + _NS_PER_DAY - 1)]
        one_day = Selection(
            selection.network,
            selection.station,
            selection.location,
            selection.channel,
            start=begin,
            end=begin + _NS_PER_DAY - 1,
        )
        return self.catalog.channels(one_day)

    def _source(self, nslc: Nslc) -> tuple[Store, Layout]:
        """The store and layout of ``nslc``'s day files."""
        archive = self.archives.for_network(nslc.network) if self.archives is not None else None
        return (self.store, self.layout) if archive is None else (archive.store, archive.layout)

    def _indexed_files(self, names: list[str]) -> set[str]:
        """Those of the files ``names`` (as the index names them) that the index holds."""
        if self.index is None or not names:
            return set()
        found = set(self.index.identities(names))
        # Files mseedindex indexed have rows but no identity (seiswindow_object is ours).
        wanted = sorted(set(names) - found)
        try:
            with contextlib.closing(self._connect()) as db:
                for begin in range(0, len(wanted), 500):  # SQLite's bound on host parameters
                    part = wanted[begin : begin + 500]
                    marks = ",".join("?" * len(part))
                    query = f"SELECT DISTINCT filename FROM tsindex WHERE filename IN ({marks})"
                    found.update(str(name) for (name,) in db.execute(query, part))
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot read the index {self.index.path}: {exc}") from exc
        return found

    def _connect(self) -> sqlite3.Connection:
        """A read-only connection to the index, one per request (cheap): the store's own
        connection stays free for its writes."""
        assert self.index is not None
        return sqlite3.connect(f"{self.index.path.resolve().as_uri()}?mode=ro", uri=True)

    def _probe(self, store: Store, layout: Layout, key: str, name: str) -> _Probe | None:
        """``(quality, rate, modified, first sample, last sample)`` of a day file: its first
        record's header, its last record's (the file's last ``reclen`` bytes) and its
        object's modification time (cached); None when it vanished or holds no record.

        Raises:
            ArchiveError: the store cannot be read.
        """
        cached = self._probed.get(name)
        if cached is not None:
            return cached
        try:
            info = store.stat(key)
            data = store.get_range(key, start=0, end=_PROBE_BYTES).data
            reclen = detect_record_length(data) or layout.record_length
            first = parse_header(data, offset=0, reclen=reclen)
            tail = store.get_suffix(key, length=reclen)
            last = parse_header(tail.data, offset=tail.offset, reclen=reclen)
        except (NoSuchKey, DataError):
            return None
        rate = float(f"{first.sampling_rate:.6g}")
        found = (quality_of(first.version), rate, info.modified, first.start, max(first.end, last.end))
        self._probed.put(name, found)
        return found


def _row_spans(
    start: object, end: object, spans: object, rates: object, rate: float
) -> list[tuple[tuple[int, int], float]]:
    """A row's spans with their rates (its start and end when it has no ``timespans``).

    Raises:
        ArchiveError: a text of the row does not parse.
    """
    try:
        if not spans:
            return [((_column_time(start), _column_time(end)), rate)]
        pairs = [part.strip("[]").split(":") for part in str(spans).split(",")]
        each = [float(r) for r in str(rates).split(",")] if rates else [rate] * len(pairs)
        return [((parse_epoch(a), parse_epoch(b)), r) for (a, b), r in zip(pairs, each, strict=True)]
    except (ValueError, DataError) as exc:
        raise ArchiveError(f"the index holds a row it cannot read: {exc}") from None


def _column_time(text: object) -> int:
    """Nanoseconds of a time column (``YYYY-MM-DDTHH:MM:SS[.fraction]``).

    Raises:
        ArchiveError: not a time.
    """
    try:
        return parse_time(str(text), field="index")
    except RequestError:
        raise ArchiveError(f"the index holds a time it cannot read: {text!r}") from None


def _clip(start: int, end: int, selection: Selection) -> tuple[int, int] | None:
    """``[start, end]`` within the selection's times, None when outside."""
    if selection.start is not None:
        start = max(start, selection.start)
    if selection.end is not None:
        end = min(end, selection.end)
    return (start, end) if start <= end else None


def _order(rows: list[Datasource], order: OrderBy) -> list[Datasource]:
    def natural(row: Datasource) -> tuple[object, ...]:
        return (tuple(row.nslc), row.quality or "", row.samplerate or 0.0, row.earliest)

    rows = sorted(rows, key=natural)
    if order is OrderBy.LATEST_UPDATE:
        return sorted(rows, key=lambda r: r.updated)
    if order is OrderBy.LATEST_UPDATE_DESC:
        return sorted(rows, key=lambda r: -r.updated)
    if order is OrderBy.TIMESPAN_COUNT:
        return sorted(rows, key=lambda r: len(r.spans))
    if order is OrderBy.TIMESPAN_COUNT_DESC:
        return sorted(rows, key=lambda r: -len(r.spans))
    return rows


def _limit(rows: list[Datasource], request: AvailabilityRequest) -> list[Datasource]:
    """The first ``limit`` rows: datasources for an extent, spans for a query."""
    if request.limit is None:
        return rows
    if request.endpoint is Endpoint.EXTENT:
        return rows[: request.limit]
    kept, left = [], request.limit
    for row in rows:
        if left <= 0:
            break
        kept.append(Datasource(row.nslc, row.quality, row.samplerate, row.spans[:left], row.listed))
        left -= len(kept[-1].spans)
    return kept
