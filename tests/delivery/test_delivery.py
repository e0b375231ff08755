"""Delivery: the GitHub Actions workflow (autograder/delivery/workflow.py, facts.py).

The workflow is generated (``autograder.delivery.render_workflow``) from the
assignment's facts: one grader step per public check, worth that check's points,
all served by one evaluation per push (``python -m autograder ci-step CHECK``:
the first step evaluates, the next ones read ``resultats-autograder/evaluation.json``).
Its grader commands are run for real, as the grader action runs them
(``/bin/sh -c COMMAND`` in the repository, environment reduced to PATH and HOME),
in copies of ``student_template/`` holding the reference-filled notebook, the
untouched template and a beginner's mistake from the gallery (one evaluation
each, per module); the steps' points must add up to ``check``'s total (the
gallery's hand-written golden outcome). A first step killed while evaluating
turns every step into a timeout, 0 out of every point. Then the summary step
(``python -m autograder ci-summary``) runs on what they left. Nothing
downloads: the install step's requirements are checked to be satisfied by the
kit's environment instead of being installed. Tamper evidence:
tests/delivery/test_tamper.py; the otter zip: tests/delivery/test_otter_zip.py.
"""

from __future__ import annotations

import ast
import base64
import copy
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder import delivery
from autograder.public import ci
from tests.gallery import load_golden

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


# --------------------------------------------------------------------------- workflow structure


def test_workflow_structure():
    assert workflow_problems(load_workflow(), public_points()) == []


def test_template_workflow_is_the_generated_one():
    require_template()
    assert (TEMPLATE / WORKFLOW_REL).read_text(encoding="utf-8") == delivery.render_workflow()


def test_workflow_follows_the_facts():
    """Other facts (other points) give another workflow, still well formed."""
    facts = delivery.assignment_facts()
    facts["questions"][0]["checks"][0]["points"] = 4.0
    facts["public_total"] += 3
    wf = yaml.safe_load(delivery.render_workflow(facts))
    first = next(iter(public_points()))
    points = {**public_points(), first: 4.0}
    assert workflow_problems(wf, points) == []
    assert workflow_problems(wf, public_points()) != []  # the check sees the difference
    facts["questions"][0]["checks"][0]["points"] = 1.5
    with pytest.raises(ValueError, match="integer"):
        delivery.render_workflow(facts)


def test_one_grader_step_per_public_check_worth_its_points():
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith(GRADER)]
    assert [(s["with"]["command"].split()[-1], s["with"]["max-score"]) for s in graders] == [
        (c, int(p)) for c, p in public_points().items()
    ]
    assert sum(s["with"]["max-score"] for s in graders) == sum(public_points().values())
    for s in graders:  # the French title in the step's name
        cid = s["with"]["command"].split()[-1]
        assert s["name"].startswith(f"{cid} — ") and s["name"] == s["with"]["test-name"]


def test_workflow_is_short_and_makes_no_false_claims():
    text = delivery.render_workflow()
    code = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert len(code) < 120, len(code)
    assert "PYEOF" not in text and "python - " not in text  # no inline Python
    assert "finds the job" not in text and "looks for the check run" not in text


