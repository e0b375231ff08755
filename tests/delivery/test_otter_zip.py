"""The Gradescope / otter autograder zip (autograder/delivery/otter_zip.py).

The zip is built with ``python -m autograder.delivery zip`` and graded with
``otter run -a`` on the reference-filled notebook, the untouched template and a
notebook whose ``build_cnn`` is left as a stub (offline: the Fashion-MNIST files
are linked into a fresh Keras cache).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder import delivery
from tests.delivery.repos import (
    FUNCS,
    NOTEBOOK,
    ROOT,
    TEMPLATE,
    VENV_BIN,
    filled_notebook,
    offline_home,
    reference_sources,
    require_template,
)


def test_zip_requirements_are_the_kit_pins():
    reqs = delivery.zip_requirements()
    kit = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in r for r in reqs)
    dev_tools = ("otter-grader", "pytest", "ruff")
    assert set(reqs) == {r for r in kit if not r.startswith(dev_tools)}
    assert any(r.startswith("tensorflow-cpu==") for r in reqs)


def test_run_otter_removes_a_submitted_library(tmp_path):
    ns: dict = {}
    exec(
        compile(
            delivery.RUN_OTTER_PY.replace("{autograder_dir}", "/autograder"), "run_otter.py", "exec"
        ),
        ns,
    )
    sub = tmp_path / "submission"
    (sub / "autograder" / "checks").mkdir(parents=True)
    (sub / "autograder" / "checks" / "public.py").write_text("# always pass\n")
    (sub / "tests").symlink_to(tmp_path)
    (sub / NOTEBOOK).write_text("{}")
    ns["remove_submitted_library"](str(tmp_path))
    assert sorted(p.name for p in sub.iterdir()) == [NOTEBOOK]
    assert tmp_path.exists()  # a link is removed, never followed


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    tests_dir = ROOT / "autograder" / "otter" / "tests"
    if not tests_dir.is_dir():
        pytest.fail("autograder/otter/tests is not generated: run `make assign`")
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder.delivery", "zip", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_zip_contents(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        env = yaml.safe_load(zf.read("environment.yml"))
        run_otter = zf.read("run_otter.py").decode()
        setup = zf.read("setup.sh").decode()
    otter_tests = {f"tests/{p.name}" for p in (ROOT / "autograder/otter/tests").glob("*.py")}
    assert otter_tests and otter_tests <= names  # hidden tests included
    for needed in (
        "public/checks/__init__.py",
        "public/checks/public.py",
        "hidden/__init__.py",
        "public/probe.py",
        "public/data.py",
        "public/notebook.py",
    ):
        assert f"files/autograder/{needed}" in names, needed
    for teacher_only in ("engine", "report", "delivery", "demo.py"):
        assert not any(n.startswith(f"files/autograder/{teacher_only}") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert set(delivery.zip_requirements()) <= set(pip)
    assert "otter-grader[grading,plugins]==7.0.0" in pip
    assert "remove_submitted_library" in run_otter and "load_fashion_mnist" in setup


def otter_run(zip_path: Path, nb, tmp: Path, label: str) -> dict:
    """Grade ``nb`` with ``otter run -a zip`` (offline data) and return its results.json."""
    work = tmp / label
    work.mkdir()
    path = work / NOTEBOOK
    nbformat.write(nb, path)
    home = offline_home(tmp)
    env = {**os.environ, "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("KERAS_HOME", None)
    proc = subprocess.run(
        [
            str(VENV_BIN / "otter"),
            "run",
            "-a",
            str(zip_path),
            "-o",
            str(work),
            "--no-logo",
            str(path),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((work / "results.json").read_text())


def _by_question(results: dict) -> dict[str, tuple[float, float]]:
    out: dict[str, list[float]] = {}
    for t in results["tests"]:
        m = re.match(r"(q\d+)", t.get("name", ""))
        if m is None or t.get("max_score") is None:  # otter's "Public Tests" summary entry
            continue
        q = m.group(1)
        s = out.setdefault(q, [0.0, 0.0])
        s[0] += float(t.get("score") or 0)
        s[1] += float(t.get("max_score") or 0)
    return {q: (s[0], s[1]) for q, s in out.items()}


@pytest.fixture(scope="module")
def otter_results(autograder_zip, tmp_path_factory):
    require_template()
    tmp = tmp_path_factory.mktemp("otter")
    ref = reference_sources()
    stub_cnn = filled_notebook({k: v for k, v in ref.items() if k != "build_cnn"})
    return {
        "reference": otter_run(autograder_zip, filled_notebook(ref), tmp, "reference"),
        "template": otter_run(
            autograder_zip, nbformat.read(TEMPLATE / NOTEBOOK, as_version=4), tmp, "template"
        ),
        "planted": otter_run(autograder_zip, stub_cnn, tmp, "planted"),
    }


@pytest.mark.slow
def test_otter_zip_gives_full_marks_to_the_reference(otter_results):
    from autograder.public.checks import max_points

    res = otter_results["reference"]
    per_q = _by_question(res)
    assert set(per_q) == set(FUNCS)
    for q, (score, top) in per_q.items():
        assert top == max_points(q), q  # public + hidden points of the check library
        assert score == top, (q, res)


@pytest.mark.slow
def test_otter_zip_gives_zero_to_the_template(otter_results):
    per_q = _by_question(otter_results["template"])
    assert all(score == 0 for score, _ in per_q.values()), per_q


@pytest.mark.slow
def test_otter_zip_planted_bug_partial_score(otter_results):
    """build_cnn left as a stub: q3 scores 0, q1 and q2 keep full marks."""
    from autograder.public.checks import max_points

    per_q = _by_question(otter_results["planted"])
    assert per_q["q3"] == (0.0, max_points("q3"))
    assert per_q["q1"] == (max_points("q1"),) * 2 and per_q["q2"] == (max_points("q2"),) * 2
    total = sum(score for score, _ in per_q.values())
    assert total == max_points("q1") + max_points("q2")
