"""Helpers of the deploy tests: the files under ``deploy/aws`` read as data (Dockerfile,
requirements, SAM template), and the runtime dependency set of ``uv.lock`` walked
independently of any tool, for a Lambda platform."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
AWS = REPO / "deploy" / "aws"
DOCKERFILE = AWS / "Dockerfile"
REQUIREMENTS = AWS / "requirements.txt"
TEMPLATE = AWS / "template.yaml"
EVENTS = AWS / "events"
LOCK = REPO / "uv.lock"
PROJECT = "seiswindow"
#: The command whose output requirements.txt is (its header says so too).
EXPORT = ["export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt"]


def lambda_wheels() -> ModuleType:
    """``deploy/aws/lambda_wheels.py`` (a script, not a package module), imported."""
    spec = importlib.util.spec_from_file_location("lambda_wheels", AWS / "lambda_wheels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> str | None:
    """A command installed beside the test interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


# -- Dockerfile -------------------------------------------------------------------------


def dockerfile_cmd() -> list[str]:
    """The exec-form ``CMD`` of the Dockerfile (the last one wins, as in Docker)."""
    commands = re.findall(r"^CMD\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert commands, "the Dockerfile has no exec-form CMD"
    cmd: list[str] = json.loads(commands[-1])
    return cmd


def dockerfile_python() -> str:
    """The Python version of the Lambda base image (the ``PYTHON_VERSION`` build argument)."""
    version: str = lambda_wheels().lambda_python()
    return version


# -- dependency sets --------------------------------------------------------------------


def requirement_pins(text: str, environment: Mapping[str, str]) -> set[tuple[str, str]]:
    """``(name, version)`` of each ``name==version`` line of a requirements file whose
    marker holds in ``environment``."""
    pins = set()
    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or line.startswith("#"):
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is not None and not requirement.marker.evaluate(dict(environment)):
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        pins.add((canonicalize_name(requirement.name), spec.version))
    return pins


def lock_runtime_pins(lock: Mapping[str, Any], environment: Mapping[str, str]) -> set[tuple[str, str]]:
    """``(name, version)`` of every package the project needs at run time on ``environment``:
    its ``dependencies`` (no extras, no dependency groups) and theirs, transitively, each
    edge kept only where its marker holds."""
    packages = lock["package"]
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in packages:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    (root,) = by_name[PROJECT]

    def target(dep: Mapping[str, Any]) -> Mapping[str, Any]:
        candidates = by_name[canonicalize_name(dep["name"])]
        if "version" in dep:
            candidates = [p for p in candidates if p["version"] == dep["version"]]
        assert len(candidates) == 1, (dep, candidates)
        return candidates[0]

    def holds(dep: Mapping[str, Any]) -> bool:
        return "marker" not in dep or Marker(dep["marker"]).evaluate(dict(environment))

    visited: set[tuple[str, str, tuple[str, ...]]] = set()
    pending: list[tuple[Mapping[str, Any], tuple[str, ...]]] = [(root, ())]
    while pending:
        package, extras = pending.pop()
        edges = list(package.get("dependencies", []))
        for extra in extras:
            edges += package.get("optional-dependencies", {}).get(extra, [])
        for dep in filter(holds, edges):
            child = target(dep)
            node = (canonicalize_name(child["name"]), child["version"], tuple(dep.get("extra", ())))
            if node not in visited:
                visited.add(node)
                pending.append((child, node[2]))
    return {(name, version) for name, version, _ in visited}


def read_lock() -> dict[str, Any]:
    with LOCK.open("rb") as f:
        return tomllib.load(f)


# -- SAM template -----------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (``!Ref X`` → ``{"Ref": "X"}``, ``!Sub`` →
    ``{"Fn::Sub": ...}``, ``!GetAtt A.B`` → ``{"Fn::GetAtt": ["A", "B"]}``)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref" or suffix == "Condition":
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    return loaded


_NO_VALUE = {"Ref": "AWS::NoValue"}


def resolve(value: Any, template: Mapping[str, Any], parameters: Mapping[str, str]) -> Any:
    """``value`` with ``Ref`` to parameters, ``Fn::If`` (``Fn::Equals``/``Fn::Not``/``Fn::And``
    conditions), ``Fn::Split`` and ``Fn::Select`` evaluated for ``parameters`` (others: the
    template's defaults), ``AWS::NoValue`` dropped; other intrinsics are left as they are."""
    values = {
        name: str(parameters.get(name, spec.get("Default", "")))
        for name, spec in template.get("Parameters", {}).items()
    }

    def condition(expr: Any) -> bool:
        if isinstance(expr, dict) and "Condition" in expr:
            return condition(template["Conditions"][expr["Condition"]])
        if isinstance(expr, dict) and "Fn::Equals" in expr:
            left, right = (walk(x) for x in expr["Fn::Equals"])
            return bool(left == right)
        if isinstance(expr, dict) and "Fn::Not" in expr:
            return not condition(expr["Fn::Not"][0])
        if isinstance(expr, dict) and "Fn::And" in expr:
            return all(condition(x) for x in expr["Fn::And"])
        raise AssertionError(f"condition not understood: {expr!r}")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in values:
                return values[node["Ref"]]
            if set(node) == {"Fn::If"}:
                name, then, otherwise = node["Fn::If"]
                return walk(then if condition(template["Conditions"][name]) else otherwise)
            if set(node) == {"Fn::Split"}:
                separator, text = walk(node["Fn::Split"])
                return text.split(separator) if isinstance(text, str) else {"Fn::Split": [separator, text]}
            if set(node) == {"Fn::Select"}:
                index, items = walk(node["Fn::Select"])
                return items[int(index)] if isinstance(items, list) else {"Fn::Select": [index, items]}
            walked = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in walked.items() if v != _NO_VALUE}
        if isinstance(node, list):
            return [x for x in (walk(x) for x in node) if x != _NO_VALUE]
        return node

    return walk(value)


def is_active(condition_name: str, template: Mapping[str, Any], parameters: Mapping[str, str]) -> bool:
    """Whether the template's condition ``condition_name`` holds for ``parameters``."""
    marker = {"Fn::If": [condition_name, True, False]}
    return bool(resolve(marker, template, parameters))
