"""The generated workflow's grader commands, run for real as the grader action runs them.

See tests/delivery/test_workflow.py for the structure; helpers in tests/delivery/repos.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from autograder.public import ci
from tests.delivery.repos import (
    GRADER,
    NOTEBOOK,
    PARTLY,
    ROOT,
    VENV_BIN,
    filled_notebook,
    load_workflow,
    make_repo,
    offline_home,
    public_points,
    reference_sources,
    require_template,
    run_command,
)
from tests.gallery import load_golden
from tests.public.test_ci_summary import runner_b64

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
    outputs = {steps[0]["id"]: runner_b64("error", "t", 0, "Command timed out")}
    for s in steps[1:]:
        proc = run_command(s["with"]["command"], repo, home, timeout=120)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "⏱️ temps dépassé" in proc.stdout and "Notebook évalué" not in proc.stdout
        outputs[s["id"]] = runner_b64("fail", "t", 0)
    summary_file = tmp_path / "summary.md"
    env = {f"{k.upper()}_RESULTS": v for k, v in outputs.items()}
    proc = _run_summary_step(repo, {**env, "GITHUB_STEP_SUMMARY": str(summary_file)}, home)
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    total = sum(public_points().values())
    assert text.count("⏱️ temps dépassé | 0 / 1 |") == len(steps)
    assert f"**Total des vérifications publiques : 0 / {total:g} points.**" in text


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
        env[f"{s['id'].upper()}_RESULTS"] = runner_b64(
            "pass" if r["rc"] == 0 else "fail", s["with"]["test-name"], r["points"], max_score=top
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
            "Q1_SHAPE_RESULTS": runner_b64("pass", "q1.shape", 1),
        },
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    text = summary_file.read_text(encoding="utf-8")
    assert "| q1 | `q1.shape` " in text and "| ✅ réussie | 1 / 1 |" in text
    assert "| ⚠️ non exécutée | – / 1 |" in text
    assert "**Total des vérifications publiques : 1 / 6 points.**" in text
