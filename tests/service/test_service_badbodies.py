"""Generated bad requests over a real socket: never a 5xx, always a 4xx with a message.

Every body is bad by construction: not JSON, not of the request's shape, one window with
one field broken (a value of the wrong type, a character that no SEED code or ISO time
holds, a wrong length, an impossible date, times out of order), or a bad option. Nothing
is left to a filter that guesses what the server accepts, and each body is checked against
the request's specification (:func:`_could_be_valid`, the tutorial's shape and SEED's
codes written out here with the standard library only) before it is sent: a 2xx is a bug
of the server, never of the generator. The examples are derandomised (the same every run).
"""

from __future__ import annotations

import datetime as dt
import json
import re
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

# -- the specification, independent of seiswindow ------------------------------------------

#: SEED 2 code lengths (min, max); codes are ASCII letters and digits.
_CODE_LENGTHS = {"network": (1, 2), "station": (1, 5), "location": (0, 2), "channel": (3, 3)}
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]*")
#: ISO 8601 as the docs allow it: calendar or ordinal date, optional time and fraction, UTC.
_ISO = re.compile(
    r"\s*(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?"
    r"\s*(?:[Zz]|[+-]00(?::?00)?)?\s*",
    re.ASCII,
)
_FLAGS = ("true", "false", "1", "0", "yes", "no", "on", "off", "")
_FORMATS = ("json", "miniseed", "mseed", "manifest")


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not (m := _ISO.fullmatch(value)):
        return None
    year, month, day, doy, hour, minute, second, frac = m.groups()
    try:
        if not 1900 <= int(year) <= 2500:
            return None
        if doy is not None:
            date = dt.date(int(year), 1, 1) + dt.timedelta(days=int(doy) - 1)
            if date.year != int(year):
                return None
        else:
            date = dt.date(int(year), int(month), int(day))
        clock = dt.time(int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return dt.datetime.combine(date, clock) + dt.timedelta(microseconds=float(f"0.{frac or 0}") * 1e6)


def _code_ok(value: object, name: str) -> bool:
    if name == "location" and value is None:
        return True
    if not isinstance(value, str):
        return False
    code = value.strip()
    if name == "location" and code == "--":
        code = ""
    low, high = _CODE_LENGTHS[name]
    return code.isascii() and bool(_ASCII_ALNUM.fullmatch(code)) and low <= len(code) <= high


def _window_ok(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    folded = {str(k).lower(): v for k, v in item.items()}
    if not all(k in folded for k in ("network", "station", "channel", "starttime", "endtime")):
        return False
    if not all(_code_ok(folded.get(name), name) for name in _CODE_LENGTHS):
        return False
    start, end = _time(folded["starttime"]), _time(folded["endtime"])
    return start is not None and end is not None and end > start


def _could_be_valid(body: bytes, *, route: str) -> bool:
    """Whether ``body`` could be a valid request by the specification (lenient: what a
    correct server may accept), so that ``not _could_be_valid`` means bad for sure."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    if route == INVOCATIONS_PATH and isinstance(doc, str):  # an event that is the request's text
        return _could_be_valid(doc.encode("utf-8", "surrogatepass"), route="/timewindows")
    if isinstance(doc, dict):
        folded = {str(k).lower(): v for k, v in doc.items()}
        segments, fmt = folded.get("segments", False), folded.get("format", "json")
        if not (
            isinstance(segments, bool) or (isinstance(segments, str) and segments.strip().lower() in _FLAGS)
        ):
            return False
        if not (isinstance(fmt, str) and fmt.strip().lower() in _FORMATS):
            return False
        if "windows" not in folded:
            return False
        doc = folded["windows"]
    return isinstance(doc, list) and bool(doc) and all(_window_ok(w) for w in doc)


def test_the_specification_check_accepts_good_requests() -> None:
    # The checker is not trivially "bad": good requests pass it.
    good = {
        "Windows": [GOOD, {**GOOD, "Location": None, "Starttime": "2022-002T10:00", "Endtime": "2022-01-03Z"}]
    }
    assert _could_be_valid(json.dumps(good).encode(), route="/timewindows")
    assert _could_be_valid(b"\xef\xbb\xbf" + json.dumps([GOOD]).encode(), route="/timewindows")
    assert _could_be_valid(json.dumps(json.dumps(good)).encode(), route=INVOCATIONS_PATH)
    assert _could_be_valid(json.dumps({**good, "Segments": "on", "Format": " MSEED"}).encode(), route="/x")


# -- bad values, each bad by construction ----------------------------------------------------

#: Characters that no SEED code and no ISO time holds, none of them whitespace (a strip
#: cannot remove them). "ß", "ı", "ﬀ", "ſ" upper-case into ASCII letters.
_FOREIGN = [
    "ß",
    "ı",
    "ﬀ",
    "ſ",
    "é",
    "Ｗ",
    "٣",
    "/",
    ".",
    "@",
    "#",
    "!",
    "?",
    "*",
    "_",
    "\x00",
    "\u200b",
    '"',
    "\\",
]
assert not any(c.isspace() or (c.isascii() and c.isalnum()) for c in _FOREIGN)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NOT_A_STRING = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.just("CI"), max_size=2),
    st.dictionaries(st.just("code"), st.just("CI"), max_size=1),
)


def _with_foreign(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value with one foreign character inserted anywhere."""
    return st.tuples(valid, st.sampled_from(_FOREIGN), st.integers(0, 30)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    )


def _bad_code(name: str) -> st.SearchStrategy[object]:
    low, high = _CODE_LENGTHS[name.lower()]
    valid = st.text(alphabet=_ALNUM, min_size=max(low, 1), max_size=high)
    wrong_length = st.text(alphabet=_ALNUM, min_size=high + 1, max_size=high + 6)
    if low > 0:
        wrong_length |= st.text(alphabet=_ALNUM, max_size=low - 1)
    not_string = _NOT_A_STRING if name == "Location" else _NOT_A_STRING | st.none()  # None: a blank location
    return st.one_of(not_string, _with_foreign(valid), wrong_length)


_VALID_TIMES = ["2022-01-02T10:00:00", "2022-01-02T10:00:00.5Z", "2022-002T10:00", "2022-01-02"]
_bad_time = st.one_of(
    _NOT_A_STRING,
    st.none(),
    _with_foreign(st.sampled_from(_VALID_TIMES)),
    st.sampled_from(
        [
            "2022-13-01T00:00:00",
            "2022-02-30",
            "2022-01-01T25:00:00",
            "2022-01-01T10:60:00",
            "2022-366",
            "2022-000",
            "yesterday",
            "",
            "  ",
            "1899-12-31T23:59:59",
            "2501-01-01",
            "２０２２-01-02",
            "2022-01-02T10:00:00+01:00",
            "2022/01/02",
            "10:00:00",
            "2022-1-2",
        ]
    ),
)


@st.composite
def _bad_window_request(draw: st.DrawFn) -> dict[str, Any]:
    windows = [dict(GOOD) for _ in range(draw(st.integers(1, 4)))]
    target = windows[draw(st.integers(0, len(windows) - 1))]
    key = draw(
        st.sampled_from(
            ["Network", "Station", "Location", "Channel", "Starttime", "Endtime", "missing", "order"]
        )
    )
    if key in ("Network", "Station", "Location", "Channel"):
        target[key] = draw(_bad_code(key))
    elif key in ("Starttime", "Endtime"):
        target[key] = draw(_bad_time)
    elif key == "missing":
        del target[draw(st.sampled_from(["Network", "Station", "Channel", "Starttime", "Endtime"]))]
    elif draw(st.booleans()):  # end before start
        target["Starttime"], target["Endtime"] = target["Endtime"], target["Starttime"]
    else:  # an empty window
        target["Endtime"] = target["Starttime"]
    return {"Windows": windows}


def _bytes_of(value: Any) -> bytes:
    return json.dumps(value).encode()


_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
#: No letter of true/false/yes/no/on/off/json/miniseed/mseed, no digit, no whitespace.
_NOT_AN_OPTION = "xqzkwv#!"

_bad_bodies = st.one_of(
    # Not JSON, or JSON that is no request (a number, a string, a list of anything but windows).
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
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
                st.integers(),
                st.floats(allow_nan=False),
                st.text(alphabet=_NOT_AN_OPTION, min_size=1, max_size=6),
            ),
        }
    ).map(_bytes_of),
    st.fixed_dictionaries(
        {
            "Windows": st.just([GOOD]),
            "Format": st.one_of(_NOT_A_STRING, st.none(), st.text(alphabet=_NOT_AN_OPTION, max_size=8)),
        }
    ).map(_bytes_of),
)

