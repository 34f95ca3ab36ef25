"""Processing of windows as IRIS's ``irisws-timeseries`` does it: the steps a request names
(:mod:`.steps`, parsed with no I/O and no ObsPy), applied by ObsPy (:mod:`.apply`, imported
only when a request asks for processing) with the channel's response from the archive's
StationXML (:mod:`.response`)."""

from __future__ import annotations

from .steps import PROCESS_PARAMETERS, Chain, parse_chain, process_items

__all__ = ["PROCESS_PARAMETERS", "Chain", "parse_chain", "process_items"]
