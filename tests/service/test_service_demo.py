"""The offline demo, as the README tells it: the service on ``--archive demo`` answers the
README's demo request, with the samples ObsPy reads from the generated files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_helpers import assert_tutorial_answer, oracle_segments, tutorial_answer

from seiswindow.config import Settings
from seiswindow.demo import default_demo_root
from seiswindow.http import INVOCATIONS_PATH, create_app
from support.serving import serving

ROOT = Path(__file__).resolve().parents[2]


def _demo_request() -> dict[str, Any]:
    """The JSON block after ``<!-- demo-request -->`` in the README (or in docs/service.md
    until it is merged there)."""
    for doc in (ROOT / "README.md", ROOT / "docs" / "service.md"):
        if doc.is_file():
            found = re.search(r"<!-- demo-request -->\s*```json\n(.*?)```", doc.read_text(), re.S)
            if found:
                request: dict[str, Any] = json.loads(found.group(1))
                return request
    pytest.fail("no <!-- demo-request --> block in README.md or docs/service.md")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with ``archive=demo`` (what ``make demo`` runs), its cache in a temporary
    directory instead of ~/.cache."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        app = create_app(Settings.from_env({"SEISWINDOW_ARCHIVE": "demo"}))
        assert default_demo_root().is_relative_to(cache)
        with serving(app) as url:
            yield url


def test_demo_answers_the_readme_request(demo_url: str) -> None:
    request = _demo_request()
    r = httpx.post(f"{demo_url}{INVOCATIONS_PATH}", content=json.dumps(request).encode(), timeout=60)
    assert r.status_code == 200
    answer = r.json()
    assert [w["status"] for w in answer] == ["ok", "partial", "nodata"]
    gap = answer[1]["gaps"][0]
    assert gap["samples"] == 1200  # the demo's 30 s hole at 40 Hz
    assert answer[1]["data"].count(None) == 1200
    health = httpx.get(f"{demo_url}/health", timeout=30).json()
    root = Path(health["archive"]["url"])
    assert_tutorial_answer(answer, tutorial_answer(root, "", request))
    # The HTTP route says the same.
    assert httpx.post(f"{demo_url}/timewindows", json=request, timeout=60).json() == answer


def test_segments_are_obspys_trace_split(demo_url: str) -> None:
    # The demo's BHZ gap splits the window: each segment is one piece of ObsPy's merged,
    # trimmed trace split at its masked samples.
    request = _demo_request()
    root = Path(httpx.get(f"{demo_url}/health", timeout=30).json()["archive"]["url"])
    expected = oracle_segments(root, "", request)
    assert [len(pieces) for pieces in expected] == [1, 2, 0]
    for answer in (
        httpx.post(f"{demo_url}/timewindows?segments=true", json=request, timeout=60).json(),
        httpx.post(f"{demo_url}/timewindows", json={**request, "Segments": True}, timeout=60).json(),
    ):
        for ours, theirs in zip(answer, expected, strict=True):
            assert "data" not in ours
            assert ours["segments"] == theirs
