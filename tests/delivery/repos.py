"""Shared helpers of the delivery tests: the generated workflow, student repositories made from
the template, an offline HOME, the reference sources."""

from __future__ import annotations

import ast
import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder import delivery
from autograder.public import ci

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template"
WORKFLOW_REL = ".github/workflows/classroom.yml"
WORKFLOW_SRC = TEMPLATE / WORKFLOW_REL
NOTEBOOK = "resnet_a_la_main.ipynb"
VENV_BIN = Path(sys.executable).parent
GRADER = "classroom-resources/autograding-command-grader@"
REPORTER = "classroom-resources/autograding-grading-reporter@"
ALIASES = {"tensorflow": ("tensorflow", "tensorflow-cpu")}
FUNCS = {"q1": "ResidualBlock", "q2": "build_resnet", "q3": "build_cnn"}
#: a beginner's mistake from the gallery: the ReLU after the addition is missing
PARTLY = "reject_no_final_relu"


# --------------------------------------------------------------------------- helpers


def load_workflow(path=None) -> dict:
    text = Path(path).read_text(encoding="utf-8") if path else delivery.render_workflow()
    return yaml.safe_load(text)


def public_points() -> dict[str, float]:
    """Every public check's points, in registry order."""
    from autograder.public.checks import registry

    return {
        s["id"]: s["points"]
        for s in registry()
        if s["visibility"] == "public" and not s.get("manual")
    }


