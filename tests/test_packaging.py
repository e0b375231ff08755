"""The kit as a Python package: pyproject.toml, its console script, its pins."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    return pins


def test_console_script_points_at_the_teacher_cli():
    target = PYPROJECT["project"]["scripts"]["autograder"]
    module, _, function = target.partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    assert target == "autograder.cli:main"


def test_every_declared_dependency_is_pinned_for_ci():
    pins = _pins()
    declared = (
        PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
    )
    from packaging.requirements import Requirement

    here = [r for r in declared if not Requirement(r).marker or Requirement(r).marker.evaluate()]
    assert len(here) < len(declared)  # the TensorFlow wheel depends on the platform
    missing = sorted({_name(r) for r in here} - set(pins))
    assert not missing, f"pin these in requirements.txt: {missing}"


def test_packages_found_are_the_kit_only():
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["autograder*"]
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["autograder"]
    for pattern in data:  # every pattern matches a file that exists
        assert list((ROOT / "autograder").glob(pattern)), pattern


def test_pip_install_editable_gives_the_command(tmp_path):
    """`pip install -e .` in a fresh environment gives `autograder`, without any download."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    has_setuptools = subprocess.run([str(python), "-c", "import setuptools"], timeout=120)
    if has_setuptools.returncode != 0:
        pytest.skip("this Python's venv has no setuptools to build offline (Python >= 3.12)")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_NO_INDEX": "1"}
    wheel = pytest.importorskip("wheel")  # setuptools < 70 builds through it, offline here
    build_env = {**env, "PYTHONPATH": str(Path(wheel.__file__).parents[1])}
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=build_env,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    proc = subprocess.run(
        [str(venv / "bin" / "autograder"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "grade" in proc.stdout and "check" in proc.stdout
