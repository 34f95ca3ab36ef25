"""The page's files as the app serves them (no browser): every asset ``index.html`` names is in
the package and served from the app, under the same-origin Content-Security-Policy; the vendored
uPlot is the version its README records."""

from __future__ import annotations

import re

import httpx

from seiswindow.page import CSP, STATIC


def test_index_names_only_files_the_app_serves(app_url: str) -> None:
    r = httpx.get(f"{app_url}/", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assets = re.findall(r'(?:src|href)="([^"#]+)"', r.text)
    local = [a for a in assets if a.startswith("page/static/")]
    assert len(local) == 4, assets  # uPlot's script and style, the page's script and style
    for asset in local:
        assert (STATIC / asset.removeprefix("page/static/")).is_file(), asset
        assert httpx.get(f"{app_url}/{asset}", timeout=30).status_code == 200, asset
    # The rest are the app's own routes, relative (so a root path works): no other host.
    assert all("://" not in a for a in assets if a != "data:,"), assets
    for route in ("docs", "redoc", "health"):
        assert httpx.get(f"{app_url}/{route}", timeout=30).status_code == 200, route


def test_the_vendored_uplot_is_the_recorded_version() -> None:
    header = (STATIC / "vendor" / "uplot" / "uPlot.iife.min.js").read_text()[:80]
    version = re.search(r"uPlot \(v([\d.]+)\)", header)
    assert version is not None
    readme = (STATIC / "vendor" / "README.md").read_text()
    assert f"| {version.group(1)} |" in readme
    assert (STATIC / "vendor" / "uplot" / "LICENSE").read_text().startswith("The MIT License")
    assert "ISC" in (STATIC / "vendor" / "world-atlas" / "LICENSE").read_text()


def test_a_missing_static_file_is_a_json_404(app_url: str) -> None:
    r = httpx.get(f"{app_url}/page/static/nothing.js", timeout=30)
    assert r.status_code == 404 and r.json()["error"]
