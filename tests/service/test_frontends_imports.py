"""The service and negotiation know no web framework, and the windows path through Lambda
imports neither FastAPI nor Mangum. (No cycle and downward imports everywhere, front ends
included: tests/test_layers.py.)"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import seiswindow

PACKAGE = Path(seiswindow.__file__).parent
WEB = {"fastapi", "starlette", "uvicorn", "mangum"}


def _module_name(path: Path) -> str:
    parts = ["seiswindow", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (absolute names)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_service_and_negotiation_know_no_web_framework() -> None:
    for name in ("service.py", "negotiate.py", "errors.py"):
        imported = {m.split(".")[0] for m in _imports(PACKAGE / name)}
        assert not imported & WEB, name


def test_windows_through_the_handler_import_no_web_framework(shared_data: Path) -> None:
    code = f"""
import json, sys
from seiswindow.aws import LocalContext, handle_event
from seiswindow.config import Settings, open_service
from seiswindow.service import Service
service = open_service(Settings(archive={str(shared_data / "scedc-pds")!r}))
request = {{"Windows": [{{"Network": "CI", "Station": "WBM", "Channel": "LHZ",
    "Starttime": "2022-01-01T23:59:00", "Endtime": "2022-01-02T00:01:00"}}]}}
assert isinstance(handle_event(request, LocalContext(), service=service), list)
event = {{"version": "2.0", "rawPath": "/timewindows", "headers": {{"accept-encoding": "gzip"}},
    "requestContext": {{"http": {{"method": "POST", "path": "/timewindows"}}}}, "body": json.dumps(request)}}
assert handle_event(event, LocalContext(), service=service)["statusCode"] == 200
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({sorted(WEB)!r})))
event["rawPath"] = "/fdsnws/dataselect/1/version"
event["requestContext"]["http"] = {{"method": "GET", "path": event["rawPath"]}}
assert handle_event(event, LocalContext(), service=service)["statusCode"] == 200
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({sorted(WEB)!r})))
service.close()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    windows, fdsn = out.stdout.splitlines()[:2]
    assert windows == "[]"
    assert "fastapi" in fdsn and "mangum" in fdsn


HEAVY = {"obspy", "matplotlib", "scipy"}


def test_processing_libraries_load_only_when_a_request_asks_for_processing(shared_data: Path) -> None:
    """The Lambda windows path, the HTTP app and the FDSN routes import neither ObsPy nor
    matplotlib nor scipy (the cold start stays as it was); a processed request does."""
    code = f"""
import json, sys
from seiswindow.aws import LocalContext, handle_event
from seiswindow.config import Settings, open_service
from seiswindow.webapp import create_app
settings = Settings(archive={str(shared_data / "scedc-pds")!r})
service = open_service(settings)
create_app(settings)
window = {{"Network": "CI", "Station": "CCA", "Channel": "BHN",
    "Starttime": "2022-01-02T01:00:00", "Endtime": "2022-01-02T01:01:00"}}
assert handle_event({{"Windows": [window]}}, LocalContext(), service=service)[0]["status"] == "ok"
event = {{"version": "2.0", "rawPath": "/timewindows", "rawQueryString": "format=miniseed",
    "queryStringParameters": {{"format": "miniseed"}},
    "requestContext": {{"http": {{"method": "POST", "path": "/timewindows"}}}},
    "body": json.dumps({{"Windows": [window]}})}}
assert handle_event(event, LocalContext(), service=service)["statusCode"] == 200
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({sorted(HEAVY)!r})))
processed = handle_event({{"Windows": [window], "Process": ["demean"]}}, LocalContext(), service=service)
assert processed[0]["status"] == "ok"
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({sorted(HEAVY)!r})))
service.close()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    raw, processed = out.stdout.splitlines()[:2]
    assert raw == "[]"
    assert "obspy" in processed and "scipy" in processed


def test_without_the_process_extra_processing_is_a_clear_501(shared_data: Path) -> None:
    """A deployment without ObsPy (the Lambda image as built) answers raw windows and says
    why it cannot process: 501 naming the extra, before anything is read."""
    code = f"""
import json, sys
sys.modules["obspy"] = None  # as if not installed: importing it fails
from seiswindow.aws import LocalContext, handle_event
from seiswindow.config import Settings, open_service
service = open_service(Settings(archive={str(shared_data / "scedc-pds")!r}))
window = {{"Network": "CI", "Station": "CCA", "Channel": "BHN",
    "Starttime": "2022-01-02T01:00:00", "Endtime": "2022-01-02T01:01:00"}}
assert handle_event({{"Windows": [window]}}, LocalContext(), service=service)[0]["status"] == "ok"
print(json.dumps(handle_event({{"Windows": [window], "Process": ["demean"]}}, LocalContext(), service=service)))
service.close()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    answer = json.loads(out.stdout.splitlines()[-1])
    assert answer["status"] == 501 and "seiswindow[process]" in answer["error"]
