"""The HTTP front door: the app of :mod:`seiswindow.webapp` with the local Lambda
invocation, served by uvicorn (``seiswindow serve``).

Beside the routes of :func:`seiswindow.webapp.create_app`:

- ``POST /2015-03-31/functions/function/invocations``: what the Lambda runtime
  interface emulator answers for this function (:func:`seiswindow.aws.emulator.invoke`),
  so the tutorial's ``curl -X POST -d @request.json
  http://localhost:9000/2015-03-31/functions/function/invocations -o output.json``
  works without Docker; the body is read as it is, whatever its ``Content-Type``
  (``curl -d`` says ``application/x-www-form-urlencoded``), bounded like every body.
  It answers with ``X-Amz-Executed-Version: $LATEST`` as Lambda's invoke API does, so
  boto3's ``lambda`` client (``endpoint_url`` this server) invokes ``function`` here; with
  ``SEISWINDOW_RESULTS`` (``Settings.results``), an answer too large for Lambda is handed
  over through that bucket as the deployed function's is (:mod:`seiswindow.aws.results`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi import Response as HttpResponse
from starlette.concurrency import run_in_threadpool

from .aws.emulator import INVOCATIONS_PATH, invoke
from .bodylimit import BodyLimit
from .config import Settings
from .encode import JSON_MEDIA_TYPE
from .extract import Extractor
from .service import Service
from .webapp import TUTORIAL_REQUEST, error_responses
from .webapp import create_app as create_web_app

__all__ = ["INVOCATIONS_PATH", "TUTORIAL_REQUEST", "BodyLimit", "create_app", "serve"]

#: What Lambda's invoke API says of the version it ran (boto3's ``ExecutedVersion``).
_EXECUTED = {"X-Amz-Executed-Version": "$LATEST"}


def create_app(settings: Settings | None = None, *, extractor: Extractor | None = None) -> FastAPI:
    """The HTTP app, with the local Lambda invocation; arguments as for
    :func:`seiswindow.webapp.create_app`.

    Raises:
        ConfigError: the settings name an invalid archive.
    """
    app = create_web_app(settings, extractor=extractor)
    service: Service = app.state.service
    used: Settings = app.state.settings
    results = None
    if used.results:
        from .aws.results import ResultsBucket

        results = ResultsBucket(used.results, region=used.region, endpoint_url=used.endpoint_url)

    @app.post(
        INVOCATIONS_PATH,
        summary="Invoke the Lambda handler as the runtime interface emulator does",
        openapi_extra={
            "requestBody": {"required": True, "content": {JSON_MEDIA_TYPE: {"example": TUTORIAL_REQUEST}}}
        },
        responses={200: {"description": "the handler's return value as JSON"}, **error_responses(400, 413)},
        response_class=HttpResponse,
    )
    async def invocations(request: Request) -> HttpResponse:
        payload = await request.body()  # bounded by BodyLimit
        status, body = await run_in_threadpool(invoke, payload, service=service, results=results)
        return HttpResponse(content=body, status_code=status, media_type=JSON_MEDIA_TYPE, headers=_EXECUTED)

    return app


def serve(settings: Settings | None = None, *, host: str = "127.0.0.1", port: int = 9000) -> None:
    """Run the HTTP app with uvicorn until interrupted.

    Raises:
        ConfigError: the settings name an invalid archive (before anything listens).
    """
    import uvicorn

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="info")
