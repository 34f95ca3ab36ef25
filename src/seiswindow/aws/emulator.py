"""The local Lambda invocation: what the runtime interface emulator answers for this
function, so that the HTTP app (``seiswindow serve``) serves the tutorial's
``curl -X POST -d @request.json
http://localhost:9000/2015-03-31/functions/function/invocations`` without Docker.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from ..errors import RequestError, http_status
from ..service import Service, new_request_id
from .dispatch import handle_event

if TYPE_CHECKING:
    from .results import ResultsBucket

__all__ = ["INVOCATIONS_PATH", "LocalContext", "invoke"]

#: Where the Lambda runtime interface emulator takes invocations.
INVOCATIONS_PATH = "/2015-03-31/functions/function/invocations"


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The parts of Lambda's context object a handler may read, for local invocations."""

    aws_request_id: str = field(default_factory=new_request_id)
    function_name: str = "function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:000000000000:function:function"
    deadline: float = field(default_factory=lambda: time.monotonic() + 900.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def invoke(
    payload: bytes, *, service: Service, request_id: str | None = None, results: ResultsBucket | None = None
) -> tuple[int, bytes]:
    """Invoke the function with ``payload`` as the Lambda runtime interface emulator does
    at :data:`INVOCATIONS_PATH`: the payload is the event, the answer is the handler's
    return value serialised as the Python runtime does (``json.dumps`` separators and
    escapes). With ``results``, an answer too large for Lambda goes through that bucket,
    as the deployed function's (:mod:`.results`).

    Returns:
        ``(status, body)``: 200, except where the emulator would answer 200 with an error
        inside: a payload that is not JSON is 400 with the runtime's
        ``Runtime.UnmarshalError`` object, and a bad request 4xx with the handler's error
        object (see :mod:`.dispatch`), so ``curl --fail`` notices.
    """
    context = LocalContext(aws_request_id=request_id or new_request_id())
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested too deep
        problem = RequestError(f"Unable to unmarshal input: {exc}")
        error = {
            "errorMessage": str(problem),
            "errorType": "Runtime.UnmarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
        return http_status(problem), json.dumps(error).encode()
    result = handle_event(event, context, service=service, results=results)
    status = HTTPStatus.OK.value
    # The handler's error object (a direct invocation's 4xx) carries its status.
    if isinstance(result, dict) and "error" in result and isinstance(result.get("status"), int):
        status = result["status"]
    return status, json.dumps(result).encode()
