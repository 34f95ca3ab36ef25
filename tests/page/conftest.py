"""Fixtures of the browser tests (issue 14): the app on the offline demo archive under uvicorn
on 127.0.0.1, and Debian's Chromium driven by Playwright, with every request that would leave
127.0.0.1 refused and recorded.

Chromium is the system's (``/usr/bin/chromium``, installed by ``.ci/run``), never a browser
Playwright downloads. Without it the tests skip, saying so, except under CI (``CI=true``), where
its absence fails them. Screenshots go to ``tests/artifacts/page/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from page_helpers import ARTIFACTS, CHROMIUM_ARGS, Traffic, chromium_path
from playwright.sync_api import BrowserContext, Page, Playwright, Request, Route, sync_playwright

from seiswindow.config import Settings
from seiswindow.http import create_app  # what `make serve` runs: the app and the local invoke route
from support.serving import serving


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept (``tests/artifacts/page/``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as ``make demo`` serves it, on the offline demo archive in a temporary root."""
    root = tmp_path_factory.mktemp("demo-archive")
    with serving(create_app(Settings(archive="demo", demo_root=str(root)))) as url:
        yield url


@pytest.fixture(scope="session")
def s3_app_url(moto_endpoint: str) -> Iterator[str]:
    """The app on the real sample data: ``s3://scedc-pds`` on the moto server."""
    settings = Settings(archive="s3://scedc-pds", endpoint_url=moto_endpoint)
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    """Playwright's driver, per module: its event loop is gone before other packages' tests run."""
    executable = chromium_path()
    with sync_playwright() as pw:
        pw.executable = executable  # type: ignore[attr-defined]
        yield pw


@pytest.fixture
def browser_context(playwright_session: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile (its own user-data-dir) per test."""
    context = playwright_session.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=playwright_session.executable,  # type: ignore[attr-defined]
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def traffic(app_url: str) -> Traffic:
    return Traffic(origin=app_url)


@pytest.fixture
def page(browser_context: BrowserContext, traffic: Traffic) -> Iterator[Page]:
    """A page whose every request is recorded; one that would leave 127.0.0.1 is aborted and
    fails the test afterwards (an abort, not a timeout: the test learns at once)."""

    def guard(route: Route, request: Request) -> None:
        if traffic.local(request.url):
            route.continue_()
        else:
            traffic.refused.append(request.url)
            route.abort("blockedbyclient")

    browser_context.route("**/*", guard)
    tab = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    tab.on("request", lambda request: traffic.requests.append(request.url))
    tab.on("requestfailed", traffic.failed)
    yield tab
    assert traffic.refused == [], f"requests left 127.0.0.1: {traffic.refused}"
    assert traffic.sent_elsewhere() == [], f"requests left 127.0.0.1: {traffic.sent_elsewhere()}"
