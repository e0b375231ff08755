"""``check --json`` documents and ``python -m autograder ci-summary`` (the workflow's summary).

ci-summary is run as the generated workflow's summary step runs it: ``bash -e -c``
in the repository, PATH and HOME only, plus the command graders' ``Q*_RESULTS``.
The cases: every question passed, a failed check, a step killed by its timeout,
steps skipped because the install failed. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder import delivery
from autograder.public import ci

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
POINTS = {"q1": 3, "q2": 2, "q3": 1}
TITLES = {
    "q1.shape": "forme",
    "q1.order": "ordre",
    "q1.kwargs": "kwargs",
    "q2.output": "sortie",
    "q2.params": "paramètres",
    "q3.output": "sortie cnn",
}


def runner_b64(status: str, q: str, score: int, message: str = "") -> str:
    """The command grader's ``result`` output (base64 JSON), as its v1 writes it."""
    res = {
        "version": 1,
        "status": status,
        "max_score": POINTS[q],
        "tests": [
            {
                "name": q,
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


def payload(q: str, failing=()) -> dict:
    results = [
        {
            "id": cid,
            "question": q,
            "title": title,
            "points": 0 if cid in failing else 1,
            "max_points": 1,
            "passed": cid not in failing,
            "message": "attendu : 7 couches, reçu : 6."
            if cid in failing
            else "Vérification réussie.",
            "hint": "Ajoutez la ReLU finale après l'addition." if cid in failing else "",
        }
        for cid, title in TITLES.items()
        if cid.startswith(q + ".")
    ]
    return ci.check_payload(results, "resnet_a_la_main.ipynb", q)


@pytest.fixture
def repo(tmp_path):
    """A student repository with only the public library (the step needs no notebook)."""
    r = tmp_path / "repo"
    shutil.copytree(
        ROOT / "autograder",
        r / "autograder",
        ignore=shutil.ignore_patterns(
            "__pycache__",
            "engine",
            "engine.py",
            "report",
            "demo.py",
            "delivery",
            "hidden.py",
            "training.py",
        ),
    )
    (r / "resultats-autograder").mkdir()
    return r


def summary_step() -> dict:
    wf = yaml.safe_load(delivery.render_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    return next(s for s in steps if s.get("id") == "summary")


def run_step(repo: Path, env: dict) -> tuple[subprocess.CompletedProcess, str]:
    out = repo.parent / "step_summary.md"
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
    return proc, out.read_text(encoding="utf-8")


def write(repo: Path, q: str, data: dict) -> None:
    ci.write_json(repo / "resultats-autograder" / f"{q}.json", data)


# --------------------------------------------------------------------------- the four cases


def test_all_pass(repo):
    env = {}
    for q in POINTS:
        write(repo, q, payload(q))
        env[f"{q.upper()}_RESULTS"] = runner_b64("pass", q, POINTS[q])
    _, text = run_step(repo, env)
    for q, func in ci.FUNCTIONS.items():
        assert f"| {q} | `{func}` | ✅ réussie | {POINTS[q]} / {POINTS[q]} |" in text
    assert "**Total des vérifications publiques : 6 / 6 points.**" in text
    assert "✘" not in text
    data = json.loads((repo / "resultats-autograder" / "resultats.json").read_text())
    assert data["earned"] == 6 and data["possible"] == 6


def test_a_failed_check(repo):
    env = {}
    for q in POINTS:
        write(repo, q, payload(q, failing=("q1.order",)))
        ok = q != "q1"
        env[f"{q.upper()}_RESULTS"] = runner_b64(
            "pass" if ok else "fail", q, POINTS[q] if ok else 0
        )
    _, text = run_step(repo, env)
    assert "| q1 | `ResidualBlock` | ❌ à revoir | 2 / 3 |" in text
    assert "| q2 | `build_resnet` | ✅ réussie | 2 / 2 |" in text
    assert "**Total des vérifications publiques : 5 / 6 points.**" in text
    # the detailed French feedback: what was expected, what was received, a hint
    assert "✘ ordre\n      attendu : 7 couches, reçu : 6.\n      Piste : Ajoutez la ReLU" in text
    feedback = (repo / "resultats-autograder" / "retours.txt").read_text(encoding="utf-8")
    assert feedback.strip() in text


def test_a_step_killed_by_its_timeout(repo):
    write(repo, "q2", payload("q2"))
    write(repo, "q3", payload("q3"))
    env = {
        "Q1_RESULTS": runner_b64("error", "q1", 0, "Command timed out"),
        "Q2_RESULTS": runner_b64("pass", "q2", 2),
        "Q3_RESULTS": runner_b64("pass", "q3", 1),
    }
    _, text = run_step(repo, env)
    assert "| q1 | `ResidualBlock` | ⏱️ temps dépassé | 0 / 3 |" in text
    assert "q1 — ResidualBlock : ⏱️ temps dépassé" in text
    assert "**Total des vérifications publiques : 3 / 6 points.**" in text


def test_a_timeout_reported_as_a_failure(repo):
    _, text = run_step(repo, {"Q1_RESULTS": runner_b64("fail", "q1", 0, "Command timed out")})
    assert "| q1 | `ResidualBlock` | ⏱️ temps dépassé | 0 / 3 |" in text
    write(repo, "q1", payload("q1", failing=("q1.order",)))  # it ran to the end: a plain failure
    _, text = run_step(repo, {"Q1_RESULTS": runner_b64("fail", "q1", 0, "Command timed out")})
    assert "| q1 | `ResidualBlock` | ❌ à revoir | 2 / 3 |" in text


def test_an_error_that_is_not_a_timeout(repo):
    env = {"Q1_RESULTS": runner_b64("error", "q1", 0, "spawn python ENOENT")}
    _, text = run_step(repo, env)
    assert "| q1 | `ResidualBlock` | ⚠️ erreur d'exécution | 0 / 3 |" in text
    assert "spawn python ENOENT" in text


def test_skipped_steps(repo):
    """The install step failed: the grader steps were skipped, their outputs are empty."""
    env = {f"{q.upper()}_RESULTS": "" for q in POINTS}
    proc, text = run_step(repo, env)
    for q, func in ci.FUNCTIONS.items():
        assert f"| {q} | `{func}` | ⚠️ non exécutée | – / {POINTS[q]} |" in text
    assert "**Total des vérifications publiques : 0 / 6 points.**" in text
    assert "n'a pas été lancée" in text
    assert text in proc.stdout  # also printed in the step's log


def test_a_planted_result_file_cannot_override_a_failing_step(repo):
    """A JSON saying "all passed" next to a grader that failed: the grader's verdict wins."""
    write(repo, "q1", payload("q1"))
    _, text = run_step(repo, {"Q1_RESULTS": runner_b64("fail", "q1", 0)})
    assert "| q1 | `ResidualBlock` | ❌ à revoir |" in text


# --------------------------------------------------------------------------- CLI and imports


def test_ci_summary_imports_no_tensorflow(tmp_path):
    """ci-summary imports neither TensorFlow, Keras nor numpy; the probe does see an import."""
    code = (
        "import sys; from autograder.cli import main; "
        "rc = main(['ci-summary', '--results', sys.argv[1], '--points', 'q1=3']); "
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
            "q1:3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--points" in proc.stderr


def test_decode_runner_result():
    assert ci.decode_runner_result(runner_b64("pass", "q1", 3))["status"] == "pass"
    assert ci.decode_runner_result('{"status": "fail"}')["status"] == "fail"
    assert ci.decode_runner_result("") is None
    assert ci.decode_runner_result("pas du json") is None


def test_check_payload_totals_and_failed_payload():
    p = payload("q1", failing=("q1.kwargs",))
    assert (p["points"], p["max"], p["passed"]) == (2, 3, False)
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
    specs = [
        {"id": "q1.shape", "question": "q1", "title": "t", "points": 1.0},
        {"id": "q2.output", "question": "q2", "title": "u", "points": 1.0},
    ]
    f = ci.failed_payload(specs, "nb.ipynb", "q1", "notebook introuvable")
    assert f["status"] == "error" and [c["id"] for c in f["checks"]] == ["q1.shape"]
    assert f["max"] == 1 and f["points"] == 0 and not f["passed"]


def test_public_specs_from_source_match_the_registry():
    from autograder.public.checks import registry

    reg = [
        {k: s[k] for k in ("id", "question", "title", "points")}
        for s in registry()
        if s["visibility"] == "public" and not s["manual"]
    ]
    assert ci.public_specs_from_source() == reg and len(reg) == 6