def workflow_problems(wf: dict, points: dict[str, float]) -> list[str]:
    """Structural problems of a Classroom workflow (empty when it is right)."""
    problems = []
    triggers = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as True
    if isinstance(triggers, str):
        triggers = [triggers]
    for event in ("push", "workflow_dispatch"):
        if not triggers or event not in triggers:
            problems.append(f"trigger {event} missing")
    jobs = wf.get("jobs") or {}
    if len(jobs) != 1:
        return problems + [f"expected one job, got {len(jobs)}"]
    job_id, job = next(iter(jobs.items()))
    steps = job.get("steps") or []
    uses = [s.get("uses", "") for s in steps]

    def index(prefix):
        return next((i for i, u in enumerate(uses) if u.startswith(prefix)), None)

    i_checkout, i_python = index("actions/checkout@"), index("actions/setup-python@")
    if i_checkout is None or i_python is None or i_python < i_checkout:
        problems.append("checkout then setup-python expected")
    else:
        w = steps[i_python].get("with") or {}
        if str(w.get("python-version")) != "3.12":
            problems.append("setup-python: python-version 3.12 expected")
        if w.get("cache") != "pip" or w.get("cache-dependency-path") != "requirements-checks.txt":
            problems.append("setup-python: pip cache keyed on requirements-checks.txt expected")
    installs = [
        i
        for i, s in enumerate(steps)
        if "pip install --requirement requirements-checks.txt" in str(s.get("run", ""))
    ]
    if not installs:
        problems.append("no step installs requirements-checks.txt")

    install = next((s for s in steps if s.get("id") == "install"), None)
    if install is None or not str(install.get("run", "")).lstrip().startswith(
        "rm -rf resultats-autograder"
    ):
        problems.append("the install step (id install) must first remove resultats-autograder")

    graders = [(i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(GRADER)]
    ids = [s.get("id") for _, s in graders]
    want_ids = [ci.step_id(c) for c in points]
    if ids != want_ids:
        problems.append(f"grader step ids {ids}, expected {want_ids}")
    check_of = dict(zip(want_ids, points, strict=True))
    for _, s in graders:
        w, sid = s.get("with") or {}, s.get("id")
        cid = check_of.get(sid)
        for key in ("test-name", "command", "timeout", "max-score"):
            if key not in w:
                problems.append(f"{sid}: input {key} missing")
        if "setup-command" in w:  # the install step installs once for every check
            problems.append(f"{sid}: setup-command reinstalls the requirements")
        cond = re.sub(r"\s", "", str(s.get("if", "")))
        if "!cancelled()" not in cond or "steps.install.outcome=='success'" not in cond:
            problems.append(f"{sid}: must run after a failed check, once the install succeeded")
        cmd = str(w.get("command", ""))
        if cmd != f"python -m autograder ci-step {cid}":
            problems.append(f"{sid}: command {cmd!r} is not its check's step")
        if "otter check" in cmd:
            problems.append(f"{sid}: otter check exits 0 on failure")
        timeout = w.get("timeout")
        if not isinstance(timeout, int) or not 1 <= timeout <= 60:
            problems.append(f"{sid}: timeout in minutes (1-60) expected, got {timeout!r}")
        score = w.get("max-score")
        if not isinstance(score, int) or cid in points and score != points[cid]:
            problems.append(f"{sid}: max-score {score!r}, public points {points.get(cid)}")
    total = sum(int(s.get("with", {}).get("max-score") or 0) for _, s in graders)
    if total != sum(points.values()):
        problems.append(f"max-scores add up to {total}, public total {sum(points.values())}")

    reporters = [(i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(REPORTER)]
    if len(reporters) != 1:
        return problems + ["exactly one reporter step expected"]
    i_rep, rep = reporters[0]
    if graders and i_rep < max(i for i, _ in graders):
        problems.append("the reporter must come after every grader step")
    if "!cancelled()" not in str(rep.get("if", "")):
        problems.append("reporter: must run after a failed or skipped step")
    runners = [r.strip() for r in str((rep.get("with") or {}).get("runners", "")).split(",")]
    if runners != ids:
        problems.append(f"reporter runners {runners} != grader ids {ids}")
    env = rep.get("env") or {}
    got = sorted(k for k in env if k.endswith("_RESULTS"))
    if got != sorted(f"{g.upper()}_RESULTS" for g in ids):
        problems.append(f"reporter: env {got} does not match the grader ids")
    for _, g in graders:
        value = re.sub(r"\s", "", str(env.get(f"{g.get('id', '').upper()}_RESULTS", "")))
        m = re.fullmatch(
            rf"\$\{{\{{steps\.{g.get('id')}\.outputs\.result\|\|'([^']+)'\}}\}}", value
        )
        fallback = json.loads(base64.b64decode(m.group(1))) if m else {}
        if fallback.get("max_score") != (g.get("with") or {}).get("max-score"):
            problems.append(f"reporter: a skipped {g.get('id')} must count 0 out of its points")
    summary = next((s for s in steps if s.get("id") == "summary"), None)
    if summary is None:
        problems.append("no summary step")
    else:
        env = summary.get("env") or {}
        want = {f"{g.upper()}_RESULTS": f"${{{{steps.{g}.outputs.result}}}}" for g in ids}
        got = {k: re.sub(r"\s", "", str(v)) for k, v in env.items() if k.endswith("_RESULTS")}
        if got != want:
            problems.append(f"summary: env {sorted(got)} does not match the grader ids")
        run = str(summary.get("run", ""))
        want_points = ",".join(f"{c}={points[c]:g}" for c in points)
        if summary.get("if") != "always()" or not run.startswith("python -m autograder ci-summary"):
            problems.append("summary: must run always() and call python -m autograder ci-summary")
        elif f"--points {want_points}" not in run:
            problems.append(f"summary: checks or points differ from {want_points}")
        if len(run.strip().splitlines()) > 1:
            problems.append("summary: one command expected, no inline script")
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@v4")]
    if not upload or upload[0].get("if") != "always()":
        problems.append("an always() actions/upload-artifact@v4 step is expected")
    return problems


def run_command(cmd: str, cwd: Path, home: Path, extra_env=None, timeout=600):
    """Run a step command the way the grader action does: sh -c, PATH and HOME only."""
    env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}
    env.update(extra_env or {})
    return subprocess.run(
        ["/bin/sh", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def reference_sources() -> dict[str, str]:
    """Reference function definitions, read from solutions/ without importing TensorFlow."""
    src = (ROOT / "solutions" / "resnet_a_la_main.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    return {
        n.name: ast.get_source_segment(src, n)
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name in FUNCS.values()
    }


def filled_notebook(defs: dict[str, str]) -> nbformat.NotebookNode:
    """The template notebook with the stub cells defining ``defs``' names replaced."""
    nb = nbformat.read(TEMPLATE / NOTEBOOK, as_version=4)
    done = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name, source in defs.items():
            if re.search(rf"^def {name}\(", cell.source, re.M):
                cell.source = source
                done.add(name)
    assert done == set(defs), f"stub cells not found for {set(defs) - done}"
    return nb


def make_repo(tmp: Path, name: str, nb) -> Path:
    repo = tmp / name
    shutil.copytree(TEMPLATE, repo, symlinks=True)
    if nb is not None:
        nbformat.write(nb, repo / NOTEBOOK)
    return repo


def offline_home(tmp: Path) -> Path:
    """A fresh HOME whose Keras cache points at the local Fashion-MNIST files."""
    from autograder.public.data import find_local_dir

    home = tmp / "home"
    datasets = home / ".keras" / "datasets"
    if not datasets.exists():
        datasets.mkdir(parents=True)
        local = find_local_dir()
        if local is not None:
            (datasets / "fashion-mnist").symlink_to(Path(local).resolve())
    return home


def require_template():
    if not (TEMPLATE / NOTEBOOK).is_file():
        pytest.fail("student_template/ is not generated: run `make assign`")
