"""Processed windows (issue 13): latency and memory of seiswindow's chain against ObsPy doing
the same on the tutorial's pipeline, and what processing costs the unprocessed path.

Each system runs in a fresh Python process per measurement (so imports, caches and peak RSS
are its own), on the shared sample files read from local disk (the read path's costs on S3
are the main benchmark's; here only what processing adds is compared):

- ``seiswindow``: ``Timeseries`` reads the window's records from the day file (ranged reads),
  applies the chain with ObsPy's ``Trace`` methods, writes SAC into a zip;
- ``obspy-tutorial``: the tutorial's function: ``obspy.read`` of the whole day file,
  ``merge``, ``trim``, then the same ObsPy methods and SAC writer;
- ``seiswindow-raw``: seiswindow's unprocessed JSON answer of the same window, for reference.

Figures: the first call in a fresh process (imports included), the median of 5 calls after
it, the peak of Python/numpy allocations during one warm call (tracemalloc), the process's
peak RSS; then the import time of the Lambda windows path (``seiswindow.aws``) and of the
processing modules, and the installed size of the ``process`` extra.

    .venv/bin/python -m benchmarks.process            # --quick: one chain, one repetition
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .s3data import default_data_root

DATA = default_data_root() / "scedc-pds"
DAY_FILE = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
WINDOW = ("CI", "CCA", "", "BHN", "2022-01-02T01:00:00", "2022-01-02T01:10:00")
CHAINS = {
    "demean, bp 0.1-1": [("demean", "true"), ("bp", "0.1-1")],
    "demean, taper, correct VEL": [
        ("demean", "true"),
        ("taper", "0.05"),
        ("correct", "true"),
        ("units", "VEL"),
        ("freqlimits", "0.01-0.02-8-10"),
    ],
}
REPS = 5

_CHILD = r"""
import json, resource, statistics, sys, time, tracemalloc
began = time.perf_counter()
system, chain_items, data_root, day_file, window, reps = json.loads(sys.argv[1])

if system.startswith("seiswindow"):
    from seiswindow import Archive, Extractor, Window
    from seiswindow.archive import layout_named
    from seiswindow.store import LocalStore
    from seiswindow.timeseries import Timeseries
    from seiswindow.formats import Format
    from seiswindow.process import parse_chain
    from seiswindow.encode import encode_json
    extractor = Extractor(Archive(LocalStore(data_root), layout_named("scedc")))
    timeseries = Timeseries(extractor)
    w = Window.create(*window)
    chain = parse_chain([tuple(i) for i in chain_items])

    def run():
        global samples
        if system == "seiswindow-raw":
            return len(encode_json(extractor.extract([w])))
        results = timeseries.results([w], chain)
        samples = results[0].segments[0].samples
        return len(timeseries.render(results, Format.SAC_ZIP, chain=chain).rendered.body)
else:
    import io, zipfile
    import obspy
    from obspy import UTCDateTime
    t0, t1 = UTCDateTime(window[4]), UTCDateTime(window[5])
    inventory = None

    def step(tr, name, value, options):
        if name == "demean":
            tr.detrend("demean")
        elif name == "taper":
            tr.taper(max_percentage=float(value), type="hann")
        elif name == "bp":
            lo, hi = sorted(float(v) for v in value.split("-"))
            mean = tr.data.mean()
            tr.data = tr.data - mean
            tr.filter("bandpass", freqmin=lo, freqmax=hi, corners=4, zerophase=False)
            tr.data = tr.data + mean
        elif name == "correct":
            global inventory
            if inventory is None:
                inventory = obspy.read_inventory(f"{data_root}/FDSNstationXML/CI/CI_CCA.xml")
            out = {"VEL": "VEL", "DIS": "DISP", "ACC": "ACC"}[options["units"]]
            limits = tuple(float(v) for v in options["freqlimits"].split("-"))
            tr.remove_response(inventory, output=out, pre_filt=limits, water_level=None)

    def run():
        global samples
        st = obspy.read(f"{data_root}/{day_file}").merge()
        st.trim(t0, t1)
        tr = st[0]
        tr.data = tr.data.astype("float64")
        options = dict(chain_items)
        for name, value in chain_items:
            if name not in ("units", "freqlimits"):
                step(tr, name, value, options)
        samples = tr.data
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            sac = io.BytesIO()
            tr.write(sac, format="SAC")
            z.writestr("a.SAC", sac.getvalue())
        return len(buffer.getvalue())

