"""``streambody.ClosingStreamingResponse``: a body made while it is sent is closed, in a
worker thread, however the answer ends (Starlette never closes a synchronous iterator)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.requests import ClientDisconnect

from seiswindow.streambody import ClosingStreamingResponse


class _Body:
    """An iterator of pieces that records in which thread it is closed."""

    def __init__(self, pieces: int) -> None:
        self.pieces = iter([b"x" * 10] * pieces)
        self.made = 0
        self.closed_in: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        self.made += 1
        return next(self.pieces)

    def close(self) -> None:
        self.closed_in = threading.current_thread().name


def _serve(body: _Body, *, spec: str, cut_after: int) -> list[bytes]:
    """Send the answer to a client that leaves after ``cut_after`` pieces: with ASGI 2.4 its
    ``send`` fails (OSError), before 2.4 ``receive`` says it disconnected."""
    sent: list[bytes] = []
    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("more_body"):
            if len(sent) == cut_after:
                gone.set()
                if spec == "2.4":
                    raise OSError("connection reset")
                await anyio.sleep(5)  # the disconnect cancels this send
            sent.append(message["body"])

    scope = {"type": "http", "method": "GET", "asgi": {"spec_version": spec}, "headers": []}

    async def run() -> None:
        await ClosingStreamingResponse(body, media_type="text/plain")(scope, receive, send)

    anyio.run(run)
    return sent


def test_a_body_sent_whole_is_closed_in_a_worker_thread() -> None:
    body = _Body(3)
    assert _serve(body, spec="2.3", cut_after=10) == [b"x" * 10] * 3
    assert body.closed_in not in (None, threading.main_thread().name)


@pytest.mark.parametrize("spec", ["2.3", "2.4"])
def test_a_body_cut_by_the_client_leaving_is_closed_at_once(spec: str) -> None:
    body = _Body(1000)
    if spec == "2.4":
        with pytest.raises(ClientDisconnect):
            _serve(body, spec=spec, cut_after=1)
    else:
        assert len(_serve(body, spec=spec, cut_after=1)) == 1
    assert body.made < 10  # nothing more made once the client left
    assert body.closed_in not in (None, threading.main_thread().name)
