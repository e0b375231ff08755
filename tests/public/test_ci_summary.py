"""The per-check workflow steps' shared evaluation (``ci-step``) and ``ci-summary``.

``ci-summary`` is run as the generated workflow's summary step runs it: ``bash -e
-c`` in the repository, PATH and HOME only, plus each step's ``<STEP>_RESULTS``.
The cases: every check passed, a failed check, a step killed by its timeout, an
evaluation that never finished, steps skipped because the install failed; in
every case the steps' points add up to the total and the maximum is every
public check's. The shared evaluation file (``ci_step.evaluation_for``) is
reused only when it is this notebook's and consistent with the registry; a
stale or forged file (another hash, too large, garbage, impossible points) is
evaluated again, never trusted. Nothing here imports TensorFlow: the evaluation
is a stub returning what ``check`` would.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from autograder import delivery
from autograder.public import ci, ci_step, ci_summary

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NOTEBOOK = "resnet_a_la_main.ipynb"
SPECS = ci.public_specs_from_source()
IDS = [s["id"] for s in SPECS]
TOTAL = sum(s["points"] for s in SPECS)
FAIL_MESSAGE = "attendu : 7 couches, reçu : 6."
FAIL_HINT = "Ajoutez la ReLU finale après l'addition."


def runner_b64(status: str, cid: str, score: int, message: str = "", max_score: int = 1) -> str:
    """The command grader's ``result`` output (base64 JSON), as its v1 writes it."""
    res = {
        "version": 1,
        "status": status,
        "max_score": max_score,
        "tests": [
            {
                "name": cid,
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


def results(failing=()) -> list[dict]:
    """What ``check_notebook`` gives, as dicts: every public check, ``failing`` ones failed."""
    return [
        {
            "id": s["id"],
            "question": s["question"],
            "title": s["title"],
            "points": 0 if s["id"] in failing else s["points"],
            "max_points": s["points"],
            "passed": s["id"] not in failing,
            "message": FAIL_MESSAGE if s["id"] in failing else "",
            "hint": FAIL_HINT if s["id"] in failing else "",
        }
        for s in SPECS
    ]


def payload(failing=(), sha=None) -> dict:
    return ci.check_payload(results(failing), NOTEBOOK, None, notebook_sha256=sha)


@pytest.fixture
def repo(tmp_path):
    """A student repository with the public library and a notebook (never evaluated here)."""
    r = tmp_path / "repo"
    shutil.copytree(
        ROOT / "autograder" / "public",
        r / "autograder" / "public",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "student_template" / "autograder" / "__init__.py", r / "autograder")
    shutil.copy(ROOT / "student_template" / "autograder" / "__main__.py", r / "autograder")
    (r / NOTEBOOK).write_text('{"cells": [], "note": "stand-in"}', encoding="utf-8")
    (r / ci.RESULTS_DIR).mkdir()
    return r


def sha_of(repo: Path) -> str:
    return ci.notebook_hash(repo / NOTEBOOK)


def write_evaluation(repo: Path, data: dict) -> None:
    ci.write_json(repo / ci.RESULTS_DIR / ci.EVALUATION_FILE, data)


def step_env(verdicts: dict[str, str | None]) -> dict[str, str]:
    """``{check id: "pass" | "fail" | "timeout" | None}`` -> the steps' ``*_RESULTS`` (None: skipped)."""
    env = {}
    for cid, v in verdicts.items():
        key = f"{ci.step_id(cid).upper()}_RESULTS"
        if v is None:
            env[key] = ""  # a skipped step's output is empty
        elif v == "timeout":
            env[key] = runner_b64("error", cid, 0, "Command timed out")
        else:
            env[key] = runner_b64(v, cid, 1 if v == "pass" else 0)
    return env


def summary_step() -> dict:
    wf = yaml.safe_load(delivery.render_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    return next(s for s in steps if s.get("id") == "summary")


def run_step(repo: Path, env: dict) -> tuple[subprocess.CompletedProcess, str, dict]:
    out = repo.parent / "step_summary.md"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        ["bash", "-e", "-c", summary_step()["run"]],
        cwd=repo,
        timeout=120,
        env={
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": str(repo.parent),
            "GITHUB_STEP_SUMMARY": str(out),
            **env,
        },
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((repo / ci.RESULTS_DIR / "resultats.json").read_text(encoding="utf-8"))
    return proc, out.read_text(encoding="utf-8"), data


def step_points(data: dict) -> float:
    return sum(c["points"] for c in data["checks"].values())


def assert_row(text: str, cid: str, verdict: str, points: str) -> None:
    line = next((l for l in text.splitlines() if f"| `{cid}` " in l), None)
    assert line is not None, text
    assert line.endswith(f"| {ci.VERDICTS[verdict]} | {points} |"), line


# --------------------------------------------------------------------------- the summary


def test_all_pass(repo):
    write_evaluation(repo, payload(sha=sha_of(repo)))
    _, text, data = run_step(repo, step_env(dict.fromkeys(IDS, "pass")))
    for cid in IDS:
        assert_row(text, cid, "pass", "1 / 1")
    assert f"**Total des vérifications publiques : {TOTAL:g} / {TOTAL:g} points.**" in text
    assert "✘" not in text
    assert data["earned"] == step_points(data) == TOTAL and data["possible"] == TOTAL


def test_a_failed_check(repo):
    write_evaluation(repo, payload(failing=("q1.order",), sha=sha_of(repo)))
    verdicts = {cid: "fail" if cid == "q1.order" else "pass" for cid in IDS}
    _, text, data = run_step(repo, step_env(verdicts))
    assert_row(text, "q1.order", "fail", "0 / 1")
    assert_row(text, "q1.shape", "pass", "1 / 1")
    assert f"**Total des vérifications publiques : {TOTAL - 1:g} / {TOTAL:g} points.**" in text
    # the detailed French feedback: expected, received, a hint
    assert f"      {FAIL_MESSAGE}\n      Piste : {FAIL_HINT}" in text
    feedback = (repo / ci.RESULTS_DIR / "retours.txt").read_text(encoding="utf-8")
    assert feedback.strip() in text and "q1 — ResidualBlock : 2 / 3" in feedback
    assert data["checks"]["q1.order"]["status"] == "fail"


def test_one_step_killed_by_its_timeout(repo):
    """The evaluation finished, but one step was killed: a timeout, its point still counted as max."""
    write_evaluation(repo, payload(sha=sha_of(repo)))
    verdicts = {cid: "timeout" if cid == "q2.output" else "pass" for cid in IDS}
    _, text, data = run_step(repo, step_env(verdicts))
    assert_row(text, "q2.output", "timeout", "0 / 1")
    assert f"**Total des vérifications publiques : {TOTAL - 1:g} / {TOTAL:g} points.**" in text
    assert data["possible"] == TOTAL


def test_an_evaluation_that_never_finished(repo):
    """The first step was killed while evaluating: every step is a timeout, 0 out of every point."""
    marker = {
        "schema": ci.CHECK_SCHEMA,
        "notebook_sha256": sha_of(repo),
        "state": "timeout",
        "token": "abc",
        "started": time.time(),
    }
    write_evaluation(repo, marker)
    verdicts = {cid: "fail" for cid in IDS}
    verdicts[IDS[0]] = "timeout"
    _, text, data = run_step(repo, step_env(verdicts))
    for cid in IDS:
        assert_row(text, cid, "timeout", "0 / 1")
    assert f"**Total des vérifications publiques : 0 / {TOTAL:g} points.**" in text
    assert "temps limite" in text


def test_an_error_that_is_not_a_timeout(repo):
    env = step_env(dict.fromkeys(IDS, "pass"))
    env["Q1_SHAPE_RESULTS"] = runner_b64("error", "q1.shape", 0, "spawn python ENOENT")
    write_evaluation(repo, payload(sha=sha_of(repo)))
    _, text, _ = run_step(repo, env)
    assert_row(text, "q1.shape", "error", "0 / 1")
    assert "spawn python ENOENT" in text


def test_skipped_steps(repo):
    """The install step failed: the grader steps were skipped, their outputs are empty."""
    proc, text, data = run_step(repo, step_env(dict.fromkeys(IDS)))
    for cid in IDS:
        assert_row(text, cid, "skipped", "– / 1")
    assert f"**Total des vérifications publiques : 0 / {TOTAL:g} points.**" in text
    assert "n'a pas été lancée" in text
    assert text in proc.stdout  # also printed in the step's log
    assert data["possible"] == TOTAL


def test_a_planted_result_file_cannot_override_a_failing_step(repo):
    """A file saying "all passed" next to steps that failed: the steps' verdict wins."""
    write_evaluation(repo, payload(sha=sha_of(repo)))
    _, text, data = run_step(repo, step_env(dict.fromkeys(IDS, "fail")))
    assert_row(text, "q1.shape", "fail", "0 / 1")
    assert data["earned"] == 0


def test_a_planted_file_for_another_notebook_gives_no_feedback(repo):
    write_evaluation(repo, payload(failing=("q1.order",), sha="0" * 64))
    verdicts = {cid: "fail" if cid == "q1.order" else "pass" for cid in IDS}
    _, text, data = run_step(repo, step_env(verdicts))
    assert FAIL_MESSAGE not in text and "Retours détaillés indisponibles" in text
    assert data["evaluation"] == "absent"


@pytest.mark.parametrize(
    "verdicts",
    [
        dict.fromkeys(IDS, "pass"),
        {cid: "fail" if cid.startswith("q1") else "pass" for cid in IDS},
        {cid: "timeout" if cid == "q3.output" else "fail" for cid in IDS},
        {cid: None if cid.startswith("q2") else "pass" for cid in IDS},
    ],
    ids=["passing", "partly-failing", "timeout", "skipped"],
)
def test_steps_add_up_to_the_total_and_the_maximum_never_shrinks(repo, verdicts):
    failing = [cid for cid, v in verdicts.items() if v == "fail"]
    write_evaluation(repo, payload(failing=failing, sha=sha_of(repo)))
    _, text, data = run_step(repo, step_env(verdicts))
    earned = sum(1 for v in verdicts.values() if v == "pass")
    assert data["earned"] == step_points(data) == earned
    assert data["possible"] == TOTAL
    assert f"{earned:g} / {TOTAL:g} points" in text
    if all(v in ("pass", "fail") for v in verdicts.values()):  # every step ran to its end
        assert data["earned"] == payload(failing=failing)["points"]  # check's total


def test_the_reporter_counts_a_skipped_step_out_of_its_points():
    """The reporter's env falls back to a 0-point result worth the step's max-score."""
    wf = yaml.safe_load(delivery.render_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    reporter = next(s for s in steps if "grading-reporter" in s.get("uses", ""))
    graders = {s["id"]: s for s in steps if "command-grader" in s.get("uses", "")}
    assert reporter["with"]["runners"].split(",") == list(graders) == [ci.step_id(c) for c in IDS]
    maxima = 0
    for sid, step in graders.items():
        value = reporter["env"][f"{sid.upper()}_RESULTS"]
        m = re.fullmatch(
            rf"\$\{{\{{ steps\.{sid}\.outputs\.result \|\| '([A-Za-z0-9+/=]+)' \}}\}}", value
        )
        assert m, value
        fallback = json.loads(base64.b64decode(m.group(1)))
        assert fallback["max_score"] == step["with"]["max-score"]
        assert sum(t["score"] for t in fallback["tests"]) == 0 and fallback["status"] == "error"
        maxima += fallback["max_score"]
    assert maxima == TOTAL


# --------------------------------------------------------------------------- the shared evaluation


class Evaluator:
    """A stand-in for the public evaluation: counts its calls, returns ``check``'s document."""

    def __init__(self, failing=(), during=None):
        self.calls, self.failing, self.during = 0, failing, during

    def __call__(self) -> dict:
        self.calls += 1
        if self.during:
            self.during()
        return payload(self.failing)


def evaluation_path(repo: Path) -> Path:
    return repo / ci.RESULTS_DIR / ci.EVALUATION_FILE


def test_the_first_step_evaluates_and_the_next_ones_reuse(repo):
    ev = Evaluator(failing=("q1.kwargs",))
    outcomes = []
    for spec in SPECS:
        pl, origin, rejected = ci_step.evaluation_for(
            repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev
        )
        lines, code = ci_step.report(spec, pl, origin, rejected)
        outcomes.append((origin, code))
        if spec["id"] == "q1.kwargs":
            assert f"      {FAIL_MESSAGE}" in lines and f"      Piste : {FAIL_HINT}" in lines
    assert ev.calls == 1
    assert [o for o, _ in outcomes] == ["evaluated"] + ["reused"] * (len(SPECS) - 1)
    earned = sum(s["points"] for s, (_, code) in zip(SPECS, outcomes, strict=True) if code == 0)
    assert earned == payload(failing=("q1.kwargs",))["points"] == TOTAL - 1
    saved = json.loads(evaluation_path(repo).read_text(encoding="utf-8"))
    assert saved["notebook_sha256"] == sha_of(repo) and saved["state"] == "done"


def _huge(d):
    d["checks"][0]["message"] = "x" * (ci.EVALUATION_LIMIT + 10)


def _nested(d):
    d["warnings"] = json.loads("[" * 200 + "]" * 200)


FORGERIES = {
    "another notebook": lambda d: d.update(notebook_sha256="0" * 64),
    "huge file": _huge,
    "too deep": _nested,
    "points above max": lambda d: d["checks"][0].update(points=5),
    "negative points": lambda d: d["checks"][0].update(points=-1, passed=False),
    "passed with no point": lambda d: d["checks"][1].update(points=0, passed=True),
    "other maximum": lambda d: d["checks"][2].update(max=4, points=4),
    "missing check": lambda d: d["checks"].pop(),
    "extra check": lambda d: d["checks"].append({**d["checks"][0], "id": "q9.free"}),
    "repeated check": lambda d: d["checks"].__setitem__(1, dict(d["checks"][0])),
    "points as text": lambda d: d["checks"][0].update(points="1"),
    "wrong schema": lambda d: d.update(schema="other/v1"),
    "unknown state": lambda d: d.update(state="done-ish"),
}


@pytest.mark.parametrize("forge", list(FORGERIES) + ["garbage", "empty"])
def test_a_stale_or_forged_file_is_evaluated_again(repo, forge):
    path = evaluation_path(repo)
    if forge == "garbage":
        path.write_bytes(b"\x00{not json")
    elif forge == "empty":
        path.write_text("", encoding="utf-8")
    else:
        forged = payload(sha=sha_of(repo))  # "everything passed", for this very notebook
        FORGERIES[forge](forged)
        path.write_text(json.dumps(forged), encoding="utf-8")
    ev = Evaluator(failing=IDS)  # the real evaluation: nothing passes
    pl, origin, rejected = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls) == ("evaluated", 1) and rejected
    assert pl["points"] == 0 and not any(c["passed"] for c in pl["checks"])
    lines, code = ci_step.report(SPECS[0], pl, origin, rejected)
    assert code == 1 and "ignoré" in lines[1]
    assert json.loads(path.read_text(encoding="utf-8"))["points"] == 0  # replaced


def test_the_untouched_forgery_baseline_is_reused(repo):
    """The forgeries above differ from a valid file only by their forgery."""
    write_evaluation(repo, payload(sha=sha_of(repo)))
    ev = Evaluator(failing=IDS)
    pl, origin, _ = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls, pl["points"]) == ("reused", 0, TOTAL)


def test_a_running_marker_means_the_evaluation_timed_out(repo):
    """The evaluating step was killed: later steps report a timeout and do not start again."""
    sha = sha_of(repo)
    write_evaluation(repo, ci_step._marker(sha, "tok", time.time() - 600))
    ev = Evaluator()
    pl, origin, _ = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls) == ("timeout", 0)
    lines, code = ci_step.report(SPECS[0], pl, origin)
    assert code == 1 and any(ci.VERDICTS["timeout"] in l for l in lines)
    assert json.loads(evaluation_path(repo).read_text())["state"] == "timeout"
    # the next step too, without evaluating
    _, origin, _ = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls) == ("timeout", 0)


@pytest.mark.parametrize("age", [3 * 3600, -3600], ids=["old", "in-the-future"])
def test_a_stale_marker_is_evaluated_again(repo, age):
    write_evaluation(repo, ci_step._marker(sha_of(repo), "tok", time.time() - age))
    ev = Evaluator()
    _, origin, rejected = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls, rejected) == ("evaluated", 1, "stale marker")


