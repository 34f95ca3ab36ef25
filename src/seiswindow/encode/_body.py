"""An answer's bytes and the size rule: :class:`Body` assembles them, gzipped when wanted,
and raises :class:`~seiswindow.errors.LimitExceeded` as soon as they would be larger than
``Limits.max_response_bytes`` as they will travel. The base class is an HTTP body (the bytes
as they are); a transport whose bodies weigh otherwise (Lambda's, in ``seiswindow.aws``)
subclasses it and overrides :meth:`Body._weigh_text` and :attr:`Body.base64`."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import LimitExceeded

__all__ = ["GZIP_LEVEL", "GZIP_MIN_BYTES", "STREAM_AFTER_BYTES", "Body", "InOrder"]


#: Bodies smaller than this are not worth a gzip header.
GZIP_MIN_BYTES = 1024
#: zlib's default: the best ratio before the slow levels, and fitting under the limit
#: is what gzip is for here.
GZIP_LEVEL = 6
_CHUNK = 1 << 20
#: An answer that grows past this many bytes before it is complete is sent while it is made
#: (:meth:`Body.drain`), where its transport streams and the largest answer it may make
#: (``OutputFormat.most_bytes``) fits the limit, so its status is known before the first
#: byte; a smaller answer is sent whole, with its length (and, for miniSEED,
#: ``X-Window-Status``).
STREAM_AFTER_BYTES = 4 << 20


class Body:
    """An answer's bytes, written in order, gzipped when allowed and worth it, never
    larger than ``limit`` as it travels.

    Args:
        limit: the largest size allowed (``Limits.max_response_bytes``).
        gzip: the client accepts gzip.
        binary: the body is not text (miniSEED): never gzipped, base64 in Lambda answers.
        advice: what to tell a client whose answer is too large.
    """

    def __init__(
        self,
        *,
        limit: int,
        gzip: bool = False,
        binary: bool = False,
        advice: str = "",
    ) -> None:
        self.limit = limit
        self.binary = binary
        self.advice = advice
        self._may_gzip = gzip and not binary
        self._raw: list[bytes] = []
        self._raw_size = 0
        self._raw_weight = 0
        self._zip: Any = None
        self._zipped: list[bytes] = []
        self._zipped_size = 0
        self._done: bytes | None = None

    @property
    def gzipped(self) -> bool:
        return self._zip is not None

    @property
    def base64(self) -> bool:
        """The body travels base64-encoded (never over HTTP)."""
        return False

    def _weigh_text(self, piece: bytes) -> int:
        """The size ``piece`` has as it travels, not gzipped (over HTTP: its length)."""
        return len(piece)

    def _travel_size(self) -> int:
        if self._zip is not None:
            return 4 * math.ceil(self._zipped_size / 3) if self.base64 else self._zipped_size
        if self.base64:
            return 4 * math.ceil(self._raw_size / 3)
        return self._raw_weight

    def _check(self, *, final: bool) -> None:
        size = self._travel_size()
        if size <= self.limit:
            return
        what = "gzipped answer" if self._zip is not None else "answer"
        so_far = "" if final else " and growing"
        tips = [self.advice] if self.advice else []
        raise LimitExceeded(
            f"the {what} is {size} bytes{so_far}, over the limit of {self.limit} bytes"
            + (f"; {' '.join(tips)}" if tips else ""),
            field="Windows",
        )

    def _feed(self, piece: bytes) -> None:
        for i in range(0, len(piece), _CHUNK):
            out = self._zip.compress(piece[i : i + _CHUNK])
            if out:
                self._zipped.append(out)
                self._zipped_size += len(out)
                self._check(final=False)

    def write(self, piece: bytes) -> None:
        """Append ``piece``.

        Raises:
            LimitExceeded: the body is already too large.
        """
        if self._done is not None:
            raise RuntimeError("the body is finished")
        self._raw_size += len(piece)
        if self._zip is not None:
            self._feed(piece)
            return
        self._raw.append(piece)
        self._raw_weight += self._weigh_text(piece)
        if self._may_gzip and self._raw_size >= GZIP_MIN_BYTES:
            self._zip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
            pending, self._raw = self._raw, []
            for part in pending:
                self._feed(part)
        else:
            self._check(final=False)

    def drain(self) -> bytes:
        """The bytes written since the last drain, as they travel, for an answer sent while
        it is made; empty while gzip is still undecided (the first bytes decide it). What
        :meth:`finish` returns after a drain is the rest. The limit keeps counting every byte.

        Raises:
            RuntimeError: the body is finished.
        """
        if self._done is not None:
            raise RuntimeError("the body is finished")
        if self._zip is not None:
            out, self._zipped = b"".join(self._zipped), []
            return out
        if self._may_gzip and self._raw_size < GZIP_MIN_BYTES:
            return b""
        out, self._raw = b"".join(self._raw), []
        return out

    def check_pending(self, size: int, *, factor: int) -> None:
        """Refuse early when ``size`` more raw bytes, encoded but not yet written (they
        wait for an earlier window), cannot fit: in full without gzip, above ``factor``
        times the limit with it.

        Raises:
            LimitExceeded: they cannot fit.
        """
        budget = factor * self.limit if self._may_gzip else self.limit - self._raw_size
        if size > budget:
            raise LimitExceeded(
                f"the answer is over {self._raw_size + size} bytes and growing, over the limit of "
                f"{self.limit} bytes" + (f"; {self.advice}" if self.advice else ""),
                field="Windows",
            )

    def finish(self) -> bytes:
        """The body, complete.

        Raises:
            LimitExceeded: the body is too large.
        """
        if self._done is None:
            if self._zip is not None:
                tail = self._zip.flush()
                self._zipped.append(tail)
                self._zipped_size += len(tail)
                self._check(final=True)
                self._done = b"".join(self._zipped)
                self._zipped = []
            else:
                self._check(final=True)
                self._done = b"".join(self._raw)
                self._raw = []
        return self._done


@dataclass
class InOrder:
    """Writes encoded windows into a body in request order as they complete; the ones
    waiting for an earlier one may take ``pending_factor`` times the body's limit."""

    body: Body
    separator: bytes
    pending: dict[int, bytes] = field(default_factory=dict)
    pending_size: int = 0
    next_index: int = 0
    pending_factor: int = 16

    def add(self, index: int, piece: bytes) -> None:
        self.pending[index] = piece
        self.pending_size += len(piece)
        while self.next_index in self.pending:
            ready = self.pending.pop(self.next_index)
            self.pending_size -= len(ready)
            if self.next_index and self.separator:
                self.body.write(self.separator)
            self.body.write(ready)
            self.next_index += 1
        self.body.check_pending(self.pending_size, factor=self.pending_factor)
