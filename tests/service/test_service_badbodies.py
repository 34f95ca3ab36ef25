"""Generated bad requests over a real socket: never a 5xx, always a 4xx with a message.

Every generated body is bad by construction (not valid JSON, not of the request's shape,
or one window with one broken field), so a 200 is a failure too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seiswindow.http import INVOCATIONS_PATH

GOOD = {
    "Network": "CI",
    "Station": "WBM",
    "Channel": "LHZ",
    "Location": "  ",
    "Starttime": "2022-01-02T10:00:00",
    "Endtime": "2022-01-02T10:00:10",
}

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)

# Values that are wrong for each field (right type or not).
_bad_code = st.one_of(
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
    st.text(min_size=1, max_size=12).filter(lambda s: not s.strip().isalnum() or not s.strip().isascii()),
    st.text(alphabet="ABCDEFGHIJ0123456789", min_size=6, max_size=12),  # too long for any code
)
_bad_time = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.text(max_size=25).filter(lambda s: not s[:4].isdigit()),
    st.sampled_from(["2022-13-01T00:00:00", "2022-02-30", "2022-01-01T25:00:00", "2022-366", "yesterday"]),
)


@st.composite
def _bad_window_request(draw: st.DrawFn) -> dict[str, Any]:
    windows = [dict(GOOD) for _ in range(draw(st.integers(1, 4)))]
    target = windows[draw(st.integers(0, len(windows) - 1))]
    key = draw(st.sampled_from(["Network", "Station", "Channel", "Starttime", "Endtime", "missing", "order"]))
    if key in ("Network", "Station", "Channel"):
        target[key] = draw(_bad_code)
    elif key in ("Starttime", "Endtime"):
        target[key] = draw(_bad_time)
    elif key == "missing":
        del target[draw(st.sampled_from(["Network", "Station", "Channel", "Starttime", "Endtime"]))]
    else:  # end before start
        target["Starttime"], target["Endtime"] = target["Endtime"], target["Starttime"]
    return {"Windows": windows}


def _bytes_of(value: Any) -> bytes:
    return json.dumps(value).encode()


_bad_bodies = st.one_of(
    # Not JSON at all (a valid JSON text is mostly a number or a string here: still bad).
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    # JSON, but not {"Windows": [windows]}.
    _json.filter(lambda v: not (isinstance(v, dict) and any(str(k).lower() == "windows" for k in v))).map(
        _bytes_of
    ),
    st.fixed_dictionaries({"Windows": _json.filter(lambda v: not isinstance(v, list) or not v)}).map(
        _bytes_of
    ),
    st.fixed_dictionaries({"Windows": st.lists(_json_scalars, min_size=1, max_size=3)}).map(_bytes_of),
    # The request's shape with one window broken.
    _bad_window_request().map(_bytes_of),
    # Bad options.
    st.fixed_dictionaries(
        {
            "Windows": st.just([GOOD]),
            "Segments": st.one_of(
                st.integers(2),
                st.text(min_size=2, max_size=5).filter(
                    lambda s: s.lower() not in ("true", "false", "yes", "no", "on", "off")
                ),
            ),
        }
    ).map(_bytes_of),
    st.fixed_dictionaries(
        {
            "Windows": st.just([GOOD]),
            "Format": st.text(max_size=8).filter(
                lambda s: s.strip().lower() not in ("json", "miniseed", "mseed")
            ),
        }
    ).map(_bytes_of),
)


@pytest.fixture(scope="module")
def client(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=60) as c:
        yield c


def test_bad_bodies_get_a_4xx_with_a_message(client: httpx.Client) -> None:
    statuses: list[int] = []

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(body=_bad_bodies, route=st.sampled_from(["/timewindows", "/timewindows", INVOCATIONS_PATH]))
    def post(body: bytes, route: str) -> None:
        r = client.post(route, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        statuses.append(r.status_code)
        assert 400 <= r.status_code < 500, (r.status_code, body, r.text[:300])
        doc = r.json()
        message = doc.get("error") or doc.get("errorMessage")
        assert isinstance(message, str) and message.strip()
        assert "Traceback" not in r.text

    post()
    print(f"{len(statuses)} bad bodies over a socket, statuses {sorted(set(statuses))}")
    assert len(statuses) >= 500
