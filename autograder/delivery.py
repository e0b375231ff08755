"""Delivery: the Actions workflow, the Classroom 50 bundle, tamper evidence, the otter zip.

Command line::

    python -m autograder.delivery zip [--out build/autograder.zip]   # = make autograder-zip
    python -m autograder.delivery classroom50 [--out build/classroom50]  # = make classroom50
    python -m autograder.delivery workflow                           # print the Actions workflow
    python -m autograder.delivery tamper DIR [DIR...]                # protected files report

**Assignment facts.** :func:`assignment_facts` gathers what every delivery
path states about the assignment: the notebook's name, the automatically
checked questions, their functions, their public checks and points (from the
check registry, which imports no TensorFlow) and the supported Python
versions (:mod:`autograder.public.versions`). :func:`render_workflow` (written into
``student_template/.github/workflows/classroom.yml`` by ``make assign``) and
:func:`build_classroom50` are generated from them.

**GitHub Actions workflow.** One ``autograding-command-grader`` step per
question runs ``python -m autograder check NOTEBOOK -q Q --json
resultats-autograder/Q.json`` (the action keeps only PATH and HOME); the v1
``autograding-grading-reporter`` reads the steps' ``Q*_RESULTS``, prints the
points as a ``::notice`` annotation and fails the job when a question fails (it
looks up nothing else); an ``if: always()`` step runs ``python -m autograder
ci-summary`` (French job summary, no TensorFlow) and the artifact step uploads
``resultats-autograder/``.

**Classroom 50.** :func:`build_classroom50` writes the per-assignment folder
of a Classroom 50 configuration repository (``CLASSROOM/autograders/SLUG/``):
``autograder.py`` (installs ``requirements-checks.txt``, runs the public checks
with its own copy of the public check library, ``lib/autograder/``, never the
student's, and writes ``result.json``, schema ``classroom50/result/v1``, one
test per public check, and a French ``release-body.md``). The folder is served
from the configuration repository's GitHub Pages, so it holds only public
material: hidden checks and the grader's training stay in the teacher's batch
grading (``python -m autograder grade``).

**Protected files.** A student repository created from ``student_template/``
carries files that decide what its GitHub Actions run reports: the workflow
(``.github/workflows/``), the public otter tests (``tests/``), the copy of the
check library (``autograder/``) and ``requirements.txt`` (a changed requirement
could install a patched Keras in CI). The teacher-side grading never runs any of
them (the engine reads only the notebook), so changing them cannot raise a grade;
:func:`tamper_report` lists the differences as evidence for the teacher (French
lines, as they appear in the grade report).

**Autograder zip.** :func:`build_autograder_zip` wraps ``otter generate``: the
otter tests of ``autograder/otter/`` (hidden ones included), the check library
(the whole ``autograder`` package but the engine, the report and the delivery
code) under ``files/``, and an environment pinned to the kit's
``requirements.txt`` on Python 3.11. Its ``setup.sh`` also puts Fashion-MNIST
in Keras's cache when the Gradescope image is built, and its ``run_otter.py``
deletes any ``autograder/`` or ``tests/`` folder a submission brings along
before grading.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / "student_template"
OTTER_DIR = ROOT / "autograder" / "otter"
DEFAULT_ZIP = ROOT / "build" / "autograder.zip"
KIT_REQUIREMENTS = ROOT / "requirements.txt"
PYTHON_VERSION = "3.11"

#: Paths (files or folders, relative to the repository root) whose content must
#: stay identical to the template's.
PROTECTED = (".github/workflows", "tests", "autograder", "requirements.txt",
             "requirements-checks.txt")

#: Generated files that running the checks or Jupyter leaves behind: never evidence.
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
IGNORED_SUFFIXES = (".pyc", ".pyo")

#: Files at the repository root that change how Python starts or how pytest runs.
STARTUP_FILES = {"sitecustomize.py", "usercustomize.py", "conftest.py"}

MAX_LINES = 40
#: A protected file this much larger than the template's copy is reported without reading it.
_MAX_READ = 8 * 1024 * 1024

#: Kit requirements that the grading image does not need (otter pins its own version).
ZIP_DROP_REQUIREMENTS = {"otter-grader", "pytest"}


# --------------------------------------------------------------------------- tamper


def _ignored(rel: str) -> bool:
    parts = rel.split("/")
    return any(p in IGNORED_NAMES for p in parts) or rel.endswith(IGNORED_SUFFIXES)


def _files_under(base: Path, rel: str) -> list[str]:
    """Regular files and links under ``base/rel`` (a file or a folder), relative, sorted.

    Symbolic links are listed, never followed.
    """
    top = base / rel
    if top.is_symlink() or top.is_file():
        return [] if _ignored(rel) else [rel]
    if not top.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
        here = Path(dirpath)
        # A symlinked folder is reported as an entry, not walked.
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                filenames.append(d)
        for name in filenames:
            r = (here / name).relative_to(base).as_posix()
            if not _ignored(r):
                found.append(r)
    return sorted(found)


def _digest(path: Path) -> str:
    """SHA-256 of a file's bytes, line endings normalised (a Windows checkout is no tampering)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def protected_files(template_dir: str | os.PathLike = TEMPLATE_DIR) -> list[str]:
    """Every protected file of the pristine template.

    Args:
        template_dir: the pristine ``student_template/``.

    Returns:
        Relative POSIX paths, sorted.
    """
    base = Path(template_dir)
    return sorted(f for rel in PROTECTED for f in _files_under(base, rel))


