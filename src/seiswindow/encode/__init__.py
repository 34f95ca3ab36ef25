"""Results into answers: the tutorial's JSON, miniSEED records, and the size rule.

The JSON answer is the one the SCEDC tutorial's Lambda function returns, built by
ObsPy there as ``st = read(file).merge(); st.trim(t0, t1)`` then one object per
trace with ``tr.stats`` and ``tr.data.tolist()``. Its keys, in the tutorial's
order: ``network, station, channel, delta, location, starttime, endtime,
sampling_rate, data``; then ours: ``status, message, gaps`` and, when asked,
``segments``. Differences from the tutorial, on purpose:

- one object per window, always, in the order of the request (the tutorial drops
  the windows it finds no file for, so positions shift); a window without samples
  has ``data: []`` and ``sampling_rate``/``delta`` ``null``, its ``starttime`` and
  ``endtime`` being the window asked for;
- times are printed as ObsPy prints a ``UTCDateTime`` (``str()``:
  ``2022-01-01T23:55:00.071860Z``), with the UTC designator that the tutorial's
  ``isoformat()`` leaves out.

``data`` holds every sample on one grid with ``null`` at each missing sample, the
``tolist()`` of ObsPy's masked merged trace (:func:`~seiswindow.trim.merge_segments`
follows ``Stream.merge(method=0)``: overlaps that disagree become ``null`` too). With
``segments`` asked, ``data`` is left out and ``segments`` lists each contiguous
run of samples instead. Samples are serialised by orjson straight from numpy.

:class:`Body` assembles an answer's bytes, gzipped when wanted, and raises
:class:`~seiswindow.errors.LimitExceeded` as soon as it would be larger than
``Limits.max_response_bytes`` as it will travel (raw over HTTP, base64 or escaped
inside a Lambda proxy answer, re-serialised by the Lambda runtime for a direct
invocation): the status is decided before the first byte is sent.

The package's parts: ``_json`` (the JSON answer), ``_mseed`` (the miniSEED answer, records
packed by :mod:`seiswindow.mseed`), ``_body`` (:class:`Body`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ..model import Window, estimated_samples
from ..trim import Merged, merge_segments
from ._body import GZIP_LEVEL, GZIP_MIN_BYTES, STREAM_AFTER_BYTES, Body
from ._json import (
    _JSON_SLICE,  # noqa: F401  (tests bound the slices by it)
    JSON_MEDIA_TYPE,
    encode_json,
    json_sample_pieces,
    json_samples,
    window_json,
    window_json_pieces,
)
from ._mseed import MSEED_MEDIA_TYPE, encode_mseed, mseed_records

__all__ = [
    "GZIP_LEVEL",
    "GZIP_MIN_BYTES",
    "JSON_MEDIA_TYPE",
    "MSEED_MEDIA_TYPE",
    "STREAM_AFTER_BYTES",
    "Body",
    "Merged",
    "OutputFormat",
    "encode_json",
    "encode_mseed",
    "json_sample_pieces",
    "json_samples",
    "merge_segments",
    "mseed_records",
    "window_json",
    "window_json_pieces",
]


class OutputFormat(StrEnum):
    """What an answer is made of."""

    JSON = "json"
    MINISEED = "miniseed"
    #: where each window's records lie in the archive (JSON; see :mod:`seiswindow.manifest`)
    MANIFEST = "manifest"

    @property
    def media_type(self) -> str:
        return MSEED_MEDIA_TYPE if self is OutputFormat.MINISEED else JSON_MEDIA_TYPE

    def most_bytes(self, windows: Iterable[Window]) -> int:
        """The most bytes an answer for ``windows`` takes in this format, before gzip, from
        the samples each window may return (:func:`~seiswindow.model.estimated_samples`):
        what lets an answer be streamed with its status decided before the first byte.

        Exact for integer samples (what Steim records hold), which JSON prints in at most 11
        characters and a comma, and miniSEED packs in under 5 bytes (Steim2's worst case with
        its headers); 10 bytes cover a float64 in miniSEED. A window's other keys, gaps and
        message are counted at 64 KiB. Float samples printed in JSON may take more than 12
        bytes: the answer's size is still checked as it is written.
        """
        per_sample = 12 if self is OutputFormat.JSON else 10
        return sum(per_sample * estimated_samples(w) + _MOST_BYTES_PER_WINDOW for w in windows)


#: A window's keys, gaps and message, at most (see :meth:`OutputFormat.most_bytes`).
_MOST_BYTES_PER_WINDOW = 64 * 1024
