"""Samples serialised in slices (to bound orjson's working memory) print exactly as
``json.dumps(masked_array.tolist())``, at and across every slice boundary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seiswindow.encode import _JSON_SLICE, json_samples


@pytest.mark.parametrize("n", [0, 1, _JSON_SLICE - 1, _JSON_SLICE, _JSON_SLICE + 1, 3 * _JSON_SLICE + 17])
def test_plain_samples(n: int) -> None:
    samples = np.random.default_rng(n).integers(-(2**31), 2**31 - 1, n, dtype=np.int32)
    assert json_samples(samples) == json.dumps(samples.tolist(), separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "holes",
    [
        [(0, 1)],
        [(_JSON_SLICE - 2, _JSON_SLICE + 2)],
        [(5, 9), (2 * _JSON_SLICE, 3 * _JSON_SLICE)],
        [(-3, None)],
    ],
)
def test_masked_samples(holes: list[tuple[int, int | None]]) -> None:
    samples = np.arange(-_JSON_SLICE * 2, _JSON_SLICE * 2, dtype=np.int32)
    mask = np.zeros(samples.shape, dtype=bool)
    for a, b in holes:
        mask[a:b] = True
    expected = json.dumps(np.ma.masked_array(samples, mask).tolist(), separators=(",", ":")).encode()
    assert json_samples(samples, mask) == expected
