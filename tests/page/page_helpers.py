"""Helpers of the browser tests: where Chromium is, its flags, what the page asked for."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "page"
#: Flags that keep Chromium off the network on its own account (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: URL schemes that never leave the machine.
LOCAL_SCHEMES = ("data", "blob", "about")


def chromium_path() -> str:
    """Debian's Chromium; skip (or fail under CI) when it is not installed."""
    path = os.environ.get("SEISWINDOW_CHROMIUM") or shutil.which("chromium")
    if path:
        return path
    reason = "Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Traffic:
    """Every request the page made, and those refused for leaving 127.0.0.1."""

    origin: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    #: Requests the page's Content-Security-Policy stopped in the browser (never sent).
    blocked_by_csp: list[str] = field(default_factory=list)

    def local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        return parts.scheme in ("http", "https", "ws") and parts.hostname == "127.0.0.1"

    def after(self, mark: int) -> list[str]:
        return self.requests[mark:]

    def failed(self, request: Request) -> None:
        if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP"):  # Chromium says "csp"
            self.blocked_by_csp.append(request.url)

    def sent_elsewhere(self) -> list[str]:
        """Requests to another host that the browser did send (or tried to)."""
        return [u for u in self.requests if not self.local(u) and u not in self.blocked_by_csp]


def record_timing(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` to ``tests/artifacts/page/timings-<name>.json`` and print them (the
    measurements the issue asks to report; run pytest with ``-s`` to see them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"timings-{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n{name} timings ({path}):\n{json.dumps(figures, indent=2)}")
    return path
