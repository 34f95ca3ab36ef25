"""Lambda answers: how a body travels through Lambda, and the answer's shape.

- A **proxy answer** (API Gateway, Function URL, ALB) is ``{"statusCode", "headers",
  "body", "isBase64Encoded"}`` (ALB: plus ``statusDescription``, and
  ``multiValueHeaders`` when the target group sends them). A text body becomes a JSON
  string inside it (quotes and backslashes escaped), a gzipped or binary one base64: 4
  bytes per 3 (:class:`ProxyBody`, :data:`PROXY`).
- A **direct invocation** returns the answer's JSON value; the runtime re-serialises it
  with ``", "`` and ``": "`` separators, one more byte per comma and colon. It cannot be
  gzipped nor carry miniSEED (:class:`DirectBody`, :data:`DIRECT`).

Both bodies weigh what they hold as it will travel, so the size limit is told (413)
before the answer leaves, not by Lambda's 6 MB limit after.
"""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

import orjson

from ..encode import Body
from ..service import Response, Transport
from .events import HttpEvent

__all__ = ["DIRECT", "LAMBDA_MAX_BYTES", "PROXY", "DirectBody", "ProxyBody", "direct_answer", "proxy_answer"]


class ProxyBody(Body):
    """A body inside a Lambda proxy answer: text escaped in a JSON string, gzipped or
    binary bodies base64."""

    @property
    def base64(self) -> bool:
        """The body travels base64-encoded (it is not text)."""
        return self.binary or self.gzipped

    def _weigh_text(self, piece: bytes) -> int:
        if self.binary:
            return len(piece)
        return len(piece) + piece.count(b'"') + piece.count(b"\\")


class DirectBody(Body):
    """A body returned by a direct invocation: JSON re-serialised by the Lambda runtime,
    never gzipped."""

    def __init__(self, *, limit: int, gzip: bool = False, binary: bool = False, advice: str = "") -> None:
        del gzip  # the runtime serialises the returned value itself: nothing to gzip
        super().__init__(limit=limit, gzip=False, binary=binary, advice=advice)

    def _weigh_text(self, piece: bytes) -> int:
        return len(piece) + piece.count(b",") + piece.count(b":")


#: An API Gateway, Function URL or ALB answer.
#: Lambda's buffered answer is at most 6 MB (6,291,456 bytes); the body must fit with the
#: envelope's status and headers.
LAMBDA_MAX_BYTES = 6 * 1024 * 1024 - 16 * 1024
PROXY = Transport("lambda-proxy", body_type=ProxyBody, max_bytes=LAMBDA_MAX_BYTES)
#: A direct invocation's return value: JSON only.
DIRECT = Transport("lambda-direct", body_type=DirectBody, binary=False, max_bytes=LAMBDA_MAX_BYTES)


def direct_answer(response: Response) -> Any:
    """What a direct invocation returns: the answer's JSON value (the runtime serialises
    it again)."""
    return orjson.loads(response.body)


def proxy_answer(response: Response, http: HttpEvent) -> dict[str, Any]:
    """The proxy answer to ``http`` (its kind decides the ALB extras)."""
    if response.base64:
        body = base64.b64encode(response.body).decode("ascii")
    else:
        body = response.body.decode("utf-8")
    answer: dict[str, Any] = {"statusCode": response.status}
    if http.kind == "alb":
        answer["statusDescription"] = f"{response.status} {HTTPStatus(response.status).phrase}"
    if http.multi_value:
        answer["multiValueHeaders"] = {k: [v] for k, v in response.headers.items()}
    else:
        answer["headers"] = dict(response.headers)
    answer["body"] = body
    answer["isBase64Encoded"] = response.base64
    return answer
