"""The Classroom 50 autograder (``make classroom50``), run as Classroom 50's runner runs it.

The runner's contract (Classroom 50 wiki, "Advanced Autograding"): the
per-assignment ``autograder.py`` runs with the student's checkout as working
directory and the variables CLASSROOM, ASSIGNMENT, ASSIGNMENT_TYPE, USERNAME,
OWNER, SUBMISSION_TAG, COMMIT_URL, RELEASE_URL, REVIEW_URL, PAGES_BASE_URL and
GITHUB_*; its sibling files sit beside it; it must write ``./result.json``
(schema ``classroom50/result/v1``) and may write ``./release-body.md`` and
``status=``/``summary=`` lines in ``$GITHUB_OUTPUT``; exit 0 when it ran.

The generated bundle is run in generated student repositories (copies of
``student_template/``, committed with git) holding the reference notebook, the
untouched template (with a planted always-pass copy of ``autograder/``) and a
beginner's mistake from the gallery; ``result.json`` is validated against
:data:`RESULT_SCHEMA`, written from the wiki's field table. Its install step
runs for real with ``PIP_NO_INDEX=1 PIP_DRY_RUN=1``: pip must find every
requirement already satisfied, and nothing is downloaded or changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest

from tests.gallery import NOTEBOOK, _notebook_json, load_golden, parse_case

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template"
VENV_BIN = Path(sys.executable).parent
BEGINNER = "reject_no_final_relu"  # forgets the ReLU after the addition

#: classroom50/result/v1, from the field table of the wiki's "The result.json contract".
RESULT_SCHEMA = {
    "type": "object",
    "required": [
        "schema",
        "classroom",
        "assignment",
        "submission",
        "commit",
        "release",
        "review",
        "datetime",
        "score",
        "max-score",
        "tests",
    ],
    "properties": {
        "schema": {"const": "classroom50/result/v1"},
        "classroom": {"type": "string", "minLength": 1},
        "assignment": {"type": "string", "minLength": 1},
        "assignment_type": {"enum": ["individual", "group"]},
        "owner": {"type": "string", "minLength": 1},
        "submission": {"type": "string", "minLength": 1},
        "commit": {"type": "string", "minLength": 1},
        "release": {"type": "string", "minLength": 1},
        "review": {"type": "string", "minLength": 1},
        "datetime": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
        "graded_at": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
        "score": {"type": "integer", "minimum": 0},
        "max-score": {"type": "integer", "minimum": 0},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["test-name", "passed", "score", "max-score"],
                "properties": {
                    "test-name": {"type": "string", "minLength": 1},
                    "passed": {"type": "boolean"},
                    "score": {"type": "integer", "minimum": 0},
                    "max-score": {"type": "integer", "minimum": 0},
                },
            },
        },
        "submitted_by": {"type": "object"},
    },
}

RUNNER_ENV = {
    "CLASSROOM": "ml-2026",
    "ASSIGNMENT": "resnet-a-la-main",
    "ASSIGNMENT_TYPE": "individual",
    "USERNAME": "alice",
    "OWNER": "alice",
    "SUBMISSION_TAG": "submit/2026-11-29T02-00-00Z-abc1234",
    "COMMIT_URL": "https://github.com/ml-2026/ml-2026-resnet-a-la-main-alice/commit/abc1234",
    "RELEASE_URL": "https://github.com/ml-2026/ml-2026-resnet-a-la-main-alice/releases/tag/"
    "submit%2F2026-11-29T02-00-00Z-abc1234",
    "REVIEW_URL": "https://github.com/ml-2026/ml-2026-resnet-a-la-main-alice/compare/a...b",
    "PAGES_BASE_URL": "https://ml-2026.github.io/classroom50",
    "GITHUB_REPOSITORY": "ml-2026/ml-2026-resnet-a-la-main-alice",
    "GITHUB_SHA": "abc1234",
    "GITHUB_SERVER_URL": "https://github.com",
}


def result_problems(doc: dict) -> list[str]:
    """Schema errors plus the rules the schema cannot say (sums, per-test score)."""
    problems = [e.message for e in jsonschema.Draft202012Validator(RESULT_SCHEMA).iter_errors(doc)]
    if problems:
        return problems
    # JSON Schema counts 1.0 as an integer; Python's json writes it "1.0": refuse it here.
    numbers = [doc["score"], doc["max-score"]] + [
        t[k] for t in doc["tests"] for k in ("score", "max-score")
    ]
    if not all(type(n) is int for n in numbers):
        problems.append("scores must be JSON integers, not 1.0")
    if doc["score"] != sum(t["score"] for t in doc["tests"]):
        problems.append("score is not the sum of the tests' scores")
    if doc["max-score"] != sum(t["max-score"] for t in doc["tests"]):
        problems.append("max-score is not the sum of the tests' max-scores")
    names = [t["test-name"] for t in doc["tests"]]
    if len(set(names)) != len(names):
        problems.append("test names are not unique")
    for t in doc["tests"]:
        if t["score"] > t["max-score"] or (t["passed"] and t["score"] != t["max-score"]):
            problems.append(f"{t['test-name']}: inconsistent score")
    return problems


def public_checks() -> list[dict]:
    from autograder.public.checks import registry

    return [s for s in registry() if s["visibility"] == "public" and not s["manual"]]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("config") / "ml-2026" / "autograders" / "resnet-a-la-main"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder.delivery", "classroom50", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def student_repo(tmp: Path, name: str, nb_text: str | None) -> Path:
    if not (TEMPLATE / NOTEBOOK).is_file():
        pytest.fail("student_template/ is not generated: run `make assign`")
    repo = tmp / name
    shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    if nb_text is not None:
        (repo / NOTEBOOK).write_text(nb_text, encoding="utf-8")
    git = [
        "git",
        "-c",
        "user.name=Alice",
        "-c",
        "user.email=alice@example.org",
        "-c",
        "commit.gpgsign=false",
    ]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        [*git, "commit", "-q", "-m", "rendu"],
        cwd=repo,
        check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-11-28T23:59:00Z"},
    )
    return repo


def run_autograder(bundle: Path, repo: Path, home: Path, **extra) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "GITHUB_OUTPUT": str(repo.parent / f"{repo.name}.output"),
        "PIP_NO_INDEX": "1",
        "PIP_DRY_RUN": "1",
        "PIP_CONFIG_FILE": "/dev/null",
        **RUNNER_ENV,
        **extra,
    }
    return subprocess.run(
        [sys.executable, str(bundle / "autograder.py")],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def gallery_notebook(case_id: str) -> str:
    return _notebook_json(parse_case(case_id)["cells"])


@pytest.fixture(scope="module")
def runs(bundle, tmp_path_factory):
    from tests.faults import reference_notebook

    tmp = tmp_path_factory.mktemp("c50")
    home = tmp / "home"
    home.mkdir()
    repos = {
        "reference": student_repo(tmp, "reference", nbformat.writes(reference_notebook())),
        "template": student_repo(tmp, "template", None),
        BEGINNER: student_repo(tmp, BEGINNER, gallery_notebook(BEGINNER)),
    }
    # The untouched template also carries a planted "always pass" library: never used.
    fake = repos["template"] / "autograder" / "__main__.py"
    fake.write_text(
        "import json, sys\nargs = sys.argv\nopen(args[args.index('--json') + 1], "
        "'w').write(json.dumps({'schema': 'resnet-a-la-main/check/v1', "
        "'status': 'ok', 'checks': []}))\n",
        encoding="utf-8",
    )
    out = {}
    for label, repo in repos.items():
        proc = run_autograder(bundle, repo, home)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        out[label] = {
            "proc": proc,
            "repo": repo,
            "result": json.loads((repo / "result.json").read_text(encoding="utf-8")),
            "body": (repo / "release-body.md").read_text(encoding="utf-8"),
            "output": (repo.parent / f"{repo.name}.output").read_text(encoding="utf-8"),
        }
    return out


# --------------------------------------------------------------------------- bundle


def test_bundle_contents(bundle):
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {
        "autograder.py",
        "requirements-checks.txt",
        "runtime.json",
        "README.md",
        "lib/autograder/__main__.py",
        "lib/autograder/public/checks/public.py",
    } <= files
    for secret in (
        "checks/hidden.py",
        "checks/training.py",
        "engine",
        "report",
        "delivery",
        "demo.py",
        "otter",
    ):
        assert not any(f.startswith(f"lib/autograder/{secret}") for f in files), secret
    assert not any("__pycache__" in f for f in files)
    runtime = json.loads((bundle / "runtime.json").read_text())
    assert runtime["python"] == "3.12"  # not Classroom 50's default 3.14
    assert (bundle / "requirements-checks.txt").read_text() == (
        TEMPLATE / "requirements-checks.txt"
    ).read_text()
    compile((bundle / "autograder.py").read_text(encoding="utf-8"), "autograder.py", "exec")


def test_bundle_lists_every_public_check(bundle):
    ns: dict = {"__name__": "not_main", "__file__": str(bundle / "autograder.py")}
    exec(
        compile((bundle / "autograder.py").read_text(encoding="utf-8"), "autograder.py", "exec"), ns
    )
    assert [(c["id"], c["points"]) for c in ns["CHECKS"]] == [
        (s["id"], int(s["points"])) for s in public_checks()
    ]


def _bundle_namespace(bundle) -> dict:
    ns: dict = {"__name__": "not_main", "__file__": str(bundle / "autograder.py")}
    exec(
        compile((bundle / "autograder.py").read_text(encoding="utf-8"), "autograder.py", "exec"), ns
    )
    return ns


def test_bundle_trusts_no_forged_check_output(bundle, tmp_path):
    """check's --json file is read with bounds: another notebook's, huge, garbage or
    impossible points give no score (0 out of every point), never the file's."""
    from autograder.public import ci

    ns = _bundle_namespace(bundle)
    nb = tmp_path / NOTEBOOK
    nb.write_text('{"cells": []}', encoding="utf-8")
    results = [
        {**c, "points": c["points"], "max_points": c["points"], "passed": True}
        for c in ns["CHECKS"]
    ]
    good = ci.check_payload(results, str(nb))
    out = tmp_path / "check.json"
    out.write_text(json.dumps(good), encoding="utf-8")
    data, why = ns["read_result"](out, nb)
    assert why == "" and data["points"] == sum(c["points"] for c in ns["CHECKS"])
    forgeries = {
        "another notebook": {**good, "notebook_sha256": "0" * 64},
        "points above max": {
            **good,
            "checks": [{**good["checks"][0], "points": 9}, *good["checks"][1:]],
        },
        "a check left out": {**good, "checks": good["checks"][1:]},
    }
    for label, doc in forgeries.items():
        out.write_text(json.dumps(doc), encoding="utf-8")
        assert ns["read_result"](out, nb)[0] is None, label
    for raw in (b"\x00garbage", b" " * (ci.EVALUATION_LIMIT + 1) + b"{}"):
        out.write_bytes(raw)
        assert ns["read_result"](out, nb)[0] is None