def test_a_late_evaluation_does_not_overwrite_a_declared_timeout(repo):
    """While the killed step's evaluation still ran, a later step declared the timeout."""

    def declare_timeout():
        data = json.loads(evaluation_path(repo).read_text(encoding="utf-8"))
        write_evaluation(repo, {**data, "state": "timeout"})

    ev = Evaluator(during=declare_timeout)
    ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert json.loads(evaluation_path(repo).read_text(encoding="utf-8"))["state"] == "timeout"


def test_an_evaluation_that_disagrees_with_the_registry_is_never_cached(repo):
    def short():
        return ci.check_payload(results()[:-1], NOTEBOOK)

    with pytest.raises(RuntimeError, match="public checks"):
        ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, short)
    assert not evaluation_path(repo).exists()  # no marker left: the next step evaluates again
    ev = Evaluator()
    _, origin, _ = ci_step.evaluation_for(repo / NOTEBOOK, SPECS, repo / ci.RESULTS_DIR, ev)
    assert (origin, ev.calls) == ("evaluated", 1)


def test_ci_step_rejects_an_unknown_check(repo):
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "ci-step", "q9.nope"],
        cwd=repo,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(repo.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "q9.nope" in proc.stderr


# --------------------------------------------------------------------------- CLI and imports


def test_ci_summary_imports_no_tensorflow(tmp_path):
    """ci-summary imports neither TensorFlow, Keras nor numpy; the probe does see an import."""
    code = (
        "import sys; from autograder.cli import main; "
        "rc = main(['ci-summary', '--results', sys.argv[1], '--points', 'q1.shape=1']); "
        "len(sys.argv) > 2 and __import__('autograder.public.checks.public'); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules)); "
        "sys.exit(rc)"
    )
    for extra, expected in (([], "[]"), (["--also-numpy"], "['numpy']")):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == expected


def test_ci_summary_rejects_malformed_points(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "ci-summary",
            "--results",
            str(tmp_path),
            "--points",
            "q1.shape:3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--points" in proc.stderr


def test_decode_runner_result():
    assert ci_summary.decode_runner_result(runner_b64("pass", "q1.shape", 1))["status"] == "pass"
    assert ci_summary.decode_runner_result('{"status": "fail"}')["status"] == "fail"
    assert ci_summary.decode_runner_result("") is None
    assert ci_summary.decode_runner_result("pas du json") is None
    assert ci_summary.decode_runner_result("A" * (ci.EVALUATION_LIMIT + 4)) is None


def test_check_payload_totals_and_failed_payload(tmp_path):
    p = payload(failing=("q1.kwargs",))
    assert (p["points"], p["max"], p["passed"]) == (TOTAL - 1, TOTAL, False)
    assert {c["id"]: c["passed"] for c in p["checks"]}["q1.kwargs"] is False
    assert set(p["checks"][0]) == {
        "id",
        "question",
        "title",
        "points",
        "max",
        "passed",
        "message",
        "hint",
    }
    nb = tmp_path / NOTEBOOK
    nb.write_bytes(b"{}")
    assert ci.check_payload([], str(nb))["notebook_sha256"] == ci.notebook_hash(nb)
    specs = [
        {"id": "q1.shape", "question": "q1", "title": "t", "points": 1.0},
        {"id": "q2.output", "question": "q2", "title": "u", "points": 1.0},
    ]
    f = ci.failed_payload(specs, "nb.ipynb", "q1", "notebook introuvable")
    assert f["status"] == "error" and [c["id"] for c in f["checks"]] == ["q1.shape"]
    assert f["max"] == 1 and f["points"] == 0 and not f["passed"]
    assert f["notebook_sha256"] is None


def test_public_specs_from_source_match_the_registry():
    from autograder.public.checks import registry

    reg = [
        {k: s[k] for k in ("id", "question", "title", "points")}
        for s in registry()
        if s["visibility"] == "public" and not s["manual"]
    ]
    assert ci.public_specs_from_source() == reg and len(reg) == 6
