"""`S3Proxy`: a loopback HTTP/1.1 reverse proxy in front of S3 that records and misbehaves.

Why: seiswindow exists to read *few bytes* with ranged GETs, so tests must be able to assert
how many requests went out and how many body bytes came back, and must be able to make S3
misbehave the way the real service does (503 SlowDown, 500, connections dropped or cut in the
middle of a body, 403 AccessDenied, a Range header ignored), hang or trickle the way a sick
endpoint does (stall before or after the head, a few bytes a second), plus add latency and cap
bandwidth for benchmarks. moto answers correctly but can do none of that, and patching botocore
would test the patch instead of the client.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import select
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, get_args
from urllib.parse import unquote, urlsplit

from . import _http1 as http1

__all__ = ["FaultKind", "ProxyRecord", "S3Proxy"]

FaultKind = Literal[
    "503",
    "500",
    "403",
    "drop",
    "reset",
    "ignore_range",
    "corrupt",
    "shift_range",
    "stall_head",
    "stall_body",
    "trickle_head",
    "trickle_body",
]
_FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
_POLL_S = 0.05  # how often a stalled or trickling answer looks whether the client hung up

_PIECE = 64 * 1024  # write size towards the client when bandwidth is not capped


@dataclass(frozen=True)
class ProxyRecord:
    """One request seen by `S3Proxy` and what was answered.

    Attributes:
        method: HTTP method, e.g. ``"GET"``.
        path: URL path, percent-decoded, e.g. ``"/scedc-pds/continuous_waveforms/..."``
            (botocore uses path-style addressing for an IP endpoint, so bucket comes first).
        query: raw query string without ``?`` (``""`` if none).
        range: the request's ``Range`` header, or None.
        status: status sent to the client; None when nothing was answered (``drop``).
        body_bytes: response body bytes written to the client; for an interrupted answer,
            what was written before the interruption (to the nearest write).
        fault: the injected fault that shaped this answer, or None.
        elapsed_s: from the end of the request to the last byte answered.
        connection: serial number of the client connection the request came on, to see
            keep-alive at work (requests on one connection share it).
        received_at: ``time.monotonic()`` when the request was read, to tell requests that
            were under way together from those that waited for an earlier answer.
        batch: with `S3Proxy.hold_s` set, the serial number of the batch of held requests
            this one was released with (see `S3Proxy.rounds`); None when not holding.
        hung_up: the client closed the connection while the answer was stalled or trickling
            (``elapsed_s`` then tells how long the client waited).
    """

    method: str
    path: str
    query: str
    range: str | None
    status: int | None
    body_bytes: int
    fault: FaultKind | None = None
    elapsed_s: float = 0.0
    connection: int = 0
    received_at: float = 0.0
    batch: int | None = None
    hung_up: bool = False

    @property
    def bucket(self) -> str:
        """First path segment: the bucket."""
        return self.path.lstrip("/").partition("/")[0]

    @property
    def key(self) -> str:
        """Everything after the bucket: the object key (``""`` for bucket-level requests)."""
        return self.path.lstrip("/").partition("/")[2]


@dataclass
class _Injection:
    kind: FaultKind
    remaining: int
    path_contains: str | None
    seconds: float = 0.0
    bytes_per_s: float = 1.0


class _Gate:
    """Holds requests until none has arrived for ``hold_s``, then releases them as one batch.

    Why: a request that arrives while every earlier one of its batch is still unanswered
    cannot depend on their answers, so a batch is a set of requests the client had under
    way together, by construction. Counting batches never counts fewer rounds than the
    client made; it can count more only if the client leaves more than ``hold_s`` between
    two requests it sends without waiting (scheduling), so ``hold_s`` is chosen well above
    that, and it is paid once per round, not once per request.
    """

    def __init__(self, stopping: threading.Event) -> None:
        self._cond = threading.Condition()
        self._stopping = stopping
        self._batch = 1
        self._last_arrival = 0.0

    def join(self, hold_s: float) -> int:
        """Wait until the current batch is released; returns its serial number."""
        with self._cond:
            batch = self._batch
            self._last_arrival = time.monotonic()
            self._cond.notify_all()  # waiters recompute their silence
            while self._batch == batch and not self._stopping.is_set():
                quiet = self._last_arrival + hold_s - time.monotonic()
                if quiet <= 0:
                    self._batch += 1
                    self._cond.notify_all()
                    break
                self._cond.wait(min(quiet, _POLL_S))
            return batch


class _UpstreamError(Exception):
    """The upstream could not be reached or answered nothing."""


class _Upstream:
    """One keep-alive connection to the upstream, owned by one client connection."""

    def __init__(self, proxy: S3Proxy) -> None:
        self._proxy = proxy
        self._conn: tuple[socket.socket, io.BufferedReader] | None = None

    def close(self) -> None:
        if self._conn is not None:
            sock = self._conn[0]
            self._conn = None
            self._proxy._forget_socket(sock)
            http1.close_socket(sock)

    def exchange(self, request: http1.Message, method: str) -> http1.Message:
        """Send ``request`` verbatim and read the whole final response.

        A kept-alive connection the upstream closed meanwhile fails on first use; that case,
        and only that one, is retried once on a new connection.

        Raises:
            _UpstreamError: the upstream is unreachable, timed out, closed without answering,
                or answered something malformed or truncated.
        """
        for _attempt in range(2):
            reused = self._conn is not None
            sock, rfile = self._conn if self._conn is not None else self._connect()
            try:
                sock.sendall(request.head + request.body)
                response = http1.read_head(rfile)
            except TimeoutError as exc:
                self.close()
                raise _UpstreamError(f"upstream timed out: {exc}") from exc
            except OSError as exc:
                self.close()
                if reused:
                    continue
                raise _UpstreamError(f"upstream failed: {exc}") from exc
            if response is None:
                self.close()
                if reused:
                    continue
                raise _UpstreamError("upstream closed without answering")
            try:
                return self._finish(rfile, response, method)
            except (OSError, http1.ProtocolError) as exc:
                self.close()
                raise _UpstreamError(f"upstream answer broken: {exc}") from exc
        raise _UpstreamError("upstream closed the connection twice")

    def _finish(self, rfile: io.BufferedReader, response: http1.Message, method: str) -> http1.Message:
        """Skip interim (1xx) heads, read the final body, and drop the connection if it ends."""
        while http1.status_of(response) // 100 == 1:  # e.g. the upstream's own 100 Continue
            following = http1.read_head(rfile)
            if following is None:
                raise http1.ProtocolError("upstream closed after an interim response")
            response = following
        status = http1.status_of(response)
        if method != "HEAD" and status not in (204, 304):
            http1.read_body(rfile, response, until_close=True)
        if response.delimited_by_close or http1.wants_close(response):
            self.close()
        return response

    def _connect(self) -> tuple[socket.socket, io.BufferedReader]:
        try:
            sock = socket.create_connection(
                self._proxy._upstream_address, timeout=self._proxy.upstream_timeout_s
            )
        except OSError as exc:
            raise _UpstreamError(f"cannot connect upstream: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self._proxy._remember_socket(sock):
            http1.close_socket(sock)
            raise _UpstreamError("proxy stopping")
        self._conn = (sock, sock.makefile("rb"))
        return self._conn


class _Recorder:
    """Appends a request's `ProxyRecord` once, and corrects it if the last write then fails.

    The record is appended *before* the last bytes of the answer are written, so a client that
    has read a whole answer always finds its record in `S3Proxy.records` (no race).
    """

    def __init__(self, proxy: S3Proxy, base: ProxyRecord, started: float) -> None:
        self._proxy = proxy
        self._base = base
        self._started = started
        self._index: int | None = None
        self._epoch = proxy._epoch  # a reset() after this request arrived forgets it

    def batch(self, batch: int) -> None:
        """Note the batch the request was released with (before any commit)."""
        self._base = dataclasses.replace(self._base, batch=batch)

    def commit(self, *, status: int | None, body_bytes: int, hung_up: bool = False) -> None:
        record = dataclasses.replace(
            self._base,
            status=status,
            body_bytes=body_bytes,
            elapsed_s=time.monotonic() - self._started,
            received_at=self._started,
            hung_up=hung_up,
        )
        with self._proxy._lock:
            if self._epoch != self._proxy._epoch:
                return  # reset() ran since the request arrived: it belongs to an earlier test
            if self._index is None:
                self._index = len(self._proxy._records)
                self._proxy._records.append(record)
            elif self._index < len(self._proxy._records):  # unless reset() ran meanwhile
                self._proxy._records[self._index] = record


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    block_on_close = False

    def __init__(self, address: tuple[str, int], proxy: S3Proxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.proxy._serve_connection(self.request)


class S3Proxy:
    """Loopback HTTP/1.1 reverse proxy in front of an S3 endpoint that records and misbehaves.

    Requests are forwarded verbatim (same request line, headers and body, so signatures stay
    valid); answers too, except for hop-by-hop headers: the client gets keep-alive even though
    werkzeug under moto closes its connection after every answer (the proxy then reconnects).
    Many concurrent client connections are served (one thread each), as botocore's pool needs.

    Each upstream answer is read whole before it is written to the client: the upstream is a
    local moto and objects are a few MB, and it keeps fault injection and shaping simple.

    Recording: one `ProxyRecord` per request in `records`, appended before the last byte of
    the answer is written.

    Faults (`inject`), each consumed by one matching request:
        ``"503"``: answer ``503 SlowDown`` (S3-style XML) without forwarding;
        ``"500"``: answer ``500 InternalError`` without forwarding;
        ``"403"``: answer ``403 AccessDenied`` without forwarding;
        ``"drop"``: read the request, then close the connection without any answer;
        ``"reset"``: forward, then write the head and half the body (half the status line if
            the body is empty) and close the connection: a FIN after a truncated answer, which
            clients see as an incomplete read, as after a reset in the middle of a body;
        ``"ignore_range"``: forward without the ``Range`` header, as a server that does not
            do ranges: ``200`` and the whole object, no ``Content-Range`` (unsigned requests
            only: a signature covering the header no longer matches);
        ``"shift_range"``: forward with the ``Range`` moved 512 bytes on (``bytes=a-b`` to
            ``bytes=a+512-b+512``, ``bytes=-n`` to ``bytes=-n+512``): a ``206`` for bytes
            other than those asked, with a true ``Content-Range`` (unsigned requests only);
        ``"corrupt"``: forward, then flip one bit in the middle of the body (same length),
            as a bad link or disk would; only a checksum can tell;
        ``"stall_head"``: forward, then wait ``seconds`` before the first byte of the answer;
        ``"stall_body"``: forward, write the head, wait ``seconds``, then the body;
        ``"trickle_head"``: forward, then write the whole answer, head included, at
            ``bytes_per_s`` (a read timeout per socket read never fires);
        ``"trickle_body"``: forward, write the head, then the body at ``bytes_per_s``.
    A stalled or trickling answer ends early when the client hangs up (recorded with
    ``hung_up`` and the time it waited) or the proxy stops.

    Shaping, for benchmarks (plain attributes, read at each request):
        `delay_s`: seconds slept after a request is read, before it is answered;
        `bandwidth_bps`: cap on response body throughput per connection, in *bytes* per
            second (None: uncapped).

    Rounds, for tests (`hold_s`, None by default): hold each request until none has arrived
    for `hold_s` seconds, then answer the held ones together; `rounds()` counts these batches.

    Bounded: connections idle longer than `idle_timeout_s` are closed, upstream reads time out
    after `upstream_timeout_s`, and `stop()` closes every socket and joins every thread.
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_s: float = 0.0,
        bandwidth_bps: float | None = None,
        idle_timeout_s: float = 60.0,
        upstream_timeout_s: float = 60.0,
        hold_s: float | None = None,
    ) -> None:
        """Bind the listening socket (serving starts with `start()`).

        Args:
            upstream: ``http://host:port`` of the S3 endpoint (plain HTTP only).
            host: address to listen on.
            port: port to listen on; 0 picks a free one (see `url`).
            delay_s: initial `delay_s`.
            bandwidth_bps: initial `bandwidth_bps`, in bytes per second.
            idle_timeout_s: close a client connection after this long without a request.
            upstream_timeout_s: socket timeout towards the upstream.
            hold_s: initial `hold_s`.

        Raises:
            ValueError: ``upstream`` is not a plain ``http://host:port`` URL.
        """
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._upstream_address = (parts.hostname, parts.port)
        self.delay_s = delay_s
        self.bandwidth_bps = bandwidth_bps
        self.idle_timeout_s = idle_timeout_s
        self.upstream_timeout_s = upstream_timeout_s
        self.hold_s = hold_s
        self._lock = threading.Lock()
        self._records: list[ProxyRecord] = []
        self._epoch = 0
        self._injections: list[_Injection] = []
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._connections = itertools.count(1)
        self._stopping = threading.Event()
        self._gate = _Gate(self._stopping)
        self._server = _Server((host, port), self)
        bound_host, bound_port = self._server.socket.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> S3Proxy:
        """Start serving in a background thread; returns self for chaining."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"S3Proxy {self.url}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self, *, timeout_s: float = 5.0) -> None:
        """Stop accepting, close every client and upstream socket, and join the threads.

        Safe to call twice. Threads still alive after ``timeout_s`` (they are daemons) are
        left behind rather than waited for forever.
        """
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout_s)
            self._thread = None
        self._server.server_close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
            self._sockets.clear()
        for sock in sockets:
            http1.close_socket(sock)
        deadline = time.monotonic() + timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- records -----------------------------------------------------------------------------

    @property
    def records(self) -> list[ProxyRecord]:
        """A copy of the records so far, in the order answers completed."""
        with self._lock:
            return list(self._records)

    def wait_for_records(self, count: int, *, timeout_s: float = 10.0) -> list[ProxyRecord]:
        """The records once there are at least ``count`` (a stalled or trickling answer is
        recorded when the proxy notices the client hung up, a moment after it did).

        Raises:
            TimeoutError: fewer than ``count`` records after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while len(records := self.records) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(records)} of {count} records after {timeout_s} s")
            time.sleep(0.01)
        return records

    def reset(self) -> None:
        """Forget all records, and those of requests still under way (a stalled answer
        ends a moment after its client gave up); injections and shaping are left as they are."""
        with self._lock:
            self._records.clear()
            self._epoch += 1

    def rounds(self) -> int:
        """Sequential rounds of requests, as the client lived them: the number of batches
        the recorded requests were released in (see `hold_s`). Requests of one batch were
        under way together; a request sent after reading an answer is in a later batch.

        Raises:
            ValueError: a recorded request was not held (set `hold_s` before the requests).
        """
        batches = {r.batch for r in self.records}
        if None in batches:
            raise ValueError("rounds() needs every request held: set hold_s first")
        return len(batches)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Number of recorded requests with this method and whose path contains this text."""
        return sum(
            1
            for r in self.records
            if (method is None or r.method == method.upper())
            and (path_contains is None or path_contains in r.path)
        )

    def total_bytes(self, path_filter: str | None = None) -> int:
        """Response body bytes written to clients, over requests whose path contains the text."""
        return sum(r.body_bytes for r in self.records if path_filter is None or path_filter in r.path)

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        count: int = 1,
        path_contains: str | None = None,
        *,
        seconds: float = 30.0,
        bytes_per_s: float = 1.0,
    ) -> None:
        """Make the next ``count`` requests whose path contains ``path_contains`` fail.

        Injections are matched in the order they were made; each request consumes at most one.

        Args:
            kind: the fault (see the class docstring).
            count: how many requests it hits.
            path_contains: only requests whose path contains this text (None: any).
            seconds: how long ``stall_*`` faults wait.
            bytes_per_s: the pace of ``trickle_*`` faults.

        Raises:
            ValueError: unknown ``kind``, ``count`` < 1, negative ``seconds`` or a pace <= 0.
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(_FAULT_KINDS)}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if seconds < 0 or bytes_per_s <= 0:
            raise ValueError(f"need seconds >= 0 and bytes_per_s > 0, got {seconds}, {bytes_per_s}")
        with self._lock:
            self._injections.append(_Injection(kind, count, path_contains, seconds, bytes_per_s))

    def clear_injections(self) -> None:
        """Drop every injection not yet consumed."""
        with self._lock:
            self._injections.clear()

    @property
    def pending_injections(self) -> int:
        """How many injected faults have not been consumed yet."""
        with self._lock:
            return sum(i.remaining for i in self._injections)

    def _take_injection(self, path: str) -> _Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.path_contains is None or injection.path_contains in path:
                    injection.remaining -= 1
                    if injection.remaining == 0:
                        self._injections.remove(injection)
                    return injection
        return None

    # -- connection handling -----------------------------------------------------------------

    def _remember_socket(self, sock: socket.socket) -> bool:
        """Track ``sock`` for `stop()`; False (not tracked) if the proxy is stopping."""
        with self._lock:
            if self._stopping.is_set():
                return False
            self._sockets.add(sock)
            return True

    def _forget_socket(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _serve_connection(self, client: socket.socket) -> None:
        """Serve requests on one client connection until either side closes it."""
        with self._lock:
            if self._stopping.is_set():
                client.close()
                return
            self._sockets.add(client)
            self._threads.add(threading.current_thread())
            connection = next(self._connections)
        client.settimeout(self.idle_timeout_s)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = client.makefile("rb")
        upstream = _Upstream(self)
        try:
            while not self._stopping.is_set():
                if not self._serve_request(client, rfile, upstream, connection):
                    break
        except (OSError, http1.ProtocolError):
            pass  # client went away, timed out or spoke garbage: end this connection only
        finally:
            upstream.close()
            self._forget_socket(client)
            http1.close_socket(client)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _serve_request(
        self,
        client: socket.socket,
        rfile: io.BufferedReader,
        upstream: _Upstream,
        connection: int,
    ) -> bool:
        """Read, record and answer one request; returns whether to keep the connection."""
        request = http1.read_head(rfile)
        if request is None:
            return False
        try:
            method, target, _version = request.start_line.split(" ", 2)
        except ValueError as exc:
            raise http1.ProtocolError(f"bad request line {request.start_line!r}") from exc
        if request.has_token("Expect", "100-continue"):
            # Answer the interim response ourselves so the client sends its body at once;
            # the upstream's own 100 Continue is skipped in _Upstream.exchange.
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        http1.read_body(rfile, request, until_close=False)
        started = time.monotonic()

        parts = urlsplit(target)
        path = unquote(parts.path)
        injection = self._take_injection(path)
        fault = injection.kind if injection is not None else None
        recorder = _Recorder(
            self,
            ProxyRecord(
                method=method.upper(),
                path=path,
                query=parts.query,
                range=request.header("Range"),
                status=None,
                body_bytes=0,
                fault=fault,
                connection=connection,
            ),
            started,
        )
        client_close = http1.wants_close(request)

        hold_s = self.hold_s
        if hold_s is not None:
            recorder.batch(self._gate.join(hold_s))
            if self._stopping.is_set():
                return False
        if self.delay_s > 0 and self._stopping.wait(self.delay_s):
            return False  # stopping: give up on this request

        if fault == "drop":
            recorder.commit(status=None, body_bytes=0)
            return False
        if fault in ("503", "500", "403"):
            status, code, message = {
                "503": (503, "SlowDown", "Please reduce your request rate."),
                "500": (500, "InternalError", "We encountered an internal error. Please try again."),
                "403": (403, "AccessDenied", "Access Denied"),
            }[fault]
            answer = http1.error_response(status, code, message, method=method, close=client_close)
            self._write_answer(client, answer, status, recorder)
            return not client_close
        if fault == "ignore_range":
            request = _without_header(request, "Range")
        if fault == "shift_range" and request.header("Range"):
            request = _without_header(request, "Range", _shifted(request.header("Range") or ""))

        try:
            response = upstream.exchange(request, method)
        except _UpstreamError as exc:
            answer = http1.error_response(502, "BadGateway", f"s3proxy: {exc}", method=method, close=True)
            self._write_answer(client, answer, 502, recorder)
            return False
        status = http1.status_of(response)

        close = client_close or response.delimited_by_close
        head = http1.forward_head(response, close=close)
        if fault == "reset":
            if response.body:  # the whole head, half the body
                body = response.body[: len(response.body) // 2]
            else:  # half the status line: a cut inside the headers would go unnoticed
                head, body = head[: len(response.start_line) // 2], b""
            partial = http1.Message(response.start_line, [], head, body, len(body))
            self._write_answer(client, partial, status, recorder)
            return False

        answer = dataclasses.replace(response, head=head)
        if fault == "corrupt" and answer.body and not response.has_token("Transfer-Encoding", "chunked"):
            flipped = bytearray(answer.body)
            flipped[len(flipped) // 2] ^= 0x01
            answer = dataclasses.replace(answer, body=bytes(flipped))
        if injection is not None and fault in ("stall_head", "stall_body", "trickle_head", "trickle_body"):
            return self._write_sick(client, answer, status, recorder, injection) and not close
        self._write_answer(client, answer, status, recorder)
        return not close

    def _client_gone(self, client: socket.socket, seconds: float) -> bool:
        """Wait ``seconds``; True as soon as the client hangs up or the proxy stops."""
        deadline = time.monotonic() + seconds
        while True:
            if self._stopping.is_set():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([client], [], [], min(remaining, _POLL_S))
            if readable:
                try:
                    if not client.recv(1, socket.MSG_PEEK):
                        return True  # end of stream: the client closed its side
                except OSError:
                    return True
                # A pipelined request waits its turn; poll without spinning.
                if self._stopping.wait(min(remaining, _POLL_S)):
                    return True

    def _write_sick(
        self,
        client: socket.socket,
        answer: http1.Message,
        status: int,
        recorder: _Recorder,
        injection: _Injection,
    ) -> bool:
        """Write ``answer`` stalled or trickled as ``injection`` says; False if the client
        hung up (or the proxy stopped) before the end, the connection is then closed."""
        kind, head, body = injection.kind, answer.head, answer.body
        sent_body = 0

        def gone() -> bool:
            recorder.commit(status=status, body_bytes=sent_body, hung_up=True)
            return False

        try:
            if kind == "stall_body":
                client.sendall(head)
            if kind in ("stall_head", "stall_body") and self._client_gone(client, injection.seconds):
                return gone()
            if kind == "stall_head":
                client.sendall(head)
            if kind in ("stall_head", "stall_body"):
                recorder.commit(status=status, body_bytes=answer.body_len)
                client.sendall(body)
                return True
            if kind == "trickle_body":
                client.sendall(head)
            paced = head + body if kind == "trickle_head" else body
            interval = 1.0 / injection.bytes_per_s
            for i in range(len(paced)):
                if self._client_gone(client, interval):
                    return gone()
                if i == len(paced) - 1:
                    recorder.commit(status=status, body_bytes=answer.body_len)
                client.sendall(paced[i : i + 1])
                if kind == "trickle_body" or i >= len(head):
                    sent_body += 1
            if not paced:
                recorder.commit(status=status, body_bytes=0)
            return True
        except OSError:
            return gone()

    def _write_answer(
        self,
        client: socket.socket,
        answer: http1.Message,
        status: int,
        recorder: _Recorder,
    ) -> None:
        """Write head and body, the body paced by `bandwidth_bps`; record before the last write.

        Raises:
            OSError: the client went away (recorded with the body bytes written before).
        """
        body = answer.body
        payload = answer.body_len  # a chunked body counts its payload, framing excluded
        if not body:
            recorder.commit(status=status, body_bytes=0)
            client.sendall(answer.head)
            return
        client.sendall(answer.head)
        bps = self.bandwidth_bps
        piece = _PIECE if not bps else max(1024, min(_PIECE, int(bps / 20)))
        t0 = time.monotonic()
        sent = 0
        try:
            while sent < len(body):
                chunk = body[sent : sent + piece]
                if bps:
                    wait = t0 + (sent + len(chunk)) / bps - time.monotonic()
                    if wait > 0 and self._stopping.wait(wait):
                        raise ConnectionAbortedError("proxy stopping")
                if sent + len(chunk) == len(body):
                    recorder.commit(status=status, body_bytes=payload)
                client.sendall(chunk)
                sent += len(chunk)
        except OSError:
            recorder.commit(status=status, body_bytes=min(sent, payload))
            raise


def _without_header(request: http1.Message, name: str, replacement: str | None = None) -> http1.Message:
    """``request`` with header ``name`` removed (or set to ``replacement``), its head rebuilt
    from the parsed lines."""
    headers = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    if replacement is not None:
        headers.append((name, replacement))
    lines = [request.start_line, *(f"{k}: {v}" for k, v in headers)]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return dataclasses.replace(request, headers=headers, head=head)


def _shifted(spec: str, by: int = 512) -> str:
    """A ``bytes=`` range spec moved ``by`` bytes towards the end of the object."""
    first, _, last = spec.removeprefix("bytes=").partition("-")
    if not first:  # a suffix: longer by as much
        return f"bytes=-{int(last) + by}"
    return f"bytes={int(first) + by}-{int(last) + by if last else ''}"
