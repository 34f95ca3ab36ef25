"""The deadline of one S3 read, enforced on the socket botocore's connection uses.

botocore's own timeouts bound each socket operation, not a read: an endpoint that trickles a
byte at a time never trips them. This watchdog shuts the socket of the read under way at its
deadline, so a blocked ``recv`` returns at once.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from typing import Any

from ..errors import ConfigError

__all__ = ["Watch", "install_watch"]


class Watch:
    """The deadline of one S3 read, and the connection that read is using.

    At the deadline a timer shuts the connection's socket down: a thread blocked in
    ``recv`` (an endpoint that stalls, or trickles a byte at a time so that a read timeout
    per socket read never fires) returns at once, and the attempt fails. The connection
    is detached when it goes back to the pool, so a connection another read took over is
    never touched.
    """

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._connection: Any = None
        self.expired = False
        # One timer thread per read: reads are network round trips, its start costs far less.
        self._timer: threading.Timer | None = None
        if math.isfinite(seconds):  # an infinite budget has nothing to watch
            self._timer = threading.Timer(max(0.0, seconds), self._expire)
            self._timer.daemon = True

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def __enter__(self) -> Watch:
        _current.watch = self
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        _current.watch = None
        with self._lock:
            self._connection = None

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def detach(self, connection: Any) -> None:
        with self._lock:
            if self._connection is connection:
                self._connection = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)


_current = threading.local()  # .watch: the Watch of the read under way in this thread


def _shut(connection: Any) -> None:
    """Shut a connection's socket down (not close: that would not wake a blocked recv,
    and the owning thread still closes it)."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already disconnected
            sock.shutdown(socket.SHUT_RDWR)


def _watched_pool(pool_class: Any) -> Any:
    """``pool_class`` (a urllib3 connection pool of botocore's) whose connections tell the
    read under way in their thread which socket to shut at its deadline."""
    base_connection: Any = pool_class.ConnectionCls

    class WatchedConnection(base_connection):  # type: ignore[misc]
        def connect(self) -> None:
            watch: Watch | None = getattr(_current, "watch", None)
            if watch is not None:
                watch.attach(self)
                # No socket to shut yet: bound the connect itself by what is left.
                timeout: Any = getattr(self, "timeout", None)
                if isinstance(timeout, (int, float)):
                    self.timeout = max(0.001, min(timeout, watch.remaining()))
            super().connect()

        def request(self, *args: Any, **kwargs: Any) -> Any:
            watch: Watch | None = getattr(_current, "watch", None)
            self.seiswindow_watch = watch
            if watch is not None:
                watch.attach(self)
            return super().request(*args, **kwargs)

    class WatchedPool(pool_class):  # type: ignore[misc]
        ConnectionCls = WatchedConnection

        def _put_conn(self, conn: Any) -> None:
            watch: Watch | None = getattr(conn, "seiswindow_watch", None)
            if watch is not None:
                conn.seiswindow_watch = None
                watch.detach(conn)
            super()._put_conn(conn)

    WatchedPool.__name__ = f"Watched{pool_class.__name__}"
    return WatchedPool


def install_watch(client: Any) -> None:
    """Make the client's connection pools watched (see `Watch`).

    botocore offers no public hook for the socket of a request; its HTTP session keeps the
    pool classes in one dict that its pool managers share, so replacing them there covers
    every pool this client will open.

    Raises:
        ConfigError: this botocore keeps its pools elsewhere (a time budget that cannot
            be enforced must not be silently promised).
    """
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    pools = getattr(session, "_pool_classes_by_scheme", None)
    if not isinstance(pools, dict) or not pools:
        raise ConfigError("this botocore version has no connection pools S3Store can watch")
    for scheme, pool_class in list(pools.items()):
        pools[scheme] = _watched_pool(pool_class)