def test_bundle_counts_a_timeout_out_of_every_point(bundle, tmp_path, monkeypatch):
    for k, v in RUNNER_ENV.items():
        monkeypatch.setenv(k, v)
    ns = _bundle_namespace(bundle)
    checks = ns["failed_checks"]("temps dépassé", verdict="timeout")
    doc = ns["result_document"](checks, tmp_path)
    assert result_problems(doc) == []
    assert doc["score"] == 0 and doc["max-score"] == sum(c["points"] for c in ns["CHECKS"])
    assert "⏱️ temps dépassé" in ns["release_body"](doc, checks)


def test_missing_runner_variables_are_an_infrastructure_error(bundle, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    proc = subprocess.run(
        [sys.executable, str(bundle / "autograder.py")],
        cwd=repo,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "CLASSROOM": "ml-2026"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "SUBMISSION_TAG" in proc.stderr
    assert not (repo / "result.json").exists()


def test_schema_check_catches_bad_documents():
    good = {
        "schema": "classroom50/result/v1",
        "classroom": "c",
        "assignment": "a",
        "submission": "s",
        "commit": "u",
        "release": "u",
        "review": "u",
        "datetime": "2026-06-01T14:32:01Z",
        "score": 1,
        "max-score": 2,
        "tests": [
            {"test-name": "t1", "passed": True, "score": 1, "max-score": 1},
            {"test-name": "t2", "passed": False, "score": 0, "max-score": 1},
        ],
    }
    assert result_problems(good) == []
    for mutate in (
        lambda d: d.update({"score": 1.0}),
        lambda d: d.pop("review"),
        lambda d: d.update({"schema": "classroom50/result/v2"}),
        lambda d: d["tests"][0].pop("test-name"),
        lambda d: d.update({"datetime": "2026-06-01 14:32"}),
        lambda d: d.update({"max-score": 3}),
        lambda d: d["tests"][1].update({"test-name": "t1"}),
    ):
        bad = json.loads(json.dumps(good))
        mutate(bad)
        assert result_problems(bad), bad


# --------------------------------------------------------------------------- runs


@pytest.mark.slow
def test_reference_gets_every_public_point(runs):
    doc = runs["reference"]["result"]
    assert result_problems(doc) == []
    total = int(sum(s["points"] for s in public_checks()))
    assert (doc["score"], doc["max-score"]) == (total, total)
    assert [t["test-name"].split(" ")[0] for t in doc["tests"]] == [
        s["id"] for s in public_checks()
    ]
    assert all(t["passed"] for t in doc["tests"])
    assert doc["datetime"] == "2026-11-28T23:59:00Z"  # the commit's date, not the run's
    assert doc["classroom"] == "ml-2026" and doc["owner"] == "alice"
    assert "status=success\n" in runs["reference"]["output"]
    assert runs["reference"]["body"].startswith(
        f"### ResNet à la main : {total} / {total} points (vérifications publiques)"
    )


@pytest.mark.slow
def test_blank_template_gets_zero_despite_a_planted_library(runs):
    doc = runs["template"]["result"]
    assert result_problems(doc) == []
    assert doc["score"] == 0 and doc["max-score"] > 0
    assert not any(t["passed"] for t in doc["tests"])
    assert all(t["message"] for t in doc["tests"])  # French reason on every test
    assert "status=failure\n" in runs["template"]["output"]
    body = runs["template"]["body"]
    assert "❌ à revoir" in body and "#### À revoir" in body and "*Piste :*" in body


@pytest.mark.slow
def test_beginner_case_gets_the_points_check_gives(runs, tmp_path):
    """A gallery mistake: partial score, check by check the same as `python -m autograder check`."""
    doc = runs[BEGINNER]["result"]
    assert result_problems(doc) == []
    assert 0 < doc["score"] < doc["max-score"]
    golden = load_golden()[BEGINNER]["checks"]
    public = {s["id"] for s in public_checks()}
    by_id = {t["test-name"].split(" ")[0]: t for t in doc["tests"]}
    assert {k: t["passed"] for k, t in by_id.items()} == {
        k: v for k, v in golden.items() if k in public
    }
    out = tmp_path / "check.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "check",
            str(runs[BEGINNER]["repo"] / NOTEBOOK),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 1, proc.stderr
    check = json.loads(out.read_text(encoding="utf-8"))
    assert {c["id"]: (c["points"], c["max"]) for c in check["checks"]} == {
        k: (t["score"], t["max-score"]) for k, t in by_id.items()
    }
    assert doc["score"] == check["points"]
    failed = [t for t in doc["tests"] if not t["passed"]]
    assert all(t["message"].startswith("attendu") and t["hint"] for t in failed)
    assert f"**{failed[0]['test-name'].split(' ')[0]}**" in runs[BEGINNER]["body"]


@pytest.mark.slow
def test_install_step_ran_offline(runs):
    """pip ran (dry run, no index) and found every requirement of the bundle satisfied."""
    assert "pip install -r requirements-checks.txt" in runs["reference"]["proc"].stdout
