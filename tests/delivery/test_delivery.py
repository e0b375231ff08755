"""Delivery: the GitHub Actions workflow (autograder/delivery/workflow.py, facts.py).

The workflow is generated (``autograder.delivery.render_workflow``) from the
assignment's facts. Its grader commands are run for real, as the grader action
runs them (``/bin/sh -c COMMAND`` in the repository, environment reduced to PATH
and HOME), in copies of ``student_template/`` holding the reference-filled
notebook, the untouched template and a notebook with a wrong q1; then its
summary step (``python -m autograder ci-summary``) runs on what they left. Nothing
downloads: the install step's requirements are checked to be satisfied by the kit's
environment instead of being installed. Tamper evidence: tests/delivery/test_tamper.py; the
otter zip: tests/delivery/test_otter_zip.py.
"""

from __future__ import annotations

import ast
import base64
import copy
import importlib.metadata
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

WRONG_Q1 = """\
def ResidualBlock(input, **kwargs):
    x = keras.layers.Conv2D(padding="same", **kwargs)(input)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(padding="same", **kwargs)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.Add()([input, x])  # the final ReLU is missing
"""


# --------------------------------------------------------------------------- helpers


def load_workflow(path=None) -> dict:
    text = Path(path).read_text(encoding="utf-8") if path else delivery.render_workflow()
    return yaml.safe_load(text)


