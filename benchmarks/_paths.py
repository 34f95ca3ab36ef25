"""Where things are, wherever the benchmark is started from."""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPO_ROOT", "RESULTS_FILE"]

#: The repository root (the parent of ``benchmarks/``).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The committed results table.
RESULTS_FILE = REPO_ROOT / "benchmarks" / "RESULTS.md"
