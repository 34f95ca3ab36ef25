"""The waveform browser at ``/`` in a real headless Chromium, on the offline demo archive
(issue 14): no request leaves 127.0.0.1 (the ``page`` fixture's guard), the plotted points are
the service's JSON, the demo's 30 s hole is drawn as a hole, zooming fetches the detail, the
download buttons return the files, the URL holds the selection. Screenshots and the timings
go to ``tests/artifacts/page/``."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import obspy
import pytest
from page_helpers import Traffic, record_timing
from playwright.sync_api import Page, expect

BHZ, BHN, BHE = "SY.DEMO..BHZ", "SY.DEMO..BHN", "SY.DEMO..BHE"
#: The demo's BHZ lacks 10:00:00 to 10:00:30 on 2024-01-01.
GAP = (1704103200.0, 1704103230.0)


def _window(app_url: str, key: str, start: str, end: str, fmt: str = "json") -> Any:
    net, sta, loc, cha = key.split(".")
    body = {
        "Windows": [
            {
                "Network": net,
                "Station": sta,
                "Location": loc,
                "Channel": cha,
                "Starttime": start,
                "Endtime": end,
            }
        ]
    }
    r = httpx.post(f"{app_url}/timewindows", params={"format": fmt}, json=body, timeout=60)
    r.raise_for_status()
    return r.json()[0] if fmt == "json" else r.content


def _plotted(page: Page, count: int) -> None:
    page.wait_for_function(
        f"() => window.swPage && window.swPage.plotted >= {count} && !window.swPage.pending", timeout=60_000
    )


def _chart(page: Page, index: int = 0) -> dict[str, Any]:
    """What chart ``index`` draws (uPlot's own data, read back) and what the page holds."""
    return page.evaluate(
        """(i) => { const c = swPage.charts[i]; const s = c.source;
        return { xs: Array.from(c.plot.data[0]), ys: Array.from(c.plot.data[1]), display: { ...c.display, xs: null, ys: null },
                 kind: s.kind, t0: s.t0, dt: s.dt, data: s.data, gaps: c.gaps, width: swPage.width,
                 scale: [c.plot.scales.x.min, c.plot.scales.x.max] }; }""",
        index,
    )


def _minmax(
    t0: float, dt: float, data: list[Any], a: float, b: float, width: int
) -> tuple[list[float], list[Any]]:
    """Min/max per pixel column, the page's arithmetic (IEEE doubles, as JavaScript's)."""
    first, last = max(0, math.ceil((a - t0) / dt)), min(len(data) - 1, math.floor((b - t0) / dt))
    lo: list[Any] = [None] * width
    hi: list[Any] = [None] * width
    for i in range(first, last + 1):
        v = data[i]
        if v is None:
            continue
        k = math.floor((t0 + i * dt - a) * width / (b - a))
        if 0 <= k < width:
            lo[k] = v if lo[k] is None else min(lo[k], v)
            hi[k] = v if hi[k] is None else max(hi[k], v)
    xs: list[float] = []
    ys: list[Any] = []
    step = (b - a) / width
    for k in range(width):
        x = a + k * step
        if lo[k] is None:
            xs.append(x)
            ys.append(None)
        else:
            xs += [x, x + step / 2]
            ys += [lo[k], hi[k]]
    return xs, ys


def _choose(page: Page, app_url: str, keys: list[str], start: str, preset: str) -> None:
    page.goto(f"{app_url}/")
    page.wait_for_function("() => window.swPage && window.swPage.ready")
    for key in keys:
        page.fill("#channel", key)
        page.click("#add")
    page.fill("#start", start)
    page.click(f"#presets button:text-is('{preset}')")
    page.click("#plot")


def test_choosing_a_channel_plots_the_services_samples(
    page: Page, app_url: str, traffic: Traffic, artifacts: Path
) -> None:
    page.goto(f"{app_url}/")
    page.wait_for_function("() => window.swPage && window.swPage.ready")
    # Type-ahead: the channel list comes from the station service.
    options = page.eval_on_selector_all("#channels option", "os => os.map(o => o.value)")
    assert {BHZ, BHN, BHE, "SY.DEMO..LHZ"} <= set(options)
    page.fill("#channel", BHZ)
    page.click("#add")
    expect(page.locator("#start")).to_have_value("2024-01-01T00:00:00")  # the channel's start
    page.fill("#start", "2024-01-01T09:30:00")
    page.click("#presets button:text-is('1 h')")
    mark = len(traffic.requests)
    page.click("#plot")
    _plotted(page, 1)

    chart = _chart(page)
    answer = _window(app_url, BHZ, "2024-01-01T09:30:00.000000", "2024-01-01T10:30:00.000000")
    assert chart["kind"] == "samples" and chart["data"] == answer["data"] and len(answer["data"]) == 144_001
    assert chart["dt"] == answer["delta"]
    # 144,000 samples drawn as min and max per pixel column of the plotting area.
    a, b = 1704101400.0, 1704105000.0
    assert chart["display"]["mode"] == "minmax" and chart["display"]["bins"] == chart["width"]
    xs, ys = _minmax(chart["t0"], chart["dt"], answer["data"], a, b, chart["width"])
    assert chart["xs"] == pytest.approx(xs, abs=1e-6) and chart["ys"] == ys
    assert len(chart["ys"]) <= 2 * chart["width"] < 3000
    assert any(u.endswith("/timewindows") for u in traffic.after(mark))
    # Everything the page asked for came from the app on 127.0.0.1, its plotting library included.
    assert traffic.refused == [] and traffic.blocked_by_csp == [] and traffic.sent_elsewhere() == []
    assert any(u.endswith("/page/static/vendor/uplot/uPlot.iife.min.js") for u in traffic.requests)
    assert all(u.startswith(f"{app_url}/") for u in traffic.requests), traffic.requests
    page.screenshot(path=artifacts / "page-1h-bhz.png", full_page=True)
    # Where the station is: a dot on the outline at the StationXML's coordinates.
    dot = page.locator("#map circle.station")
    assert (dot.get_attribute("cx"), dot.get_attribute("cy")) == ("-118", "-34")
    expect(page.locator("#where")).to_contain_text("34.0000° N, -118.0000° E")


def test_a_gap_is_drawn_as_a_gap(page: Page, app_url: str, artifacts: Path) -> None:
    _choose(page, app_url, [BHZ], "2024-01-01T09:58:00", "10 min")
    _plotted(page, 1)
    chart = _chart(page)
    assert [g["samples"] for g in chart["gaps"]] == [1200]
    # No value inside the hole; values on either side.
    inside = [y for x, y in zip(chart["xs"], chart["ys"], strict=True) if GAP[0] + 1 < x < GAP[1] - 1]
    assert inside and all(y is None for y in inside)
    assert all(
        y is not None
        for x, y in zip(chart["xs"], chart["ys"], strict=True)
        if x < GAP[0] - 1 or x > GAP[1] + 1
    )
    # And on the canvas: no pixel of the trace's colour in the hole's columns, many beside it.
    ink = page.evaluate(
        """([g0, g1]) => { const u = swPage.charts[0].plot; const ctx = u.ctx;
        const col = (x) => { const px = Math.round(u.valToPos(x, 'x', true));
          const d = ctx.getImageData(px, u.bbox.top, 1, u.bbox.height).data; let n = 0;
          for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 31) < 40 && Math.abs(d[i + 1] - 78) < 40 && d[i + 2] > 120) n++;
          return n; };
        return { hole: [0.25, 0.5, 0.75].map(f => col(g0 + f * (g1 - g0))), beside: [col(g0 - 20), col(g1 + 20)] }; }""",
        list(GAP),
    )
    assert ink["hole"] == [0, 0, 0] and min(ink["beside"]) > 0, ink
    page.locator(".chart").first.screenshot(path=artifacts / "gap.png")


def test_zoom_fetches_detail(page: Page, app_url: str, traffic: Traffic, artifacts: Path) -> None:
    # Two days of 40 Hz (6.9 million samples): an envelope per pixel column from the server.
    _choose(page, app_url, [BHN], "2024-01-01T00:00:00", "1 day")
    _plotted(page, 1)
    page.fill("#duration", "172800")
    page.click("#plot")
    _plotted(page, 2)
    chart = _chart(page)
    assert chart["kind"] == "envelope" and len(chart["ys"]) == 2 * chart["width"]
    envelope = [u for u in traffic.requests if "/page/api/envelope?" in u]
    assert len(envelope) >= 1
    page.screenshot(path=artifacts / "zoom-before.png")
    # Drag across 1 % of the plot with the mouse: about 29 minutes, fetched as samples.
    mark = len(traffic.requests)
    box = page.locator(".chart .u-over").first.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.40 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.41 * box["width"], y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => swPage.charts[0].source.kind === 'samples' && !swPage.pending", timeout=60_000
    )
    zoomed = _chart(page)
    a, b = zoomed["scale"]
    assert 1500 < b - a < 2000
    assert any(u.endswith("/timewindows") for u in traffic.after(mark))
    answer = _window(app_url, BHN, _iso(a), _iso(b))
    assert zoomed["data"] == answer["data"]
    xs, ys = _minmax(zoomed["t0"], zoomed["dt"], answer["data"], a, b, zoomed["width"])
    assert zoomed["ys"] == ys
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] and query["to"]  # the view is in the URL
    page.screenshot(path=artifacts / "zoom-after.png")
    # Further in, fewer samples than pixels: the samples themselves, at their times.
    page.evaluate("([a, b]) => swPage.zoom(a, b)", [a + 100, a + 110])
    page.wait_for_function(
        f"() => swPage.charts[0].display.mode === 'samples' && swPage.charts[0].display.a === {a + 100}"
    )
    close = _chart(page)
    i0, i1 = close["display"]["first"], close["display"]["last"]
    assert close["ys"] == answer["data"][i0 : i1 + 1] and len(close["ys"]) in (400, 401)
    assert close["xs"] == pytest.approx(
        [zoomed["t0"] + i * zoomed["dt"] for i in range(i0, i1 + 1)], abs=1e-6
    )
    # Back to the whole span: the envelope again, and no view left in the URL.
    page.click("#reset")
    page.wait_for_function(
        "() => swPage.charts[0].source.kind === 'envelope' && !swPage.pending", timeout=60_000
    )
    assert "from" not in parse_qs(urlsplit(page.url).query)
    plots = page.evaluate("() => swPage.timings.plots")
    record_timing("zoom", {"two_days_40hz_envelope_then_zooms": plots})


