"""A body made while it is sent, handed to the web framework so that it is always closed.

Starlette iterates a synchronous iterator in worker threads and never closes it: when the
client goes away (or the server stops) half-way, the generator behind the body is left to
the garbage collector, which closes it late, in whatever thread it runs, with its reads
still queued. :class:`ClosingStreamingResponse` closes it in a worker thread as soon as
the answer ends, however it ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import anyio
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = ["ClosingStreamingResponse"]


class ClosingStreamingResponse(StreamingResponse):
    """A streamed answer whose iterator is closed (``close()``, when it has one) in a worker
    thread when the answer ends: sent whole, cut by an error, or by the client leaving."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(chunks, status_code=status_code, headers=headers, media_type=media_type)
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                # No piece is being made now: a worker thread making one is waited for
                # before the cancellation reaches here. Shielded: on a disconnect this runs
                # in a cancelled scope, where any other await would be cancelled at once.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(close)
