"""A limit on every request body of the HTTP app, checked while the body is read.

:class:`BodyLimit` is ASGI middleware: it bounds the body whatever the route, the FDSN
ones included, so no route needs a reader of its own that counts bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import LimitExceeded
from .service import Response

__all__ = ["BodyLimit"]


class _BodyTooLarge(LimitExceeded):
    """The request body is over the app's limit (raised by the body's ``receive``)."""


class BodyLimit:
    """ASGI middleware: refuse every request body over ``max_bytes``, whatever the route.

    The limit is checked while the body is read, not after: a declared ``Content-Length``
    over it fails the first read without reading anything, and a chunked body fails the
    read that takes it over. The failure is :class:`~seiswindow.errors.LimitExceeded`
    raised to whoever reads: a route that answers its own errors (FDSN error text) answers
    it; otherwise this middleware answers 413 with ``refuse``'s body. Any answer that starts
    before the body was read to its end (this limit, a route's own, a route that does not
    read) says ``Connection: close``, so the server does not drain the rest of the body to
    reuse the connection.

    Args:
        app: the ASGI app to guard.
        max_bytes: the largest body read.
        refuse: the JSON 413 answer, given the error.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, refuse: Callable[[LimitExceeded], Response]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        message = f"the request body is over {limit} bytes; split the request"
        declared = _content_length(scope)
        over = declared is not None and declared > limit
        # A request without Content-Length or Transfer-Encoding has no body to read.
        unread = declared != 0 and (declared is not None or _has_header(scope, b"transfer-encoding"))
        seen = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal seen, over, unread
            if over:  # declared too long, or already refused: read nothing more
                raise _BodyTooLarge(message, field="body")
            event = await receive()
            if event["type"] == "http.request":
                seen += len(event.get("body", b""))
                unread = bool(event.get("more_body", False))
                if seen > limit:
                    over = True
                    raise _BodyTooLarge(message, field="body")
            return event

        async def closing_send(event: Message) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
                if over or unread:
                    event = {**event, "headers": [*event.get("headers", []), (b"connection", b"close")]}
            await send(event)

        try:
            await self.app(scope, bounded_receive, closing_send)
        except _BodyTooLarge as exc:
            if started:
                raise
            answer = self.refuse(exc)
            await closing_send(
                {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        *((k.lower().encode(), v.encode()) for k, v in answer.headers.items()),
                        (b"content-length", str(len(answer.body)).encode()),
                    ],
                }
            )
            await closing_send({"type": "http.response.body", "body": answer.body})


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in scope.get("headers", []))


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None without one (chunked) or when it is not a number
    (the server refuses such requests before the app sees them)."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