#: Cases a random draw may miss, each once: the issue's finds and the edges of each rule.
_EXPLICIT = [
    {"Windows": [{**GOOD, "Network": "ß"}]},  # upper-cases to "SS"
    {"Windows": [{**GOOD, "Station": "ı"}]},  # upper-cases to "I"
    {"Windows": [{**GOOD, "Station": "WBﬀ"}]},
    {"Windows": [{**GOOD, "Location": "ß"}]},
    {"Windows": [{**GOOD, "Station": "ABCDEF"}]},  # 6 characters
    {"Windows": [{**GOOD, "Network": "CIX"}]},
    {"Windows": [{**GOOD, "Channel": "LH"}]},
    {"Windows": [{**GOOD, "Channel": "LHZZ"}]},
    {"Windows": [{**GOOD, "Location": "000"}]},
    {"Windows": [{**GOOD, "Endtime": GOOD["Starttime"]}]},
    {"Windows": [GOOD], "Segments": "maybe"},
    {"Windows": [GOOD], "Format": "sac"},
    {"Windows": []},
    {"windows": "all"},
]


def _explicit_bodies() -> list[bytes]:
    bodies = [_bytes_of(case) for case in _EXPLICIT]
    return [*bodies, b"\xef\xbb\xbf" + bodies[0], b"", b"null", b"[]", b"{", b"\xff\xfe{}"]


@pytest.fixture(scope="module")
def client(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=60) as c:
        yield c


def _post_bad(client: httpx.Client, body: bytes, route: str) -> int:
    assert not _could_be_valid(body, route=route), body  # bad by construction, checked by the spec
    r = client.post(route, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= r.status_code < 500, (r.status_code, body, r.text[:300])
    doc = r.json()
    message = doc.get("error") or doc.get("errorMessage")
    assert isinstance(message, str) and message.strip()
    assert "Traceback" not in r.text
    return r.status_code


@pytest.mark.parametrize("route", ["/timewindows", INVOCATIONS_PATH])
def test_explicit_bad_bodies_get_a_4xx_with_a_message(client: httpx.Client, route: str) -> None:
    for body in _explicit_bodies():
        _post_bad(client, body, route)


def test_bad_bodies_get_a_4xx_with_a_message(client: httpx.Client) -> None:
    statuses: list[int] = []

    @settings(
        max_examples=600,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
        derandomize=True,
    )
    @given(body=_bad_bodies, route=st.sampled_from(["/timewindows", "/timewindows", INVOCATIONS_PATH]))
    def post(body: bytes, route: str) -> None:
        statuses.append(_post_bad(client, body, route))

    post()
    print(f"{len(statuses)} bad bodies over a socket, statuses {sorted(set(statuses))}")
    assert len(statuses) >= 500