samples = None
imported = time.perf_counter()
size = run()
first = time.perf_counter() - began
warm = []
for _ in range(reps):
    t = time.perf_counter()
    run()
    warm.append(time.perf_counter() - t)
tracemalloc.start()
run()
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"first_s": first, "import_s": imported - began, "warm_s": statistics.median(warm),
    "alloc_peak_mb": peak / 1e6, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "bytes": size, "samples": None if samples is None else [float(v) for v in samples]}))
"""

_IMPORTS = r"""
import sys, time
t = time.perf_counter()
import seiswindow.aws, seiswindow.webapp
aws = time.perf_counter() - t
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"obspy", "matplotlib", "scipy"})
t = time.perf_counter()
import seiswindow.process.apply, seiswindow.formats.obspy_writers
processing = time.perf_counter() - t
t = time.perf_counter()
import seiswindow.formats.plot, matplotlib.figure, matplotlib.backends.backend_agg
plot = time.perf_counter() - t
print(aws, processing, plot, ",".join(heavy) or "none")
"""


def _child(system: str, chain: list[tuple[str, str]]) -> dict[str, Any]:
    job = json.dumps([system, chain, str(DATA), DAY_FILE, list(WINDOW), REPS])
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, job], capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _imports(runs: int = 5) -> tuple[float, float, float, str]:
    rows = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORTS], capture_output=True, text=True, timeout=300, check=True
        )
        aws, processing, plot, heavy = out.stdout.split()
        rows.append((float(aws), float(processing), float(plot), heavy))
    return (
        statistics.median(r[0] for r in rows),
        statistics.median(r[1] for r in rows),
        statistics.median(r[2] for r in rows),
        rows[0][3],
    )


def _installed_mb(*packages: str) -> float:
    site = Path(__import__("numpy").__file__).parent.parent
    total = 0
    for name in packages:
        for path in (site / name).rglob("*"):
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def _agree(ours: list[float], theirs: list[float]) -> str:
    """Both systems' processed samples agree (within 1e-9 of the largest magnitude)."""
    if len(ours) != len(theirs):
        return "no"
    scale = max(abs(v) for v in theirs) or 1.0
    return "yes" if max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) <= 1e-9 * scale else "no"


def _row(label: str, system: str, m: dict[str, Any], agree: str) -> None:
    print(
        f"| {label} | {system} | {m['first_s'] * 1e3:.0f} ms | {m['warm_s'] * 1e3:.1f} ms "
        f"| {m['alloc_peak_mb']:.1f} MB | {m['rss_mb']:.0f} MB | {agree} |"
    )


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    global REPS
    REPS = 1 if quick else REPS
    print(
        f"| chain | system | first call (imports incl.) | warm (median of {REPS}) | alloc peak | peak RSS "
        "| same samples |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for label, chain in list(CHAINS.items())[: 1 if quick else None]:
        ours, theirs = _child("seiswindow", chain), _child("obspy-tutorial", chain)
        agree = _agree(ours["samples"], theirs["samples"])
        _row(label, "seiswindow", ours, agree)
        _row(label, "obspy-tutorial", theirs, agree)
    _row("none (JSON)", "seiswindow-raw", _child("seiswindow-raw", []), "")
    if quick:
        return 0
    aws, processing, plot, heavy = _imports()
    print()
    print(f"import seiswindow.aws + webapp: {aws * 1e3:.0f} ms (median of 5; heavy modules loaded: {heavy})")
    print(f"then processing (ObsPy, scipy) when first asked: +{processing * 1e3:.0f} ms", end="")
    print(f"; the plot (matplotlib): +{plot * 1e3:.0f} ms")
    size = _installed_mb("obspy", "matplotlib", "scipy", "scipy.libs", "PIL", "pillow.libs")
    print(f"installed size of the process extra (obspy, matplotlib, scipy, pillow): {size:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
