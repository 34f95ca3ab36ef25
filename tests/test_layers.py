"""The package's import rules, read from its source (issue 9; docs/architecture.md).

Layers read top-down and import only downward; no import cycle anywhere, lazy imports inside
functions included (they are cycles all the same, only deferred); the core (everything below
the service) never imports configuration, the environment, a web framework or the AWS front
end. Imports under ``if TYPE_CHECKING:`` are exempt: they never run.

Every module must have a layer in ``LAYERS``: a new module is placed on purpose.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import seiswindow

PACKAGE = Path(seiswindow.__file__).parent

#: Module (or package prefix, ending in ".") → layer. A module may import its own layer and
#: the layers below, never above. The longest matching prefix wins.
LAYERS: dict[str, int] = {
    # 0: values and helpers with no seiswindow dependency beyond each other
    "seiswindow.errors": 0,
    "seiswindow.nstime": 0,
    "seiswindow.model": 0,
    "seiswindow.cache": 0,
    "seiswindow._version": 0,
    # 1: archive layouts and the Archive value; 2: stores
    "seiswindow.archive": 1,
    "seiswindow.archives": 1,
    "seiswindow.store.": 2,
    "seiswindow.store": 2,
    # 3: libmseed (the only module touching record bytes) and what screens records
    "seiswindow.mseed": 3,
    "seiswindow.screen": 3,
    # 4: the record index of day files (tsindex rows, their SQLite store, the bulk build)
    "seiswindow.recordindex": 4,
    "seiswindow.tsindex": 4,
    "seiswindow.indexbuild": 4,
    "seiswindow.sharedindex": 4,  # per-file index objects under a prefix, cached locally
    # 5: locating a window's records in a file
    "seiswindow.fileindex": 5,
    "seiswindow.records": 5,
    "seiswindow.locate": 5,
    "seiswindow.stationday": 5,  # one channel of a station-day object, through the index
    "seiswindow.indexread": 5,  # reads through the record index, coalesced; fills it lazily
    # 6: ObsPy-grid trimming and merging, extraction
    "seiswindow.trim": 6,
    "seiswindow.extract": 6,
    # 7: answers' encodings
    "seiswindow.encode.": 7,
    "seiswindow.encode": 7,
    # 7: processing steps (parsed with no I/O; applied by ObsPy, imported only when asked),
    # the channel metadata they need from StationXML, and the formats beyond JSON/miniSEED
    "seiswindow.process.": 7,
    "seiswindow.process": 7,
    "seiswindow.formats.": 7,
    "seiswindow.formats": 7,
    # 8: the service, FDSN beside it, and the demo data (built by front ends with a root)
    "seiswindow.service": 8,
    "seiswindow.options": 8,  # a request's format and shape (parsed, no I/O)
    "seiswindow.manifest": 8,  # where each window's records lie (format=manifest)
    "seiswindow.fdsn.": 8,
    "seiswindow.fdsn.stationtable": 8,  # the operator's station table (parsing, no I/O)
    "seiswindow.fdsn.dayfiles": 8,  # entries of stations with day files but no StationXML
    "seiswindow.fdsn.routedcatalog": 8,  # the channel catalog of several archives
    "seiswindow.fdsn.availrequest": 8,  # fdsnws-availability requests (parsing, no I/O)
    "seiswindow.fdsn.availability": 8,  # availability spans from the record index and the listing
    "seiswindow.fdsn.availformat": 8,  # availability answers: text, geocsv, json, request; WADL
    "seiswindow.fdsn": 8,
    "seiswindow.synth": 8,
    "seiswindow.timeseries": 8,  # extract, process and format: one chain for every front end
    "seiswindow.irisws.": 8,  # irisws-timeseries request parsing (no I/O)
    "seiswindow.irisws": 8,
    "seiswindow.demo_archive": 8,
    # bulk jobs (issue 12): beside the service, on the extractor; the CLI is their front end
    "seiswindow.bulk.": 8,
    "seiswindow.bulk": 8,
    "seiswindow.bulk.answers": 8,  # JSON window objects read back into results
    "seiswindow.bulk.awslambda": 8,  # the Lambda executor (boto3's invoke; no configuration)
    # 9: the edge: configuration (environment) and the front ends
    "seiswindow.config": 9,
    "seiswindow.demo": 9,
    "seiswindow._api": 9,
    "seiswindow.negotiate": 9,
    "seiswindow.bodylimit": 9,
    "seiswindow.streambody": 9,
    "seiswindow.clioutput": 9,  # the command line's outputs (formats, processing options, files)
    "seiswindow.fdsn.routes": 9,  # the FDSN web services' FastAPI router
    "seiswindow.irisws.routes": 9,  # irisws-timeseries' FastAPI router
    "seiswindow.aws.": 9,
    "seiswindow.aws": 9,
    "seiswindow.page.": 9,  # the pages for people (waveform browser, offline API docs)
    "seiswindow.page": 9,
    "seiswindow.webapp": 9,
    "seiswindow.http": 10,
    "seiswindow.cli": 10,
    "seiswindow.bulkcli": 10,  # the command line's bulk job (issue 12)
    "seiswindow": 11,
}
#: Below this layer is the core.
SERVICE_LAYER = 8
#: What the core never imports, and the modules it may not read the environment from.
CORE_FORBIDDEN = (
    "seiswindow.config",
    "seiswindow.aws",
    "seiswindow.http",
    "seiswindow.webapp",
    "seiswindow.negotiate",
    "seiswindow.cli",
    "fastapi",
    "starlette",
    "uvicorn",
    "mangum",
    "boto3",
)
#: The one place botocore may be used: the S3 store.
BOTOCORE_ALLOWED = ("seiswindow.store._s3", "seiswindow.store._watch")
#: Where the environment may be read: configuration, and the demo's default root.
ENVIRONMENT_ALLOWED = ("seiswindow.config", "seiswindow.demo")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _layer(name: str) -> int:
    keys = [k for k in LAYERS if name == k or (k.endswith(".") and name.startswith(k))]
    if not keys:
        raise KeyError(name)
    return LAYERS[max(keys, key=len)]


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module ``name`` imports (at any depth of its code), resolved to module names."""
    tree = ast.parse(MODULES[name].read_text())
    exempt = _type_checking_lines(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in exempt:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` / `from .pkg import mod` name modules, not attributes
            found.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES)
    return frozenset(found)


def internal_imports(name: str) -> set[str]:
    return {m for m in imports_of(name) if m in MODULES and m != name}


def test_every_module_has_a_layer() -> None:
    missing = []
    for name in MODULES:
        try:
            _layer(name)
        except KeyError:
            missing.append(name)
    assert not missing, f"place these modules in LAYERS: {missing}"


def test_imports_go_only_downward() -> None:
    upward = [
        f"{name} (layer {_layer(name)}) imports {dep} (layer {_layer(dep)})"
        for name in MODULES
        for dep in sorted(internal_imports(name))
        if _layer(dep) > _layer(name) and not dep.startswith(name + ".")
    ]
    assert not upward, "\n".join(upward)


def _cycle_from(start: str) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in on_path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        on_path.add(node)
        for dep in sorted(_edges(node)):
            cycle = visit(dep)
            if cycle:
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    done: set[str] = set()
    return visit(start)


def _edges(name: str) -> set[str]:
    # A package's __init__ importing its own submodules (re-exports) is how packages are
    # built; a submodule importing its parent package's __init__ would be a cycle.
    return {d for d in internal_imports(name)}


def test_no_import_cycle() -> None:
    for name in MODULES:
        cycle = _cycle_from(name)
        assert cycle is None, " -> ".join(cycle or [])


@pytest.mark.parametrize("name", [n for n in MODULES if _layer(n) < SERVICE_LAYER])
def test_the_core_imports_no_configuration_web_or_aws(name: str) -> None:
    bad = sorted(m for m in imports_of(name) for f in CORE_FORBIDDEN if m == f or m.startswith(f + "."))
    assert not bad, f"{name} imports {bad}"
    if name not in BOTOCORE_ALLOWED:
        assert not [m for m in imports_of(name) if m.split(".")[0] == "botocore"], name


@pytest.mark.parametrize("name", [n for n in MODULES if n not in ENVIRONMENT_ALLOWED])
def test_only_configuration_reads_the_environment(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text())
    reads = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names)
        )
    ]
    assert not reads, f"{name} reads the environment at lines {reads}"


def test_the_rules_see_a_violation() -> None:
    """The walk itself works: it finds the imports a module is known to have."""
    assert "seiswindow.errors" in internal_imports("seiswindow.store._s3")
    assert "seiswindow.store._watch" in internal_imports("seiswindow.store._s3")
    assert _layer("seiswindow.store._s3") == 2 and _layer("seiswindow.fdsn.request") == 8
