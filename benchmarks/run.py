"""``python -m benchmarks``: run every case on both systems, with and without shaping,
print the markdown report and write it to ``benchmarks/RESULTS.md``.

``--quick`` runs one case once, shaped only, with a small encoding check: it proves the
harness works (the smoke test uses it) and writes nothing unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._paths import RESULTS_FILE
from .cases import CASES, Case, case_named, with_reps
from .measure import Calibration, ColdStart, Measurement, Shaping, calibrate, measure, measure_cold_start
from .micro import load_samples, time_json_encoding
from .report import Results, render
from .s3data import BENCH_BUCKET, start_bench_s3

__all__ = ["SHAPED", "UNSHAPED", "main"]

#: What real S3 costs from a client in the same region: a round trip of tens of ms, and
#: about 100 MB/s on one connection.
SHAPED = Shaping("shaped", delay_s=0.020, bandwidth_bps=100e6)
UNSHAPED = Shaping("unshaped", delay_s=0.0, bandwidth_bps=None)
_DESCRIBED = {
    "shaped": "With the proxy shaping S3: 20 ms per request, 100 MB/s per connection",
    "unshaped": "Without shaping: loopback moto, no delay, no bandwidth cap",
}
#: Fresh processes per system for the cold start.
_COLD_RUNS = 3
_ENCODE_SAMPLES = 1_000_000
_ENCODE_REPS = 5
#: The case whose first request a cold start answers.
_COLD_CASE = "lambda"
#: The file the calibration reads, and how many sequential requests it times.
_CALIBRATION_KEY = "continuous_waveforms/2022/2022_002/CICCA__BHN___2022002.ms"
_CALIBRATION_COUNT = 20


def _log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one case, one repetition, shaped only")
    parser.add_argument(
        "--case",
        action="append",
        choices=[c.name for c in CASES],
        help="run only this case (repeatable)",
    )
    parser.add_argument("--reps", type=int, help="repetitions per case (default: per case)")
    parser.add_argument("--no-unshaped", action="store_true", help="skip the runs without shaping")
    parser.add_argument("--out", type=Path, help=f"write the report here (default: {RESULTS_FILE.name})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success."""
    from tests.support.s3proxy import S3Proxy

    args = _parse(argv)
    started = time.monotonic()
    cases: list[Case] = [case_named(n) for n in args.case] if args.case else list(CASES)
    if args.quick:
        cases = [case_named(args.case[0] if args.case else "5min-40hz")]
    reps = 1 if args.quick and args.reps is None else args.reps
    if reps is not None:
        cases = [with_reps(c, reps) for c in cases]
    shapings = [SHAPED] if args.quick or args.no_unshaped else [SHAPED, UNSHAPED]
    out = args.out if args.out is not None else (None if args.quick else RESULTS_FILE)
    needs_generated = any(c.bucket == BENCH_BUCKET for c in cases)

    _log("starting moto on 127.0.0.1 and loading the data", started)
    s3 = start_bench_s3(generate=needs_generated)
    for f in s3.generated:
        _log(f"generated {f.key}: {f.size / 1e6:.1f} MB, {f.bytes_per_sample:.2f} bytes/sample", started)
    measurements: list[Measurement] = []
    cold: list[ColdStart] = []
    calibrations: list[Calibration] = []
    try:
        with S3Proxy(s3.endpoint) as proxy:
            for shaping in shapings:
                _log(f"{shaping.label}: calibrating the S3 server", started)
                shared_size = (s3.data_root / "scedc-pds" / _CALIBRATION_KEY).stat().st_size
                objects = [("scedc-pds", _CALIBRATION_KEY, shared_size)]
                objects += [(BENCH_BUCKET, f.key, f.size) for f in s3.generated[:1]]
                for bucket, key, size in objects:
                    calibrations.append(
                        calibrate(
                            proxy,
                            shaping,
                            bucket=bucket,
                            key=key,
                            size=size,
                            count=5 if args.quick else _CALIBRATION_COUNT,
                        )
                    )
                for case in cases:
                    for system in ("baseline", "ours"):
                        _log(f"{shaping.label} {case.name} {system} x{case.reps}", started)
                        m = measure(case, system, proxy=proxy, shaping=shaping, warmup=not args.quick)
                        _log(
                            f"  median {m.median_s * 1e3:.0f} ms, {m.bytes_per_run} B, "
                            f"{m.requests_per_run} requests, peak RSS {m.peak_rss_kb // 1024} MB",
                            started,
                        )
                        measurements.append(m)
            if not args.quick:
                cold_case = case_named(_COLD_CASE)
                for system in ("baseline", "ours"):
                    _log(f"cold start {system} x{_COLD_RUNS}", started)
                    cold.append(
                        measure_cold_start(cold_case, system, proxy=proxy, shaping=SHAPED, runs=_COLD_RUNS)
                    )
    finally:
        s3.stop()
    _log("JSON encoding", started)
    shared = s3.data_root / "scedc-pds" / _CALIBRATION_KEY
    npts = 100_000 if args.quick else _ENCODE_SAMPLES
    encode = time_json_encoding(load_samples(shared, npts), reps=1 if args.quick else _ENCODE_REPS)
    results = Results(
        cases=cases,
        shapings=[s.label for s in shapings],
        measurements=measurements,
        encode=encode,
        cold=cold or None,
        calibrations=calibrations,
        elapsed_s=time.monotonic() - started,
        quick=args.quick,
    )
    text = render(results, shapings_described=_DESCRIBED)
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        _log(f"written to {out}", started)
    _log("done", started)
    return 0
