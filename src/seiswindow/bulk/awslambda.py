"""The Lambda executor: batches of windows answered by the deployed seiswindow function.

Each invocation (boto3's ``lambda`` client, ``invoke``, ``RequestResponse``) is the
tutorial's request of some windows of one day file, ``{"Windows": [...], "Segments":
true}``, and its answer the JSON list of window objects, read back into results
(:mod:`.answers`). At most ``workers`` invocations are in flight; results come back as
invocations finish.

- **Batch size.** A job's batch (the windows of one day file) is cut into invocations
  whose answer fits Lambda's 6 MB: the most bytes the windows' samples may take as JSON
  (:meth:`~seiswindow.encode.OutputFormat.most_bytes`, from the band code's highest rate),
  plus the byte the runtime adds after each comma (it re-serialises with ``", "``), under
  :data:`ANSWER_BYTES`. A window larger than that alone is one invocation.
- **Too much anyway.** An answer the function refuses as too large (413, or Lambda's
  ``Function.ResponseSizeTooLarge``) and an invocation that runs out of the function's time
  (``Sandbox.Timedout``) are asked again in two halves, down to one window; a function with
  ``SEISWINDOW_RESULTS`` answers a large answer instead with a presigned URL of it in its
  results bucket (:mod:`seiswindow.aws.results`), which is fetched.
- **Retries.** Throttles (``TooManyRequestsException``, 429), 5xx and broken connections
  are retried with full-jitter backoff until ``retry_seconds`` have passed since the
  invocation's first attempt; botocore's own retries are off, so that bound is the only one.
- **Failures.** An invocation that still fails (retries spent, the function raising, a
  function that does not exist) gives each of its windows an ``error`` result with the
  reason: the next run retries them; no window is lost.

The endpoint is boto3's: ``AWS_ENDPOINT_URL_LAMBDA`` or ``AWS_ENDPOINT_URL`` when set
(``seiswindow serve`` answers the invoke API at ``/2015-03-31/functions/function/invocations``),
the region's otherwise.
"""

from __future__ import annotations

import gzip
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import orjson

from ..encode import OutputFormat
from ..errors import ConfigError, DataError, SeisWindowError
from ..model import Status, WindowResult
from .answers import results_from_answer
from .executors import Batch
from .inputs import JobWindow

__all__ = ["ANSWER_BYTES", "LambdaExecutor", "invocations"]

#: The largest answer of one invocation: Lambda's 6 MB (6,291,456 bytes) less room for the
#: runtime's envelope.
ANSWER_BYTES = 6 * 1024 * 1024 - 16 * 1024
#: HTTP statuses worth another attempt: throttled, and the service's own failures.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Backoff: the first ceiling and the largest (seconds).
_BACKOFF_BASE_S = 0.25
_BACKOFF_CAP_S = 20.0
#: Lambda runs an invocation for 15 minutes at most: the client waits that long for it.
_READ_TIMEOUT_S = 905.0


def invocations(batch: Batch, *, answer_bytes: int = ANSWER_BYTES) -> list[tuple[JobWindow, ...]]:
    """``batch`` cut, in order, into invocations whose answers fit ``answer_bytes`` (see
    the module's docstring)."""
    out: list[tuple[JobWindow, ...]] = []
    group: list[JobWindow] = []
    size = 0
    for item in batch.windows:
        weight = _answer_weight(item)
        if group and size + weight > answer_bytes:
            out.append(tuple(group))
            group, size = [], 0
        group.append(item)
        size += weight
    if group:
        out.append(tuple(group))
    return out


def _answer_weight(item: JobWindow) -> int:
    # JSON's most bytes count 12 a sample (11 characters and a comma); the runtime's ", "
    # adds one more byte to each 12 at most.
    return OutputFormat.JSON.most_bytes([item.window]) * 13 // 12


