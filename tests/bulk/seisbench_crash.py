"""A bulk job killed mid-window: writes two windows, then SIGKILLs itself after the third
window's samples are stored (HDF5 flushed and fsync'ed) and before its csv row is appended.

Run by tests/bulk/test_seisbench.py as ``python seisbench_crash.py SHARED_DATA DATASET [nofsync]``;
a real kill (no ``finally``, no ``close``): the test sees what the files hold afterwards.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy.typing as npt
from bulk_windows import trio_windows

from seiswindow.bulk.seisbench import SeisBenchWriter


def main() -> None:
    shared, dataset = Path(sys.argv[1]), Path(sys.argv[2])
    w1, w2, w3 = trio_windows(shared)
    fsync = sys.argv[3:] != ["nofsync"]
    writer = SeisBenchWriter(dataset, component_order="ZNE", sampling_rate=1.0, fsync=fsync)
    for w in (w1, w2):
        writer.add(w.window_id, w.components(), w.metadata, w.arrivals())
    store = writer._write_samples

    def store_then_die(data: npt.NDArray[Any]) -> str:
        store(data)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")

    writer._write_samples = store_then_die  # type: ignore[method-assign]
    writer.add(w3.window_id, w3.components(), w3.metadata, w3.arrivals())


if __name__ == "__main__":
    main()
