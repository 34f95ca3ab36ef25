"""Pyrocko's FDSN client, unmodified, run in its own environment (.venv-pyrocko).

Pyrocko's Python 3.11 wheels need numpy<2, the service runs on numpy 2: the test starts the
service in its own process and runs this script with the Pyrocko environment's interpreter.
The script only calls Pyrocko's public API as its documentation shows and reports what the
client made of the answers; it imports nothing of seiswindow, and decides nothing: the test
compares the report with ObsPy reading the archive's files.

Input (stdin): ``{"site": base URL, "calls": {name: call}}``, a call being one of
``{"wadl": service}``, ``{"station": kwargs, "selection": lines|None, "at": t}``,
``{"dataselect": kwargs, "selection": lines|None, "tmin": t, "tmax": t}`` (times as
``YYYY-MM-DD HH:MM:SS``); a call may name a ``site`` of its own. Output (stdout): ``{"warnings": [...], "results": {name: result}}``;
a result is ``{"error": class name, "message": text}`` when the client raised.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from typing import Any

from pyrocko import io, trace, util
from pyrocko.client import fdsn


class _Warnings(logging.Handler):
    """Pyrocko's warnings (e.g. a WADL it cannot use to check parameters), kept for the report."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


def _selection(lines: list[list[str]] | None) -> list[tuple[str, str, str, str, float, float]] | None:
    if not lines:
        return None
    return [(n, s, loc, c, util.str_to_time(t0), util.str_to_time(t1)) for n, s, loc, c, t0, t1 in lines]


def _times(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pyrocko takes times as floats (seconds since the epoch), as its documentation shows."""
    return {k: util.str_to_time(v) if k.endswith("time") else v for k, v in kwargs.items()}


def _stations(site: str, call: dict[str, Any]) -> dict[str, Any]:
    sx = fdsn.station(site=site, selection=_selection(call["selection"]), **_times(call["station"]))
    channels = []
    for network in sx.network_list:
        for station in network.station_list:
            for channel in station.channel_list:
                channels.append(
                    {
                        "nslc": [network.code, station.code, channel.location_code, channel.code],
                        "start": util.time_to_str(channel.start_date, format="%Y-%m-%dT%H:%M:%S"),
                        "latitude": channel.latitude.value,
                        "longitude": channel.longitude.value,
                        "elevation": channel.elevation.value,
                        "depth": channel.depth.value,
                        "sample_rate": channel.sample_rate.value if channel.sample_rate else None,
                        "station_latitude": station.latitude.value,
                        "station_longitude": station.longitude.value,
                    }
                )
    # Pyrocko's station model (one per sensor) at a time, as its processing tools take it.
    stations = [
        {
            "nsl": list(s.nsl()),
            "lat": s.lat,
            "lon": s.lon,
            "elevation": s.elevation,
            "depth": s.depth,
            "channels": sorted(c.name for c in s.get_channels()),
        }
        for s in sx.get_pyrocko_stations(time=util.str_to_time(call["at"]))
    ]
    return {"channels": channels, "pyrocko_stations": stations}


def _waveforms(site: str, call: dict[str, Any]) -> dict[str, Any]:
    """The documented way: save the answer, ``io.load`` it, ``chop`` to the window (with its
    last sample, as ObsPy's ``trim`` keeps it)."""
    answer = fdsn.dataselect(site=site, selection=_selection(call["selection"]), **_times(call["dataselect"]))
    tmin, tmax = util.str_to_time(call["tmin"]), util.str_to_time(call["tmax"])
    with tempfile.NamedTemporaryFile(suffix=".mseed") as f:
        f.write(answer.read())
        f.flush()
        loaded = io.load(f.name, format="mseed")
    traces = []
    for tr in sorted(loaded, key=lambda t: (t.nslc_id, t.tmin)):
        try:
            tr.chop(tmin, tmax, include_last=True)
        except trace.NoData:
            continue
        traces.append(
            {
                "nslc": list(tr.nslc_id),
                "tmin": tr.tmin,
                "deltat": tr.deltat,
                "dtype": str(tr.ydata.dtype),
                "data": tr.ydata.tolist(),
            }
        )
    return {"loaded": len(loaded), "traces": traces}


def _run(site: str, call: dict[str, Any]) -> dict[str, Any]:
    try:
        if "wadl" in call:
            return {"params": sorted(fdsn.supported_params_wadl(call["wadl"], site=site))}
        if "station" in call:
            return _stations(site, call)
        return _waveforms(site, call)
    except Exception as e:  # reported by class, for the test to judge (EmptyResult or a wrong kind)
        return {"error": type(e).__name__, "message": str(e)}


def main() -> None:
    request = json.load(sys.stdin)
    warnings = _Warnings()
    logging.getLogger("pyrocko").addHandler(warnings)
    calls = request["calls"].items()
    results = {name: _run(call.get("site", request["site"]), call) for name, call in calls}
    json.dump({"warnings": warnings.messages, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