@pytest.mark.parametrize(
    "mutation, expected",
    [
        (lambda s: s[3]["with"].update({"max-score": 5}), "q1_shape: max-score"),
        (lambda s: s[4].update({"id": "q9"}), "grader step ids"),
        (lambda s: s[9]["with"].update({"runners": "q1_shape,q1_order"}), "reporter runners"),
        (lambda s: s[9]["env"].pop("Q3_OUTPUT_RESULTS"), "reporter: env"),
        (
            lambda s: s[9]["env"].update(
                {"Q1_SHAPE_RESULTS": "${{ steps.q1_shape.outputs.result }}"}
            ),
            "a skipped q1_shape must count",
        ),
        (lambda s: s[9].pop("if"), "reporter: must run after"),
        (
            lambda s: s[5]["with"].update({"command": "otter check resnet_a_la_main.ipynb"}),
            "q1_kwargs: command",
        ),
        (
            lambda s: s[3]["with"].update(
                {"command": "python -m autograder check resnet_a_la_main.ipynb -q q1"}
            ),
            "q1_shape: command",
        ),
        (lambda s: s[4].pop("if"), "q1_order: must run after a failed check"),
        (lambda s: s[3]["with"].update({"timeout": "600s"}), "q1_shape: timeout"),
        (lambda s: s[1]["with"].pop("cache"), "pip cache"),
        (lambda s: s[10].pop("if"), "summary: must run always()"),
        (
            lambda s: s[10].update(
                {"run": "python -m autograder ci-summary --points q1.shape=1,q1.order=1"}
            ),
            "summary: checks or points",
        ),
        (
            lambda s: s[3]["with"].update({"setup-command": "pip install -r requirements.txt"}),
            "q1_shape: setup-command",
        ),
        (lambda s: s[1]["with"].update({"python-version": "3.14"}), "python-version 3.12"),
        (
            lambda s: s[2].update({"run": "python -m pip install -r requirements.txt"}),
            "installs requirements-checks.txt",
        ),
        (
            lambda s: s[2].update(
                {"run": "python -m pip install --requirement requirements-checks.txt"}
            ),
            "must first remove resultats-autograder",
        ),
        (lambda s: s.insert(3, s.pop(9)), "reporter must come after"),
        (lambda s: s[0].update({"uses": "actions/checkout@v4"}), None),  # harmless: no problem
    ],
)
def test_workflow_structure_check_catches(mutation, expected):
    wf = copy.deepcopy(load_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    assert [s.get("id") for s in steps[3:9]] == [ci.step_id(c) for c in public_points()]
    assert steps[9]["uses"].startswith(REPORTER) and steps[10]["id"] == "summary"
    mutation(steps)
    problems = workflow_problems(wf, public_points())
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_install_step_requirements_are_satisfied_here():
    """The workflow installs requirements-checks.txt, which the kit's environment satisfies."""
    from packaging.requirements import Requirement

    require_template()
    unsatisfied = []
    for line in (TEMPLATE / "requirements-checks.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = None
        # the kit pins tensorflow-cpu: the same `tensorflow` module, at the same version
        for dist in ALIASES.get(req.name.lower(), (req.name,)):
            try:
                version = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                pass
        if version is None:
            unsatisfied.append(f"{req.name} not installed")
            continue
        if not req.specifier.contains(version, prereleases=True):
            unsatisfied.append(f"{req.name} {version} not in {req.specifier}")
    assert unsatisfied == []


def test_template_ships_lean_and_full_requirements():
    """requirements.txt (notebook) includes requirements-checks.txt (checks only)."""
    require_template()
    full = (TEMPLATE / "requirements.txt").read_text(encoding="utf-8").splitlines()
    lean = (TEMPLATE / "requirements-checks.txt").read_text(encoding="utf-8")
    assert "-r requirements-checks.txt" in full
    names = {
        re.split(r"[<>=!~;\[ ]", l, maxsplit=1)[0].lower()
        for l in lean.splitlines()
        if l.strip() and not l.startswith("#")
    }
    assert names == {
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "numpy",
        "psutil",
        "nbformat",
        "ipython",
    }
    for heavy in ("otter-grader", "pytest", "scikit-learn", "matplotlib", "pandas", "seaborn"):
        assert heavy not in lean and any(l.startswith(heavy) for l in full), heavy


# --------------------------------------------------------------------------- workflow, run for real


def graders() -> list[dict]:
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    return [s for s in steps if s.get("uses", "").startswith(GRADER)]


def golden_public_points(case: str) -> float:
    """``check``'s public total for a gallery case, from the hand-written golden outcomes."""
    checks = load_golden()[case]["checks"]
    return sum(p for c, p in public_points().items() if checks[c])


def gallery_notebook(case: str) -> str:
    from tests.gallery import _notebook_json, parse_case

    return _notebook_json(parse_case(case)["cells"])


@pytest.fixture(scope="module")
def step_runs(tmp_path_factory):
    """Every grader step's command, in order, on three notebooks: one evaluation each."""
    require_template()
    tmp = tmp_path_factory.mktemp("workflow")
    home = offline_home(tmp)
    repos = {
        "reference": make_repo(tmp, "reference", filled_notebook(reference_sources())),
        "blank_template": make_repo(tmp, "blank_template", None),
        PARTLY: make_repo(tmp, PARTLY, None),
    }
    (repos[PARTLY] / NOTEBOOK).write_text(gallery_notebook(PARTLY), encoding="utf-8")
    runs = {}
    for label, repo in repos.items():
        for s in graders():
            proc = run_command(
                s["with"]["command"], repo, home, timeout=int(s["with"]["timeout"]) * 60
            )
            runs[label, s["id"]] = {
                "rc": proc.returncode,
                "log": proc.stdout + proc.stderr,
                "points": s["with"]["max-score"] if proc.returncode == 0 else 0,
            }
    return {"runs": runs, "repos": repos, "home": home}


def step_total(step_runs, label) -> float:
    return sum(step_runs["runs"][label, s["id"]]["points"] for s in graders())


@pytest.mark.slow
@pytest.mark.parametrize("label", ["reference", "blank_template", PARTLY])
def test_steps_add_up_to_the_check_total(step_runs, label):
    """Passing, beginner (blank template) and partly failing: the steps' points are check's."""
    total = step_total(step_runs, label)
    assert total == golden_public_points(label)
    saved = json.loads(
        (step_runs["repos"][label] / ci.RESULTS_DIR / ci.EVALUATION_FILE).read_text("utf-8")
    )
    assert saved["points"] == total and saved["max"] == sum(public_points().values())
    assert saved["notebook_sha256"] == ci.notebook_hash(step_runs["repos"][label] / NOTEBOOK)
    for s in graders():  # each step passed exactly when its check passed
        entry = next(c for c in saved["checks"] if c["id"] == s["with"]["command"].split()[-1])
        assert (step_runs["runs"][label, s["id"]]["rc"] == 0) == entry["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("label", ["reference", "blank_template", PARTLY])
def test_the_notebook_is_evaluated_once_per_run(step_runs, label):
    logs = [step_runs["runs"][label, s["id"]]["log"] for s in graders()]
    assert "Notebook évalué" in logs[0], logs[0]
    for log in logs[1:]:
        assert "Résultat repris de resultats-autograder/evaluation.json" in log, log
        assert "Notebook évalué" not in log


@pytest.mark.slow
def test_failed_steps_explain_in_french(step_runs):
    for s in graders():
        log = step_runs["runs"]["blank_template", s["id"]]["log"]
        assert step_runs["runs"]["blank_template", s["id"]]["rc"] == 1
        assert "Traceback" not in log, log  # a French message, not a crash
        assert "✘" in log and "Piste : " in log, log
    failed = [s for s in graders() if step_runs["runs"][PARTLY, s["id"]]["rc"] != 0]
    assert [s["id"] for s in failed] == [
        ci.step_id(c)
        for c, ok in load_golden()[PARTLY]["checks"].items()
        if c in public_points() and not ok
    ]


def test_a_step_killed_while_evaluating_makes_every_step_a_timeout(tmp_path):
    """The first step stopped by its time limit: the next ones report a timeout without
    evaluating again, and the summary counts 0 out of every point."""
    require_template()
    repo = make_repo(tmp_path, "slow", None)
    home = offline_home(tmp_path)
    steps = graders()
    env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}
    first = subprocess.Popen(
        ["/bin/sh", "-c", steps[0]["with"]["command"]],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    marker = repo / ci.RESULTS_DIR / ci.EVALUATION_FILE
    deadline = time.monotonic() + 120
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # what the grader's timeout does
    first.wait()
    assert json.loads(marker.read_text(encoding="utf-8"))["state"] == "running"
    outputs = {steps[0]["id"]: _result_b64("error", "t", 0, 1, "Command timed out")}
    for s in steps[1:]:
        proc = run_command(s["with"]["command"], repo, home, timeout=120)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "⏱️ temps dépassé" in proc.stdout and "Notebook évalué" not in proc.stdout
        outputs[s["id"]] = _result_b64("fail", "t", 0, 1)
    summary_file = tmp_path / "summary.md"
    env = {f"{k.upper()}_RESULTS": v for k, v in outputs.items()}
    proc = _run_summary_step(repo, {**env, "GITHUB_STEP_SUMMARY": str(summary_file)}, home)
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    total = sum(public_points().values())
    assert text.count("⏱️ temps dépassé | 0 / 1 |") == len(steps)
    assert f"**Total des vérifications publiques : 0 / {total:g} points.**" in text


def _result_b64(status: str, name: str, score: int, max_score: int, message: str = "") -> str:
    """The ``result`` output of the command-grader action (base64 JSON)."""
    res = {
        "version": 1,
        "status": status,
        "max_score": max_score,
        "tests": [
            {
                "name": name,
                "status": status,
                "score": score,
                "message": message,
                "test_code": "",
                "filename": "",
                "line_no": 0,
                "duration": 1,
            }
        ],
    }
    return base64.b64encode(json.dumps(res).encode()).decode()


def _run_summary_step(repo: Path, env: dict, home: Path, step=None):
    """The summary step's command, as Actions runs a `run:` step (bash -e), PATH and HOME only."""
    step = step or next(
        s for s in next(iter(load_workflow()["jobs"].values()))["steps"] if s.get("id") == "summary"
    )
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=repo,
        timeout=120,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(home), **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_summary_step_writes_the_french_job_summary(step_runs, tmp_path):
    """The always() summary step on what the grader steps left in the partly failing repository."""
    repo = step_runs["repos"][PARTLY]
    summary_file = tmp_path / "step_summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary_file)}
    for s in graders():
        r = step_runs["runs"][PARTLY, s["id"]]
        top = int(s["with"]["max-score"])
        env[f"{s['id'].upper()}_RESULTS"] = _result_b64(
            "pass" if r["rc"] == 0 else "fail", s["with"]["test-name"], r["points"], top
        )
    proc = _run_summary_step(repo, env, step_runs["home"])
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    total = step_total(step_runs, PARTLY)
    assert f"**Total des vérifications publiques : {total:g} / 6 points.**" in text
    assert "| `q1.order` " in text and "❌ à revoir | 0 / 1 |" in text
    feedback = (repo / ci.RESULTS_DIR / "retours.txt").read_text(encoding="utf-8")
    assert "✘" in feedback and "Piste : " in feedback and feedback.strip() in text
    saved = json.loads((repo / ci.RESULTS_DIR / "resultats.json").read_text())
    assert saved["checks"]["q1.order"]["status"] == "fail" and saved["earned"] == total
    # the artifact step uploads the folder the summary step wrote
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == ci.RESULTS_DIR


def test_summary_step_without_results_says_not_run(tmp_path):
    """Grader steps that never ran (install failed): not run, without crashing or TensorFlow."""
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "autograder", repo / "autograder", ignore=shutil.ignore_patterns("__pycache__")
    )
    summary_file = tmp_path / "summary.md"
    proc = _run_summary_step(
        repo,
        {
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "Q1_SHAPE_RESULTS": _result_b64("pass", "q1.shape", 1, 1),
        },
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    assert "| q1 | `q1.shape` " in text and "| ✅ réussie | 1 / 1 |" in text
    assert "| ⚠️ non exécutée | – / 1 |" in text
    assert "**Total des vérifications publiques : 1 / 6 points.**" in text
