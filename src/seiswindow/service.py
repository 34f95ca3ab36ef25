"""The service's logic, shared by every front door (HTTP app, Lambda handler, local invoke).

A front door turns what it received into body bytes and query parameters, decides what
the headers ask for (:mod:`seiswindow.negotiate`: the default format, gzip), calls
:meth:`Service.timewindows` (or :meth:`Service.health`) with those values and its
:class:`Transport`, and sends the :class:`Response` back the way its transport wants.
Nothing here knows a web framework or reads a header.

What a request may say, besides the tutorial's ``{"Windows": [...]}``:

- the format (:mod:`seiswindow.options`): ``?format=miniseed`` (or ``mseed``),
  ``"Format": "miniseed"`` in the body, or the format the front-end negotiated
  (``Accept: application/vnd.fdsn.mseed``);
  default JSON. A miniSEED answer is the records of every window in order
  (``X-Window-Status`` lists each window's status), or 204 when no window has a sample,
  as FDSN dataselect answers; ``manifest``: where each window's records lie in the
  archive, for workers that fetch them (:mod:`seiswindow.manifest`);
- ``?segments=true`` or ``"Segments": true``: one object per contiguous segment
  instead of ``null`` at missing samples (see :mod:`seiswindow.encode`);
- IRIS's timeseries formats (``?format=sac``, ``sac.zip``, ``saca``, ``geocsv``, ``tspair``,
  ``plot``, ``audio``...; :mod:`seiswindow.formats`): the answer is that file, gathered whole;
- IRIS's processing steps, in order: in the query (``?demean=true&bp=0.1-1``) or the body
  (``"Process": ["demean", "bp=0.1-1"]``), the query's replacing the body's
  (:mod:`seiswindow.process`); a window that cannot be processed (no instrument response)
  has status ``error``, the others are answered;
- gzip (the front-end read ``Accept-Encoding: gzip``): bodies of 1 KiB or more are
  gzipped, where the transport can carry them.

The status is decided before any byte is sent: 400 for a malformed request (the JSON
body names the window index and field), 413 when the answer would be over
``Limits.max_response_bytes`` as it travels (with advice), 500 with only a request id
for anything unexpected (logged with that id and the stack trace).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from ._version import version
from .encode import STREAM_AFTER_BYTES, Body, OutputFormat, mseed_records, window_json
from .encode._body import InOrder
from .errors import DataError, RequestError, http_status
from .extract import Extractor
from .formats import Format
from .manifest import Manifester, manifest_document
from .model import Limits, Status, Window, WindowResult, parse_windows
from .options import Options, advice, parse_options
from .timeseries import Timeseries, require_extra

__all__ = [
    "HTTP",
    "WHOLE",
    "Options",
    "Prepared",
    "Response",
    "Service",
    "Transport",
    "new_request_id",
    "parse_options",
]

log = logging.getLogger(__name__)

#: Windows of an answer sent while it is made are read in order, no more at once than this
#: many samples as estimated from their band codes (and always one): decoded samples and
#: encoded windows waiting for an earlier one stay bounded (a few hundred MB of JSON at most)
#: however many windows the answer holds. An answer gathered whole reads every window at once.
SAMPLES_AHEAD = 8_000_000
#: Encoded windows that wait for an earlier, slower one may take this many times the
#: response limit before the request is refused (gzip rarely shrinks JSON samples 16x).
_PENDING_FACTOR = 16


@dataclass(frozen=True, slots=True)
class Response:
    """What to answer: status, headers and body bytes.

    ``base64`` says that the body is not text (gzipped or binary), as its
    :class:`Transport`'s body weighed it: a transport that carries text only (a Lambda
    proxy answer) must encode it.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    base64: bool = False
    #: The body in pieces, sent while it is made (then ``body`` is empty): only on a
    #: transport that streams, for an answer that outgrew :data:`STREAM_AFTER_BYTES`.
    chunks: Iterator[bytes] | None = None

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "application/json")

    def whole(self) -> bytes:
        """The whole body: ``body``, or every piece of ``chunks`` (read once)."""
        return self.body if self.chunks is None else b"".join(self.chunks)


