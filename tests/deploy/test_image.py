"""The Lambda image, checked without Docker: its ``CMD`` names an importable handler, and
what it installs is exactly the lock file's runtime set for each Lambda architecture."""

from __future__ import annotations

import importlib
import inspect
import subprocess
from pathlib import Path

import pytest
from deploy_helpers import (
    EXPORT,
    REQUIREMENTS,
    dockerfile_cmd,
    dockerfile_python,
    lambda_wheels,
    lock_runtime_pins,
    read_lock,
    requirement_pins,
    tool,
)
from packaging.specifiers import SpecifierSet

ARCHES = ("x86_64", "aarch64")


def test_cmd_names_an_importable_handler() -> None:
    (name,) = dockerfile_cmd()
    module_name, _, function_name = name.rpartition(".")
    assert name == "seiswindow.aws.handler"
    handler = getattr(importlib.import_module(module_name), function_name)
    assert callable(handler)
    assert list(inspect.signature(handler).parameters) == ["event", "context"]


def test_python_is_a_supported_lambda_runtime_the_project_allows() -> None:
    python = dockerfile_python()
    assert python in ("3.12", "3.13")
    assert f"{python}.0" in SpecifierSet(read_lock()["requires-python"])


def test_requirements_are_a_fresh_export_of_the_lock() -> None:
    """``make requirements`` output, byte for byte: the image cannot drift from uv.lock."""
    uv = tool("uv")
    if uv is None:
        pytest.fail("uv is not installed beside the test interpreter (make install-dev installs it)")
    fresh = subprocess.run([uv, *EXPORT], capture_output=True, text=True, check=True).stdout
    assert REQUIREMENTS.read_text() == fresh, "deploy/aws/requirements.txt is stale: run `make requirements`"


@pytest.mark.parametrize("arch", ARCHES)
def test_image_dependencies_are_the_locks_runtime_set(arch: str) -> None:
    environment = lambda_wheels().target_environment(arch, dockerfile_python())
    image = requirement_pins(REQUIREMENTS.read_text(), environment)
    lock = lock_runtime_pins(read_lock(), environment)
    assert image == lock
    names = {name for name, _ in image}
    assert "obspy" not in names and "pytest" not in names
    assert {"pymseed", "numpy", "boto3", "orjson"} <= names


def test_every_requirement_is_hash_pinned() -> None:
    blocks = lambda_wheels().requirement_blocks(REQUIREMENTS.read_text())
    assert blocks
    for head, block in blocks:
        assert "==" in head and "--hash=sha256:" in block, head


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_wheel_check_selects_the_lines_of_the_target(python: str, arch: str) -> None:
    """pip evaluates a requirements file's markers against the interpreter that runs it,
    whatever ``--python-version`` says, so the check selects the lines for the Lambda's
    Python and machine itself (numpy is pinned per Python version in the lock)."""
    wheels = lambda_wheels()
    environment = wheels.target_environment(arch, python)
    selected = wheels.select(REQUIREMENTS.read_text(), environment)
    assert ";" not in selected
    assert requirement_pins(selected, {}) == lock_runtime_pins(read_lock(), environment)


def test_wheel_check_asks_pip_for_exactly_the_selected_files() -> None:
    command = lambda_wheels().pip_command("download", "aarch64", "3.12", Path("r.txt"), Path("d"))
    for flag in ("--only-binary=:all:", "--no-deps", "--require-hashes"):
        assert flag in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_34_aarch64" in platforms
    assert not any(p.endswith("x86_64") for p in platforms)
