"""The page on a bucket (the real SCEDC sample files on moto S3): the channel list is asked for
as the network and station are typed (a bucket holds thousands of StationXML files), and a real
40 Hz hour is plotted from the service's samples."""

from __future__ import annotations

from pathlib import Path

import httpx
from page_helpers import Traffic
from playwright.sync_api import Page, expect


def test_type_ahead_asks_for_the_typed_network_then_plots_real_data(
    page: Page, s3_app_url: str, traffic: Traffic, artifacts: Path
) -> None:
    page.goto(f"{s3_app_url}/")
    page.wait_for_function("() => window.swPage && window.swPage.ready")
    # Nothing listed before a network is typed: no whole-archive listing on a bucket.
    assert page.eval_on_selector_all("#channels option", "os => os.length") == 0
    assert not [u for u in traffic.requests if "/fdsnws/station/" in u]
    page.locator("#channel").press_sequentially("CI.C", delay=30)
    page.wait_for_function("() => document.querySelectorAll('#channels option').length > 0", timeout=30_000)
    asked = [u for u in traffic.requests if "/fdsnws/station/" in u]
    assert asked and all("net=CI" in u and "sta=C" in u for u in asked), asked
    options = page.eval_on_selector_all("#channels option", "os => os.map(o => o.value)")
    assert "CI.CCA..BHN" in options and all(o.startswith("CI.C") for o in options), options
    page.fill("#channel", "CI.CCA..BHN")
    page.click("#add")
    page.fill("#start", "2022-01-02T12:00:00")
    page.click("#presets button:text-is('1 h')")
    page.click("#plot")
    page.wait_for_function("() => swPage.plotted >= 1 && !swPage.pending", timeout=60_000)
    held = page.evaluate("() => swPage.charts[0].source.data")
    body = {
        "Windows": [
            {
                "Network": "CI",
                "Station": "CCA",
                "Location": "",
                "Channel": "BHN",
                "Starttime": "2022-01-02T12:00:00.000000",
                "Endtime": "2022-01-02T13:00:00.000000",
            }
        ]
    }
    (answer,) = httpx.post(f"{s3_app_url}/timewindows", json=body, timeout=60).json()
    assert held == answer["data"] and len(held) == 144_001
    expect(page.locator("#map circle.station")).to_have_count(1)  # CI.CCA's StationXML coordinates
    page.screenshot(path=artifacts / "bucket-cca.png", full_page=True)
