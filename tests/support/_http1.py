"""Just enough HTTP/1.1 message framing for `S3Proxy`: read heads and bodies, write errors.

Why not `http.client` / `http.server`: the proxy must forward requests byte for byte (botocore
signs them), see responses exactly as framed by the upstream, and be able to cut an answer in the
middle of its head or body; the standard library re-frames messages and hides the raw bytes.

Bodies are read whole into memory (`Message.body`, framing kept): the peers are botocore and a
local moto, and objects are a few MB at most.
"""

from __future__ import annotations

import contextlib
import io
import socket
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from xml.sax.saxutils import escape

MAX_LINE = 65_536  # longest request/status/header line accepted
MAX_HEAD = 256 * 1024  # largest header block accepted
#: Headers that describe one connection, not the message (RFC 9110, 7.6.1). Transfer-Encoding
#: is one too, but bodies are forwarded with their framing, so it is kept.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "upgrade"})


class ProtocolError(Exception):
    """Malformed or oversized HTTP on either side; the connection is closed."""


@dataclass
class Message:
    """An HTTP head (start line and headers), its raw bytes, and its raw body."""

    start_line: str
    headers: list[tuple[str, str]]
    head: bytes
    body: bytes = b""
    body_len: int = 0  # payload length (differs from len(body) for chunked bodies)
    delimited_by_close: bool = False  # body had no length and ran to the end of the stream

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def has_token(self, name: str, token: str) -> bool:
        """Whether the comma-separated header ``name`` lists ``token`` (lower case)."""
        value = self.header(name)
        return value is not None and token in {t.strip().lower() for t in value.split(",")}


def read_head(rfile: io.BufferedReader) -> Message | None:
    """Read a start line and headers; None on a clean end of stream before any byte."""
    lines: list[bytes] = []
    size = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if not line:
            if lines:
                raise ProtocolError("end of stream inside a header block")
            return None
        if len(line) > MAX_LINE:
            raise ProtocolError("header line too long")
        if not lines and line in (b"\r\n", b"\n"):
            continue  # stray CRLF between messages is allowed (RFC 9112, 2.2)
        lines.append(line)
        size += len(line)
        if size > MAX_HEAD:
            raise ProtocolError("header block too large")
        if line in (b"\r\n", b"\n"):
            break
    text = b"".join(lines).decode("latin-1")
    start, *rest = text.splitlines()
    headers: list[tuple[str, str]] = []
    for raw in rest:
        if not raw:
            continue
        name, sep, value = raw.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line {raw!r}")
        headers.append((name.strip(), value.strip()))
    return Message(start_line=start, headers=headers, head=b"".join(lines))


def read_exact(rfile: io.BufferedReader, n: int) -> bytes:
    """Read exactly ``n`` bytes; raises `ProtocolError` if the stream ends first."""
    data = rfile.read(n)
    if len(data) != n:
        raise ProtocolError(f"end of stream after {len(data)} of {n} body bytes")
    return data


def read_body(rfile: io.BufferedReader, msg: Message, *, until_close: bool) -> None:
    """Read the raw body framed as ``msg`` says into ``msg.body`` (framing bytes kept)."""
    if msg.has_token("Transfer-Encoding", "chunked"):
        parts: list[bytes] = []
        payload = 0
        while True:
            line = rfile.readline(MAX_LINE + 1)
            if not line or len(line) > MAX_LINE:
                raise ProtocolError("bad chunk size line")
            parts.append(line)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise ProtocolError(f"bad chunk size line {line!r}") from exc
            if size == 0:
                while True:  # trailers, then the final empty line
                    trailer = rfile.readline(MAX_LINE + 1)
                    if not trailer or len(trailer) > MAX_LINE:
                        raise ProtocolError("bad chunked trailer")
                    parts.append(trailer)
                    if trailer in (b"\r\n", b"\n"):
                        break
                break
            parts.append(read_exact(rfile, size + 2))
            payload += size
        msg.body, msg.body_len = b"".join(parts), payload
        return
    length = msg.header("Content-Length")
    if length is not None:
        try:
            n = int(length)
        except ValueError as exc:
            raise ProtocolError(f"bad Content-Length {length!r}") from exc
        msg.body = read_exact(rfile, n)
    elif until_close:
        msg.body = rfile.read()
        msg.delimited_by_close = True
    msg.body_len = len(msg.body)


def wants_close(msg: Message) -> bool:
    """Whether the message ends its connection (HTTP/1.1 keeps alive unless told otherwise)."""
    first, _, rest = msg.start_line.partition(" ")
    version = first if first.startswith("HTTP/") else rest.rpartition(" ")[2]
    if msg.has_token("Connection", "close"):
        return True
    return version == "HTTP/1.0" and not msg.has_token("Connection", "keep-alive")


def forward_head(msg: Message, *, close: bool) -> bytes:
    """The head of ``msg`` for the next hop: hop-by-hop headers dropped, ours added.

    Why: the upstream's connection management is not the client's. werkzeug (under moto) says
    ``Connection: close`` on every answer; passed on verbatim, it would forbid keep-alive to
    the client, which the real S3 allows and botocore's pool relies on.
    """
    listed = {t.strip().lower() for t in (msg.header("Connection") or "").split(",")}
    drop = HOP_BY_HOP | listed
    lines = [msg.start_line, *(f"{k}: {v}" for k, v in msg.headers if k.lower() not in drop)]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def error_response(status: int, code: str, message: str, *, method: str, close: bool) -> Message:
    """An S3-style XML error answer, as S3 sends for throttling and internal errors."""
    request_id = uuid.uuid4().hex[:16].upper()
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>s3proxy-injected</HostId></Error>"
    ).encode()
    body = b"" if method == "HEAD" else xml  # S3 answers HEAD errors without a body
    reason = {403: "Forbidden", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Slow Down"}[status]
    headers = [
        ("Content-Type", "application/xml"),
        ("Content-Length", str(len(body))),
        ("x-amz-request-id", request_id),
        ("Date", formatdate(usegmt=True)),
        ("Server", "AmazonS3"),
    ]
    if close:
        headers.append(("Connection", "close"))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return Message(
        start_line=f"HTTP/1.1 {status} {reason}",
        headers=headers,
        head=(head + "\r\n").encode("latin-1"),
        body=body,
        body_len=len(body),
    )


def status_of(response: Message) -> int:
    """The status code of a response head; raises `ProtocolError` if it has none."""
    parts = response.start_line.split(" ", 2)
    try:
        return int(parts[1])
    except (IndexError, ValueError) as exc:
        raise ProtocolError(f"bad status line {response.start_line!r}") from exc


def close_socket(sock: socket.socket) -> None:
    """Shut down then close: shutdown wakes a thread blocked in recv, close alone does not."""
    with contextlib.suppress(OSError):  # already disconnected
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
