"""The benchmark harness still runs: ``python -m benchmarks --quick`` (one case, one
repetition, both systems, shaped S3) must finish and report samples that agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_and_both_systems_agree(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert report.strip() == proc.stdout.strip()
    assert "| 5min-40hz | yes |" in report  # the samples of both answers are identical
    rows = [line for line in report.splitlines() if line.startswith("|  | ours |")]
    assert len(rows) == 1
    assert "JSON encoding ≥ 10× faster" in report


def test_record_index_figures_run() -> None:
    """``python -m benchmarks.recordindex`` (docs/index.md's figures) still runs: one row per file."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.recordindex"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| CI.") or line.startswith("| BK.")]
    assert len(rows) == 4 and all("kB" in row for row in rows)


def test_shared_index_figures_run() -> None:
    """``python -m benchmarks.sharedindex`` (docs/index.md, "A shared index") still runs."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.sharedindex"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| CI.") or line.startswith("| BK.")]
    assert len(rows) == 4 and all(row.count(" ms |") == 2 for row in rows)


def test_bulk_benchmark_runs(tmp_path: Path) -> None:
    """``python -m benchmarks.bulk`` (docs/bulk.md's figures) still runs: the tutorial's pipeline and the
    local job on a few windows, and the resume after a kill, which reads no done window again."""
    out = tmp_path / "bulk.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bulk",
            "--windows",
            "24",
            "--tutorial-windows",
            "2",
            "--systems",
            "tutorial",
            "local",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = out.read_text(encoding="utf-8")
    assert "| tutorial | 2 |" in table and "| local | 24 |" in table
    assert "read again 0 windows that were done" in table


def test_processing_figures_run_and_both_systems_agree() -> None:
    """``python -m benchmarks.process --quick`` (docs/formats.md's figures) still runs, and
    seiswindow's processed samples are ObsPy's on the tutorial's pipeline."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.process", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| demean, bp 0.1-1 |")]
    assert len(rows) == 2 and all(row.endswith("| yes |") for row in rows), proc.stdout
