"""Check that the image's runtime dependencies come as binary wheels for the Lambda platforms.

The Lambda Python base images run on Amazon Linux 2023 (glibc 2.34), on x86_64 and on arm64
(Graviton, ``aarch64`` to Python). This script takes ``requirements.txt`` (exported from
``uv.lock`` with hashes), keeps the lines whose environment markers hold on the Lambda target,
and has pip fetch exactly those pinned files as wheels for that platform:

    python deploy/aws/lambda_wheels.py download                 # both architectures
    python deploy/aws/lambda_wheels.py install --arch aarch64 --dest /tmp/site   # unpacked, to size it

Why not plain ``pip download --python-version 3.12 -r requirements.txt``: pip evaluates a
requirements file's markers against the interpreter that runs it, not against the target it is
given (pypa/pip#11198), so a ``numpy==...; python_full_version >= '3.12'`` line would be skipped
on a 3.11 machine and the other numpy pin fetched instead. Markers are evaluated here, and pip
runs with ``--no-deps`` so that it re-resolves nothing with the wrong markers: the set it gets is
the exported set, which a test compares with the lock file.

Exit status: 0 when every requirement resolved to a wheel whose hash is in the file, else pip's.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from packaging.markers import Marker

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
DOCKERFILE = HERE / "Dockerfile"
ARCHES = ("x86_64", "aarch64")
# Amazon Linux 2023, under public.ecr.aws/lambda/python:3.12 and :3.13.
GLIBC_MINOR = 34


def lambda_python() -> str:
    """The Python version of the image: the default of ``ARG PYTHON_VERSION`` in the Dockerfile."""
    found = re.search(r"^ARG PYTHON_VERSION=(\d+\.\d+)\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    if not found:
        raise SystemExit(f"{DOCKERFILE}: no 'ARG PYTHON_VERSION=X.Y' line")
    return found.group(1)


def target_environment(arch: str, python: str) -> dict[str, str]:
    """PEP 508 marker values of the Lambda runtime for ``arch`` and ``python`` (``"3.12"``)."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
        "extra": "",
    }


def requirement_blocks(text: str) -> list[tuple[str, str]]:
    """``(requirement line, whole block with hashes)`` for each requirement of a uv export."""
    blocks: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            blocks.append((line.rstrip(" \\"), line + "\n"))
        elif blocks and line.lstrip().startswith("--hash"):
            head, block = blocks[-1]
            blocks[-1] = (head, block + line + "\n")
    return blocks


def select(text: str, environment: dict[str, str]) -> str:
    """The requirement blocks of ``text`` whose markers hold in ``environment``, markers removed."""
    kept = []
    for head, block in requirement_blocks(text):
        spec, _, marker = head.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(environment):
            continue
        kept.append(block.replace(head, spec.strip(), 1))
    return "".join(kept)


def platforms(arch: str) -> list[str]:
    """Every manylinux tag a glibc-2.34 ``arch`` machine accepts (pip matches tags exactly)."""
    tags = [f"manylinux2014_{arch}"]
    tags += [f"manylinux_2_{minor}_{arch}" for minor in range(17, GLIBC_MINOR + 1)]
    return tags


def pip_command(action: str, arch: str, python: str, requirements: Path, dest: Path) -> list[str]:
    """The pip command that fetches (``download``) or unpacks (``install``) the wheels for ``arch``."""
    command = [sys.executable, "-m", "pip", action, "--quiet", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--no-deps", "--require-hashes", "--implementation", "cp"]
    command += ["--python-version", python]
    for tag in platforms(arch):
        command += ["--platform", tag]
    command += ["-r", str(requirements)]
    if action == "download":
        return [*command, "--dest", str(dest)]
    # Unpacked for another Python than pip's own: its Requires-Python check would compare
    # the wheels with the running interpreter; the .pyc files would be for the wrong one.
    return [*command, "--target", str(dest), "--no-compile", "--ignore-requires-python"]


def run(action: str, arches: Sequence[str], python: str, dest: Path | None) -> int:
    text = REQUIREMENTS.read_text()
    with tempfile.TemporaryDirectory(prefix="lambda-wheels-") as scratch:
        for arch in arches:
            selected = Path(scratch, f"requirements-{arch}.txt")
            selected.write_text(select(text, target_environment(arch, python)))
            where = (dest or Path(scratch)) / arch
            count = len(requirement_blocks(selected.read_text()))
            print(f"{action}: {count} wheels for cp{python.replace('.', '')} linux {arch} -> {where}")
            status = subprocess.run(pip_command(action, arch, python, selected, where)).returncode
            if status:
                print(f"FAILED: {arch}: not every requirement has a wheel for the Lambda platform")
                return status
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("download", "install"))
    parser.add_argument("--arch", action="append", choices=ARCHES, help="default: both")
    parser.add_argument("--python", default=None, help="default: the Dockerfile's PYTHON_VERSION")
    parser.add_argument("--dest", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args(argv)
    if args.action == "install" and args.dest is None:
        parser.error("install needs --dest (the unpacked files are what it is for)")
    return run(args.action, args.arch or ARCHES, args.python or lambda_python(), args.dest)


if __name__ == "__main__":
    sys.exit(main())