def _shadowing(name: str) -> bool:
    """Whether a top-level file or folder ``name`` would hide a module the checks import."""
    mod = name[:-3] if name.endswith(".py") else name
    if not mod.isidentifier():
        return False
    if mod in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def _compare(sub: Path, tpl: Path, rel: str) -> str | None:
    p, t = sub / rel, tpl / rel
    parts = rel.split("/")
    for i in range(1, len(parts)):  # a linked folder on the way: never read through it
        if (sub.joinpath(*parts[:i])).is_symlink():
            return f"dossier protégé remplacé par un lien symbolique : {'/'.join(parts[:i])}"
    if not os.path.lexists(p):
        return f"fichier protégé supprimé : {rel}"
    if p.is_symlink():
        return f"fichier protégé remplacé par un lien symbolique : {rel}"
    if p.is_dir():
        return f"fichier protégé remplacé par un dossier : {rel}"
    if not p.is_file():
        return f"fichier protégé remplacé par un fichier spécial : {rel}"
    size, ref_size = p.stat().st_size, t.stat().st_size
    if size > 2 * ref_size + _MAX_READ:
        return f"fichier protégé modifié : {rel}"
    if _digest(p) != _digest(t):
        return f"fichier protégé modifié : {rel}"
    return None


def _report(sub: Path, tpl: Path) -> list[str]:
    expected = protected_files(tpl)
    looks_like_repo = (sub / ".git").exists() or any(
        os.path.lexists(sub / rel) for rel in PROTECTED)
    if not looks_like_repo:  # a bare notebook folder (e-mail, LMS export): nothing to compare
        return []
    lines = list(dict.fromkeys(line for rel in expected if (line := _compare(sub, tpl, rel))))
    known = set(expected)
    for rel in PROTECTED:
        if (tpl / rel).is_dir() or not (tpl / rel).exists():
            for extra in _files_under(sub, rel):
                if extra not in known:
                    lines.append(f"fichier ajouté dans un dossier protégé : {extra}")
    template_top = {p.name for p in tpl.iterdir()}
    for entry in sorted(sub.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name in template_top or name.startswith(".") or _ignored(name):
            continue
        if name in STARTUP_FILES or name.endswith(".pth"):
            lines.append(f"fichier ajouté qui modifie le démarrage de Python : {name}")
        elif (name.endswith(".py") or (entry.is_dir() and (entry / "__init__.py").exists())) \
                and _shadowing(name):
            lines.append(f"fichier ajouté qui porte le nom d'un module Python et peut le "
                         f"masquer : {name}")
    return lines


def tamper_report(submission_dir, template_dir: str | os.PathLike | None = None) -> list[str]:
    """Protected files of a student repository that differ from the pristine template.

    Compares, by SHA-256 (line endings normalised), the workflow, ``tests/``,
    ``autograder/`` and ``requirements.txt`` of a submission with the template's,
    and reports added files in those folders and root files that would hide a
    module or change how Python starts. A directory holding none of the
    protected paths and no ``.git`` (a bare notebook folder) gives ``[]``. Never
    raises, never follows symbolic links, never runs anything.

    Args:
        submission_dir: a cloned student repository (a notebook path gives ``[]``).
        template_dir: the pristine template, ``student_template/`` by default.

    Returns:
        French lines such as ``"fichier protégé modifié : .github/workflows/classroom.yml"``;
        empty when nothing differs.
    """
    sub = Path(submission_dir)
    tpl = Path(template_dir) if template_dir is not None else TEMPLATE_DIR
    try:
        if not sub.is_dir() or sub.is_symlink() or not tpl.is_dir():
            return []
        lines = _report(sub, tpl)
    except OSError as exc:
        return [f"vérification des fichiers protégés impossible : {type(exc).__name__}"]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… et {len(lines) - MAX_LINES} autres différences"]
    return lines


# --------------------------------------------------------------------------- zip

RUN_OTTER_PY = '''\
"""Runs Otter-Grader's autograding (ResNet à la main).

Before grading, deletes any ``autograder/`` or ``tests/`` a submission brings
along: otter would otherwise keep the submission's copy of the check library.
"""
import os
import shutil

AUTOGRADER_DIR = os.environ.get("RESNET_AUTOGRADER_DIR", "{autograder_dir}")


def remove_submitted_library(autograder_dir):
    """Delete ``autograder`` and ``tests`` from the submission folder, links included."""
    for name in ("autograder", "tests"):
        path = os.path.join(autograder_dir, "submission", name)
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)


if __name__ == "__main__":
    remove_submitted_library(AUTOGRADER_DIR)
    from otter.run.run_autograder import main as run_autograder
    run_autograder(AUTOGRADER_DIR)
'''

SETUP_SH_EXTRA = '''
# ResNet à la main: put Fashion-MNIST in Keras's cache while the image is built,
# so that grading never downloads it (the loader verifies its checksums).
cd {autograder_dir}/source/files && mamba run -n otter-env python -c \\
    "from autograder.public.data import load_fashion_mnist; load_fashion_mnist()" || true
'''


def _otter_tests_dir(otter_dir: Path) -> Path:
    tests = otter_dir / "tests"
    return tests if tests.is_dir() else otter_dir


def zip_requirements(requirements: str | os.PathLike = KIT_REQUIREMENTS) -> list[str]:
    """Pinned requirement lines of the kit that the grading image installs.

    Args:
        requirements: the kit's ``requirements.txt``.

    Returns:
        Requirement lines (comments, otter-grader and pytest removed).
    """
    keep = []
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split("[")[0]
        for sep in ("==", ">=", "<=", "~=", "<", ">", "!="):
            name = name.split(sep)[0]
        if name.strip().lower().replace("_", "-") not in ZIP_DROP_REQUIREMENTS:
            keep.append(line)
    return keep


@contextlib.contextmanager
def _chdir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _rewrite(zip_path: Path, replace: dict[str, str], append: dict[str, str]) -> None:
    """Replace or extend text entries of a zip file in place."""
    buf = io.BytesIO()
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in replace:
                data = replace[info.filename].encode("utf-8")
            elif info.filename in append:
                data = data + append[info.filename].encode("utf-8")
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    zip_path.write_bytes(buf.getvalue())


def build_autograder_zip(out: str | os.PathLike = DEFAULT_ZIP,
                         otter_dir: str | os.PathLike = OTTER_DIR,
                         requirements: str | os.PathLike = KIT_REQUIREMENTS) -> Path:
    """Build the Gradescope / ``otter run`` autograder zip.

    Args:
        out: where to write the zip (its folder is created).
        otter_dir: the otter artefacts written by ``make assign`` (``tests/*.py``,
            hidden tests included, and an optional ``otter_config.json``).
        requirements: the kit's pinned requirements.

    Returns:
        The path of the zip.

    Raises:
        FileNotFoundError: when ``otter_dir`` holds no test file (run ``make assign``).
    """
    from otter.generate import main as otter_generate

    out = Path(out).resolve()
    otter_dir = Path(otter_dir).resolve()
    tests = sorted(_otter_tests_dir(otter_dir).glob("*.py"))
    tests = [t for t in tests if t.name != "__init__.py"]
    if not tests:
        raise FileNotFoundError(f"no otter test in {otter_dir}: run `make assign` first")
    config = {"lang": "python"}
    config_file = otter_dir / "otter_config.json"
    if config_file.is_file():
        config.update(json.loads(config_file.read_text(encoding="utf-8")))
    for key in ("token", "course_id", "assignment_id"):  # never ship credentials
        config.pop(key, None)
    # otter's stdout lists every test, hidden ones included: keep it for instructors.
    config["show_stdout"] = False
    autograder_dir = config.get("autograder_dir", "/autograder")

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-zip-") as tmp:
        stage = Path(tmp)
        (stage / "tests").mkdir()
        for t in tests:
            shutil.copy2(t, stage / "tests" / t.name)
        from autograder.assign import copy_public_package

        copy_public_package(stage, extra=("hidden",))
        (stage / "requirements.txt").write_text("\n".join(zip_requirements(requirements)) + "\n",
                                                encoding="utf-8")
        (stage / "otter_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        with _chdir(stage):
            otter_generate(tests_dir="tests", output_path=str(out), config="otter_config.json",
                           requirements="requirements.txt", no_environment=True,
                           files=["autograder"], python_version=PYTHON_VERSION)
    _rewrite(out,
             replace={"run_otter.py": RUN_OTTER_PY.replace("{autograder_dir}", autograder_dir)},
             append={"setup.sh": SETUP_SH_EXTRA.replace("{autograder_dir}", autograder_dir)})
    return out


# --------------------------------------------------------------------------- facts

NOTEBOOK = "resnet_a_la_main.ipynb"
WORKFLOW_REL = ".github/workflows/classroom.yml"
RESULTS_DIR = "resultats-autograder"
#: minutes allowed to each grader step of the workflow
STEP_TIMEOUT_MIN = 10
DEFAULT_C50_DIR = ROOT / "build" / "classroom50"
DEFAULT_SLUG = "resnet-a-la-main"
#: seconds allowed to ``check`` inside the Classroom 50 autograder (the grade job stops at 15 min)
C50_CHECK_TIMEOUT_S = 480


def assignment_facts() -> dict:
    """What the delivery paths state about the assignment (no TensorFlow import).

    Returns:
        ``{"notebook", "questions": [{"id", "function", "points", "checks": [...]}],
        "public_total", "python", "requires_python", "check_requirements"}``;
        each check is ``{"id", "question", "title", "points"}``.
    """
    from autograder.public import versions
    from autograder.public.checks import registry
    from autograder.public.extract import QUESTION_FUNCTIONS

    public = [s for s in registry() if s["visibility"] == "public" and not s.get("manual")]
    questions = []
    for q, func in QUESTION_FUNCTIONS.items():
        checks = [{"id": s["id"], "question": q, "title": s["title"],
                   "points": float(s["points"])} for s in public if s["question"] == q]
        questions.append({"id": q, "function": func, "checks": checks,
                          "points": sum(c["points"] for c in checks)})
    return {"notebook": NOTEBOOK, "questions": questions,
            "public_total": sum(q["points"] for q in questions),
            "python": versions.CI_PYTHON, "requires_python": versions.REQUIRES_PYTHON,
            "check_requirements": list(versions.CHECK_REQUIREMENTS)}


def _int_points(x: float, what: str) -> int:
    if float(x) != int(x):
        raise ValueError(f"{what}: {x} points is not an integer (Actions max-score and "
                         f"Classroom 50 scores are integers)")
    return int(x)


# --------------------------------------------------------------------------- workflow

WORKFLOW_HEAD = """\
# Vérifications automatiques de « ResNet à la main ».
#
# À chaque push (et à la demande, onglet Actions > « Run workflow »), ce workflow
# lance les vérifications publiques de chaque question, affiche les points et écrit
# un résumé en français dans la page du run, avec les retours détaillés en pièce
# jointe (artifact « resultats-autograder »).
#
# Fichier protégé : ne le modifiez pas. L'enseignant compare ce fichier, tests/,
# autograder/ et les fichiers requirements à ceux du modèle lors de la correction.
#
# Maintainers: GENERATED by `make assign` (autograder/delivery.py, render_workflow)
# from the assignment's facts; do not edit. autograding-command-grader runs each
# command with only PATH and HOME in its environment and passes when it exits 0.
# autograding-grading-reporter@v1 decodes the Q*_RESULTS variables, prints the total
# as a ::notice annotation ("Points X/{total}") and fails when a question fails; it
# looks up no check run. `python -m autograder ci-summary` (no TensorFlow) writes the
# French job summary and the artifact's files.
"""


def render_workflow(facts: dict | None = None) -> str:
    """The student repository's GitHub Actions workflow, from :func:`assignment_facts`.

    Args:
        facts: the assignment facts (default: :func:`assignment_facts`).

    Returns:
        The YAML text of ``.github/workflows/classroom.yml``.
    """
    facts = facts or assignment_facts()
    qs = facts["questions"]
    total = _int_points(facts["public_total"], "public total")
    ids = [q["id"] for q in qs]
    env = "".join(f'          {q.upper()}_RESULTS: "${{{{ steps.{q}.outputs.result }}}}"\n'
                  for q in ids)
    points = ",".join(f"{q['id']}={_int_points(q['points'], q['id'])}" for q in qs)
    out = [WORKFLOW_HEAD.replace("{total}", str(total)), f"""\
name: Autograding Tests

on:
  push:
  workflow_dispatch:
  repository_dispatch:

permissions:
  contents: read

jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    # The commit that GitHub Classroom made when it created a repository is not graded.
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
      - name: Récupérer le dépôt
        uses: actions/checkout@v4

      - name: Installer Python {facts['python']}
        uses: actions/setup-python@v5
        with:
          python-version: "{facts['python']}"
          cache: pip
          cache-dependency-path: requirements-checks.txt

      - name: Installer les dépendances des vérifications
        run: |
          rm -rf {RESULTS_DIR}
          python -m pip install --requirement requirements-checks.txt
"""]
    for q in qs:
        name = f"{q['id']} : {q['function']}"
        out.append(f"""
      - name: "{name}"
        id: {q['id']}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: "{name}"
          command: python -m autograder check {facts['notebook']} -q {q['id']} --json {RESULTS_DIR}/{q['id']}.json
          timeout: {STEP_TIMEOUT_MIN}
          max-score: {_int_points(q['points'], q['id'])}
""")
    out.append(f"""
      - name: Points
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{env}        with:
          runners: {",".join(ids)}

      - name: Résumé en français
        id: summary
        if: always()
        env:
{env}        run: python -m autograder ci-summary --questions {",".join(ids)} --points {points}

      - name: Joindre les résultats (artifact)
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: {RESULTS_DIR}
          path: {RESULTS_DIR}/
          if-no-files-found: warn
          retention-days: 30
""")
    return "".join(out)


# --------------------------------------------------------------------------- Classroom 50

C50_AUTOGRADER = r'''#!/usr/bin/env python3
"""Classroom 50 autograder of "ResNet à la main" (public checks only).

GENERATED by `make classroom50` (python -m autograder.delivery classroom50):
do not edit; regenerate from the kit.

Contract (Classroom 50's runner): the working directory is the student's
checkout; CLASSROOM, ASSIGNMENT, SUBMISSION_TAG, COMMIT_URL, RELEASE_URL (and
REVIEW_URL, OWNER, USERNAME, ASSIGNMENT_TYPE, GITHUB_*) are set; this script
writes ./result.json (schema classroom50/result/v1) and ./release-body.md,
appends status= and summary= to $GITHUB_OUTPUT, and exits 0 once it ran end to
end (a non-zero exit is an infrastructure error).

It installs requirements-checks.txt (beside this file), then runs
`python -m autograder check NOTEBOOK --json FILE` with the public check library
of lib/ (beside this file) from a temporary folder, so neither the student's
copy of autograder/ nor a module planted in the repository is imported. One
result.json test per public check, worth that check's points.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIB = HERE / "lib"
REQUIREMENTS = HERE / "requirements-checks.txt"
NOTEBOOK = __NOTEBOOK__
CHECKS = __CHECKS__
CHECK_TIMEOUT_S = __TIMEOUT__
REQUIRED_ENV = ("CLASSROOM", "ASSIGNMENT", "SUBMISSION_TAG", "COMMIT_URL", "RELEASE_URL")
CHECK_SCHEMA = "resnet-a-la-main/check/v1"
MAX_NAME_BYTES = 100


def utc(ts=None):
    moment = datetime.datetime.now(datetime.timezone.utc) if ts is None else \
        datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_instant(workspace):
    """The graded commit's committer date (the submission instant), else now."""
    try:
        out = subprocess.run(["git", "-C", str(workspace), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return utc(int(out.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    return utc()


def install():
    print(f"autograder: pip install -r {REQUIREMENTS.name}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "--requirement", str(REQUIREMENTS)],
                   check=True)


def failed_checks(message, hint=""):
    return [{**c, "points": 0, "max": c["points"], "passed": False,
             "message": message, "hint": hint} for c in CHECKS]


def run_checks(workspace):
    """Check results (list of dicts) for the student's notebook."""
    notebook = Path(workspace) / NOTEBOOK
    if not notebook.is_file():
        return failed_checks(f"notebook introuvable : {NOTEBOOK}",
                             f"Le notebook doit s'appeler {NOTEBOOK}, à la racine du dépôt.")
    with tempfile.TemporaryDirectory(prefix="resnet-check-") as tmp:
        out = Path(tmp) / "check.json"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": os.environ.get("HOME", tmp), "PYTHONPATH": str(LIB),
               "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONIOENCODING": "utf-8"}
        try:
            proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(notebook),
                                   "--json", str(out)], cwd=tmp, env=env, text=True,
                                  capture_output=True, timeout=CHECK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return failed_checks(
                f"temps dépassé : la vérification a duré plus de {CHECK_TIMEOUT_S // 60} min.",
                "Vos fonctions doivent construire le modèle sans l'entraîner ; relancez "
                "python -m autograder check sur votre machine.")
        print(proc.stdout, flush=True)
        print(proc.stderr, file=sys.stderr, flush=True)
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SystemExit(f"autograder: check wrote no result (exit {proc.returncode})")
    if data.get("schema") != CHECK_SCHEMA:
        raise SystemExit("autograder: unexpected check output")
    by_id = {c["id"]: c for c in data.get("checks", [])}
    if data.get("status") == "error" or not by_id:
        return failed_checks(data.get("error") or "vérification impossible",
                             next((c.get("hint", "") for c in by_id.values()), ""))
    return [by_id.get(c["id"]) or failed_checks("contrôle absent du résultat")[i]
            for i, c in enumerate(CHECKS)]


def test_name(check):
    name = f"{check['id']} — {check['title']}"
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-2] + "…"
    return name


def result_document(checks, workspace):
    tests = []
    for c in checks:
        top = int(round(c["max"]))
        tests.append({"test-name": test_name(c), "passed": bool(c["passed"]),
                      "score": top if c["passed"] else 0, "max-score": top,
                      "question": c["question"], "message": c.get("message", ""),
                      "hint": c.get("hint", "")})
    env = os.environ
    doc = {
        "schema": "classroom50/result/v1",
        "classroom": env["CLASSROOM"],
        "assignment": env["ASSIGNMENT"],
        "submission": env["SUBMISSION_TAG"],
        "commit": env["COMMIT_URL"],
        "release": env["RELEASE_URL"],
        "review": env.get("REVIEW_URL") or env["COMMIT_URL"],
        "datetime": commit_instant(workspace),
        "graded_at": utc(),
        "score": sum(t["score"] for t in tests),
        "max-score": sum(t["max-score"] for t in tests),
        "tests": tests,
    }
    owner = env.get("OWNER") or env.get("USERNAME")
    if owner:
        doc["owner"] = owner
    if env.get("ASSIGNMENT_TYPE"):
        doc["assignment_type"] = env["ASSIGNMENT_TYPE"]
    return doc


def release_body(doc, checks):
    lines = [f"### ResNet à la main : {doc['score']} / {doc['max-score']} points "
             f"(vérifications publiques)", "",
             "| Question | Vérification | Résultat | Points |", "|---|---|---|---|"]
    for c, t in zip(checks, doc["tests"]):
        verdict = "✅ réussie" if t["passed"] else "❌ à revoir"
        title = c["title"].replace("|", "\\|").replace("*", "\\*")
        lines.append(f"| {c['question']} | {title} | {verdict} | "
                     f"{t['score']} / {t['max-score']} |")
    failed = [c for c in checks if not c["passed"]]
    if failed:
        lines += ["", "#### À revoir", ""]
        seen = set()
        for c in failed:
            key = (c.get("message"), c.get("hint"))
            title = c["title"].replace("*", "\\*")
            lines.append(f"- **{c['id']}** — {title}")
            if key in seen:
                continue
            seen.add(key)
            if c.get("message"):
                lines.append(f"  {c['message']}")
            if c.get("hint"):
                lines.append(f"  *Piste :* {c['hint']}")
    lines += ["", "Ces points ne concernent que les vérifications publiques ; la note finale "
              "comprend aussi des vérifications cachées (dont un entraînement mené par le "
              "correcteur) et la question q4, corrigée à la main. Les mêmes retours "
              f"s'obtiennent avec `python -m autograder check {NOTEBOOK}`.", ""]
    return "\n".join(lines)


def main():
    missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
    if missing:
        print(f"autograder: missing runner variables: {', '.join(missing)}", file=sys.stderr)
        return 2
    workspace = Path.cwd()
    install()
    checks = run_checks(workspace)
    doc = result_document(checks, workspace)
    (workspace / "result.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    (workspace / "release-body.md").write_text(release_body(doc, checks), encoding="utf-8")
    summary = f"ResNet à la main : {doc['score']}/{doc['max-score']} points publics"
    status = "success" if doc["score"] == doc["max-score"] else "failure"
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.write(f"status={status}\nsummary={summary}\n")
    print(f"autograder: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

C50_README = """\
# Classroom 50 autograder: ResNet à la main

GENERATED by `make classroom50` (python -m autograder.delivery classroom50).

Copy this folder's content to `CLASSROOM/autograders/SLUG/` of your Classroom 50
configuration repository (`SLUG` is the assignment's slug), and give the assignment
the runtime of `runtime.json` (Python {python}: TensorFlow has no wheel for Classroom
50's default Python 3.14). See the kit's docs/teacher_guide.md, section "Classroom 50".

- `autograder.py`: installs `requirements-checks.txt`, runs the public checks with
  `lib/autograder/` (never the student's copy), writes `result.json`
  (`classroom50/result/v1`, one test per public check: {n_checks} tests, {total} points)
  and a French `release-body.md`.
- Everything here is published on the configuration repository's GitHub Pages: only
  the public checks are included. Hidden checks and the grader's training run in
  your batch grading (`python -m autograder grade`).
"""


def build_classroom50(out: str | os.PathLike = DEFAULT_C50_DIR, facts: dict | None = None) -> Path:
    """Write the Classroom 50 per-assignment folder.

    Args:
        out: destination folder (emptied first).
        facts: the assignment facts (default: :func:`assignment_facts`).

    Returns:
        The folder, holding ``autograder.py``, ``requirements-checks.txt``,
        ``runtime.json``, ``README.md`` and ``lib/autograder/`` (public checks only).
    """
    from autograder.public import versions

    facts = facts or assignment_facts()
    out = Path(out)
    checks = [c for q in facts["questions"] for c in q["checks"]]
    for c in checks:
        _int_points(c["points"], c["id"])
    if out.exists():
        shutil.rmtree(out)
    from autograder.assign import copy_public_package

    copy_public_package(out / "lib")
    listing = json.dumps([{"id": c["id"], "question": c["question"], "title": c["title"],
                           "points": int(c["points"])} for c in checks],
                         ensure_ascii=False, indent=4)
    text = (C50_AUTOGRADER.replace("__NOTEBOOK__", repr(facts["notebook"]))
            .replace("__CHECKS__", listing).replace("__TIMEOUT__", str(C50_CHECK_TIMEOUT_S)))
    (out / "autograder.py").write_text(text, encoding="utf-8")
    (out / "requirements-checks.txt").write_text(versions.requirements_text(), encoding="utf-8")
    (out / "runtime.json").write_text(
        json.dumps({"runs-on": "ubuntu-latest", "python": facts["python"]}, indent=2) + "\n",
        encoding="utf-8")
    (out / "README.md").write_text(C50_README.format(
        python=facts["python"], n_checks=len(checks),
        total=_int_points(facts["public_total"], "public total")), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m autograder.delivery",
                                     description="Delivery: Actions workflow, Classroom 50, Gradescope.")
    sub = parser.add_subparsers(dest="command", required=True)
    z = sub.add_parser("zip", help="build the Gradescope / otter autograder zip")
    z.add_argument("--out", default=str(DEFAULT_ZIP), help="zip path (default: build/autograder.zip)")
    z.add_argument("--otter-dir", default=str(OTTER_DIR), help="otter artefacts (make assign)")
    c = sub.add_parser("classroom50", help="write the Classroom 50 autograder folder")
    c.add_argument("--out", default=str(DEFAULT_C50_DIR),
                   help="destination folder (default: build/classroom50)")
    sub.add_parser("workflow", help="print the generated GitHub Actions workflow")
    t = sub.add_parser("tamper", help="protected files that differ from student_template/")
    t.add_argument("dirs", nargs="+", help="cloned student repositories")
    t.add_argument("--template", default=str(TEMPLATE_DIR), help="pristine template")
    args = parser.parse_args(argv)

    if args.command == "classroom50":
        path = build_classroom50(args.out)
        facts = assignment_facts()
        n = sum(len(q["checks"]) for q in facts["questions"])
        print(f"wrote {path}: autograder.py ({n} public checks, "
              f"{facts['public_total']:g} points), requirements-checks.txt, runtime.json "
              f"(Python {facts['python']}), lib/autograder/")
        print("copy it to CLASSROOM/autograders/SLUG/ in your classroom50 configuration "
              "repository (docs/teacher_guide.md, Classroom 50)")
        return 0
    if args.command == "workflow":
        sys.stdout.write(render_workflow())
        return 0

    if args.command == "zip":
        try:
            path = build_autograder_zip(args.out, args.otter_dir)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        n_tests = sum(1 for n in names if n.startswith("tests/"))
        n_lib = sum(1 for n in names if n.startswith("files/autograder/"))
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        print(f"wrote {shown} ({path.stat().st_size // 1024} KiB): {n_tests} otter tests, "
              f"{n_lib} check-library files, Python {PYTHON_VERSION}, pinned requirements")
        print("upload it on Gradescope (Configure Autograder > Zip file upload), "
              "or test it: otter run -a build/autograder.zip resnet_a_la_main.ipynb")
        return 0

    status = 0
    for d in args.dirs:
        if not Path(d).is_dir():
            print(f"error: not a directory: {d}", file=sys.stderr)
            status = 2
            continue
        lines = tamper_report(d, args.template)
        verdict = f"{len(lines)} différence(s)" if lines else "fichiers protégés intacts"
        print(f"{d.rstrip('/') or d}: {verdict}")
        for line in lines:
            print(f"  - {line}")
    return status


if __name__ == "__main__":
    sys.exit(main())
