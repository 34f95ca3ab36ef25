"""SeisBench, unmodified, loading data sets; run in its own environment (.venv-seisbench).

SeisBench needs torch, which the project never installs: the test runs this script with the
interpreter of ``make install-seisbench``'s environment. It imports nothing of seiswindow and
decides nothing: it reports what ``seisbench.data.WaveformDataset`` makes of each directory,
and the test compares the report with ObsPy reading the sample files.

Input (stdin): ``{name: directory}``. Output (stdout): ``{name: report}``, a report being
``{"len", "data_format", "metadata": [row...], "waveforms": [[[sample...] per component] per
trace], "dtypes", "shapes"}`` or ``{"error": class name, "message": text}``.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np
import seisbench.data as sbd


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _report(path: str) -> dict[str, Any]:
    try:
        data = sbd.WaveformDataset(path)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
        return {"error": type(exc).__name__, "message": str(exc)}
    waveforms = [data.get_waveforms(i) for i in range(len(data))]
    return {
        "len": len(data),
        "data_format": {k: _plain(v) for k, v in data.data_format.items()},
        "metadata": [{k: _plain(v) for k, v in row.items()} for row in data.metadata.to_dict("records")],
        "waveforms": [w.tolist() for w in waveforms],
        "dtypes": [str(w.dtype) for w in waveforms],
        "shapes": [list(w.shape) for w in waveforms],
    }


def main() -> None:
    paths: dict[str, str] = json.load(sys.stdin)
    json.dump({name: _report(path) for name, path in paths.items()}, sys.stdout)


if __name__ == "__main__":
    main()
