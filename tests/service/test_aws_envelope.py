"""Bodies weighed as they travel through Lambda, and the proxy answer's shape
(``seiswindow.aws.envelope``)."""

from __future__ import annotations

import base64
import json

import pytest

from seiswindow.aws.envelope import DIRECT, PROXY, DirectBody, ProxyBody, direct_answer, proxy_answer
from seiswindow.aws.events import HttpEvent
from seiswindow.encode import Body
from seiswindow.errors import LimitExceeded
from seiswindow.service import HTTP, Response


@pytest.mark.parametrize(
    ("body_type", "binary", "piece", "travels"),
    [
        (Body, False, b'{"a": [1,2]}', 12),
        # A JSON string in the Lambda answer: quotes escaped.
        (ProxyBody, False, b'{"a":[1,2]}', 13),
        # Base64 in the Lambda answer.
        (ProxyBody, True, b"\x00" * 300, 400),
        # Re-serialised by the runtime with ", " and ": ".
        (DirectBody, False, b'{"a":[1,2]}', 13),
    ],
)
def test_body_counts_the_size_as_it_travels(
    body_type: type[Body], binary: bool, piece: bytes, travels: int
) -> None:
    if body_type is ProxyBody and binary:
        assert len(base64.b64encode(piece)) == travels
    if body_type is DirectBody:
        assert len(json.dumps(json.loads(piece))) == travels
    fits = body_type(limit=travels, binary=binary)
    fits.write(piece)
    assert fits.finish() == piece
    too_big = body_type(limit=travels - 1, binary=binary)
    with pytest.raises(LimitExceeded):
        too_big.write(piece)
        too_big.finish()


def test_gzip_base64_and_transports() -> None:
    proxy = ProxyBody(limit=10_000, gzip=True)
    proxy.write(b"[" + b"1," * 1000 + b"1]")
    proxy.finish()
    assert proxy.gzipped and proxy.base64
    direct = DirectBody(limit=10_000, gzip=True)
    direct.write(b"[" + b"1," * 1000 + b"1]")
    direct.finish()
    assert not direct.gzipped and not direct.base64
    assert PROXY.binary and not DIRECT.binary and HTTP.body_type is Body
    assert PROXY.body_type is ProxyBody and DIRECT.body_type is DirectBody


def _http(kind: str, *, multi: bool = False) -> HttpEvent:
    return HttpEvent(kind, "GET", "/", {}, {}, None, False, multi_value=multi)


def test_proxy_answer_shapes() -> None:
    text = Response(200, {"Content-Type": "application/json"}, b'{"a":1}')
    assert proxy_answer(text, _http("http")) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": '{"a":1}',
        "isBase64Encoded": False,
    }
    binary = Response(404, {"Content-Type": "application/vnd.fdsn.mseed"}, b"\x00\x01", base64=True)
    alb = proxy_answer(binary, _http("alb", multi=True))
    assert alb["statusDescription"] == "404 Not Found" and alb["isBase64Encoded"]
    assert alb["multiValueHeaders"] == {"Content-Type": ["application/vnd.fdsn.mseed"]}
    assert base64.b64decode(alb["body"]) == b"\x00\x01" and "headers" not in alb
    assert direct_answer(text) == {"a": 1}