def _iso(seconds: float) -> str:
    whole = math.floor(seconds)
    micro = round((seconds - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{micro:06d}"


def test_download_buttons_return_the_files(page: Page, app_url: str, tmp_path: Path) -> None:
    _choose(page, app_url, [BHZ, BHE], "2024-01-01T09:59:00", "1 min")
    _plotted(page, 1)
    spec = httpx.get(f"{app_url}/openapi.json", timeout=30).json()
    schema = spec["paths"]["/timewindows"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    listed = schema["properties"]["Format"]["enum"]
    assert {"json", "miniseed", "sac", "manifest"} <= set(listed) and len(set(listed)) == len(listed)
    buttons = page.locator("#downloads button")
    expect(buttons).to_have_count(len(listed))  # the formats /timewindows lists, each once
    assert [buttons.nth(i).get_attribute("data-format") for i in range(len(listed))] == listed
    start, end = "2024-01-01T09:59:00.000000", "2024-01-01T10:00:00.000000"
    with page.expect_download() as got:
        page.click("#downloads button[data-format=json]")
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.suffix == ".json"
    windows = json.loads(saved.read_bytes())
    assert windows == [_window(app_url, BHZ, start, end), _window(app_url, BHE, start, end)]
    with page.expect_download() as got:
        page.click("#downloads button[data-format=miniseed]")
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.suffix == ".mseed"
    stream = obspy.read(str(saved), format="MSEED")
    by_id = {tr.id: tr for tr in stream.merge(method=1)}
    for key, window in zip((BHZ, BHE), windows, strict=True):
        trace = by_id[key]
        assert trace.stats.npts == len(window["data"]) and trace.data.tolist() == window["data"]


def test_the_url_holds_the_selection(page: Page, app_url: str, artifacts: Path) -> None:
    url = f"{app_url}/?ch={BHZ},{BHE}&start=2024-01-01T09:00:00&dur=3600&from=2024-01-01T09:10:00.000000&to=2024-01-01T09:20:00.000000"
    page.goto(url)
    _plotted(page, 2)
    expect(page.locator(".chart")).to_have_count(2)
    assert page.evaluate("() => swPage.charts.map(c => c.key)") == [BHZ, BHE]
    assert _chart(page, 1)["scale"] == [1704100200.0, 1704100800.0]
    expect(page.locator("#duration")).to_have_value("3600")
    page.screenshot(path=artifacts / "shared-url.png", full_page=True)
    # Pan on by half the view: 09:15 to 09:25 on both plots, and in the URL.
    page.click("#pan-right")
    page.wait_for_function("() => swPage.charts[1].plot.scales.x.min === 1704100500 && !swPage.pending")
    assert [_chart(page, i)["scale"] for i in (0, 1)] == [[1704100500.0, 1704101100.0]] * 2
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == ["2024-01-01T09:15:00.000000"] and query["to"] == ["2024-01-01T09:25:00.000000"]
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => swPage.charts[0].plot.scales.x.min === 1704100200 && !swPage.pending")


def test_first_paint_and_time_to_plot_one_hour_at_40_hz(page: Page, app_url: str) -> None:
    """Measured in the browser (Performance API), recorded, never asserted against a time."""
    page.goto(f"{app_url}/?ch={BHN}&start=2024-01-02T03:00:00&dur=3600")
    _plotted(page, 1)
    timings = page.evaluate("() => swPage.timings")
    paint = timings["first-contentful-paint"]
    (plot,) = timings["plots"]
    assert plot["samples"] == 144_001 and plot["kinds"] == ["samples"]
    page.goto(f"{app_url}/?ch={BHZ},{BHN},{BHE}&start=2024-01-02T03:00:00&dur=3600")
    _plotted(page, 1)
    (three,) = page.evaluate("() => swPage.timings.plots")
    record_timing(
        "page",
        {
            "first_contentful_paint_ms": paint,
            "one_hour_40hz_one_channel": plot,
            "one_hour_40hz_three_channels": three,
        },
    )
    assert paint > 0 and plot["totalMs"] > 0 and three["samples"] == 3 * 144_001


def test_a_refused_span_is_said_on_the_page(page: Page, app_url: str) -> None:
    # A month of 40 Hz is more than a request may decode: the service's 413 message, shown.
    page.goto(f"{app_url}/?ch={BHZ}&start=2024-01-01T00:00:00&dur=2678400")
    page.wait_for_function("() => window.swPage && swPage.failed >= 1 && !swPage.pending", timeout=60_000)
    expect(page.locator("#status")).to_have_class("error")
    expect(page.locator("#status")).to_contain_text("at most 50,000,000 per request")
