"""``python -m autograder``: usage errors, and ``check`` as a student runs it.

``check`` runs in a copy of the package as the student template ships it
(no engine, no report, no hidden checks), with this repository's cli.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template"


def _run(*args, cwd=ROOT, timeout=900):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    "args,fragment",
    [
        ((), "required"),
        (("grade",), "required"),
        (("grade", "examples"), "--out"),
        (("frobnicate",), "invalid choice"),
        (("grade", "does/not/exist", "--out", "x"), "introuvable : does/not/exist"),
        (("grade", ".", "--out", "x", "--jobs", "0"), "--jobs"),
        (("grade", ".", "--out", "x", "--timeout", "-1"), "--timeout"),
        (("grade", ".", "--out", "x", "--jobs", "deux"), "invalid int"),
        (("grade", ".", "--out", "x", "--roster", "nope.csv"), "nope.csv"),
        (("grade", ".", "--out", "x", "--lang", "de"), "invalid choice"),
        (("check", "nope.ipynb"), "introuvable : nope.ipynb"),
        (("check", "x.ipynb", "-q", "q9"), "invalid choice"),
        (("report", "no/such/dir"), "introuvable"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, fragment, tmp_path):
    proc = _run(*args)
    assert proc.returncode == 2, proc.stderr
    assert fragment in _one_line(proc.stderr)
    assert not (ROOT / "x").exists()


def test_help_exits_0():
    proc = _run("--help")
    assert proc.returncode == 0 and "grade" in proc.stdout and "check" in proc.stdout


@pytest.fixture(scope="module")
def student_repo(tmp_path_factory):
    """The student template as a student clones it."""
    if not (TEMPLATE / "autograder").is_dir():
        pytest.skip("student_template/ not generated (make assign)")
    repo = tmp_path_factory.mktemp("student") / "repo"
    shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    return repo


def test_template_package_lacks_the_teacher_modules(student_repo):
    package = student_repo / "autograder"
    for name in (
        "engine",
        "engine.py",
        "report",
        "report.py",
        "delivery",
        "delivery.py",
        "hidden",
        "assign.py",
        "cli.py",
        "demo.py",
    ):
        assert not (package / name).exists(), name
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "__main__.py", "public"]


def test_grade_without_full_kit_says_so_in_one_line(student_repo):
    proc = _run("grade", "resnet_a_la_main.ipynb", "--out", "out", cwd=student_repo)
    assert proc.returncode == 2
    assert "kit complet" in _one_line(proc.stderr)
    assert not (student_repo / "out").exists()


def test_check_blank_template_fails(student_repo):
    proc = _run("check", "resnet_a_la_main.ipynb", cwd=student_repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "✘" in out and "✔" not in out
    assert "attendu" in out and "Piste : " in out
    assert "contrôle(s) échoué(s)" in out
    assert "Traceback" not in proc.stderr


def test_check_reference_passes(student_repo, tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        import nbformat

        from tests.faults import reference_notebook
    finally:
        sys.path.remove(str(ROOT))
    nb = tmp_path / "resnet_a_la_main.ipynb"
    nbformat.write(reference_notebook(), nb)
    proc = _run("check", nb, cwd=student_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "✘" not in proc.stdout and proc.stdout.count("✔") >= 3
    assert "Tous les contrôles publics passent" in proc.stdout
    assert "Traceback" not in proc.stderr and "oneDNN" not in proc.stderr


def test_check_invalid_notebook_is_a_failure_not_a_crash(tmp_path):
    bad = tmp_path / "resnet_a_la_main.ipynb"
    bad.write_text("{ pas du json", encoding="utf-8")
    proc = _run("check", bad)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and _one_line(proc.stderr)


def test_check_json_on_an_invalid_notebook_lists_every_public_check_failed(tmp_path):
    bad = tmp_path / "resnet_a_la_main.ipynb"
    bad.write_text("{ pas du json", encoding="utf-8")
    out = tmp_path / "res" / "all.json"
    proc = _run("check", bad, "--json", out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    import json

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "resnet-a-la-main/check/v1" and data["status"] == "error"
    assert [c["id"] for c in data["checks"]] == [
        "q1.shape",
        "q1.order",
        "q1.kwargs",
        "q2.output",
        "q2.params",
        "q3.output",
    ]
    assert not any(c["passed"] for c in data["checks"]) and data["max"] == 6
    assert all(c["message"] == data["error"] and c["hint"] for c in data["checks"])


def test_check_json_missing_notebook_for_one_question(tmp_path):
    out = tmp_path / "q2.json"
    proc = _run("check", tmp_path / "absent.ipynb", "-q", "q2", "--json", out)
    assert proc.returncode == 2
    import json

    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["checks"]] == ["q2.output", "q2.params"]
    assert "introuvable" in data["error"]
