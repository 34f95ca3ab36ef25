// seiswindow's waveform browser: pick channels and a span, plot them, zoom, download.
// It calls only the app's own endpoints, by relative URLs (so it works under a root path):
//   fdsnws/station/1/query  the channel list (type-ahead) and station coordinates (map);
//   timewindows             the samples (POST, the tutorial's JSON) and the downloads;
//   page/api/envelope       min/max per pixel column when a view holds too many samples;
//   openapi.json            the formats /timewindows answers in (one download button each).
// window.swPage exposes the state, the plotted data and the timings (the browser tests read them).
"use strict";
(() => {
  // Samples of one channel fetched as samples at most; a longer view is fetched as an envelope.
  const RAW_MAX = 400000;
  const $ = (id) => document.getElementById(id);
  const state = { channels: [], start: "", duration: 3600, view: null };
  const catalog = new Map(); // "NET.STA.LOC.CHA" -> {net, sta, loc, cha, lat, lon, rate, start}
  const charts = []; // {key, channel, plot, source, display, gaps}
  const api = (window.swPage = {
    state, catalog, charts, RAW_MAX,
    timings: { plots: [] }, plotted: 0, pending: 0, formats: [], catalogLoaded: false,
  });
  let programmatic = 0; // > 0 while the page itself sets scales (not a user's zoom)
  let zoomTimer = null;
  let generation = 0; // answers of superseded loads are dropped

  // ---- codes and times ----------------------------------------------------------------
  const keyOf = (c) => `${c.net}.${c.sta}.${c.loc}.${c.cha}`;
  function parseKey(text) {
    const parts = text.trim().toUpperCase().split(".");
    if (parts.length !== 4 || !parts[0] || !parts[1] || parts[3].length !== 3) return null;
    return { net: parts[0], sta: parts[1], loc: parts[2] === "--" ? "" : parts[2], cha: parts[3] };
  }
  // ISO 8601 UTC (as the service writes it: microseconds, Z) to epoch seconds, fraction kept.
  function toSeconds(iso) {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?Z?$/.exec(String(iso).trim());
    if (!m) return NaN;
    const whole = Date.parse(`${m[1]}T${m[2] || "00"}:${m[3] || "00"}:${m[4] || "00"}Z`) / 1000;
    return whole + (m[5] ? parseFloat(m[5]) : 0);
  }
  function toIso(seconds) {
    let whole = Math.floor(seconds);
    let micro = Math.round((seconds - whole) * 1e6);
    if (micro >= 1e6) { whole += 1; micro -= 1e6; }
    return `${new Date(whole * 1000).toISOString().slice(0, 19)}.${String(micro).padStart(6, "0")}`;
  }
  const bandRate = { L: 1, M: 10, B: 40, H: 100, E: 100, S: 50, V: 0.1, U: 0.01 };
  const rateOf = (c) => catalog.get(keyOf(c))?.rate || bandRate[c.cha[0]] || 100;

  function say(text, error = false) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }
  async function failure(response) {
    try { return (await response.json()).error || response.statusText; } catch { return response.statusText; }
  }

  // ---- the channel list (type-ahead) and the map ---------------------------------------
  // The channel list: the whole archive's when it is local (the demo, a directory); on a
  // bucket (thousands of StationXML files) only the networks and stations typed so far.
  const asked = new Set();
  async function loadCatalog(query = {}) {
    const q = new URLSearchParams({ ...query, level: "channel", format: "text" });
    if (asked.has(String(q))) return;
    asked.add(String(q));
    const r = await fetch(`fdsnws/station/1/query?${q}`);
    if (r.status === 200) {
      for (const line of (await r.text()).split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const f = line.split("|");
        const c = { net: f[0], sta: f[1], loc: f[2], cha: f[3], lat: +f[4], lon: +f[5], rate: +f[14], start: f[15] };
        catalog.set(keyOf(c), c);
      }
    } else if (r.status !== 204) {
      throw new Error(await failure(r));
    }
    const list = $("channels");
    list.replaceChildren(...[...catalog.keys()].sort().map((key) => new Option(key.replace("..", ".--."), key)));
  }
  async function loadFirstCatalog() {
    const health = await (await fetch("health")).json();
    const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(health?.archive?.url || "");
    api.wholeCatalog = !remote;
    if (remote) $("channel").placeholder = "type a network and a dot, e.g. CI.";
    else await loadCatalog();
    api.catalogLoaded = true;
  }
  let typed = null;
  function typeAhead() {
    // NET. or NET.STA: ask the station service for that network's (stations') channels.
    clearTimeout(typed);
    const [net, sta] = $("channel").value.trim().toUpperCase().split(".");
    if (api.wholeCatalog || !net || sta === undefined || !/^[A-Z0-9]{1,2}$/.test(net)) return;
    const query = { net, sta: `${(sta || "").replace(/[^A-Z0-9]/g, "")}*` };
    typed = setTimeout(() => loadCatalog(query).catch((err) => say(`channel list: ${err.message || err}`, true)), 250);
  }

  let land = null;
  async function loadLand() {
    // Natural Earth 1:110m land (world-atlas, TopoJSON): decode the quantized, delta-coded arcs.
    const topo = await (await fetch("page/static/vendor/world-atlas/land-110m.json")).json();
    const [sx, sy] = topo.transform.scale, [tx, ty] = topo.transform.translate;
    const arcs = topo.arcs.map((arc) => {
      let x = 0, y = 0;
      return arc.map(([dx, dy]) => { x += dx; y += dy; return [x * sx + tx, y * sy + ty]; });
    });
    const ring = (indexes) => indexes.flatMap((i, n) => {
      const pts = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      return n ? pts.slice(1) : pts;
    });
    const polygons = [];
    for (const g of topo.objects.land.geometries) {
      const polys = g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
      for (const p of polys) polygons.push(p.map(ring));
    }
    land = polygons;
  }

  function drawMap() {
    const svg = $("map");
    const here = [...new Map(state.channels.map((c) => [`${c.net}.${c.sta}`, catalog.get(keyOf(c))])).values()]
      .filter((c) => c && Number.isFinite(c.lat) && Number.isFinite(c.lon));
    const lats = here.map((c) => c.lat), lons = here.map((c) => c.lon);
    const pad = 8;
    let [w, s, e, n] = here.length
      ? [Math.min(...lons) - pad, Math.min(...lats) - pad, Math.max(...lons) + pad, Math.max(...lats) + pad]
      : [-180, -90, 180, 90];
    if ((e - w) < 1.3 * (n - s)) { const mid = (e + w) / 2; w = mid - 0.65 * (n - s); e = mid + 0.65 * (n - s); }
    svg.setAttribute("viewBox", `${w} ${-n} ${e - w} ${n - s}`);
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    if (land) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("class", "land");
      path.setAttribute("d", land.map((poly) => poly.map((r) => "M" + r.map(([x, y]) => `${x.toFixed(3)},${(-y).toFixed(3)}`).join("L") + "Z").join("")).join(""));
      svg.append(path);
    }
    const grid = document.createElementNS(ns, "path");
    let d = "";
    for (let x = Math.ceil(w / 5) * 5; x <= e; x += 5) d += `M${x},${-n}V${-s}`;
    for (let y = Math.ceil(s / 5) * 5; y <= n; y += 5) d += `M${w},${-y}H${e}`;
    grid.setAttribute("class", "grid");
    grid.setAttribute("d", d);
    svg.append(grid);
    for (const c of here) {
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("class", "station");
      dot.setAttribute("cx", c.lon); dot.setAttribute("cy", -c.lat); dot.setAttribute("r", (n - s) / 60);
      dot.dataset.station = `${c.net}.${c.sta}`;
      const title = document.createElementNS(ns, "title");
      title.textContent = `${c.net}.${c.sta} ${c.lat}°, ${c.lon}°`;
      dot.append(title);
      svg.append(dot);
    }
    $("where").textContent = here.map((c) => `${c.net}.${c.sta}: ${c.lat.toFixed(4)}° N, ${c.lon.toFixed(4)}° E`).join("; ");
  }

  // ---- chosen channels, the span, the URL -----------------------------------------------
  function renderChosen() {
    const ul = $("chosen");
    ul.replaceChildren(...state.channels.map((c, i) => {
      const li = document.createElement("li");
      li.textContent = keyOf(c);
      const x = document.createElement("button");
      x.type = "button"; x.textContent = "×"; x.title = "remove";
      x.onclick = () => { state.channels.splice(i, 1); renderChosen(); drawMap(); };
      li.append(x);
      return li;
    }));
  }
  function addChannel(text) {
    const c = parseKey(text);
    if (!c) { say(`not a channel: ${text} (NET.STA.LOC.CHA)`, true); return false; }
    if (!state.channels.some((x) => keyOf(x) === keyOf(c))) state.channels.push(c);
    if (!$("start").value) {
      const known = catalog.get(keyOf(c));
      if (known?.start) $("start").value = known.start;
    }
    renderChosen(); drawMap();
    return true;
  }
  function writeUrl() {
    const q = new URLSearchParams();
    q.set("ch", state.channels.map(keyOf).join(","));
    q.set("start", state.start);
    q.set("dur", String(state.duration));
    if (state.view) { q.set("from", toIso(state.view[0])); q.set("to", toIso(state.view[1])); }
    history.replaceState(null, "", `?${q}`);
  }
  async function readUrl() {
    const q = new URLSearchParams(location.search);
    if (!api.wholeCatalog) {
      const named = (q.get("ch") || "").split(",").map(parseKey).filter(Boolean);
      await Promise.all(named.map((c) => loadCatalog({ net: c.net, sta: c.sta }).catch(() => null)));
    }
    for (const k of (q.get("ch") || "").split(",").filter(Boolean)) addChannel(k);
    if (q.get("start")) $("start").value = q.get("start");
    if (q.get("dur")) $("duration").value = q.get("dur");
    const from = toSeconds(q.get("from") || ""), to = toSeconds(q.get("to") || "");
    return Number.isFinite(from) && Number.isFinite(to) && to > from ? [from, to] : null;
  }

  // ---- fetching: samples, or an envelope ------------------------------------------------
  async function fetchSamples(c, a, b) {
    const body = { Windows: [{ Network: c.net, Station: c.sta, Location: c.loc, Channel: c.cha, Starttime: toIso(a), Endtime: toIso(b) }] };
    const r = await fetch("timewindows", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(await failure(r));
    const [w] = await r.json();
    return { kind: "samples", a, b, t0: toSeconds(w.starttime || ""), dt: w.delta, data: w.data || [], gaps: w.gaps || [], status: w.status, message: w.message || "" };
  }
  async function fetchEnvelope(c, a, b, bins) {
    const q = new URLSearchParams({ net: c.net, sta: c.sta, loc: c.loc || "--", cha: c.cha, start: toIso(a), end: toIso(b), bins: String(bins) });
    const r = await fetch(`page/api/envelope?${q}`);
    if (!r.ok) throw new Error(await failure(r));
    const e = await r.json();
    return { kind: "envelope", a, b, bins: e.bins, min: e.min, max: e.max, gaps: e.gaps, status: e.status, message: e.message, npts: e.npts };
  }
  function fetchView(c, a, b, width) {
    api.fetches.push({ channel: keyOf(c), a, b, kind: (b - a) * rateOf(c) <= RAW_MAX ? "samples" : "envelope" });
    return (b - a) * rateOf(c) <= RAW_MAX ? fetchSamples(c, a, b) : fetchEnvelope(c, a, b, width);
  }
  api.fetches = [];

  // ---- what is drawn: at most two points (min, max) per pixel column --------------------
  function display(source, a, b, width) {
    const xs = [], ys = [];
    if (source.kind === "envelope") {
      const step = (source.b - source.a) / source.bins;
      for (let k = 0; k < source.bins; k++) {
        const x = source.a + k * step;
        if (source.min[k] === null) { xs.push(x); ys.push(null); continue; }
        xs.push(x, x + step / 2); ys.push(source.min[k], source.max[k]);
      }
      return { mode: "envelope", a: source.a, b: source.b, bins: source.bins, xs, ys };
    }
    const { t0, dt, data } = source;
    const first = Math.max(0, Math.ceil((a - t0) / dt)), last = Math.min(data.length - 1, Math.floor((b - t0) / dt));
    if (last - first + 1 <= 2 * width) {
      for (let i = first; i <= last; i++) { xs.push(t0 + i * dt); ys.push(data[i]); }
      return { mode: "samples", a, b, first, last, xs, ys };
    }
    // Slot of sample i: floor((t0 + i*dt - a) * width / (b - a)); a slot with no sample is a gap.
    const lo = new Array(width).fill(null), hi = new Array(width).fill(null);
    for (let i = first; i <= last; i++) {
      const v = data[i];
      if (v === null) continue;
      const k = Math.floor((t0 + i * dt - a) * width / (b - a));
      if (k < 0 || k >= width) continue;
      if (lo[k] === null || v < lo[k]) lo[k] = v;
      if (hi[k] === null || v > hi[k]) hi[k] = v;
    }
    const step = (b - a) / width;
    for (let k = 0; k < width; k++) {
      const x = a + k * step;
      if (lo[k] === null) { xs.push(x); ys.push(null); continue; }
      xs.push(x, x + step / 2); ys.push(lo[k], hi[k]);
    }
    return { mode: "minmax", a, b, bins: width, first, last, xs, ys };
  }

  // ---- the plots ---------------------------------------------------------------------
  const plotWidth = () => Math.max(300, Math.floor($("plots").clientWidth || 900));
  function gapBands(u, chart) {
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = "rgba(200, 40, 40, 0.12)";
    for (const g of chart.gaps) {
      const x0 = u.valToPos(toSeconds(g.start), "x", true), x1 = u.valToPos(toSeconds(g.end), "x", true);
      const left = Math.max(x0, u.bbox.left), right = Math.min(x1, u.bbox.left + u.bbox.width);
      if (right > left) ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
    }
    ctx.restore();
  }
  // Tick labels in UTC, 24 h, as seismologists write times; the date on the first tick and
  // wherever it changes; fractions of a second when the ticks are closer than a second.
  function timeLabels(u, splits, axis, space, incr) {
    let day = "";
    return splits.map((v) => {
      const iso = toIso(v);
      const date = iso.slice(0, 10);
      let time = incr >= 86400 ? "" : incr >= 60 ? iso.slice(11, 16) : incr >= 1 ? iso.slice(11, 19) : iso.slice(11, 23);
      if (date !== day || incr >= 86400) { time = time ? `${time}\n${date}` : date; day = date; }
      return time;
    });
  }
  function makeChart(c, holder) {
    const chart = { key: keyOf(c), channel: c, plot: null, source: null, display: null, gaps: [] };
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = keyOf(c).replace("..", ".--.");
    holder.append(title);
    chart.plot = new uPlot({
      width: plotWidth(), height: 170,
      scales: { x: { time: true } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"), // seismology is in UTC
      // uPlot's own double-click would zoom out to the data held; the page's goes to the whole span.
      cursor: { sync: { key: "seiswindow" }, drag: { x: true, y: false }, bind: { dblclick: () => () => null } },
      legend: { show: false },
      series: [{}, { label: chart.key, stroke: "#1f4e9a", width: 1, spanGaps: false, points: { show: false } }],
      axes: [{ values: timeLabels, space: 70 }, { size: 70 }],
      hooks: {
        draw: [(u) => gapBands(u, chart)],
        setScale: [(u, key) => { if (key === "x" && !programmatic) zoomed(u.scales.x.min, u.scales.x.max); }],
      },
    }, [[], []], holder);
    chart.plot.over.addEventListener("dblclick", () => zoomed(...span()), true);
    return chart;
  }
  function show(chart, a, b) {
    chart.display = display(chart.source, a, b, api.width);
    chart.gaps = chart.source.gaps;
    programmatic++;
    try {
      chart.plot.setData([chart.display.xs, chart.display.ys], false);
      chart.plot.setScale("x", { min: a, max: b });
    } finally { programmatic--; }
  }
  const span = () => { const a = toSeconds(state.start); return [a, a + state.duration]; };

  async function load(a, b, { fresh }) {
    const mine = ++generation;
    askedView = [a, b];
    const t = { start: performance.now(), fresh, seconds: b - a, samples: 0 };
    api.pending++;
    try {
      // The plotting area's width in CSS pixels: one slot (min and max) per pixel column.
      const width = charts[0]?.plot.over.clientWidth || plotWidth();
      api.width = width;
      const sources = await Promise.all(charts.map((chart) => {
        const s = chart.source;
        // Samples already held cover the view: redraw from them, no fetch.
        if (!fresh && s && s.kind === "samples" && s.a <= a && s.b >= b) return s;
        return fetchView(chart.channel, a, b, width);
      }));
      if (mine !== generation) return;
      t.fetched = performance.now();
      sources.forEach((s, i) => { charts[i].source = s; show(charts[i], a, b); t.samples += s.kind === "samples" ? s.data.length : s.npts; });
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      t.drawn = performance.now();
      api.timings.plots.push({ fetchMs: t.fetched - t.start, drawMs: t.drawn - t.fetched, totalMs: t.drawn - t.start, seconds: t.seconds, samples: t.samples, kinds: sources.map((s) => s.kind) });
      const [sa, sb] = span();
      state.view = fresh || (a === sa && b === sb) ? null : [a, b];
      writeUrl();
      $("view").textContent = `${toIso(a)} – ${toIso(b)}`;
      const notes = sources.map((s, i) => s.status && s.status !== "ok" ? `${charts[i].key}: ${s.status}${s.message ? ` (${s.message})` : ""}` : "").filter(Boolean);
      say(notes.length ? notes.join("; ") : `${charts.length} channel(s), ${t.samples.toLocaleString()} samples`);
      api.plotted++;
    } catch (err) {
      if (mine === generation) say(String(err.message || err), true);
      api.failed = (api.failed || 0) + 1;
    } finally { api.pending--; }
  }
  let askedView = null;
  function zoomed(a, b) {
    if (!(b > a)) return;
    // uPlot reports the page's own setScale calls too (after they return): one load per view.
    if (askedView && askedView[0] === a && askedView[1] === b) return;
    clearTimeout(zoomTimer);
    zoomTimer = setTimeout(() => {
      programmatic++;
      try { for (const c of charts) c.plot.setScale("x", { min: a, max: b }); } finally { programmatic--; }
      load(a, b, { fresh: false });
    }, 120);
  }
  api.zoom = (a, b) => zoomed(a, b);

  async function plot(view = null) {
    state.start = $("start").value.trim();
    state.duration = Number($("duration").value);
    const [a, b] = span();
    if (!state.channels.length) { say("choose a channel first", true); return; }
    if (!Number.isFinite(a) || !(state.duration > 0)) { say("give a start (ISO 8601, UTC) and a duration in seconds", true); return; }
    for (const c of charts) c.plot.destroy();
    charts.length = 0;
    const area = $("plots");
    area.replaceChildren();
    for (const c of state.channels) {
      const holder = document.createElement("div");
      holder.className = "chart";
      holder.dataset.channel = keyOf(c);
      area.append(holder);
      charts.push(makeChart(c, holder));
    }
    $("toolbar").hidden = false;
    say("loading…");
    await load(a, b, { fresh: true });
    if (view) await load(view[0], view[1], { fresh: false });
  }

  // ---- downloads: what is shown, in each format /timewindows answers -------------------
  async function loadFormats() {
    try {
      const spec = await (await fetch("openapi.json")).json();
      const schema = spec.paths["/timewindows"].post.requestBody.content["application/json"].schema;
      api.formats = schema.properties.Format.enum;
    } catch { api.formats = ["json", "miniseed"]; }
    const extension = { json: "json", miniseed: "mseed", manifest: "manifest.json", "sac.zip": "zip", sac: "zip", sacbl: "zip", sacbb: "zip", saca: "saca", "geocsv.tspair": "csv", "geocsv.slist": "csv", tspair: "txt", slist: "txt", plot: "png", audio: "wav" };
    for (const fmt of api.formats) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.format = fmt;
      button.textContent = fmt === "miniseed" ? "miniSEED" : fmt.toUpperCase();
      button.onclick = () => download(fmt, extension[fmt] || fmt);
      $("downloads").append(" ", button);
    }
  }
  async function download(fmt, extension) {
    const [a, b] = state.view || span();
    const body = { Windows: state.channels.map((c) => ({ Network: c.net, Station: c.sta, Location: c.loc, Channel: c.cha, Starttime: toIso(a), Endtime: toIso(b) })) };
    const r = await fetch(`timewindows?format=${encodeURIComponent(fmt)}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (r.status === 204) { say("no samples in view: nothing to download", true); return; }
    if (!r.ok) { say(await failure(r), true); return; }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await r.blob());
    const first = state.channels[0];
    link.download = `${keyOf(first)}${state.channels.length > 1 ? "+" + (state.channels.length - 1) : ""}_${toIso(a).replace(/[:.]/g, "")}.${extension}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  // ---- wiring ------------------------------------------------------------------------
  $("add").onclick = () => { if (addChannel($("channel").value)) $("channel").value = ""; };
  $("channel").addEventListener("input", typeAhead);
  $("channel").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); $("add").click(); } });
  for (const b of document.querySelectorAll("#presets button")) b.onclick = () => { $("duration").value = b.dataset.seconds; };
  $("pick").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("channel").value.trim()) $("add").click();
    plot();
  });
  $("reset").onclick = () => zoomed(...span());
  const inView = () => state.view || span();
  const pan = (f) => { const [a, b] = inView(); zoomed(a + f * (b - a), b + f * (b - a)); };
  $("pan-left").onclick = () => pan(-0.5);
  $("pan-right").onclick = () => pan(0.5);
  $("zoom-out").onclick = () => { const [a, b] = inView(); zoomed(a - (b - a) / 2, b + (b - a) / 2); };
  document.addEventListener("keydown", (e) => {
    if (!charts.length || e.target.closest("input, textarea, select")) return;
    if (e.key === "ArrowLeft") pan(-0.5);
    else if (e.key === "ArrowRight") pan(0.5);
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) api.timings[entry.name] = entry.startTime;
  }).observe({ type: "paint", buffered: true });

  (async () => {
    try {
      await Promise.all([loadFirstCatalog(), loadLand().catch(() => null), loadFormats()]);
    } catch (err) { say(`channel list: ${err.message || err}`, true); }
    drawMap();
    const view = await readUrl();
    api.ready = true;
    if (state.channels.length && $("start").value) await plot(view);
  })();
})();