class _Failed(SeisWindowError):
    """An invocation that gave no answer; ``retry``: another attempt may."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


class _TooMuch(_Failed):
    """Too much for one invocation: the answer too large for Lambda, or the function out of
    time; fewer windows may do."""


class LambdaExecutor:
    """Runs batches as invocations of the seiswindow Lambda function ``function`` (see the
    module's docstring).

    Args:
        function: the function's name or ARN.
        workers: invocations in flight at most.
        retry_seconds: how long an invocation is retried (throttles, 5xx), from its first
            attempt.
        answer_bytes: the largest answer an invocation is sized for.
        client: a boto3 ``lambda`` client to use instead of one built here (its region:
            the ARN's, else boto3's own).

    Raises:
        ConfigError: no region is configured and ``function`` is not an ARN.
    """

    def __init__(
        self,
        function: str,
        *,
        workers: int = 10,
        retry_seconds: float = 300.0,
        answer_bytes: int = ANSWER_BYTES,
        client: Any = None,
    ) -> None:
        self.function = function
        self.workers = workers
        self.retry_seconds = retry_seconds
        self.answer_bytes = answer_bytes
        self._client = client if client is not None else _lambda_client(function, workers=workers)

    def run(self, batches: Sequence[Batch]) -> Iterator[tuple[JobWindow, WindowResult]]:
        pending = (group for batch in batches for group in invocations(batch, answer_bytes=self.answer_bytes))
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="seiswindow-lambda")
        running: dict[Future[list[WindowResult]], tuple[JobWindow, ...]] = {}

        def submit() -> None:
            group = next(pending, None)
            if group is not None:
                running[pool.submit(self.answer, group)] = group

        try:
            for _ in range(self.workers):
                submit()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    group = running.pop(future)
                    yield from zip(group, future.result(), strict=True)
                    submit()
        finally:
            # A job stopped early (interrupted, a write failing) does not wait for the
            # invocations in flight: their windows are not recorded, and the next run asks again.
            pool.shutdown(wait=False, cancel_futures=True)

    def answer(self, group: Sequence[JobWindow]) -> list[WindowResult]:
        """The results of ``group``, one invocation (or, for an answer too large, one per
        half); never raises for the function's failures: they are ``error`` results."""
        try:
            return results_from_answer([item.window for item in group], self._invoke(group))
        except _TooMuch as exc:
            if len(group) == 1:
                return _failed(group, f"lambda {self.function}: too much for one invocation: {exc}")
            half = len(group) // 2
            return self.answer(group[:half]) + self.answer(group[half:])
        except (_Failed, DataError) as exc:
            return _failed(group, f"lambda {self.function}: {exc}")

    def close(self) -> None:
        """Nothing to release: the client's connections close with it."""

    def _invoke(self, group: Sequence[JobWindow]) -> Any:
        """The answer's JSON value, retried in bounded time (see the module's docstring).

        Raises:
            _TooMuch: too much for one invocation (the answer too large, out of time).
            _Failed: no answer.
        """
        payload = orjson.dumps({"Windows": [item.window.to_request() for item in group], "Segments": True})
        deadline = time.monotonic() + self.retry_seconds
        attempt = 0
        while True:
            try:
                return self._once(payload)
            except _TooMuch:
                raise
            except _Failed as exc:
                pause = random.uniform(0.0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt))
                if not exc.retry or time.monotonic() + pause > deadline:
                    attempts = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise _Failed(f"{exc}{attempts}") from None
                time.sleep(pause)
                attempt += 1

    def _once(self, payload: bytes) -> Any:
        """One invocation's answer.

        Raises:
            _TooMuch: too much for one invocation (the answer too large, out of time).
            _Failed: no answer (``retry`` says whether another attempt may give one).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = self._client.invoke(
                FunctionName=self.function, InvocationType="RequestResponse", Payload=payload
            )
            body = reply["Payload"].read()
        except ClientError as exc:
            raise _client_failure(exc) from None
        except BotoCoreError as exc:  # connections refused, reset or timed out
            raise _Failed(f"invoke failed: {exc}", retry=True) from None
        if reply.get("FunctionError"):
            raise _function_failure(body)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _Failed(f"the answer is not JSON: {exc}") from None
        if isinstance(answer, dict):
            return _from_object(answer)
        return answer


def _lambda_client(function: str, *, workers: int) -> Any:
    """boto3's ``lambda`` client, in the ARN's region when ``function`` is an ARN.

    Raises:
        ConfigError: no region is configured and ``function`` is not an ARN.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    parts = function.split(":")
    region = parts[3] if function.startswith("arn:") and len(parts) > 3 and parts[3] else None
    config = Config(
        retries={"total_max_attempts": 1},  # ours, bounded in time, instead
        read_timeout=_READ_TIMEOUT_S,
        connect_timeout=10,
        max_pool_connections=workers,
    )
    try:
        return boto3.client("lambda", region_name=region, config=config)
    except NoRegionError:
        raise ConfigError(
            f"no AWS region for the Lambda function {function}: set AWS_REGION or give its ARN"
        ) from None


def _client_failure(exc: Any) -> _Failed:
    """What an invoke API error means for the executor."""
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    code = str(error.get("Code", ""))
    message = f"invoke failed: {code or status} {error.get('Message') or ''}".rstrip()
    if status == 413 and code != "RequestTooLargeException":  # the local emulator's 413 answer
        return _TooMuch(message)
    throttled = code in ("TooManyRequestsException", "ThrottlingException", "EC2ThrottledException")
    return _Failed(message, retry=throttled or status in _RETRY_STATUSES)


def _function_failure(body: bytes) -> _Failed:
    """The function raised (or ran out of time or memory): its error object."""
    try:
        error = orjson.loads(body)
    except orjson.JSONDecodeError:
        error = None
    if not isinstance(error, dict):
        error = {"errorMessage": body[:200].decode(errors="replace")}
    kind = str(error.get("errorType", ""))
    text = str(error.get("errorMessage", ""))
    if kind in ("Function.ResponseSizeTooLarge", "Sandbox.Timedout") or "Task timed out" in text:
        return _TooMuch(f"{kind or 'error'}: {text}")
    return _Failed(f"the function failed: {kind or 'error'}: {text}")


def _from_object(answer: dict[str, Any]) -> Any:
    """An answer that is an object: the results bucket's URL, fetched; or the service's
    error object.

    Raises:
        _TooMuch: the error says the answer is too large (413).
        _Failed: another error, or the results could not be fetched.
    """
    results = answer.get("results")
    if isinstance(results, dict) and isinstance(results.get("url"), str):
        return _fetch(results["url"], gzipped=results.get("content_encoding") == "gzip")
    status = answer.get("status")
    message = f"{status}: {answer.get('error', answer)}"
    if status == 413:
        raise _TooMuch(message)
    raise _Failed(f"the function answered {message}", retry=isinstance(status, int) and status >= 500)


def _fetch(url: str, *, gzipped: bool) -> Any:
    """The answer kept in the results bucket, read through its presigned URL.

    Raises:
        _Failed: it could not be read (retried: the object lives a day).
    """
    try:
        with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 (an https URL it signed)
            body = response.read()
        return orjson.loads(gzip.decompress(body) if gzipped else body)
    except (urllib.error.URLError, OSError, orjson.JSONDecodeError) as exc:
        raise _Failed(f"cannot read the answer from the results bucket: {exc}", retry=True) from None


def _failed(group: Sequence[JobWindow], message: str) -> list[WindowResult]:
    return [WindowResult(item.window, Status.ERROR, message=message) for item in group]
