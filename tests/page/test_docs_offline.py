"""``/docs`` (Swagger UI) and ``/redoc`` render the API in a real Chromium with every asset
served by the app: no request leaves 127.0.0.1 (issue 14)."""

from __future__ import annotations

from pathlib import Path

import httpx
from page_helpers import Traffic
from playwright.sync_api import Page, expect


def test_swagger_ui_renders_the_operations_offline(
    page: Page, app_url: str, traffic: Traffic, artifacts: Path
) -> None:
    page.goto(f"{app_url}/docs")
    operation = page.locator("#operations-default-timewindows_timewindows_post")
    expect(operation).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path", has_text="/fdsnws/dataselect/1/query").first).to_be_visible()
    # The tutorial's request is the example of the request body.
    operation.locator(".opblock-summary").click()
    expect(operation.locator(".body-param__example, .microlight").first).to_contain_text('"BOM"')
    page.screenshot(path=artifacts / "docs.png", full_page=True)
    assert any(u.endswith("/static-offline-docs/swagger-ui-bundle.js") for u in traffic.requests)
    assert any(u.endswith("/openapi.json") for u in traffic.requests)


def test_redoc_renders_the_operations_offline(
    page: Page, app_url: str, traffic: Traffic, artifacts: Path
) -> None:
    page.goto(f"{app_url}/redoc")
    expect(page.get_by_text("Samples of each window", exact=False).first).to_be_visible(timeout=15_000)
    page.screenshot(path=artifacts / "redoc.png")
    # ReDoc's bundle asks for its logo on a CDN: the page's Content-Security-Policy stops it
    # in the browser (the guard of the fixture would have refused it otherwise).
    assert traffic.blocked_by_csp == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert any(u.endswith("/static-offline-docs/redoc.standalone.js") for u in traffic.requests)


def test_docs_html_names_no_other_host(app_url: str) -> None:
    # The pages as served (before any script runs) load their assets from the app.
    for path in ("/docs", "/redoc"):
        html = httpx.get(f"{app_url}{path}", timeout=30).text
        assert "cdn.jsdelivr.net" not in html and "fonts.googleapis" not in html, path
        assert "/static-offline-docs/" in html, path
    assert httpx.get(f"{app_url}/static-offline-docs/swagger-ui.css", timeout=30).status_code == 200
