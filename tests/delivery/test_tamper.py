"""Tamper evidence (autograder/delivery/tamper.py): protected files of a student repository.

Checked on a small fake template and on the real ``student_template/``; the
command line (``python -m autograder.delivery tamper``) too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import delivery
from tests.delivery.repos import NOTEBOOK, ROOT, TEMPLATE, WORKFLOW_REL, require_template


@pytest.fixture
def fake_template(tmp_path):
    tpl = tmp_path / "template"
    (tpl / ".github" / "workflows").mkdir(parents=True)
    (tpl / ".github" / "workflows" / "classroom.yml").write_text("name: x\n")
    (tpl / "tests").mkdir()
    (tpl / "tests" / "q1.py").write_text("test = 1\n")
    (tpl / "tests" / "q2.py").write_text("test = 2\n")
    (tpl / "autograder" / "public" / "checks").mkdir(parents=True)
    (tpl / "autograder" / "__init__.py").write_text("")
    (tpl / "autograder" / "public" / "checks" / "public.py").write_text("def check(): pass\n")
    (tpl / "requirements.txt").write_text("keras>=3\n")
    (tpl / NOTEBOOK).write_text("{}")
    (tpl / "README.md").write_text("# TP\n")
    return tpl


def _clone(tpl: Path, dest: Path) -> Path:
    shutil.copytree(tpl, dest, symlinks=True)
    return dest


def test_tamper_pristine_copy_is_clean(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "alice")
    (sub / NOTEBOOK).write_text('{"cells": []}')  # the student's work is not protected
    (sub / "notes.md").write_text("brouillon")
    (sub / "autograder" / "__pycache__").mkdir()
    (sub / "autograder" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (sub / ".git").mkdir()
    assert delivery.tamper_report(sub, fake_template) == []


def test_tamper_names_each_change(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "bob")
    (sub / ".github" / "workflows" / "classroom.yml").write_text("name: toujours vert\n")
    (sub / "tests" / "q2.py").unlink()
    (sub / "tests" / "conftest.py").write_text("import os\n")
    (sub / "autograder" / "public" / "checks" / "public.py").unlink()
    (sub / "autograder" / "public" / "checks" / "public.py").symlink_to("/dev/zero")
    (sub / "keras.py").write_text("# fake keras\n")
    (sub / "sitecustomize.py").write_text("")
    (sub / "mes_outils.py").write_text("")  # an ordinary helper is fine
    lines = delivery.tamper_report(sub, fake_template)
    assert lines == [
        "fichier protégé modifié : .github/workflows/classroom.yml",
        "fichier protégé remplacé par un lien symbolique : autograder/public/checks/public.py",
        "fichier protégé supprimé : tests/q2.py",
        "fichier ajouté dans un dossier protégé : tests/conftest.py",
        "fichier ajouté qui porte le nom d'un module Python et peut le masquer : keras.py",
        "fichier ajouté qui modifie le démarrage de Python : sitecustomize.py",
    ]


def test_tamper_never_reads_through_links(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "grace")
    shutil.rmtree(sub / "tests")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "q1.py")  # reading it would block forever
    (sub / "tests").symlink_to(elsewhere)
    lines = delivery.tamper_report(sub, fake_template)
    assert lines == [
        "dossier protégé remplacé par un lien symbolique : tests",
        "fichier ajouté dans un dossier protégé : tests",
    ]


def test_tamper_requirements_and_line_endings(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "carol")
    crlf = (sub / "tests" / "q1.py").read_bytes().replace(b"\n", b"\r\n")
    (sub / "tests" / "q1.py").write_bytes(crlf)  # a Windows checkout: not a change
    assert delivery.tamper_report(sub, fake_template) == []
    (sub / "requirements.txt").write_text("keras>=3\nkeras-faux==1.0\n")
    assert delivery.tamper_report(sub, fake_template) == [
        "fichier protégé modifié : requirements.txt"
    ]


def test_tamper_protects_the_lean_requirements(tmp_path):
    require_template()
    assert "requirements-checks.txt" in delivery.protected_files()
    sub = _clone(TEMPLATE, tmp_path / "repo")
    with open(sub / "requirements-checks.txt", "a", encoding="utf-8") as f:
        f.write("keras-faux==1.0\n")
    assert delivery.tamper_report(sub) == ["fichier protégé modifié : requirements-checks.txt"]


def test_tamper_bare_folders_and_files_give_nothing(fake_template, tmp_path):
    bare = tmp_path / "dave"
    bare.mkdir()
    (bare / NOTEBOOK).write_text("{}")
    assert delivery.tamper_report(bare, fake_template) == []
    assert delivery.tamper_report(bare / NOTEBOOK, fake_template) == []
    assert delivery.tamper_report(tmp_path / "absent", fake_template) == []
    (bare / ".git").mkdir()  # a cloned repository that lost everything protected
    lines = delivery.tamper_report(bare, fake_template)
    assert "fichier protégé supprimé : tests/q1.py" in lines and len(lines) == 6


def test_tamper_report_is_capped(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "eve")
    for i in range(60):
        (sub / "tests" / f"t{i:02d}.py").write_text("")
    lines = delivery.tamper_report(sub, fake_template)
    assert len(lines) == delivery.MAX_LINES + 1 and lines[-1].startswith("… et 20 autres")


def test_tamper_on_the_real_template(tmp_path):
    require_template()
    protected = delivery.protected_files()
    assert WORKFLOW_REL in protected and any(p.startswith("tests/") for p in protected)
    assert any(p.startswith("autograder/public/checks/") for p in protected)
    sub = _clone(TEMPLATE, tmp_path / "repo")
    assert delivery.tamper_report(sub) == []
    with open(sub / WORKFLOW_REL, "a", encoding="utf-8") as f:
        f.write("# max-score: 100\n")
    first_test = next(p for p in protected if p.startswith("tests/"))
    (sub / first_test).unlink()
    assert delivery.tamper_report(sub) == [
        f"fichier protégé modifié : {WORKFLOW_REL}",
        f"fichier protégé supprimé : {first_test}",
    ]


def test_tamper_cli(fake_template, tmp_path):
    sub = _clone(fake_template, tmp_path / "frank")
    (sub / "tests" / "q1.py").write_text("test = 'vert'\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.delivery",
            "tamper",
            str(sub),
            "--template",
            str(fake_template),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "fichier protégé modifié : tests/q1.py" in proc.stdout


def test_student_readme_lists_exactly_the_protected_files(tmp_path):
    """The README's list is generated from PROTECTED, the tamper check's own list (issue 13)."""
    from autograder import assign
    from autograder.delivery import tamper

    require_template()
    master = (ROOT / "assignment" / "student_files" / "README.md").read_text(encoding="utf-8")
    assert master.count(tamper.README_MARKER) == 1
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert tamper.protected_list_markdown() in readme and tamper.README_MARKER not in readme
    listed = re.findall(r"^- `([^`]+)` : ", readme, flags=re.MULTILINE)
    assert [p.rstrip("/") for p in listed] == list(tamper.PROTECTED)
    for shown in listed:  # a folder is shown with its slash, a file without
        assert (TEMPLATE / shown.rstrip("/")).is_dir() == shown.endswith("/"), shown
    assert "« fichier protégé modifié »" in readme
    # a master without the marker cannot silently lose the list
    copy = tmp_path / "README.md"
    copy.write_text("# TP\n", encoding="utf-8")
    with pytest.raises(ValueError):
        assign.write_protected_list(copy)
