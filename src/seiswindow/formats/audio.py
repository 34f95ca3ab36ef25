"""WAV audio of windows: 16-bit PCM, mono, by the standard library's ``wave``.

Each segment is one file; its samples are demeaned and scaled so that the largest
magnitude is full scale (32767), and played at ``rate`` Hz (seismic data are far below
hearing: IRIS plays them faster, ``audiosamplerate``). Several segments are zipped.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..model import Segment, WindowResult
from ._files import ZIP_MEDIA_TYPE, file_name, zip_files
from ._format import Rendered

__all__ = ["WAV_MEDIA_TYPE", "pcm16", "render_audio"]

WAV_MEDIA_TYPE = "audio/wav"


def pcm16(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Samples demeaned and scaled to 16-bit full scale (all zeros stay zeros)."""
    centred = samples.astype(np.float64) - float(np.mean(samples))
    peak = float(np.max(np.abs(centred))) if centred.size else 0.0
    if peak == 0.0:
        return np.zeros(centred.shape, dtype="<i2")
    return np.round(centred * (32767.0 / peak)).astype("<i2")


def _wav(seg: Segment, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16(seg.samples).tobytes())
    return buffer.getvalue()


def render_audio(results: Sequence[WindowResult], *, rate: int) -> Rendered:
    """One WAV per segment; a zip of them when there are several."""
    files = [
        (file_name(r.window.nslc, seg.start, "wav"), _wav(seg, rate)) for r in results for seg in r.segments
    ]
    if len(files) == 1:
        return Rendered(files[0][1], WAV_MEDIA_TYPE, files[0][0])
    return Rendered(zip_files(files), ZIP_MEDIA_TYPE, "timeseries.zip")
