"""Names of the files an answer holds, and the zip that holds several."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from ..model import Nslc
from ..nstime import NS_PER_S

__all__ = ["ZIP_MEDIA_TYPE", "file_name", "zip_files"]

ZIP_MEDIA_TYPE = "application/zip"


def file_name(nslc: Nslc, start: int, extension: str) -> str:
    """``CI.CCA..BHN.2022.002.010000.SAC``: the codes and the segment's start (UTC, to the nearest
    second), as IRIS names the files of its answers."""
    import datetime as dt

    when = dt.datetime.fromtimestamp(round(start / NS_PER_S), dt.UTC)
    return f"{nslc}.{when:%Y.%j.%H%M%S}.{extension}"


def zip_files(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip (deflated) of ``(name, bytes)``; a name met twice gets ``-2``, ``-3``..."""
    buffer = io.BytesIO()
    seen: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            count = seen[name] = seen.get(name, 0) + 1
            if count > 1:
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}-{count}{dot}{ext}"
            archive.writestr(name, data)
    return buffer.getvalue()