@dataclass(frozen=True, slots=True)
class Transport:
    """How an answer travels, as the front-end that sends it says.

    Attributes:
        name: for logs and reprs (``http``, ``lambda-proxy``, ``lambda-direct``).
        body_type: the :class:`~seiswindow.encode.Body` that weighs the answer as it will
            travel (a Lambda proxy answer escapes or base64-encodes it, for instance).
        binary: the transport carries miniSEED and gzipped bodies; a direct Lambda
            invocation carries JSON only.
        max_bytes: the largest answer the transport carries, whatever the limits say (a
            Lambda answer: 6 MB less its envelope); None when only the limits bound it.
        streams: the answer may be sent while it is made (:attr:`Response.chunks`).
    """

    name: str
    body_type: type[Body] = Body
    binary: bool = True
    max_bytes: int | None = None
    streams: bool = False

    def limit(self, limits: Limits) -> int:
        """The largest answer on this transport under ``limits``."""
        if self.max_bytes is None:
            return limits.max_response_bytes
        return min(limits.max_response_bytes, self.max_bytes)


#: Bytes as they are, over HTTP: a large answer is streamed.
HTTP = Transport("http", streams=True)
#: Bytes as they are, answered whole (for a caller that keeps the answer, as a results bucket).
WHOLE = Transport("whole")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request for windows, parsed and checked, ready to be answered."""

    windows: list[Window]
    options: Options
    transport: Transport
    gzip: bool
    request_id: str


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a front-end passed along with a request's body."""

    query: Mapping[str, str]
    default_format: OutputFormat
    gzip: bool
    transport: Transport


_T = TypeVar("_T")


def new_request_id() -> str:
    """A fresh id to quote in logs and error answers."""
    return uuid.uuid4().hex


def _parse_body(body: bytes) -> Any:
    # A UTF-8 byte order mark (editors on Windows write one) is not JSON, but the Lambda
    # runtime's json.loads skips it: every door accepts it alike.
    body = body.removeprefix(b"\xef\xbb\xbf")
    if not body.strip():
        raise RequestError('the body is empty; send {"Windows": [...]}', field="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not valid JSON: {exc}", field="body") from None


