"""Supported Python versions and tested library versions: metadata, messages, environment.

Offline: the lean requirements are resolved against the kit's own environment
(``pip install --dry-run --no-index``), never downloaded. The resolution for
Python 3.11, 3.12 and 3.13 against PyPI is recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from autograder import cli
from autograder.public import versions

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template"


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize("v", [(3, 11), (3, 12), (3, 13)])
def test_supported_pythons_give_no_message(v):
    assert versions.python_problem(v) is None


@pytest.mark.parametrize("v", [(3, 10), (3, 14), (3, 15)])
def test_unsupported_pythons_give_a_french_message(v):
    msg = versions.python_problem(v)
    assert msg.startswith(f"Python {v[0]}.{v[1]} n'est pas pris en charge")
    assert "3.11 à 3.13" in msg and "python3.12 -m venv .venv" in msg


def test_library_versions():
    ok = {"tensorflow": "2.21.0", "keras": "3.15.1"}
    assert versions.library_problems(ok) == ([], [])
    errors, warnings = versions.library_problems({"tensorflow": "2.21.0", "keras": "3.16.0"})
    assert errors == [] and len(warnings) == 1
    assert warnings[0].startswith("Attention : keras 3.16.0 est installé")
    assert "testées avec keras 3.15.x" in warnings[0]
    errors, _ = versions.library_problems({"tensorflow": None, "keras": "3.15.1"})
    assert errors == [
        "tensorflow n'est pas installé : installez les dépendances des "
        "vérifications avec pip install -r requirements-checks.txt "
        "(ou pip install -r requirements.txt)."
    ]
    _, warnings = versions.library_problems({"tensorflow": "2.20.1", "keras": "3.15.0rc1"})
    assert [w.split(" est")[0] for w in warnings] == ["Attention : tensorflow 2.20.1"]


def test_this_environment_is_the_tested_one():
    assert versions.environment_problems() == ([], [])


def test_the_override_turns_errors_into_warnings(monkeypatch):
    monkeypatch.setenv(versions.SKIP_ENV, "1")
    errors, warnings = versions.environment_problems((3, 14))
    assert errors == [] and warnings[0].startswith("Python 3.14")


# --------------------------------------------------------------------------- check on a bad environment


def test_check_refuses_an_unsupported_python(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(sys, "version_info", (3, 14, 0, "final", 0))
    nb = tmp_path / "resnet_a_la_main.ipynb"
    nb.write_text("{}", encoding="utf-8")
    out = tmp_path / "r" / "q1.json"
    rc = cli.main(["check", str(nb), "-q", "q1", "--json", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Python 3.14 n'est pas pris en charge par les vérifications" in err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["status"] == "error" and not data["passed"]
    assert [c["id"] for c in data["checks"]] == ["q1.shape", "q1.order", "q1.kwargs"]
    assert data["max"] == 3 and data["points"] == 0
    assert "Python 3.14" in data["checks"][0]["message"]


def test_check_warns_about_an_untested_keras(monkeypatch, capsys, tmp_path):
    real = versions._installed
    monkeypatch.setattr(
        versions,
        "_installed",
        lambda dists: ("keras", "3.16.2") if "keras" in dists else real(dists),
    )
    rc = cli.main(["check", str(tmp_path / "absent.ipynb"), "--json", str(tmp_path / "a.json")])
    err = capsys.readouterr().err
    assert rc == 2  # the notebook is missing; the warning came first
    assert err.splitlines()[0].startswith("Attention : keras 3.16.2 est installé")
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert data["warnings"] and "introuvable" in data["error"] and len(data["checks"]) == 6


def test_check_reports_missing_tensorflow(monkeypatch, capsys, tmp_path):
    real = versions._installed
    monkeypatch.setattr(
        versions, "_installed", lambda dists: None if "tensorflow" in dists else real(dists)
    )
    assert cli.main(["check", str(tmp_path / "x.ipynb")]) == 2
    assert "tensorflow n'est pas installé" in capsys.readouterr().err


# --------------------------------------------------------------------------- metadata


def test_generated_files_state_the_same_facts():
    assert (TEMPLATE / "requirements-checks.txt").read_text(
        encoding="utf-8"
    ) == versions.requirements_text()
    meta = tomllib.loads((TEMPLATE / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["requires-python"] == versions.REQUIRES_PYTHON
    assert meta["project"]["dependencies"] == list(versions.CHECK_REQUIREMENTS)


def test_requires_python_excludes_314_and_includes_311_to_313():
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(versions.REQUIRES_PYTHON)
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in spec] == [
        "3.11",
        "3.12",
        "3.13",
    ]
    assert versions.CI_PYTHON in spec
    for line in versions.CHECK_REQUIREMENTS:  # the tested range, and nothing wider
        if line.startswith(("tensorflow", "keras")):
            assert re.search(r">=\d+\.\d+,<\d+\.\d+", line), line


def test_readmes_state_the_supported_versions():
    student = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11, 3.12 ou 3.13" in student and "3.14 ne convient pas" in student
    assert "ou plus récent" not in student
    kit = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11 to 3.13" in kit


def test_the_kit_environment_satisfies_the_lean_requirements(tmp_path):
    """pip resolves requirements-checks.txt from what is installed here, offline."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--disable-pip-version-check",
            "--requirement",
            str(TEMPLATE / "requirements-checks.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Would install" not in proc.stdout, proc.stdout
    assert proc.stdout.count("Requirement already satisfied") >= 6