def public_points() -> dict[str, float]:
    from autograder.public.checks import max_points

    return {q: max_points(q, ("public",)) for q in FUNCS}


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

    graders = [(i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(GRADER)]
    ids = [s.get("id") for _, s in graders]
    if ids != list(points):
        problems.append(f"grader step ids {ids}, expected {list(points)}")
    for _, s in graders:
        w, sid = s.get("with") or {}, s.get("id")
        for key in ("test-name", "command", "timeout", "max-score"):
            if key not in w:
                problems.append(f"{sid}: input {key} missing")
        if "setup-command" in w:  # the install step installs once for every question
            problems.append(f"{sid}: setup-command reinstalls the requirements")
        cmd = str(w.get("command", ""))
        if not re.fullmatch(
            rf"python -m autograder check {NOTEBOOK} -q {sid} "
            rf"--json resultats-autograder/{sid}\.json",
            cmd,
        ):
            problems.append(f"{sid}: command {cmd!r} is not the question's check")
        if "otter check" in cmd:
            problems.append(f"{sid}: otter check exits 0 on failure")
        timeout = w.get("timeout")
        if not isinstance(timeout, int) or not 1 <= timeout <= 60:
            problems.append(f"{sid}: timeout in minutes (1-60) expected, got {timeout!r}")
        score = w.get("max-score")
        if not isinstance(score, int) or sid in points and score != points[sid]:
            problems.append(f"{sid}: max-score {score!r}, public points {points.get(sid)}")
    total = sum(int(s.get("with", {}).get("max-score") or 0) for _, s in graders)
    if total != sum(points.values()):
        problems.append(f"max-scores add up to {total}, public total {sum(points.values())}")

    reporters = [(i, s) for i, s in enumerate(steps) if s.get("uses", "").startswith(REPORTER)]
    if len(reporters) != 1:
        return problems + ["exactly one reporter step expected"]
    i_rep, rep = reporters[0]
    if graders and i_rep < max(i for i, _ in graders):
        problems.append("the reporter must come after every grader step")
    runners = [r.strip() for r in str((rep.get("with") or {}).get("runners", "")).split(",")]
    if runners != ids:
        problems.append(f"reporter runners {runners} != grader ids {ids}")
    for name, sid in (("reporter", None), ("summary", "summary")):
        step = rep if sid is None else next((s for s in steps if s.get("id") == sid), None)
        if step is None:
            problems.append("no summary step")
            continue
        env = step.get("env") or {}
        want = {f"{g.upper()}_RESULTS": f"${{{{steps.{g}.outputs.result}}}}" for g in ids}
        got = {k: re.sub(r"\s", "", str(v)) for k, v in env.items() if k.endswith("_RESULTS")}
        if got != want:
            problems.append(f"{name}: env {sorted(got)} does not match the grader ids")
    summary = next((s for s in steps if s.get("id") == "summary"), None)
    if summary is not None:
        run = str(summary.get("run", ""))
        want_points = ",".join(f"{q}={points[q]:g}" for q in points)
        if summary.get("if") != "always()" or not run.startswith("python -m autograder ci-summary"):
            problems.append("summary: must run always() and call python -m autograder ci-summary")
        elif f"--questions {','.join(points)}" not in run or f"--points {want_points}" not in run:
            problems.append(f"summary: questions or points differ from {want_points}")
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
    """Other facts (a fourth question, other points) give another workflow, still well formed."""
    facts = delivery.assignment_facts()
    facts["questions"][0]["points"] = 4.0
    facts["public_total"] += 1
    wf = yaml.safe_load(delivery.render_workflow(facts))
    points = {**public_points(), "q1": 4.0}
    assert workflow_problems(wf, points) == []
    assert workflow_problems(wf, public_points()) != []  # the check sees the difference
    facts["questions"][0]["points"] = 1.5
    with pytest.raises(ValueError, match="integer"):
        delivery.render_workflow(facts)


def test_workflow_is_short_and_makes_no_false_claims():
    text = delivery.render_workflow()
    code = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert len(code) < 90, len(code)
    assert "PYEOF" not in text and "python - " not in text  # no inline Python any more
    assert "finds the job" not in text and "looks for the check run" not in text


@pytest.mark.parametrize(
    "mutation, expected",
    [
        (lambda s: s[3]["with"].update({"max-score": 5}), "q1: max-score"),
        (lambda s: s[4].update({"id": "q9"}), "grader step ids"),
        (lambda s: s[6]["with"].update({"runners": "q1,q2"}), "reporter runners"),
        (lambda s: s[6]["env"].pop("Q3_RESULTS"), "reporter: env"),
        (
            lambda s: s[5]["with"].update({"command": "otter check resnet_a_la_main.ipynb"}),
            "q3: command",
        ),
        (lambda s: s[3]["with"].update({"timeout": "600s"}), "q1: timeout"),
        (lambda s: s[1]["with"].pop("cache"), "pip cache"),
        (lambda s: s[7].pop("if"), "summary: must run always()"),
        (
            lambda s: s[7].update(
                {
                    "run": "python -m autograder ci-summary --questions q1,q2,q3 "
                    "--points q1=1,q2=2,q3=1"
                }
            ),
            "summary: questions or points",
        ),
        (
            lambda s: s[3]["with"].update({"setup-command": "pip install -r requirements.txt"}),
            "q1: setup-command",
        ),
        (lambda s: s[1]["with"].update({"python-version": "3.14"}), "python-version 3.12"),
        (
            lambda s: s[2].update({"run": "python -m pip install -r requirements.txt"}),
            "installs requirements-checks.txt",
        ),
        (lambda s: s.insert(3, s.pop(6)), "reporter must come after"),
        (lambda s: s[0].update({"uses": "actions/checkout@v4"}), None),  # harmless: no problem
    ],
)
def test_workflow_structure_check_catches(mutation, expected):
    wf = copy.deepcopy(load_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    assert [s.get("id") for s in steps[3:6]] == ["q1", "q2", "q3"]  # indices used above
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


@pytest.fixture(scope="module")
def step_outcomes(tmp_path_factory):
    """Exit status of every grader step's command on three notebooks, as the action runs it."""
    require_template()
    tmp = tmp_path_factory.mktemp("workflow")
    home = offline_home(tmp)
    ref = reference_sources()
    notebooks = {
        "reference": filled_notebook(ref),
        "template": None,
        "wrong_q1": filled_notebook({**ref, "ResidualBlock": WRONG_Q1}),
    }
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith(GRADER)]
    outcomes, repos, logs = {}, {}, {}
    for label, nb in notebooks.items():
        repo = repos[label] = make_repo(tmp, label, nb)
        for s in graders:
            proc = run_command(
                s["with"]["command"], repo, home, timeout=int(s["with"]["timeout"]) * 60
            )
            outcomes[label, s["id"]] = proc.returncode
            logs[label, s["id"]] = proc.stdout + proc.stderr
    return {
        "outcomes": outcomes,
        "repos": repos,
        "logs": logs,
        "home": home,
        "graders": graders,
        "steps": steps,
    }


@pytest.mark.parametrize("question", list(FUNCS))
def test_every_step_passes_on_the_reference(step_outcomes, question):
    rc = step_outcomes["outcomes"]["reference", question]
    assert rc == 0, step_outcomes["logs"]["reference", question]
    saved = json.loads(
        (
            step_outcomes["repos"]["reference"] / "resultats-autograder" / f"{question}.json"
        ).read_text(encoding="utf-8")
    )
    assert saved["passed"] and saved["points"] == public_points()[question]


@pytest.mark.parametrize("question", list(FUNCS))
def test_every_step_fails_on_the_untouched_template(step_outcomes, question):
    rc = step_outcomes["outcomes"]["template", question]
    log = step_outcomes["logs"]["template", question]
    assert rc != 0, log
    assert "Traceback" not in log, log  # a French message, not a crash
    assert "attendu" in log.lower() or "✘" in log, log


def test_wrong_q1_fails_only_the_q1_step(step_outcomes):
    got = {q: step_outcomes["outcomes"]["wrong_q1", q] == 0 for q in FUNCS}
    assert got == {"q1": False, "q2": True, "q3": True}, step_outcomes["logs"]


def _result_b64(status: str, name: str, score: int, max_score: int) -> str:
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
                "message": "",
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


def test_summary_step_writes_the_french_job_summary(step_outcomes, tmp_path):
    """The always() summary step on what the grader steps left in the wrong-q1 repository."""
    repo = step_outcomes["repos"]["wrong_q1"]
    summary_file = tmp_path / "step_summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary_file)}
    for s in step_outcomes["graders"]:
        ok = step_outcomes["outcomes"]["wrong_q1", s["id"]] == 0
        top = int(s["with"]["max-score"])
        env[f"{s['id'].upper()}_RESULTS"] = _result_b64(
            "pass" if ok else "fail", s["with"]["test-name"], top if ok else 0, top
        )
    proc = _run_summary_step(repo, env, step_outcomes["home"])
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    points = public_points()
    # q1: two of its three public checks pass (only the final ReLU is missing)
    assert (
        f"| q1 | `ResidualBlock` | ❌ à revoir | {points['q1'] - 1:g} / {points['q1']:g} |" in text
    )
    assert f"| q2 | `build_resnet` | ✅ réussie | {points['q2']:g} / {points['q2']:g} |" in text
    total = points["q1"] - 1 + points["q2"] + points["q3"]
    assert f"{total:g} / {sum(points.values()):g} points" in text
    feedback = (repo / "resultats-autograder" / "retours.txt").read_text(encoding="utf-8")
    assert "✘" in feedback and "Piste : " in feedback and feedback.strip() in text
    saved = json.loads((repo / "resultats-autograder" / "resultats.json").read_text())
    assert saved["questions"]["q1"]["status"] == "fail"
    # the artifact step uploads the folder the summary step wrote
    upload = next(s for s in step_outcomes["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == "resultats-autograder"


def test_summary_step_without_results_says_not_run(tmp_path):
    """Grader steps that never ran (install failed): not run, without crashing or TensorFlow."""
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "autograder", repo / "autograder", ignore=shutil.ignore_patterns("__pycache__")
    )
    summary_file = tmp_path / "summary.md"
    proc = _run_summary_step(
        repo,
        {"GITHUB_STEP_SUMMARY": str(summary_file), "Q1_RESULTS": _result_b64("pass", "q1", 3, 3)},
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    assert "| q1 | `ResidualBlock` | ✅ réussie | 3 / 3 |" in text
    assert "| q2 | `build_resnet` | ⚠️ non exécutée | – / 2 |" in text
    assert "**Total des vérifications publiques : 3 / 6 points.**" in text
