"""schemathesis against the running service, through its command line, bounded.

Two runs, each its own ``schemathesis run`` process with a wall-clock timeout:

- ``served``: the app's own ``/openapi.json`` as the server serves it, every operation;
- ``fdsn``: the FDSN query operations only, with the parameters and POST bodies of the
  FDSN web service specifications added by the probe (`fdsn_schema`). The app declares
  those routes without parameters (they read the query string themselves), so the served
  schema makes schemathesis send them nothing but the bare path.

Cases are counted from the HAR file schemathesis writes (one entry per request sent), by
operation and status; its JSON run report gives the cases generated and the failures of
the ``not_a_server_error`` check.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

__all__ = ["FuzzResult", "fdsn_schema", "fetch_schema", "run_schemathesis"]

# Positive cases are mostly valid requests on the sample data; negative ones break the pattern.
_TIME: dict[str, Any] = {
    "type": "string",
    "pattern": r"^2022-01-0[1-3](T[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?Z?)?$",
}
_CODE: dict[str, Any] = {"type": "string", "pattern": r"^[A-Z0-9*?]{1,5}(,[A-Z0-9*?]{1,5}){0,2}$"}
_NUMBER: dict[str, Any] = {"type": "number"}
_BOOL: dict[str, Any] = {"type": "string", "enum": ["true", "false", "TRUE", "yes"]}
_CODES = {"network": _CODE, "station": _CODE, "location": _CODE, "channel": _CODE}
_NODATA: dict[str, Any] = {"type": "integer", "enum": [204, 404]}
_DATASELECT = {
    **_CODES,
    # Instants of the sample data, so that positive cases are mostly answerable windows.
    "starttime": {
        "type": "string",
        "enum": ["2022-01-02T00:00:00", "2022-01-02T12:00:00", "2022-01-01T23:59"],
    },
    "endtime": {
        "type": "string",
        "enum": ["2022-01-02T00:05:00", "2022-01-02T12:10:00.5", "2022-01-03T00:00:30"],
    },
    "quality": {"type": "string", "enum": ["D", "R", "Q", "M", "B", "X"]},
    "minimumlength": _NUMBER,
    "longestonly": _BOOL,
    "format": {"type": "string", "enum": ["miniseed", "json", ""]},
    "nodata": _NODATA,
}
#: dataselect needs both times (else every case is the same 400).
_REQUIRED = {"dataselect": {"starttime", "endtime"}, "station": set()}
_STATION = {
    **_CODES,
    "net": _CODE,  # the short aliases, on one service only (both spellings at once are a 400)
    "sta": _CODE,
    "start": _TIME,
    "end": _TIME,
    "nodata": _NODATA,
    "level": {"type": "string", "enum": ["network", "station", "channel", "response", "all"]},
    "format": {"type": "string", "enum": ["xml", "text", "geocsv"]},
    "minlatitude": _NUMBER,
    "maxlatitude": _NUMBER,
    "minlongitude": _NUMBER,
    "maxlongitude": _NUMBER,
    "latitude": _NUMBER,
    "longitude": _NUMBER,
    "minradius": _NUMBER,
    "maxradius": _NUMBER,
    "startbefore": _TIME,
    "endafter": _TIME,
    "includerestricted": _BOOL,
    "matchtimeseries": _BOOL,
    "updatedafter": _TIME,
}
#: A POST body: option lines, then selection lines (valid ones and near misses).
_POST_BODY: dict[str, Any] = {
    "type": "string",
    "pattern": (
        r"^((quality|minimumlength|longestonly|format|nodata|level)=[a-z0-9.]{1,8}\n){0,2}"
        r"((CI|BK|[A-Z*?]{1,3}) (WBM|THIS|CCA|[A-Z0-9*?]{1,5}) (--|00|\*|[A-Z0-9]{1,3}) "
        r"(LHZ|BHN|[A-Z*?]{1,3}) 2022-01-0[1-3]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9] "
        r"(2022-01-0[1-3]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]|\*)\n){1,3}$"
    ),
}


def fdsn_schema(served: dict[str, Any]) -> dict[str, Any]:
    """The served schema with FDSN query parameters (GET) and text bodies (POST) added.

    Raises:
        KeyError: the served schema has no FDSN query route.
    """
    schema = copy.deepcopy(served)
    for service, params in (("dataselect", _DATASELECT), ("station", _STATION)):
        path = schema["paths"][f"/fdsnws/{service}/1/query"]
        path["get"]["parameters"] = [
            {"name": name, "in": "query", "required": name in _REQUIRED[service], "schema": spec}
            for name, spec in params.items()
        ]
        path["post"]["requestBody"] = {"required": True, "content": {"text/plain": {"schema": _POST_BODY}}}
    return schema


@dataclass
class FuzzResult:
    """One schemathesis run: its cases, and what the service answered them."""

    name: str
    max_examples: int
    elapsed_s: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    generated: int = 0
    check_failures: int = 0
    requests: int = 0
    server_errors: int = 0
    by_operation: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    examples_5xx: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_examples": self.max_examples,
            "elapsed_s": round(self.elapsed_s, 1),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "generated": self.generated,
            "check_failures": self.check_failures,
            "requests": self.requests,
            "server_errors": self.server_errors,
            "by_operation": {op: dict(sorted(c.items())) for op, c in sorted(self.by_operation.items())},
            "examples_5xx": self.examples_5xx,
            "notes": self.notes,
        }


def _operation(method: str, path: str, operations: set[tuple[str, str]]) -> str:
    if (method.lower(), path) in operations:
        return f"{method} {path}"
    if any(p == path for _, p in operations):
        return f"other methods on {path}"  # the coverage phase's unsupported-method probes
    return f"{method} (not in schema) {path}"


def _read_har(har: Path, schema: dict[str, Any], result: FuzzResult) -> None:
    operations = {(m, p) for p, item in schema["paths"].items() for m in item}
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    for entry in entries:
        request, response = entry["request"], entry["response"]
        path = unquote(urlsplit(request["url"]).path)
        status = int(response.get("status") or 0)
        result.requests += 1
        result.by_operation[_operation(request["method"], path, operations)][status] += 1
        if status >= 500:
            result.server_errors += 1
            if len(result.examples_5xx) < 5:
                body = (request.get("postData") or {}).get("text", "")
                result.examples_5xx.append(
                    f"{request['method']} {request['url'][:200]} {body[:200]!r} -> {status}"
                )


def run_schemathesis(
    name: str,
    base_url: str,
    schema: dict[str, Any],
    workdir: Path,
    *,
    max_examples: int,
    timeout_s: float,
    include_path_regex: str | None = None,
    seed: int = 16,
) -> FuzzResult:
    """``schemathesis run`` on ``schema`` against ``base_url``, killed after ``timeout_s``.

    Phases examples, coverage and fuzzing (``--max-examples`` per operation bounds the
    fuzzing; ``--max-time`` is not used, as it makes fuzzing repeat until the time is spent).
    """
    result = FuzzResult(name, max_examples)
    executable = Path(sys.executable).with_name("schemathesis")
    if not executable.exists():
        result.notes.append("schemathesis is not installed: `make probe` installs the `probe` group")
        return result
    out = workdir / f"schemathesis-{name}"
    out.mkdir(parents=True, exist_ok=True)
    schema_file = out / "openapi.json"
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    har, report = out / "cases.har.json", out / "run.json"
    command = [
        str(executable),
        "run",
        str(schema_file),
        "--url",
        base_url,
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        "not_a_server_error",
        "--continue-on-failure",
        "--request-timeout",
        "20",
        "--workers",
        "2",
        "--seed",
        str(seed),
        "--no-shrink",
        "--report",
        "har,json",
        "--report-har-path",
        str(har),
        "--report-json-path",
        str(report),
    ]
    if include_path_regex:
        command += ["--include-path-regex", include_path_regex]
    started = time.monotonic()
    with (out / "schemathesis.log").open("wb") as log:
        # Run in the work directory: schemathesis keeps a .schemathesis/ database in its cwd.
        proc = subprocess.Popen(command, cwd=out, stdout=log, stderr=subprocess.STDOUT, env=_no_color_env())
        try:
            result.exit_code = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            result.timed_out = True
            proc.kill()
            proc.wait(10)
            result.notes.append(f"killed after {timeout_s:.0f} s")
    result.elapsed_s = time.monotonic() - started
    if report.exists():
        run = json.loads(report.read_text(encoding="utf-8"))
        result.generated = int(run["test_cases"]["generated"])
        result.check_failures = int(run["test_cases"]["with_failures"])
        for failure in run.get("failures", [])[:5]:
            result.notes.append(f"failure: {json.dumps(failure)[:300]}")
        if run.get("errors"):
            result.notes += _tool_errors(out / "schemathesis.log")
    else:
        result.notes.append("no JSON run report (see schemathesis.log)")
    if har.exists():
        _read_har(har, schema, result)
    return result


def _tool_errors(log: Path) -> list[str]:
    """schemathesis's own errors (not answers of the service), from its log's ERRORS section:
    the operation and the first line of the message."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    if not any(line.strip("= ") == "ERRORS" for line in lines):
        return ["schemathesis reported errors of its own (see schemathesis.log)"]
    notes = []
    for i, line in enumerate(lines):
        if line.startswith("____") and line.strip("_ "):
            message = [m.strip() for m in lines[i + 1 : i + 6] if m.strip()][:2]
            notes.append(f"schemathesis error of its own on `{line.strip('_ ')}`: {': '.join(message)}")
    return notes[:5]


def fetch_schema(base_url: str) -> dict[str, Any]:
    """The app's ``/openapi.json``.

    Raises:
        httpx.HTTPError: the server did not answer it.
    """
    response = httpx.get(f"{base_url}/openapi.json", timeout=30)
    response.raise_for_status()
    schema: dict[str, Any] = response.json()
    return schema


def _no_color_env() -> dict[str, str]:
    return {
        **os.environ,
        "NO_COLOR": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
