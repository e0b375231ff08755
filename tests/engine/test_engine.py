"""Grading engine: the job, the scheduler's decisions, and whole runs through ``python -m autograder grade``.

The expensive part is ONE session-scoped run (:func:`class_run`) grading the
checks gallery and the fault cases together; the incremental, resume and
roster tests reuse its output instead of regrading everything. Discovery,
records and outputs have their own cheap tests (test_discovery.py,
test_records.py, test_outputs.py).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import __version__
from autograder.engine import NOTEBOOK_NAME, Submission
from autograder.engine.job import validate_notebook
from autograder.engine.plan import needs_grading
from autograder.engine.records import grader_fingerprint
from autograder.public.fsutil import sha256_file
from tests.engine.test_discovery import write_notebook

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("first", ["autograder.engine", "autograder.report"])
def test_engine_and_report_import_without_a_cycle(first):
    """Each imports first in a fresh interpreter (the report once imported the engine's writer)."""
    other = "autograder.report" if first == "autograder.engine" else "autograder.engine"
    proc = subprocess.run(
        [sys.executable, "-c", f"import {first}; import {other}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_needs_grading(tmp_path):
    nb = write_notebook(tmp_path / "a.ipynb")
    sub = Submission(id="a", source="a", notebook=nb)
    rec = {
        "status": "graded",
        "grader_version": __version__,
        "grader_fingerprint": grader_fingerprint(),
        "notebook_sha256": sha256_file(nb),
    }
    assert not needs_grading(sub, rec, force=False)
    assert needs_grading(sub, dict(rec, grader_fingerprint="other"), force=False)
    assert needs_grading(sub, rec, force=True)
    assert needs_grading(sub, None, force=False)
    assert needs_grading(sub, dict(rec, status="error"), force=False)
    write_notebook(nb, "x = 2\n")
    assert needs_grading(sub, rec, force=False)


def test_invalid_notebook_detected_without_running_anything(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    assert "JSON valide" in validate_notebook(bad)
    assert validate_notebook(write_notebook(tmp_path / "ok.ipynb")) is None


# --------------------------------------------------------------------------- #
# Whole runs through ``python -m autograder grade`` (one expensive session run)
# --------------------------------------------------------------------------- #
RUN_TIMEOUT_S = 120  # per question; generous: the machine may be loaded
FAULT_PREFIX = "fault-"
#: What the class run exercises: the engine itself (every submission status, notebooks and
#: repositories side by side, planted files and tamper evidence, a monkeypatching cheat,
#: faults that end the sandbox early), not the checks. Every gallery case's check outcomes
#: are asserted in-process (tests/public/test_checks.py) and every fault case's question
#: outcomes in the sandbox tests (tests/public/test_sandbox.py), hangs and memory hogs
#: included. ENGINE_TEST_CASES=all grades everything; a comma-separated list, those cases.
CLASS_RUN_CASES = (
    "reference",
    "blank_template",
    "reject_logits",
    "broken_invalid_json",
    "broken_syntax_error",
    "cheat_fake_results_files",
    "cheat_patched_fit_evaluate",
    f"{FAULT_PREFIX}sys_exit_q2",
    f"{FAULT_PREFIX}os_exit_q3",
    f"{FAULT_PREFIX}segfault_q3",
    f"{FAULT_PREFIX}missing_q2",
    f"{FAULT_PREFIX}planted_tests",
    f"{FAULT_PREFIX}invalid_json",
    f"{FAULT_PREFIX}empty_dir",
)


def _grade(*args, check=True, **kwargs):
    cmd = [sys.executable, "-m", "autograder", "grade", *map(str, args), "--no-progress"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 3 * 3600),
        **kwargs,
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _records(out: Path) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in (out / "submissions").glob("*.json")
    }


def _outcome(rec: dict) -> dict:
    """What must not change between two gradings: statuses, scores, check outcomes."""
    return {
        "status": rec["status"],
        "total": rec["total"],
        "questions": {
            q: (
                v["status"],
                v["score"],
                sorted((c["id"], c["passed"]) for c in v.get("checks", [])),
            )
            for q, v in rec["questions"].items()
        },
    }


def _build_class(dest: Path) -> tuple[Path, dict, dict]:
    """Gallery cases and fault cases side by side in one class folder."""
    from tests.faults import build_faults, expected
    from tests.gallery import build_gallery, load_golden

    cls = dest / "class"
    if not cls.is_dir():
        build_gallery(cls)
        faults = build_faults(dest / "faults-src")
        for cid, path in faults.items():
            if cid == "reference":  # the gallery's reference is the same notebook
                continue
            shutil.move(str(path), str(cls / f"{FAULT_PREFIX}{cid}{path.suffix}"))
    golden = load_golden()
    exp = {f"{FAULT_PREFIX}{cid}": v for cid, v in expected().items() if cid != "reference"}
    chosen = os.environ.get("ENGINE_TEST_CASES", "")
    subset = list(CLASS_RUN_CASES) if not chosen else [c for c in chosen.split(",") if c]
    if chosen != "all":
        for entry in cls.iterdir():
            if entry.name.removesuffix(".ipynb") not in subset:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        golden = {k: v for k, v in golden.items() if k in subset}
        exp = {k: v for k, v in exp.items() if k in subset}
    return cls, golden, exp


@pytest.fixture(scope="session")
def class_run(tmp_path_factory):
    """Grade gallery + faults once, with the default --jobs, through the CLI.

    Set ``ENGINE_TEST_DIR`` to keep the folder between pytest sessions: a
    rerun is then incremental (only changed notebooks are regraded).
    """
    keep = os.environ.get("ENGINE_TEST_DIR")
    base = Path(keep) if keep else tmp_path_factory.mktemp("class_run")
    base.mkdir(parents=True, exist_ok=True)
    cls, golden, exp = _build_class(base)
    out = base / "out"
    proc = _grade(cls, "--out", out, "--timeout", RUN_TIMEOUT_S)
    return {
        "base": base,
        "class": cls,
        "out": out,
        "golden": golden,
        "expected": exp,
        "stdout": proc.stdout,
        "records": _records(out),
    }


@pytest.mark.slow
def test_class_run_every_submission_in_every_output(class_run):
    out = class_run["out"]
    ids = set(class_run["golden"]) | set(class_run["expected"])
    assert set(class_run["records"]) == ids
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert rows[0]["file"] == "points-per-question"
    assert {r["file"] for r in rows[1:]} == ids and len(rows) == len(ids) + 1
    for sid in ids:
        res = json.loads((out / "results" / f"{sid}.json").read_text(encoding="utf-8"))
        assert isinstance(res["score"], float) and res["tests"]
        assert (out / "feedback" / f"{sid}.md").read_text(encoding="utf-8").startswith("# Retour")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "finished" and run["parameters"]["timeout_s"] == RUN_TIMEOUT_S
    assert run["parameters"]["jobs"] == (os.cpu_count() or 1)
    assert run["versions"]["keras"] and run["versions"]["python"]
    assert not [r for r in class_run["records"].values() if r["status"] == "error"]
    assert "Correction terminée" in class_run["stdout"]


@pytest.mark.slow
def test_class_run_gallery_matches_golden(class_run):
    records, golden = class_run["records"], class_run["golden"]
    rows = {r["file"]: r for r in csv.DictReader((class_run["out"] / "grades.csv").open())}
    mismatches = []
    for cid, gold in golden.items():
        rec = records[cid]
        if rec["status"] != gold["status"]:
            mismatches.append(f"{cid}: status {rec['status']} != {gold['status']}")
            continue
        got = {c["id"]: c["passed"] for q in rec["questions"].values() for c in q["checks"]}
        for check_id, passed in gold["checks"].items():
            if got.get(check_id) != passed:
                mismatches.append(f"{cid}: {check_id} passed={got.get(check_id)} != {passed}")
        assert float(rows[cid]["total_points_earned"]) == pytest.approx(rec["total"])
        for q in ("q1", "q2", "q3"):
            expected = sum(c["points"] for c in rec["questions"][q]["checks"])
            assert float(rows[cid][q]) == pytest.approx(expected)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.slow
def test_class_run_faults_match_expected(class_run):
    records, expected = class_run["records"], class_run["expected"]
    mismatches = []
    for cid, exp in expected.items():
        rec = records[cid]
        if rec["status"] != exp["status"]:
            mismatches.append(f"{cid}: status {rec['status']} != {exp['status']}")
            continue
        if rec["status"] != "graded":
            assert rec["total"] == 0 and rec["message"], cid
        for q, want in (exp.get("questions") or {}).items():
            got = rec["questions"][q]
            score = got["max_score"] if want["score"] == "max" else float(want["score"])
            if got["status"] != want["status"] or got["score"] != pytest.approx(score):
                mismatches.append(
                    f"{cid}.{q}: {got['status']}/{got['score']} != {want['status']}/{score}"
                )
            if want.get("message") and want["message"] not in (got.get("message") or ""):
                mismatches.append(
                    f"{cid}.{q}: message {got.get('message')!r} lacks {want['message']!r}"
                )
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.slow
def test_class_run_faults_do_not_affect_others(class_run):
    """The reference, graded in the same run as the hangs, crashes and hogs, gets every point."""
    if not {"reference", f"{FAULT_PREFIX}planted_tests", f"{FAULT_PREFIX}empty_dir"} <= set(
        class_run["records"]
    ):
        pytest.skip("ENGINE_TEST_CASES subset without these cases")
    ref = class_run["records"]["reference"]
    assert ref["status"] == "graded" and ref["total"] == ref["max_total"] > 0
    assert all(q["status"] == "ok" for q in ref["questions"].values())
    planted = class_run["records"][f"{FAULT_PREFIX}planted_tests"]
    assert planted["total"] == 0  # its tests/, conftest.py, results.json count for nothing
    empty = class_run["records"][f"{FAULT_PREFIX}empty_dir"]
    assert empty["status"] == "no-notebook" and "Aucun notebook" in empty["message"]


@pytest.mark.slow
def test_incremental_rerun_regrades_only_the_changed_notebook(class_run, tmp_path):
    cls, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(class_run["class"], cls)
    shutil.copytree(class_run["out"], out)
    changed = cls / "blank_template" / NOTEBOOK_NAME
    nb = json.loads(changed.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "Modifié."})
    changed.write_text(json.dumps(nb), encoding="utf-8")
    before = _records(out)
    _grade(cls, "--out", out, "--timeout", RUN_TIMEOUT_S)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["graded"] == ["blank_template"]
    with_notebook = {
        sid for sid, r in before.items() if r["status"] in ("graded", "invalid-notebook")
    }
    assert set(run["reused"]) == with_notebook - {"blank_template"}
    after = _records(out)
    assert after["blank_template"]["notebook_sha256"] != before["blank_template"]["notebook_sha256"]
    assert after["blank_template"]["run_id"] == run["run_id"]
    for sid in run["reused"]:
        assert after[sid].get("run_id") == before[sid].get("run_id")
        assert _outcome(after[sid]) == _outcome(before[sid])
    log = (out / "grading.log").read_text(encoding="utf-8").splitlines()
    last_run = log[max(i for i, line in enumerate(log) if f"run {run['run_id']} start" in line) :]
    assert sum(" graded " in line for line in last_run) == 1


# Cheap cases (no grader training): sorted, so that --jobs 1 grades them in this order.
RESUME_CASES = ("blank_template", "broken_invalid_json", "cheat_fake_results_files")


@pytest.mark.slow
def test_killed_run_resumes_with_identical_results(class_run, tmp_path):
    cls, out = tmp_path / "class", tmp_path / "out"
    for cid in RESUME_CASES:
        shutil.copytree(class_run["class"] / cid, cls / cid)
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(cls),
        "--out",
        str(out),
        "--jobs",
        "1",
        "--no-progress",
        "--no-report",
        "--timeout",
        str(RUN_TIMEOUT_S),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 1800
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "submissions").glob("*.json")):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-run
    finally:
        proc.wait()
    first = _records(out)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "running" and 1 <= len(first) < len(RESUME_CASES)
    _grade(cls, "--out", out, "--jobs", "1", "--no-report", "--timeout", RUN_TIMEOUT_S)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "finished"
    assert set(run["reused"]) == set(first)  # resumed, not redone
    assert set(run["graded"]) == set(RESUME_CASES) - set(first)
    resumed = _records(out)
    assert set(resumed) == set(RESUME_CASES)
    for cid in RESUME_CASES:  # same as the uninterrupted run
        assert _outcome(resumed[cid]) == _outcome(class_run["records"][cid]), cid
    full = {r["file"]: r for r in csv.DictReader((class_run["out"] / "grades.csv").open())}
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["file"] for r in rows[1:]] == sorted(RESUME_CASES)
    for r in rows[1:]:
        assert r == full[r["file"]]
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.slow
def test_roster_adds_missing_students_everywhere(class_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(class_run["out"], out)
    roster = tmp_path / "roster.csv"
    roster.write_text("nom,id\nBlanche,blank_template\nAbsente,zoe_absente\n", encoding="utf-8")
    _grade(class_run["class"], "--out", out, "--roster", roster, "--timeout", RUN_TIMEOUT_S)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["graded"] == [] and run["missing"] == ["zoe_absente"]
    rows = {r["file"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert rows["zoe_absente"]["total_points_earned"] == "0"
    assert rows["zoe_absente"]["grading_status"].startswith("missing")
    assert rows["blank_template"]["grading_status"] == "Completed"
    assert len(rows) == len(class_run["records"]) + 2  # + points row + the absent student
    res = json.loads((out / "results" / "zoe_absente.json").read_text(encoding="utf-8"))
    assert res["score"] == 0.0 and "Aucun rendu" in res["output"]
    assert "Aucun rendu" in (out / "feedback" / "zoe_absente.md").read_text(encoding="utf-8")
    rec = json.loads((out / "submissions" / "zoe_absente.json").read_text(encoding="utf-8"))
    assert rec["status"] == "missing" and rec["total"] == 0


def test_grade_with_nothing_to_grade_is_a_one_line_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "notes.txt"),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert [line for line in proc.stderr.splitlines() if "aucune copie" in line]