class Service:
    """Answers requests for windows from one :class:`~seiswindow.extract.Extractor`.

    Args:
        extractor: what reads the archive; its ``limits`` are the service's.
        owns_extractor: close the extractor when the service is closed.
        stream_after: an answer larger than this is streamed where it may be (see
            :data:`~seiswindow.encode.STREAM_AFTER_BYTES`).
    """

    def __init__(
        self, extractor: Extractor, *, owns_extractor: bool = False, stream_after: int = STREAM_AFTER_BYTES
    ) -> None:
        self.extractor = extractor
        self._owns = owns_extractor
        self.stream_after = stream_after
        self._timeseries: Timeseries | None = None

    @property
    def timeseries(self) -> Timeseries:
        """Processing and the other formats, on the same extractor (made when first asked)."""
        if self._timeseries is None:
            self._timeseries = Timeseries(self.extractor)
        return self._timeseries

    def close(self) -> None:
        if self._owns:
            self.extractor.close()

    @property
    def max_body_bytes(self) -> int:
        """The largest request body read, on every route of the HTTP app: the windows
        allowed, 2 KiB each (an FDSN bulk request or a proxy event fits too)."""
        return 64 * 1024 + 2048 * self.extractor.limits.max_windows

    @property
    def limits(self) -> dict[str, Any]:
        lim = self.extractor.limits
        return {
            "max_windows": lim.max_windows,
            "max_samples": lim.max_samples,
            # None: no bound in time (requests are bounded by their samples)
            "max_window_seconds": lim.max_window_seconds if math.isfinite(lim.max_window_seconds) else None,
            "max_response_bytes": lim.max_response_bytes,
            "max_body_bytes": self.max_body_bytes,
        }

    # -- answers ----------------------------------------------------------------------

    def timewindows(
        self,
        body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        default_format: OutputFormat = OutputFormat.JSON,
        gzip: bool = False,
        transport: Transport = WHOLE,
        request_id: str | None = None,
    ) -> Response:
        """Answer a request for windows (the tutorial's body); the options as for
        :meth:`prepare`.

        Never raises for a bad request: every failure is a :class:`Response` (4xx with
        a message, 413 with advice, 500 with only the request id).
        """
        prepared = self.prepare(
            body,
            query=query,
            default_format=default_format,
            gzip=gzip,
            transport=transport,
            request_id=request_id,
        )
        return prepared if isinstance(prepared, Response) else self.answer(prepared)

    def prepare(
        self,
        body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        default_format: OutputFormat = OutputFormat.JSON,
        gzip: bool = False,
        transport: Transport = WHOLE,
        request_id: str | None = None,
    ) -> Prepared | Response:
        """Parse and check a request for windows, without touching the archive: cheap, so
        an HTTP server can answer a bad request at once instead of queueing it behind
        extractions. A :class:`Response` is the answer to a bad request.

        Args:
            body: the request's body (the tutorial's JSON).
            query: options beside the body (an HTTP query string), winning over its keys.
            default_format: the format when neither names one (negotiated from ``Accept``).
            gzip: the client accepts gzip (read from ``Accept-Encoding``).
            transport: how the answer travels (default: whole in `body`; the HTTP front
                end passes :data:`HTTP`, which streams a large answer in `chunks`).
            request_id: the id to quote; default a fresh one.
        """
        rid = request_id or new_request_id()
        asked = _Asked(query or {}, default_format, gzip, transport)
        return self._guarded(rid, lambda: self._prepare(body, asked, rid))

    def answer(self, prepared: Prepared) -> Response:
        """Extract and encode the windows of a prepared request (never raises)."""
        return self._guarded(prepared.request_id, lambda: self._answer(prepared))

    def _guarded(self, rid: str, step: Callable[[], _T]) -> _T | Response:
        try:
            return step()
        except Exception as exc:
            # The outermost boundary: the stack trace goes to the log, only the id to the client.
            return self.failure(exc, request_id=rid)

    def health(self, *, request_id: str | None = None) -> Response:
        """The service's state: version, archive and limits (no archive access)."""
        archive = self.extractor.archive
        doc = {
            "status": "ok",
            "version": version(),
            "archive": {"url": archive.url, "layout": archive.layout.name},
            "archives": self.extractor.archives.describe(),
            "limits": self.limits,
        }
        return self._json(200, doc, request_id or new_request_id())

    def limits_response(self, *, request_id: str | None = None) -> Response:
        """The limits a request must respect."""
        return self._json(200, self.limits, request_id or new_request_id())

    def error(
        self,
        status: int,
        message: str,
        *,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        field: str | None = None,
        index: int | None = None,
    ) -> Response:
        """A JSON error answer: ``{"status", "error", "field", "index", "request_id"}``."""
        rid = request_id or new_request_id()
        doc = {"status": status, "error": message, "field": field, "index": index, "request_id": rid}
        return self._json(status, doc, rid, headers)

    # -- steps ------------------------------------------------------------------------

    def _prepare(self, body: bytes, asked: _Asked, rid: str) -> Prepared:
        document = _parse_body(body)
        options = parse_options(document, asked.query, default_format=asked.default_format)
        windows = parse_windows(document, max_windows=self.extractor.limits.max_windows)
        self.extractor.limits.check(windows)
        if (options.format is OutputFormat.MINISEED or options.file) and not asked.transport.binary:
            raise RequestError(
                "a direct invocation returns JSON only; ask the HTTP API for miniSEED", field="Format"
            )
        if options.chain or options.file:  # 501 before anything is read, if the extra is missing
            require_extra(options.file)
        return Prepared(windows, options, asked.transport, asked.gzip, rid)

    def _answer_file(self, prepared: Prepared, fmt: Format) -> Response:
        """The windows, processed, as one file (or a zip) in ``fmt``; 204 when no window has
        a sample. A window that cannot be processed (no response) is left out, its status
        ``error`` in ``X-Window-Status``. Gathered whole: the size is known before sending."""
        timeseries, chain = self.timeseries, prepared.options.chain
        results = [
            timeseries.process(r, chain, strict=False) for r in self.extractor.extract(prepared.windows)
        ]
        product = timeseries.render(results, fmt, chain=chain)
        headers = {
            "X-Request-Id": prepared.request_id,
            "X-Window-Status": ",".join(str(s) for s in product.statuses),
        }
        if product.rendered is None:
            return Response(204, headers, b"")
        out = prepared.transport.body_type(
            limit=prepared.transport.limit(self.extractor.limits),
            binary=True,
            advice="ask for fewer or shorter windows, or decimate them",
        )
        out.write(product.rendered.body)  # LimitExceeded (413) when it is too large as it travels
        body = out.finish()
        headers["Content-Type"] = product.rendered.media_type
        headers["Content-Disposition"] = f'attachment; filename="{product.rendered.filename}"'
        return Response(200, headers, body, base64=out.base64)

    def _answer(self, prepared: Prepared) -> Response:
        options, transport, rid = prepared.options, prepared.transport, prepared.request_id
        if options.format is OutputFormat.MANIFEST:
            return self._manifest(prepared)
        if options.file is not None:
            return self._answer_file(prepared, options.file)
        miniseed = options.format is OutputFormat.MINISEED
        out = transport.body_type(
            limit=transport.limit(self.extractor.limits),
            gzip=prepared.gzip,
            binary=miniseed,
            advice=advice(options, gzip=prepared.gzip, binary=transport.binary),
        )
        statuses: list[Status] = [Status.NODATA] * len(prepared.windows)
        # Gathered, with an exact 413, where the bound does not hold: processed samples are
        # floats whose printed size it does not cover, and one object per segment repeats a
        # window's keys as many times as the data has gaps.
        streams = (
            transport.streams
            and not options.chain
            and not options.segments
            and options.format.most_bytes(prepared.windows) <= out.limit
        )
        steps = self._write(prepared, out, statuses, samples_ahead=SAMPLES_AHEAD if streams else None)
        headers = {
            "Content-Type": options.format.media_type,
            "Vary": "Accept, Accept-Encoding",
            "X-Request-Id": rid,
        }
        sent: list[bytes] = []
        if streams:
            # Its status cannot change any more: the answer may go while it is made.
            size = 0
            for _ in steps:
                sent.append(out.drain())
                size += len(sent[-1])
                if size >= self.stream_after:
                    if out.gzipped:
                        headers["Content-Encoding"] = "gzip"
                    return Response(200, headers, b"", chunks=_rest(sent, steps, out, rid))
        else:
            for _ in steps:
                pass
        payload = b"".join([*sent, out.finish()])
        if out.gzipped:
            headers["Content-Encoding"] = "gzip"
        if miniseed:
            headers["X-Window-Status"] = ",".join(str(s) for s in statuses)
            if not payload:
                return Response(204, headers, b"")
        return Response(200, headers, payload, base64=out.base64)

    def _manifest(self, prepared: Prepared) -> Response:
        """Where each window's records lie (no sample decoded), as one JSON document."""
        submitted, transport, rid = time.time_ns(), prepared.transport, prepared.request_id
        manifests = Manifester(self.extractor).manifests(prepared.windows)
        doc = manifest_document(
            manifests,
            archive=self.extractor.archive,
            request_time=submitted,
            archives=self.extractor.archives,
        )
        out = transport.body_type(
            limit=transport.limit(self.extractor.limits),
            gzip=prepared.gzip,
            binary=False,
            advice="ask for fewer windows",
        )
        out.write(orjson.dumps(doc))
        payload = out.finish()
        headers = {"Content-Type": "application/json", "Vary": "Accept, Accept-Encoding", "X-Request-Id": rid}
        if out.gzipped:
            headers["Content-Encoding"] = "gzip"
        return Response(200, headers, payload, base64=out.base64)

    def _write(
        self, prepared: Prepared, out: Body, statuses: list[Status], *, samples_ahead: int | None
    ) -> Iterator[None]:
        """Extract, encode each window as it completes (its samples are dropped then) and
        write it into ``out`` in request order; yields after each window. Stops (raising)
        as soon as the answer is known to be too large. ``samples_ahead`` bounds the windows
        read at once (see :meth:`~seiswindow.extract.Extractor.iter_extract`)."""
        miniseed = prepared.options.format is OutputFormat.MINISEED
        segments = prepared.options.segments
        chain = prepared.options.chain

        def encode(result: WindowResult) -> tuple[bytes, Status]:
            try:
                if chain:  # a window that cannot be processed fails alone, like bad samples
                    result = self.timeseries.process(result, chain, strict=False)
                if miniseed:
                    return b"".join(mseed_records(result)), result.status
                return window_json(result, segments=segments), result.status
            except (DataError, RequestError) as exc:  # that window fails alone
                failed = dataclasses.replace(
                    result, status=Status.ERROR, segments=(), gaps=(), span=None, message=str(exc)
                )
                return (b"" if miniseed else window_json(failed)), Status.ERROR

        if not miniseed:
            out.write(b"[")
        writer = InOrder(out, b"" if miniseed else b",", pending_factor=_PENDING_FACTOR)
        results = self.extractor.iter_extract(prepared.windows, samples_ahead=samples_ahead)
        try:
            for index, result in results:
                piece, statuses[index] = encode(result)
                writer.add(index, piece)
                yield
        finally:
            # A generator left early (413, a client gone) stops here rather than when collected.
            close = getattr(results, "close", None)
            if close is not None:
                close()
        if not miniseed:
            out.write(b"]")

    def failure(
        self,
        exc: BaseException,
        *,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        what: str = "",
    ) -> Response:
        """The JSON error answer to a request that failed with ``exc``, with the status
        :func:`~seiswindow.errors.http_status` gives it. A 500 says only "internal
        error" (the stack trace goes to the log, with ``what`` the request was, and the
        request id); the others say the error's message.
        """
        rid = request_id or new_request_id()
        status = http_status(exc)
        if status == 500:
            log.error("request %s%s failed: %s", rid, f" ({what})" if what else "", exc, exc_info=exc)
            return self.error(status, "internal error", request_id=rid, headers=headers)
        if status >= 500:  # the archive could not be read: worth a line, not a stack
            log.warning("request %s: %s", rid, exc)
        if isinstance(exc, RequestError):
            return self.error(
                status, str(exc), request_id=rid, headers=headers, field=exc.field, index=exc.index
            )
        return self.error(status, str(exc), request_id=rid, headers=headers)

    @staticmethod
    def _json(status: int, doc: object, rid: str, headers: Mapping[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json", "X-Request-Id": rid, **(headers or {})}
        return Response(status, merged, orjson.dumps(doc))


def _rest(sent: list[bytes], steps: Iterator[None], out: Body, rid: str) -> Iterator[bytes]:
    """The pieces of an answer being streamed: those made before it was sent, then each
    window's as it is written, then the tail. A failure now can only cut the answer short
    (its status is sent): it is logged with the request id, and the client sees a body that
    ends early (a truncated chunked transfer, an incomplete JSON list)."""
    try:
        yield from (piece for piece in sent if piece)
        sent.clear()
        for _ in steps:
            piece = out.drain()
            if piece:
                yield piece
        tail = out.finish()
        if tail:
            yield tail
    except Exception:
        log.exception("request %s failed after its answer began; the answer is cut short", rid)
        raise
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()
